using System;
using System.Linq;
using System.Runtime.Intrinsics;
using DslModels.Losses;
using Xunit;
using static DslModels.Tests.FloatUlps;
using static DslModels.Tests.Models.ModelHelpers;

namespace DslModels.Tests.Losses;

/// <summary>
/// BCELoss, KLDivLoss, PoissonNLLLoss, GaussianNLLLoss, SoftMarginLoss and MultiLabelSoftMarginLoss on floats (LaneLoss and
/// the terms of LaneTerms.cs) against the same losses on double data, whose scalar loops use Math.Exp and Math.Log: every
/// output and gradient within one float ulp of the double result or, where the formula cancels, within 10⁻¹⁵ of the magnitude
/// of its terms; for every option, every reduction, the weight shapes the lanes take and those they leave to the scalar loop,
/// and lengths that leave every partial last step on every width. Special values (NaN, ±∞, ±0, exp's overflow and underflow,
/// the clamps) must give what the scalar loop gives: the same NaN, the same infinities. CI runs these on every vector width.
/// </summary>
public class LaneTermTests
{
    /// <summary>Lengths n = rows·cols and row lengths leave every remainder modulo 8 (the half step of the widest lanes).</summary>
    public static TheoryData<int, int> Shapes() => new()
    {
        { 1, 1 }, { 1, 2 }, { 2, 3 }, { 3, 3 }, { 1, 4 }, { 1, 5 }, { 3, 7 }, { 1, 7 }, { 4, 10 }, { 2, 16 }, { 3, 17 },
        { 5, 13 }, { 3, 6 }, { 2, 5 }, { 7, 33 }, { 2, 100 }, { 1, 49 }, { 32, 1000 },
    };

    private static readonly Reduction[] Reductions = [Reduction.Mean, Reduction.Sum, Reduction.None];

    /// <summary>A magnitude for the 10⁻¹⁵ tolerance; none (one ulp only) where the terms are infinite.</summary>
    private static double Finite(double magnitude) => double.IsFinite(magnitude) ? magnitude : 0;

    private static double[] Doubles(float[] v) => v.Select(f => (double)f).ToArray();

    private static double[]? DoublesOrNull(float[]? v) => v?.Select(f => (double)f).ToArray();

