using System;

namespace DslModels;

/// <summary>
/// Double-precision error function, its complement and its inverse, as needed by
/// <see cref="Init.TruncNormal"/> (PyTorch computes <c>math.erf</c> in double and <c>erfinv_</c> on the tensor).
/// .NET has no <c>Math.Erf</c>; these are accurate to a few units in the last place over the whole range.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>Erf</c>: for |x| &lt; 1 the all-positive series
/// <c>erf(x) = 2/√π · x · e^(−x²) · Σ (2x²)ⁿ / (1·3·5···(2n+1))</c> (no cancellation); beyond, <c>1 − erfc(|x|)</c> (erfc ≤ 0.16 there, so its error hardly shows).</item>
/// <item><c>Erfc</c>: for x ≥ 1 Laplace's continued fraction
/// <c>erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))</c> (modified Lentz); below, <c>1 − erf(x)</c>.
/// e^(−x²) is computed with the rounding error of x² folded back in (fused multiply-add).</item>
/// <item><c>Erfinv</c>: a closed-form starting value (Winitzki's approximation, relative error ~2·10⁻³) refined by
/// Halley steps on <c>erf(x) − y</c>; for |y| &gt; 0.9 the residual is formed as <c>(1 − |y|) − erfc(x)</c>, which
/// keeps full relative precision in the tails.</item>
/// </list>
/// </remarks>
public static class SpecialFunctions
{
    private const double TwoOverSqrtPi = 1.1283791670955126; // 2/√π
    private const double OneOverSqrtPi = 0.56418958354775628; // 1/√π

    /// <summary>The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x))
            return x;
        double ax = Math.Abs(x);
        if (ax < 1.0)
        {
            if (ax == 0)
                return x; // keeps the sign of zero
            double x2 = 2.0 * ax * ax;
            double term = 1.0, sum = 1.0;
            for (int n = 1; n < 200; n++)
            {
                term *= x2 / (2 * n + 1);
                sum += term;
                if (term <= sum * 1e-17)
                    break;
            }
            double r = TwoOverSqrtPi * ax * ExpMinusSquare(ax) * sum;
            return x < 0 ? -r : r;
        }
        if (ax >= 6.0)
            return x < 0 ? -1.0 : 1.0; // erfc(6) = 2e-17 is below half an ulp of 1
        double e = 1.0 - ErfcContinuedFraction(ax);
        return x < 0 ? -e : e;
    }

    /// <summary>The complementary error function erfc(x) = 1 − erf(x), accurate (relatively) for large x.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x))
            return x;
        if (x < 1.0)
            return 1.0 - Erf(x);
        if (x > 27.5)
            return 0.0; // below the smallest subnormal
        return ErfcContinuedFraction(x);
    }

    /// <summary>
    /// The inverse error function: the x with erf(x) = y, for y in [−1, 1] (±1 give ±∞; |y| &gt; 1 and NaN give NaN),
    /// as <c>torch.erfinv</c>.
    /// </summary>
    public static double Erfinv(double y)
    {
        if (double.IsNaN(y) || y < -1 || y > 1)
            return double.NaN;
        if (y == 1)
            return double.PositiveInfinity;
        if (y == -1)
            return double.NegativeInfinity;
        if (y == 0)
            return y;
        double a = Math.Abs(y);
        double x;
        if (a < 1e-3)
        {
            // erfinv(a) = √π/2 · (a + π a³/12 + …)
            x = 0.88622692545275801 * a * (1 + Math.PI / 12 * a * a);
        }
        else
        {
            // Winitzki: erfinv(a) ≈ sqrt( sqrt(c² + w/k) − c ), c = 2/(πk) − w/2, w = −ln(1 − a²), k = 0.147.
            double w = -Math.Log((1 - a) * (1 + a));
            double c = 2.0 / (Math.PI * 0.147) - 0.5 * w;
            x = Math.Sqrt(Math.Sqrt(c * c + w / 0.147) - c);
        }
        bool tail = a > 0.9;
        double q = 1 - a; // exact for a >= 0.5 (Sterbenz)
        for (int iter = 0; iter < 8; iter++)
        {
            double f = tail ? q - Erfc(x) : Erf(x) - a;
            double fPrime = TwoOverSqrtPi * ExpMinusSquare(x);
            double ratio = f / fPrime;
            // Halley's step for erf: f'' = −2x f'.
            double dx = ratio / (1 + x * ratio);
            x -= dx;
            if (Math.Abs(dx) <= 1e-17 * Math.Abs(x))
                break;
        }
        return y < 0 ? -x : x;
    }

    /// <summary>e^(−x²) with the rounding error of x² compensated.</summary>
    private static double ExpMinusSquare(double x)
    {
        double p = x * x;
        if (p > 1000)
            return 0; // underflows anyway; avoids inf·0 below
        double err = Math.FusedMultiplyAdd(x, x, -p); // x² = p + err exactly
        return Math.Exp(-p) * (1 - err);
    }

    private static double ErfcContinuedFraction(double x)
    {
        // Modified Lentz on  x + a1/(x + a2/(x + …)),  a_n = n/2.
        const double Tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int n = 1; n < 1000; n++)
        {
            double an = 0.5 * n;
            d = x + an * d;
            if (d == 0) d = Tiny;
            c = x + an / c;
            if (c == 0) c = Tiny;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
                break;
        }
        return OneOverSqrtPi * ExpMinusSquare(x) / f;
    }
}
