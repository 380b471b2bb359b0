using System.Runtime.CompilerServices;

namespace DslModels.Losses;

// The element-wise terms of the float losses run by LaneLoss: each the formula of its loss's scalar loop (which computes in
// double with Math.Exp and Math.Log), on double lanes with LaneMath's exp and log, with the same special values: the same
// clamps, the same NaN where the scalar loop has one (Math.Exp's 0 and ∞ from LaneLoss.MathExp where 0·∞ or ∞/∞ decides it).
// Parameters a, b are 1 where the loss has none.

/// <summary>
/// Binary cross-entropy on probabilities with weight a (<c>F.binary_cross_entropy</c>):
/// l = -a [y·max(log x, -100) + (1 - y)·max(log(1 - x), -100)]; d/dx = a (x - y) / max(x (1 - x), 1e-12);
/// d/dy = -a·logit(x) = a [log(1 - x) - log x] (unclamped: ±∞ at x = 0, 1, as log(x/(1 - x)) is). x and y are checked to lie in [0, 1].
/// </summary>
internal readonly struct BceTerm : ILaneTerm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval<T>(T x, T y, T a, T b, out T dx, out T dy) where T : struct, ILanes<T>
    {
        T one = T.Create(1), floor = T.Create(-100);
        var lx = LaneMath.Log(x);
        var l1x = LaneMath.Log(one - x); // 1 - x is exact for a float x
        dx = a * (x - y) / T.Max(x * (one - x), T.Create(1e-12));
        dy = a * (l1x - lx);
        return T.Create(-1) * a * (y * T.Max(lx, floor) + (one - y) * T.Max(l1x, floor));
    }
}

/// <summary>
/// KL divergence with x = log-probabilities and y = probabilities (<c>F.kl_div(log_target=False)</c>):
/// l = xlogy(y, y) - y·x (0·log 0 = 0; NaN for y &lt; 0); d/dx = -y; d/dy = log y + 1 - x (-∞ at y = 0, as in PyTorch).
/// </summary>
internal readonly struct KLDivTerm : ILaneTerm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval<T>(T x, T y, T a, T b, out T dx, out T dy) where T : struct, ILanes<T>
    {
        T zero = T.Create(0);
        var ly = LaneMath.Log(y);
        dx = T.Create(-1) * y;
        dy = ly + T.Create(1) - x;
        return T.Select(T.Equals(y, zero), zero, y * ly) - y * x;
    }
}

/// <summary>
/// KL divergence with log-probabilities x and y (<c>F.kl_div(log_target=True)</c>): l = eʸ (y - x); d/dx = -eʸ;
/// d/dy = eʸ (y - x + 1). eʸ as Math.Exp gives it (0 below -745.13, so y = -∞ gives 0·(-∞) = NaN, as in PyTorch).
/// </summary>
internal readonly struct KLDivLogTargetTerm : ILaneTerm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval<T>(T x, T y, T a, T b, out T dx, out T dy) where T : struct, ILanes<T>
    {
        var ey = LaneLoss.MathExp(y);
        var d = y - x;
        dx = T.Create(-1) * ey;
        dy = ey * (d + T.Create(1));
        return ey * d;
    }
}

/// <summary>
/// Poisson negative log-likelihood with x = log(rate) (<c>log_input=True</c>): l = eˣ - y·x; d/dx = eˣ - y; d/dy = -x;
/// eˣ as Math.Exp gives it (∞ above 709.78: x = ∞ gives ∞ - ∞ = NaN where y &gt; 0, as in PyTorch). With <c>full</c>,
/// <see cref="PoissonNllStirling"/>.
/// </summary>
internal readonly struct PoissonNllLogInputTerm(bool full) : ILaneTerm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval<T>(T x, T y, T a, T b, out T dx, out T dy) where T : struct, ILanes<T>
    {
        var ex = LaneLoss.MathExp(x);
        var l = ex - y * x;
        dx = ex - y;
        dy = T.Create(-1) * x;
        if (full)
            PoissonNllStirling.Add(y, ref l, ref dy);
        return l;
    }
}

/// <summary>
/// Poisson negative log-likelihood with x = the rate (<c>log_input=False</c>): l = x - y·log(x + eps);
/// d/dx = 1 - y/(x + eps); d/dy = -log(x + eps) (x + eps in double). With <c>full</c>, <see cref="PoissonNllStirling"/>.
/// </summary>
internal readonly struct PoissonNllRateTerm(double eps, bool full) : ILaneTerm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval<T>(T x, T y, T a, T b, out T dx, out T dy) where T : struct, ILanes<T>
    {
        var xe = x + T.Create(eps);
        var lx = LaneMath.Log(xe);
        var l = x - y * lx;
        dx = T.Create(1) - y / xe;
        dy = T.Create(-1) * lx;
        if (full)
            PoissonNllStirling.Add(y, ref l, ref dy);
        return l;
    }
}