    private static void CompareAll(string what, float[] actual, double[] expected, Func<int, double> magnitude)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
            Close(actual[i], expected[i], Finite(magnitude(i)), $"{what}[{i}]");
    }

    /// <summary>
    /// Special values: the same NaN, the same infinity as the scalar loop, or a finite value within an ulp of its (or within
    /// 10⁻¹⁵ of <paramref name="magnitude"/>).
    /// </summary>
    private static void Same(float actual, double expected, string what, double magnitude = 0)
    {
        float e = (float)expected;
        Assert.True(float.IsNaN(actual) == float.IsNaN(e) && float.IsInfinity(actual) == float.IsInfinity(e)
            && (Ulps(actual, e) <= 1 || Math.Abs(actual - expected) <= 1e-15 * Finite(magnitude)),
            $"{what}: {actual:R}, the scalar loop in double {expected:R}");
    }

    private static void SameAll(string what, float[] actual, double[] expected, Func<int, string> at, Func<int, double>? magnitude = null)
    {
        for (int i = 0; i < actual.Length; i++)
            Same(actual[i], expected[i], $"{what} at {at(i)}", magnitude?.Invoke(i) ?? 0);
    }

    /// <summary>Upstream gradient: one per element of the unreduced loss for None, else 0.75.</summary>
    private static float[] Upstream(Random rng, Reduction reduction, int count)
        => reduction == Reduction.None ? Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray() : [0.75f];

    private static double G(float[] upstream, int i) => upstream.Length == 1 ? upstream[0] : upstream[i];

    // ---------------------------------------------------------------- BCELoss

    private static (float[]? W, int[]? Shape) Weight(string kind, Random rng, int rows, int cols)
    {
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 3 - 0.5)).ToArray();
        return kind switch
        {
            "weight" => (Values(cols), null),
            "[1, C]" => (Values(cols), new[] { 1, cols }),
            "scalar" => (Values(1), new[] { 1 }),
            "per-element" => (Values(rows * cols), new[] { rows, cols }),
            "per-row" => (Values(rows), new[] { rows, 1 }), // a broadcast the lanes leave to the scalar loop
            _ => (null, null),
        };
    }

    private static double WeightAt(string kind, float[]? w, int i, int cols) => kind switch
    {
        "none" => 1,
        "scalar" => w![0],
        "per-row" => w![i / cols],
        "per-element" => w![i],
        _ => w![i % cols],
    };

    private static readonly string[] WeightKinds = ["none", "weight", "[1, C]", "scalar", "per-element", "per-row"];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BCE_on_floats_is_within_an_ulp_of_double_precision(int rows, int cols)
    {
        int n = rows * cols;
        var rng = new Random(rows * 1000 + cols);
        // Probabilities near 0 and 1 too (log below -100: the clamp; x(1 - x) below 1e-12: the other clamp), and exactly 0 and 1.
        float[] x = Enumerable.Range(0, n).Select(i => i % 11 == 3 ? 0f : i % 13 == 5 ? 1f : i % 7 == 1 ? (float)Math.Pow(10, -rng.Next(1, 46))
            : i % 7 == 2 ? 1 - (float)Math.Pow(2, -rng.Next(1, 25)) : (float)rng.NextDouble()).ToArray();
        float[] y = Enumerable.Range(0, n).Select(i => i % 5 == 0 ? (float)rng.NextDouble() : rng.Next(2)).ToArray();
        int[] shape = [rows, cols];
        foreach (string kind in WeightKinds)
            foreach (var reduction in Reductions)
            {
                var (w, wShape) = Weight(kind, rng, rows, cols);
                float[] up = Upstream(rng, reduction, n);
                bool none = reduction == Reduction.None;
                float[] output = new float[none ? n : 0], gx = new float[n], gy = new float[n];
                double[] outputD = new double[none ? n : 0], gxD = new double[n], gyD = new double[n];
                float loss = BCELoss.Forward<float>(x, y, shape, new BCELossOptions<float> { Reduction = reduction, Weight = w, WeightShape = wShape },
                    output, gx, gy, up);
                double lossD = BCELoss.Forward<double>(Doubles(x), Doubles(y), shape,
                    new BCELossOptions<double> { Reduction = reduction, Weight = DoublesOrNull(w), WeightShape = wShape }, outputD, gxD, gyD, Doubles(up));
                double Mag(int i, bool log)
                {
                    double lx = Math.Log(x[i]), l1x = Math.Log(1 - (double)x[i]);
                    return log ? Math.Abs(y[i] * Math.Max(lx, -100)) + Math.Abs((1 - y[i]) * Math.Max(l1x, -100)) : Math.Abs(lx) + Math.Abs(l1x);
                }
                string at = $"{kind}, {reduction}";
                double total = 0;
                for (int i = 0; i < n; i++)
                    total += Math.Abs(WeightAt(kind, w, i, cols)) * Mag(i, true);
                if (none)
                    CompareAll($"loss ({at})", output, outputD, i => Math.Abs(WeightAt(kind, w, i, cols)) * Mag(i, true));
                CompareAll($"gradInput ({at})", gx, gxD, _ => 0);
                CompareAll($"gradTarget ({at})", gy, gyD, i => Math.Abs(G(up, i) * WeightAt(kind, w, i, cols)) * Mag(i, false));
                Close(loss, lossD, total / (reduction == Reduction.Mean ? n : 1), $"reduced loss ({at})");
            }
    }

    [Fact]
    public void BCE_special_values_and_clamps_are_the_scalar_loops()
    {
        float[] xs = [0f, 1f, float.Epsilon, 1e-30f, 1e-6f, 0.5f, 1 - 1f / (1 << 24), 1 - 1f / (1 << 20)];
        float[] ys = [0f, 1f, 0.5f, 1e-30f];
        float[] ws = [1f, 0f, -2f, float.NaN, float.PositiveInfinity];
        var cases = (from x in xs from y in ys from w in ws select (x, y, w)).ToArray();
        int n = cases.Length;
        float[] x1 = cases.Select(c => c.x).ToArray(), y1 = cases.Select(c => c.y).ToArray(), w1 = cases.Select(c => c.w).ToArray();
        var options = new BCELossOptions<float> { Reduction = Reduction.None, Weight = w1, WeightShape = [n] };
        float[] loss = new float[n], gx = new float[n], gy = new float[n];
        double[] lossD = new double[n], gxD = new double[n], gyD = new double[n];
        BCELoss.Forward<float>(x1, y1, [n], options, loss, gx, gy);
        BCELoss.Forward<double>(Doubles(x1), Doubles(y1), [n], new BCELossOptions<double> { Reduction = Reduction.None, Weight = Doubles(w1), WeightShape = [n] },
            lossD, gxD, gyD);
        string At(int i) => $"x = {x1[i]:R}, y = {y1[i]:R}, w = {w1[i]:R}";
        SameAll("loss", loss, lossD, At);
        SameAll("gradInput", gx, gxD, At);
        SameAll("gradTarget", gy, gyD, At);
        // The clamps themselves: log 0 → -100, x(1 - x) = 0 → 1e-12.
        float[] l = new float[2], g = new float[2];
        BCELoss.Forward<float>([0f, 1f], [1f, 0f], [2], new BCELossOptions<float> { Reduction = Reduction.None }, l, g);
        Assert.Equal(new[] { 100f, 100f }, l);
        Assert.Equal(new[] { -1e12f, 1e12f }, g);
    }

    [Fact]
    public void BCE_on_floats_checks_the_range_first_with_the_same_messages()
    {
        foreach (var (badX, badY) in new[] { (37, 20), (5, -1), (-1, 70), (64, 64) })
        {
            float[] x = Enumerable.Range(0, 80).Select(i => (float)(i % 10) / 10).ToArray(), y = Enumerable.Range(0, 80).Select(i => (float)(i % 2)).ToArray();
            if (badX >= 0)
                x[badX] = badX % 2 == 0 ? float.NaN : 1.5f;
            if (badY >= 0)
                y[badY] = -0.25f;
            float[] g = Enumerable.Repeat(7f, 80).ToArray();
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => BCELoss.Forward<float>(x, y, [8, 10], null, gradInput: g));
            var eD = Assert.Throws<ArgumentOutOfRangeException>(() => BCELoss.Forward<double>(Doubles(x), Doubles(y), [8, 10]));
            Assert.Equal(eD.Message, e.Message);
            Assert.Equal(eD.ParamName, e.ParamName);
            Assert.All(g, v => Assert.Equal(7f, v)); // nothing written
        }
    }

    // ---------------------------------------------------------------- KLDivLoss

    [Theory]
    [MemberData(nameof(Shapes))]
    public void KLDiv_on_floats_is_within_an_ulp_of_double_precision(int rows, int cols)
    {
        int n = rows * cols;
        var rng = new Random(rows * 1000 + cols + 1);
        // Log-probabilities near the target's log (where the loss cancels) and away from it; probabilities with zeros.
        float[] y = Enumerable.Range(0, n).Select(i => i % 9 == 4 ? 0f : (float)(rng.NextDouble() * (i % 4 == 0 ? 1e-6 : 1))).ToArray();
        float[] x = Enumerable.Range(0, n).Select(i => i % 3 == 0 ? (float)Math.Log(Math.Max(y[i], 1e-30)) : (float)(-rng.NextDouble() * 20)).ToArray();
        float[] yLog = Enumerable.Range(0, n).Select(i => i % 3 == 0 ? x[i] + (float)(rng.NextDouble() * 1e-3) : (float)(-rng.NextDouble() * 30)).ToArray();
        int[] shape = [rows, cols];
        foreach (bool logTarget in new[] { false, true })
            foreach (var reduction in new[] { KLDivReduction.Mean, KLDivReduction.Sum, KLDivReduction.None, KLDivReduction.BatchMean })
            {
                float[] t = logTarget ? yLog : y;
                bool none = reduction == KLDivReduction.None;
                float[] up = Upstream(rng, none ? Reduction.None : Reduction.Sum, n);
                float[] output = new float[none ? n : 0], gx = new float[n], gy = new float[n];
                double[] outputD = new double[none ? n : 0], gxD = new double[n], gyD = new double[n];
                float loss = KLDivLoss.Forward<float>(x, t, shape, new KLDivLossOptions { Reduction = reduction, LogTarget = logTarget }, output, gx, gy, up);
                double lossD = KLDivLoss.Forward<double>(Doubles(x), Doubles(t), shape, new KLDivLossOptions { Reduction = reduction, LogTarget = logTarget },
                    outputD, gxD, gyD, Doubles(up));
                double MagL(int i) => logTarget ? Math.Exp(t[i]) * (Math.Abs(t[i]) + Math.Abs(x[i])) : Math.Abs(t[i] * Math.Log(t[i])) + Math.Abs(t[i] * x[i]);
                double MagDy(int i) => Math.Abs(G(up, i)) * (logTarget ? Math.Exp(t[i]) * (Math.Abs(t[i]) + Math.Abs(x[i]) + 1) : Math.Abs(Math.Log(t[i])) + 1 + Math.Abs(x[i]));
                string at = $"log_target {logTarget}, {reduction}";
                if (none)
                    CompareAll($"loss ({at})", output, outputD, MagL);
                CompareAll($"gradInput ({at})", gx, gxD, _ => 0);
                CompareAll($"gradTarget ({at})", gy, gyD, MagDy);
                double denominator = reduction == KLDivReduction.Mean ? n : reduction == KLDivReduction.BatchMean ? rows : 1;
                Close(loss, lossD, Enumerable.Range(0, n).Sum(MagL) / denominator, $"reduced loss ({at})");
            }
    }

    private static readonly float[] Specials =
        [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, float.Epsilon, 1e-30f, 0.5f, 1f, 2f, -1f, -0.5f, 30f, -30f,
         88.8f, -88.8f, 708.5f, -708.5f, 709.5f, -709.5f, 709.8f, 720f, -720f, -745.5f, -800f, 1e30f, -1e30f];

    private static (float[] X, float[] Y) Pairs(float[] xs, float[] ys)
    {
        var cases = (from x in xs from y in ys select (x, y)).ToArray();
        return (cases.Select(c => c.x).ToArray(), cases.Select(c => c.y).ToArray());
    }

    [Fact]
    public void KLDiv_special_values_are_the_scalar_loops()
    {
        var (x, y) = Pairs(Specials, Specials);
        int n = x.Length;
        foreach (bool logTarget in new[] { false, true })
        {
            var options = new KLDivLossOptions { Reduction = KLDivReduction.None, LogTarget = logTarget };
            float[] loss = new float[n], gx = new float[n], gy = new float[n];
            double[] lossD = new double[n], gxD = new double[n], gyD = new double[n];
            KLDivLoss.Forward<float>(x, y, [n], options, loss, gx, gy);
            KLDivLoss.Forward<double>(Doubles(x), Doubles(y), [n], options, lossD, gxD, gyD);
            string At(int i) => $"x = {x[i]:R}, y = {y[i]:R}, log_target {logTarget}";
            SameAll("loss", loss, lossD, At);
            SameAll("gradInput", gx, gxD, At);
            SameAll("gradTarget", gy, gyD, At);
        }
        // PyTorch's conventions: 0 where y = 0, NaN where y < 0; with log_target, y = -∞ gives exp(-∞)·(-∞) = NaN.
        float[] l = new float[3];
        KLDivLoss.Forward<float>([-1f, -1f, -1f], [0f, -0.5f, 0.25f], [3], new KLDivLossOptions { Reduction = KLDivReduction.None }, l);
        Assert.Equal(0f, l[0]);
        Assert.True(float.IsNaN(l[1]));
        KLDivLoss.Forward<float>([-1f, -1f, -1f], [float.NegativeInfinity, -800f, 0f], [3], new KLDivLossOptions { Reduction = KLDivReduction.None, LogTarget = true }, l);
        Assert.True(float.IsNaN(l[0]));
        Assert.Equal(0f, l[1]);
        Assert.Equal(1f, l[2]);
    }

    // ---------------------------------------------------------------- PoissonNLLLoss

    [Theory]
    [MemberData(nameof(Shapes))]
    public void PoissonNLL_on_floats_is_within_an_ulp_of_double_precision(int rows, int cols)
    {
        int n = rows * cols;
        var rng = new Random(rows * 1000 + cols + 2);
        float[] logRate = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * 12)).ToArray();
        float[] rate = Enumerable.Range(0, n).Select(i => i % 10 == 0 ? 0f : (float)(rng.NextDouble() * 20)).ToArray();
        // Counts, fractions, values at and around the Stirling term's threshold 1, and zeros (their target gradient is NaN with full).
        float[] y = Enumerable.Range(0, n).Select(i => i % 6 == 0 ? 0f : i % 6 == 1 ? (float)rng.NextDouble() : i % 6 == 2 ? 1f : rng.Next(1, 30)).ToArray();
        foreach (bool logInput in new[] { true, false })
            foreach (bool full in new[] { false, true })
                foreach (double eps in logInput ? new[] { 1e-8 } : new[] { 1e-8, 0.5, 0 })
                    foreach (var reduction in Reductions)
                    {
                        float[] x = logInput ? logRate : rate;
                        var options = new PoissonNLLLossOptions { Reduction = reduction, LogInput = logInput, Full = full, Eps = eps };
                        float[] up = Upstream(rng, reduction, n);
                        bool none = reduction == Reduction.None;
                        float[] output = new float[none ? n : 0], gx = new float[n], gy = new float[n];
                        double[] outputD = new double[none ? n : 0], gxD = new double[n], gyD = new double[n];
                        float loss = PoissonNLLLoss.Forward<float>(x, y, options, output, gx, gy, up);
                        double lossD = PoissonNLLLoss.Forward<double>(Doubles(x), Doubles(y), options, outputD, gxD, gyD, Doubles(up));
                        double Stirling(int i, bool grad) => full && y[i] > 1
                            ? grad ? Math.Abs(Math.Log(y[i])) + 0.5 / y[i] : Math.Abs(y[i] * Math.Log(y[i])) + y[i] + Math.Abs(0.5 * Math.Log(2 * Math.PI * y[i]))
                            : 0;
                        double MagL(int i) => (logInput ? Math.Exp(x[i]) + Math.Abs(y[i] * x[i]) : Math.Abs(x[i]) + Math.Abs(y[i] * Math.Log(x[i] + eps))) + Stirling(i, false);
                        double MagDx(int i) => Math.Abs(G(up, i)) * (logInput ? Math.Exp(x[i]) + y[i] : 1 + Math.Abs(y[i] / (x[i] + eps)));
                        double MagDy(int i) => Math.Abs(G(up, i)) * ((logInput ? Math.Abs(x[i]) : Math.Abs(Math.Log(x[i] + eps))) + Stirling(i, true));
                        string at = $"log_input {logInput}, full {full}, eps {eps}, {reduction}";
                        if (none)
                            CompareAll($"loss ({at})", output, outputD, MagL);
                        CompareAll($"gradInput ({at})", gx, gxD, MagDx);
                        CompareAll($"gradTarget ({at})", gy, gyD, MagDy);
                        Close(loss, lossD, Enumerable.Range(0, n).Sum(MagL) / (reduction == Reduction.Mean ? n : 1), $"reduced loss ({at})");
                    }
    }

    [Fact]
    public void PoissonNLL_special_values_are_the_scalar_loops()
    {
        var (x, y) = Pairs(Specials, Specials);
        int n = x.Length;
        foreach (bool logInput in new[] { true, false })
            foreach (bool full in new[] { false, true })
            {
                var options = new PoissonNLLLossOptions { Reduction = Reduction.None, LogInput = logInput, Full = full };
                float[] loss = new float[n], gx = new float[n], gy = new float[n];
                double[] lossD = new double[n], gxD = new double[n], gyD = new double[n];
                PoissonNLLLoss.Forward<float>(x, y, options, loss, gx, gy);
                PoissonNLLLoss.Forward<double>(Doubles(x), Doubles(y), options, lossD, gxD, gyD);
                string At(int i) => $"x = {x[i]:R}, y = {y[i]:R}, log_input {logInput}, full {full}";
                SameAll("loss", loss, lossD, At);
                SameAll("gradInput", gx, gxD, At);
                SameAll("gradTarget", gy, gyD, At);
            }
        // With full, the target gradient is NaN where y <= 0 (PyTorch's masked Stirling term), a number above.
        float[] g = new float[4];
        PoissonNLLLoss.Forward<float>([0.5f, 0.5f, 0.5f, 0.5f], [0f, -1f, 0.5f, 3f], new PoissonNLLLossOptions { Full = true }, gradTarget: g);
        Assert.True(float.IsNaN(g[0]) && float.IsNaN(g[1]) && float.IsFinite(g[2]) && float.IsFinite(g[3]));
    }

    // ---------------------------------------------------------------- GaussianNLLLoss

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GaussianNLL_on_floats_is_within_an_ulp_of_double_precision(int rows, int cols)
    {
        int n = rows * cols;
        var rng = new Random(rows * 1000 + cols + 3);
        float[] x = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * 10)).ToArray();
        float[] y = Enumerable.Range(0, n).Select(i => i % 4 == 0 ? x[i] : (float)((rng.NextDouble() - 0.5) * 10)).ToArray();
        int[] shape = [rows, cols];
        foreach (string varKind in new[] { "per-element", "per-row", "per-row [N, 1]" })
            foreach (bool full in new[] { false, true })
                foreach (double eps in new[] { 1e-6, 0.25 })
                    foreach (var reduction in Reductions)
                    {
                        int nv = varKind == "per-element" ? n : rows;
                        int[] varShape = varKind == "per-element" ? shape : varKind == "per-row" ? [rows] : [rows, 1];
                        // Variances below eps (clamped), zeros, and ordinary ones.
                        float[] v = Enumerable.Range(0, nv).Select(i => i % 5 == 0 ? 0f : i % 5 == 1 ? (float)(rng.NextDouble() * 1e-6) : (float)(rng.NextDouble() * 4)).ToArray();
                        var options = new GaussianNLLLossOptions { Reduction = reduction, Full = full, Eps = eps };
                        float[] up = Upstream(rng, reduction, n);
                        bool none = reduction == Reduction.None;
                        float[] output = new float[none ? n : 0], gx = new float[n], gy = new float[n], gv = new float[nv];
                        double[] outputD = new double[none ? n : 0], gxD = new double[n], gyD = new double[n], gvD = new double[nv];
                        float loss = GaussianNLLLoss.Forward<float>(x, y, v, shape, varShape, options, output, gx, gy, gv, up);
                        double lossD = GaussianNLLLoss.Forward<double>(Doubles(x), Doubles(y), Doubles(v), shape, varShape, options, outputD, gxD, gyD, gvD, Doubles(up));
                        int Vi(int i) => nv == n ? i : i / cols;
                        double V(int i) => Math.Max(v[Vi(i)], eps);
                        double D2(int i) => ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
                        double MagL(int i) => 0.5 * (Math.Abs(Math.Log(V(i))) + D2(i) / V(i)) + (full ? 1 : 0);
                        string at = $"{varKind}, full {full}, eps {eps}, {reduction}";
                        if (none)
                            CompareAll($"loss ({at})", output, outputD, MagL);
                        CompareAll($"gradInput ({at})", gx, gxD, _ => 0);
                        CompareAll($"gradTarget ({at})", gy, gyD, _ => 0);
                        double MagV(int i) => Math.Abs(G(up, i)) * 0.5 * (1 / V(i) + D2(i) / (V(i) * V(i)));
                        // One variance per row: its gradient sums the row's terms (which cancel), on lanes in double; rows
                        // shorter than MinLaneRow stay in the scalar loop, which sums float-rounded terms in float (an ulp each).
                        double perRowFactor = cols >= GaussianNLLLoss.MinLaneRow ? 1 : cols * 6e7;
                        CompareAll($"gradVar ({at})", gv, gvD, nv == n ? MagV : r => Enumerable.Range(r * cols, cols).Sum(MagV) * perRowFactor);
                        Close(loss, lossD, Enumerable.Range(0, n).Sum(MagL) / (reduction == Reduction.Mean ? n : 1), $"reduced loss ({at})");
                    }
    }

    [Fact]
    public void GaussianNLL_special_values_are_the_scalar_loops()
    {
        float[] vs = [float.NaN, float.PositiveInfinity, 0f, -0f, float.Epsilon, 1e-30f, 1e-7f, 1f, 1e30f];
        // Grouped by variance: one row of 27·6 elements per variance, for the variance per row.
        var cases = (from v in vs from x in Specials from y in new[] { float.NaN, float.PositiveInfinity, 0f, 1f, -30f, 1e30f } select (x, y, v)).ToArray();
        int n = cases.Length, width = n / vs.Length;
        float[] x1 = cases.Select(c => c.x).ToArray(), y1 = cases.Select(c => c.y).ToArray(), v1 = cases.Select(c => c.v).ToArray();
        foreach (double eps in new[] { 1e-6, 0 })
            foreach (bool perRow in new[] { false, true })
            {
                var options = new GaussianNLLLossOptions { Reduction = Reduction.None, Eps = eps, Full = true };
                int[] shape = perRow ? [vs.Length, width] : [n], varShape = perRow ? [vs.Length] : [n];
                float[] v = perRow ? vs : v1;
                float[] loss = new float[n], gx = new float[n], gy = new float[n], gv = new float[v.Length];
                double[] lossD = new double[n], gxD = new double[n], gyD = new double[n], gvD = new double[v.Length];
                GaussianNLLLoss.Forward<float>(x1, y1, v, shape, varShape, options, loss, gx, gy, gv);
                GaussianNLLLoss.Forward<double>(Doubles(x1), Doubles(y1), Doubles(v), shape, varShape, options, lossD, gxD, gyD, gvD);
                string At(int i) => $"x = {x1[i]:R}, y = {y1[i]:R}, var = {v1[i]:R}, eps {eps}, per row {perRow}";
                SameAll("loss", loss, lossD, At);
                SameAll("gradInput", gx, gxD, At);
                SameAll("gradTarget", gy, gyD, At);
                SameAll("gradVar", gv, gvD, perRow ? r => $"var = {vs[r]:R}, eps {eps}, per row" : At);
            }
        // Only the target gradient: written through the input's, negated.
        float[] g = new float[3];
        GaussianNLLLoss.Forward<float>([1f, 2f, 3f], [0f, 0f, 0f], [1f, 1f, 2f], [3], [3], new GaussianNLLLossOptions { Reduction = Reduction.Sum }, gradTarget: g);
        Assert.Equal(new[] { -1f, -2f, -1.5f }, g);
    }

    [Fact]
    public void GaussianNLL_on_floats_checks_the_variances_first_with_the_same_messages()
    {
        foreach (int bad in new[] { 0, 17, 39 })
        {
            float[] x = new float[40], v = Enumerable.Repeat(1f, 40).ToArray(), g = Enumerable.Repeat(7f, 40).ToArray();
            v[bad] = -1e-45f;
            v[39] = bad == 39 ? -2f : float.NaN; // NaN passes the check, as in PyTorch
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => GaussianNLLLoss.Forward<float>(x, x, v, [4, 10], [4, 10], gradInput: g));
            var eD = Assert.Throws<ArgumentOutOfRangeException>(() => GaussianNLLLoss.Forward<double>(Doubles(x), Doubles(x), Doubles(v), [4, 10], [4, 10]));
            Assert.Equal(eD.Message, e.Message);
            Assert.All(g, value => Assert.Equal(7f, value)); // nothing written
        }
    }

    // ---------------------------------------------------------------- SoftMarginLoss

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SoftMargin_on_floats_is_within_an_ulp_of_double_precision(int rows, int cols)
    {
        int n = rows * cols;
        var rng = new Random(rows * 1000 + cols + 4);
        float[] x = Enumerable.Range(0, n).Select(i => (float)((rng.NextDouble() - 0.5) * (i % 7 == 0 ? 100 : 8))).ToArray();
        float[] y = Enumerable.Range(0, n).Select(i => i % 9 == 0 ? (float)(rng.NextDouble() * 4 - 2) : rng.Next(2) * 2 - 1f).ToArray();
        foreach (var reduction in Reductions)
        {
            var options = new SoftMarginLossOptions { Reduction = reduction };
            float[] up = Upstream(rng, reduction, n);
            bool none = reduction == Reduction.None;
            float[] output = new float[none ? n : 0], gx = new float[n];
            double[] outputD = new double[none ? n : 0], gxD = new double[n];
            float loss = SoftMarginLoss.Forward<float>(x, y, options, output, gx, up);
            double lossD = SoftMarginLoss.Forward<double>(Doubles(x), Doubles(y), options, outputD, gxD, Doubles(up));
            // The naive log(1 + z) rounds 1 + z: its terms are 1 and z (the loss itself where z is large).
            double MagL(int i) => 1 + Math.Log(1 + Math.Exp(-(double)y[i] * x[i]));
            if (none)
                CompareAll($"loss ({reduction})", output, outputD, MagL);
            CompareAll($"gradInput ({reduction})", gx, gxD, _ => 0);
            Close(loss, lossD, Enumerable.Range(0, n).Sum(MagL) / (reduction == Reduction.Mean ? n : 1), $"reduced loss ({reduction})");
        }
    }

    [Fact]
    public void SoftMargin_special_values_are_the_scalar_loops()
    {
        var (x, y) = Pairs(Specials, [1f, -1f, 0f, 0.5f, 2f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e30f]);
        int n = x.Length;
        var options = new SoftMarginLossOptions { Reduction = Reduction.None };
        float[] loss = new float[n], gx = new float[n];
        double[] lossD = new double[n], gxD = new double[n];
        SoftMarginLoss.Forward<float>(x, y, options, loss, gx);
        SoftMarginLoss.Forward<double>(Doubles(x), Doubles(y), options, lossD, gxD);
        string At(int i) => $"x = {x[i]:R}, y = {y[i]:R}";
        SameAll("loss", loss, lossD, At);
        SameAll("gradInput", gx, gxD, At);
        // Computed naively, as PyTorch does: exp(-y·x) overflows above 709.78 (in double), and the loss is ∞, its gradient NaN.
        float[] l = new float[2], g = new float[2];
        SoftMarginLoss.Forward<float>([-709f, -710f], [1f, 1f], options, l, g);
        Assert.Equal(709f, l[0]);
        Assert.Equal(-1f, g[0]);
        Assert.Equal(float.PositiveInfinity, l[1]);
        Assert.True(float.IsNaN(g[1]));
    }

    // ---------------------------------------------------------------- MultiLabelSoftMarginLoss

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MultiLabelSoftMargin_on_floats_is_within_an_ulp_of_double_precision(int rows, int cols)
    {
        int n = rows * cols;
        var rng = new Random(rows * 1000 + cols + 5);
        float[] x = Enumerable.Range(0, n).Select(i => (float)((rng.NextDouble() - 0.5) * (i % 7 == 0 ? 80 : 8))).ToArray();
        float[] y = Enumerable.Range(0, n).Select(i => i % 5 == 0 ? (float)rng.NextDouble() : rng.Next(2)).ToArray();
        int[] shape = [rows, cols];
        foreach (string kind in WeightKinds)
            foreach (var reduction in Reductions)
                foreach (bool withOutput in new[] { false, true })
                {
                    var (w, wShape) = Weight(kind, rng, rows, cols);
                    float[] up = reduction == Reduction.None && withOutput ? Upstream(rng, reduction, rows) : reduction == Reduction.None ? [] : [0.75f];
                    var options = new MultiLabelSoftMarginLossOptions<float> { Reduction = reduction, Weight = w, WeightShape = wShape };
                    var optionsD = new MultiLabelSoftMarginLossOptions<double> { Reduction = reduction, Weight = DoublesOrNull(w), WeightShape = wShape };
                    float[] output = new float[withOutput ? rows : 0], gx = new float[n], gy = new float[n];
                    double[] outputD = new double[withOutput ? rows : 0], gxD = new double[n], gyD = new double[n];
                    float loss = MultiLabelSoftMarginLoss.Forward<float>(x, y, shape, options, output, gx, gy, up);
                    double lossD = MultiLabelSoftMarginLoss.Forward<double>(Doubles(x), Doubles(y), shape, optionsD, outputD, gxD, gyD, Doubles(up));
                    double Gr(int r) => up.Length == 0 ? 1 : up.Length == 1 ? up[0] / (reduction == Reduction.Mean ? rows : 1) : up[r];
                    double MagL(int r) => Enumerable.Range(r * cols, cols).Sum(i => Math.Abs(WeightAt(kind, w, i, cols)) * (Math.Abs(x[i]) + 1)) / cols;
                    string at = $"{kind}, {reduction}, output {withOutput}";
                    if (withOutput)
                        CompareAll($"loss ({at})", output, outputD, MagL);
                    CompareAll($"gradInput ({at})", gx, gxD, i => Math.Abs(Gr(i / cols) * WeightAt(kind, w, i, cols)) * (1 + Math.Abs(y[i])) / cols);
                    CompareAll($"gradTarget ({at})", gy, gyD, _ => 0);
                    Close(loss, lossD, Enumerable.Range(0, rows).Sum(MagL) / (reduction == Reduction.Mean ? rows : 1), $"reduced loss ({at})");
                }
    }

    [Fact]
    public void MultiLabelSoftMargin_special_values_are_the_scalar_loops()
    {
        var (x, y) = Pairs(Specials, [1f, 0f, 0.5f, 2f, -1f, float.NaN, float.PositiveInfinity]);
        int n = x.Length;
        foreach (bool weighted in new[] { false, true })
        {
            // One class per row, so that each element's loss is an output; weights with NaN, 0 and negatives. (Not ∞: the scalar
            // loop's log(1 + e^-|x|) is 0 for |x| > 36.7 and its σ(x) 0 below -745, where the lanes have a tiny positive number,
            // so that ∞·term is NaN there and ±∞ here.)
            float[] w = Enumerable.Range(0, n).Select(i => new[] { 1f, float.NaN, 0.25f, 0f, -2f }[i % 5]).ToArray();
            var options = new MultiLabelSoftMarginLossOptions<float> { Reduction = Reduction.None, Weight = weighted ? w : null, WeightShape = weighted ? [n, 1] : null };
            var optionsD = new MultiLabelSoftMarginLossOptions<double> { Reduction = Reduction.None, Weight = weighted ? Doubles(w) : null, WeightShape = weighted ? [n, 1] : null };
            float[] loss = new float[n], gx = new float[n], gy = new float[n];
            double[] lossD = new double[n], gxD = new double[n], gyD = new double[n];
            MultiLabelSoftMarginLoss.Forward<float>(x, y, [n, 1], options, loss, gx, gy);
            MultiLabelSoftMarginLoss.Forward<double>(Doubles(x), Doubles(y), [n, 1], optionsD, lossD, gxD, gyD);
            string At(int i) => $"x = {x[i]:R}, y = {y[i]:R}, weight {(weighted ? w[i] : 1):R}";
            // The scalar loop's softplus is log(1 + e^-|x|), which loses e^-|x| below 10⁻¹⁶ (log1p here): its terms are |x| and 1.
            SameAll("loss", loss, lossD, At, i => Math.Abs(weighted ? w[i] : 1) * (Math.Abs(x[i]) + 1) * Math.Max(1, Math.Abs(y[i])));
            SameAll("gradInput", gx, gxD, At);
            SameAll("gradTarget", gy, gyD, At);
            // The single pass (no per-row output, uniform upstream gradient).
            var sum = options with { Reduction = Reduction.Sum };
            var sumD = optionsD with { Reduction = Reduction.Sum };
            MultiLabelSoftMarginLoss.Forward<float>(x, y, [n, 1], sum, default, gx, gy, [0.5f]);
            MultiLabelSoftMarginLoss.Forward<double>(Doubles(x), Doubles(y), [n, 1], sumD, default, gxD, gyD, [0.5]);
            SameAll("gradInput (sum)", gx, gxD, At);
            SameAll("gradTarget (sum)", gy, gyD, At);
        }
        // x = -∞ with y = 1: softplus(∞) = ∞, and the other term 0·softplus(-∞) = 0: ∞, as in PyTorch (not ∞ - ∞).
        float[] l = new float[1];
        MultiLabelSoftMarginLoss.Forward<float>([float.NegativeInfinity], [1f], [1, 1], new MultiLabelSoftMarginLossOptions<float> { Reduction = Reduction.None }, l);
        Assert.Equal(float.PositiveInfinity, l[0]);
    }

    // ---------------------------------------------------------------- LaneLoss helpers

    [Fact]
    public void MathExp_is_MathExp_at_its_limits_and_within_an_ulp_of_it_in_float()
    {
        double[] us = [double.NaN, double.NegativeInfinity, -800, -745.2, -745.1, -720, -708.5, -708, -100, -1, -1e-300, 0, 1e-300, 1, 88.7, 100, 708, 708.5, 709.7, 709.8, 800, double.PositiveInfinity];
        foreach (double u in us)
        {
            double m = Math.Exp(u);
            foreach (double e in new[] { Exp<L1>(u), Vector128.IsHardwareAccelerated ? Exp<L128>(u) : m, Vector256.IsHardwareAccelerated ? Exp<L256>(u) : m,
                         Vector512.IsHardwareAccelerated ? Exp<L512>(u) : m })
            {
                Assert.True(double.IsNaN(e) == double.IsNaN(m) && double.IsInfinity(e) == double.IsInfinity(m) && (e == 0) == (m == 0), $"exp({u:R}) = {e:R}, Math.Exp {m:R}");
                if (Math.Abs(u) <= 708)
                    Assert.True(Math.Abs(e - m) <= 1e-12 * m, $"exp({u:R}) = {e:R}, Math.Exp {m:R}");
                if (Math.Abs(u) <= 745 && !double.IsInfinity(m))
                    Assert.Equal((float)m, (float)e);
            }
        }
        static double Exp<T>(double u) where T : struct, ILanes<T>
        {
            double[] values = Enumerable.Repeat(u, T.Floats).ToArray(), results = new double[T.Floats];
            T.LoadDoubles(ref values[0], out var lo, out var hi);
            T.StoreDoubles(ref results[0], LaneLoss.MathExp(lo), LaneLoss.MathExp(hi));
            Assert.All(results, r => Assert.Equal(results[0], r));
            return results[0];
        }
    }

    [Fact]
    public void InUnitInterval_AnyNegative_and_Negate_on_every_length()
    {
        for (int n = 0; n < 70; n++)
        {
            float[] v = Enumerable.Range(0, n).Select(i => (float)(i % 11) / 10).ToArray();
            Assert.True(LaneLoss.InUnitInterval(v));
            for (int at = 0; at < n; at++)
                foreach (float bad in new[] { float.NaN, -1e-45f, 1.0000001f, float.PositiveInfinity })
                {
                    float keep = v[at];
                    v[at] = bad;
                    Assert.False(LaneLoss.InUnitInterval(v));
                    v[at] = keep;
                }
            Assert.False(LaneLoss.AnyNegative(v));
            for (int at = 0; at < n; at++)
                foreach (float value in new[] { -1e-45f, -0f, float.NaN, float.NegativeInfinity })
                {
                    float keep = v[at];
                    v[at] = value;
                    Assert.Equal(value < 0, LaneLoss.AnyNegative(v));
                    v[at] = keep;
                }
            float[] s = Enumerable.Range(0, n).Select(i => i % 3 == 0 ? 0f : i % 3 == 1 ? -0f : i - 30f).ToArray(), d = new float[n];
            LaneLoss.Negate(s, d);
            for (int i = 0; i < n; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits(s[i]) ^ int.MinValue, BitConverter.SingleToInt32Bits(d[i]));
        }
    }

    [Fact]
    public void Lane_paths_allocate_nothing_after_warm_up()
    {
        int rows = 4, cols = 32, n = rows * cols; // rows long enough for GaussianNLL's lanes with a variance per row
        float[] x = Enumerable.Range(0, n).Select(i => (float)(i % 10) / 10).ToArray(), y = Enumerable.Range(0, n).Select(i => (float)(i % 2)).ToArray();
        float[] g1 = new float[n], g2 = new float[n], g3 = new float[n], perRow = new float[rows], upRows = [1f, 2f, 3f, 4f];
        int[] shape = [rows, cols], varPerRow = [rows, 1];
        var mlsm = new MultiLabelSoftMarginLossOptions<float> { Reduction = Reduction.None, Weight = x[..cols] };
        var gauss = new GaussianNLLLossOptions { Full = true };
        var bce = new BCELossOptions<float> { Weight = x[..cols] };
        AssertAllocatesNothing(() =>
        {
            MultiLabelSoftMarginLoss.Forward<float>(x, y, shape, mlsm, perRow, g1, g2, upRows);
            GaussianNLLLoss.Forward<float>(x, y, y, shape, shape, gauss, gradInput: g1, gradTarget: g2, gradVar: g3);
            GaussianNLLLoss.Forward<float>(x, y, upRows, shape, varPerRow, gauss, gradInput: g1, gradTarget: g2, gradVar: perRow);
            BCELoss.Forward<float>(x, y, shape, bce, gradInput: g1, gradTarget: g2);
            KLDivLoss.Forward<float>(y, x, shape, null, gradInput: g1, gradTarget: g2);
            PoissonNLLLoss.Forward<float>(x, y, null, gradInput: g1, gradTarget: g2);
            SoftMarginLoss.Forward<float>(x, y, null, gradInput: g1);
        });
    }
}