/// <summary>
/// PoissonNLLLoss's <c>full</c> term: where y &gt; 1, l += y·log y - y + ½ log(2πy) and d/dy += log y + 1/(2y); where y ≤ 0
/// (or NaN) d/dy is NaN (PyTorch masks the term after computing it, and its backward multiplies the masked 0 by log y + 1/(2y)).
/// </summary>
internal static class PoissonNllStirling
{
    private const double Log2Pi = 1.8378770664093453; // log(2π)

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add<T>(T y, ref T l, ref T dy) where T : struct, ILanes<T>
    {
        T half = T.Create(0.5);
        var ly = LaneMath.Log(y);
        var above = T.GreaterThan(y, T.Create(1));
        l = T.Select(above, l + (y * ly - y + half * (ly + T.Create(Log2Pi))), l);
        dy = T.Select(above, dy + (ly + half / y), T.Select(T.GreaterThan(y, T.Create(0)), dy, T.Create(double.NaN)));
    }
}

/// <summary>
/// Gaussian negative log-likelihood with one variance per element, a (<c>F.gaussian_nll_loss</c>): with v = max(a, eps),
/// d = x - y, l = ½ (log v + d²/v) + c (c = ½ log 2π with <c>full</c>, else 0); d/dx = d/v. Its second gradient is
/// d/dv = ½ (1/v - d²/v²), the variance's (the clamp is invisible to it, as in PyTorch), not the target's, which is -d/dx.
/// </summary>
internal readonly struct GaussianNllTerm(double eps, double constant) : ILaneTerm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval<T>(T x, T y, T a, T b, out T dx, out T dy) where T : struct, ILanes<T>
    {
        T half = T.Create(0.5);
        // Max keeps a NaN variance (its second argument) as Math.Max does; + 0 makes a variance of -0 (eps = 0) +0 as Math.Max does.
        var v = T.Max(T.Create(eps), a) + T.Create(0);
        var d = x - y;
        var d2 = d * d;
        dx = d / v;
        dy = half * (T.Create(1) / v - d2 / (v * v));
        return half * (LaneMath.Log(v) + d2 / v) + T.Create(constant);
    }
}

/// <summary>
/// The gradient of <see cref="GaussianNllTerm"/> with respect to a variance shared by a row, as the term to sum over the row:
/// l = b·½ (1/v - d²/v²) with v = max(a, eps), d = x - y, and b the upstream gradient of the element (1: uniform, applied to the
/// sum). No gradients.
/// </summary>
internal readonly struct GaussianNllVarianceTerm(double eps) : ILaneTerm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval<T>(T x, T y, T a, T b, out T dx, out T dy) where T : struct, ILanes<T>
    {
        var v = T.Max(T.Create(eps), a) + T.Create(0);
        var d = x - y;
        dx = dy = T.Create(0);
        return b * (T.Create(0.5) * (T.Create(1) / v - d * d / (v * v)));
    }
}

/// <summary>
/// Soft margin (<c>F.soft_margin_loss</c>), computed naively as PyTorch does: with z = exp(-y·x), l = log(1 + z);
/// d/dx = -y·z/(1 + z). z as Math.Exp gives it: above 709.78 the loss is ∞ and its gradient ∞/∞ = NaN, as in the scalar
/// loop (in float PyTorch, from 88.7 on); between 708 and 709.78, where the lanes' exp is clamped, l = -y·x, which
/// log(1 + z) is to double precision there.
/// </summary>
internal readonly struct SoftMarginTerm : ILaneTerm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval<T>(T x, T y, T a, T b, out T dx, out T dy) where T : struct, ILanes<T>
    {
        T one = T.Create(1), minusY = T.Create(-1) * y;
        var u = minusY * x;
        var z = LaneLoss.MathExp(u);
        var onePlusZ = one + z;
        dx = minusY * z / onePlusZ;
        dy = T.Create(0);
        var naive = LaneMath.Log(onePlusZ);
        return T.Select(T.GreaterThan(u, T.Create(LaneMath.MaxExpArgument)), T.Select(T.Equals(z, T.Create(double.PositiveInfinity)), z, u), naive);
    }
}

/// <summary>
/// One class of multi-label soft margin (<c>F.multilabel_soft_margin_loss</c>) with weight a, before the mean over classes:
/// l = a [y·softplus(-x) + (1 - y)·softplus(x)] with softplus(∓x) = max(∓x, 0) + log1p(e^-|x|) (so that x = ±∞ gives ∞,
/// and 0·∞ = NaN, where the scalar loop does); d/dx = a (σ(x) - y); d/dy = -a·x. Where the scalar loop's terms round to 0
/// (its log(1 + e^-|x|) for |x| &gt; 36.7, its σ(x) below -745) these are tiny positive numbers: only an infinite weight
/// tells, ∞ here where the scalar loop has ∞·0 = NaN.
/// </summary>
internal readonly struct MultiLabelSoftMarginTerm : ILaneTerm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval<T>(T x, T y, T a, T b, out T dx, out T dy) where T : struct, ILanes<T>
    {
        T one = T.Create(1), zero = T.Create(0);
        var t = LaneMath.Exp(zero - T.Abs(x));
        var log1p = LaneMath.Log1pUnit(t);
        var r = one / (one + t);
        var sigmoid = T.Select(T.LessThan(x, zero), t * r, r);
        // A NaN x makes the clamped exp a number (and Max drops it): keep its NaN.
        dx = LaneMath.KeepNaN(x, a * (sigmoid - y));
        dy = T.Create(-1) * a * x;
        var spNeg = T.Max(zero - x, zero) + log1p;
        var spPos = T.Max(x, zero) + log1p;
        return LaneMath.KeepNaN(x, a * (y * spNeg + (one - y) * spPos));
    }
}
