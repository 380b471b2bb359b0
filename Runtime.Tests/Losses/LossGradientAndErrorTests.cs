using System;
using System.Linq;
using DslModels.Losses;
using Xunit;

namespace DslModels.Tests.Losses;

/// <summary>Central finite differences (double) of losses and options beyond the conformance cases.</summary>
public class LossFiniteDifferenceTests
{
    private delegate double Loss(double[] x);

    private static double[] RandomArray(int n, int seed, double lo = -2, double hi = 2)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * r.NextDouble()).ToArray();
    }

    /// <summary>Checks <paramref name="analytic"/> against (f(x+h) - f(x-h)) / 2h at every element.</summary>
    private static void CheckGradient(string what, double[] x, Loss f, double[] analytic, double tol = 1e-6)
    {
        const double h = 1e-6;
        for (int i = 0; i < x.Length; i++)
        {
            double keep = x[i];
            x[i] = keep + h;
            double up = f(x);
            x[i] = keep - h;
            double down = f(x);
            x[i] = keep;
            double numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic[i]) <= tol * (1 + Math.Abs(numeric)), $"{what}[{i}]: finite difference {numeric:R}, analytic {analytic[i]:R}");
        }
    }

    [Fact]
    public void CrossEntropy_kdim_weight_smoothing_ignore()
    {
        int[] shape = [2, 3, 2, 2];
        int[] target = [0, 2, -1, 1, 1, 0, 2, -1];
        double[] x = RandomArray(24, 1);
        var options = new CrossEntropyLossOptions<double> { Weight = [0.5, 1.5, 2.0], LabelSmoothing = 0.25, IgnoreIndex = -1 };
        var g = new double[24];
        CrossEntropyLoss.Forward<double>(x, shape, target, [2, 2, 2], options, gradInput: g);
        CheckGradient("ce", x, v => CrossEntropyLoss.Forward<double>(v, shape, target, [2, 2, 2], options), g);
    }

    [Fact]
    public void CrossEntropy_probabilities_input_and_target()
    {
        int[] shape = [3, 4];
        double[] x = RandomArray(12, 2), t = RandomArray(12, 3, 0, 1);
        var options = new CrossEntropyLossOptions<double> { Weight = [1, 2, 0.5, 1], LabelSmoothing = 0.1, Reduction = Reduction.Sum };
        var gx = new double[12];
        var gt = new double[12];
        CrossEntropyLoss.ForwardProbabilities<double>(x, t, shape, options, gradInput: gx, gradTarget: gt);
        CheckGradient("ce-prob input", x, v => CrossEntropyLoss.ForwardProbabilities<double>(v, t, shape, options), gx);
        CheckGradient("ce-prob target", t, v => CrossEntropyLoss.ForwardProbabilities<double>(x, v, shape, options), gt);
    }

    [Fact]
    public void None_reduction_uses_per_element_upstream_gradient()
    {
        double[] x = RandomArray(6, 4), y = RandomArray(6, 5), go = RandomArray(6, 6);
        var gx = new double[6];
        var gy = new double[6];
        var o = new HuberLossOptions { Delta = 0.7, Reduction = Reduction.None };
        HuberLoss.Forward<double>(x, y, o, new double[6], gx, gy, go);
        double Weighted(double[] a, double[] b)
        {
            var output = new double[6];
            HuberLoss.Forward<double>(a, b, o, output);
            return output.Zip(go, (l, g) => l * g).Sum();
        }
        CheckGradient("huber none input", x, v => Weighted(v, y), gx);
        CheckGradient("huber none target", y, v => Weighted(x, v), gy);
    }

    [Fact]
    public void Triplet_p3_swap_and_cosine_and_gaussian()
    {
        double[] a = RandomArray(12, 7), p = RandomArray(12, 8), n = RandomArray(12, 9);
        var o = new TripletMarginLossOptions { P = 3, Swap = true, Margin = 2 };
        var ga = new double[12];
        var gp = new double[12];
        var gn = new double[12];
        TripletMarginLoss.Forward<double>(a, [3, 4], p, [3, 4], n, [3, 4], o, gradAnchor: ga, gradPositive: gp, gradNegative: gn);
        CheckGradient("triplet anchor", a, v => TripletMarginLoss.Forward<double>(v, [3, 4], p, [3, 4], n, [3, 4], o), ga);
        CheckGradient("triplet positive", p, v => TripletMarginLoss.Forward<double>(a, [3, 4], v, [3, 4], n, [3, 4], o), gp);
        CheckGradient("triplet negative", n, v => TripletMarginLoss.Forward<double>(a, [3, 4], p, [3, 4], v, [3, 4], o), gn);

        double[] y = [1, -1, -1];
        var co = new CosineEmbeddingLossOptions { Margin = -0.5 };
        var g1 = new double[12];
        CosineEmbeddingLoss.Forward<double>(a, p, [3, 4], y, co, gradInput1: g1);
        CheckGradient("cosine", a, v => CosineEmbeddingLoss.Forward<double>(v, p, [3, 4], y, co), g1);

        double[] var = RandomArray(3, 10, 0.1, 2);
        var gv = new double[3];
        var go = new GaussianNLLLossOptions { Full = true };
        GaussianNLLLoss.Forward<double>(a, p, var, [3, 4], [3], go, gradVar: gv);
        CheckGradient("gaussian var", var, v => GaussianNLLLoss.Forward<double>(a, p, v, [3, 4], [3], go), gv);
    }

    [Fact]
    public void BCEWithLogits_broadcast_weights_and_MultiLabelSoftMargin()
    {
        double[] x = RandomArray(24, 11, -4, 4), t = RandomArray(24, 12, 0, 1);
        var o = new BCEWithLogitsLossOptions<double> { Weight = [0.5, 2], WeightShape = [2, 1, 1], PosWeight = [1, 2, 3, 0.5] };
        var gx = new double[24];
        var gt = new double[24];
        BCEWithLogitsLoss.Forward<double>(x, t, [2, 3, 4], o, gradInput: gx, gradTarget: gt);
        CheckGradient("bce-logits input", x, v => BCEWithLogitsLoss.Forward<double>(v, t, [2, 3, 4], o), gx);
        CheckGradient("bce-logits target", t, v => BCEWithLogitsLoss.Forward<double>(x, v, [2, 3, 4], o), gt);

        var mo = new MultiLabelSoftMarginLossOptions<double> { Weight = [1, 0.5, 2, 1] };
        var mg = new double[24];
        var mt = new double[24];
        MultiLabelSoftMarginLoss.Forward<double>(x, t, [6, 4], mo, gradInput: mg, gradTarget: mt);
        CheckGradient("mlsm input", x, v => MultiLabelSoftMarginLoss.Forward<double>(v, t, [6, 4], mo), mg);
        CheckGradient("mlsm target", t, v => MultiLabelSoftMarginLoss.Forward<double>(x, v, [6, 4], mo), mt);
    }

    [Fact]
    public void CTC_gradient_is_derivative_plus_exp_log_probs()
    {
        // Un-normalised log_probs on purpose: torch's gradient = d nll/d lp + g·exp(lp).
        double[] lp = RandomArray(6 * 2 * 5, 13, -3, 0);
        int[] targets = [1, 3, 1, 2, 4, 0];
        var o = new CTCLossOptions { Reduction = Reduction.Sum };
        var g = new double[lp.Length];
        CTCLoss.Forward<double>(lp, [6, 2, 5], targets, [2, 3], [6, 5], [3, 2], o, gradLogProbs: g);
        int[] inputLengths = [6, 5];
        double[] derivative = g.Select((v, i) => i / 10 < inputLengths[i % 10 / 5] ? v - Math.Exp(lp[i]) : v).ToArray();
        CheckGradient("ctc", lp, v => CTCLoss.Forward<double>(v, [6, 2, 5], targets, [2, 3], [6, 5], [3, 2], o), derivative, 1e-5);
    }

    [Fact]
    public void TripletMarginWithDistance_custom_and_default_distance()
    {
        double[] a = RandomArray(8, 14), p = RandomArray(8, 15), n = RandomArray(8, 16);
        // Squared Euclidean distance with its gradient.
        DistanceFunction<double> squared = (u, v, gu, gv) =>
        {
            double s = 0;
            for (int k = 0; k < u.Length; k++)
            {
                double d = u[k] - v[k];
                s += d * d;
                if (!gu.IsEmpty)
                    gu[k] = 2 * d;
                if (!gv.IsEmpty)
                    gv[k] = -2 * d;
            }
            return s;
        };
        var o = new TripletMarginWithDistanceLossOptions<double> { DistanceFunction = squared, Margin = 3, Swap = true, Reduction = Reduction.Sum };
        var ga = new double[8];
        var gn = new double[8];
        double loss = TripletMarginWithDistanceLoss.Forward<double>(a, [2, 4], p, [2, 4], n, [2, 4], o, gradAnchor: ga, gradNegative: gn);
        double expected = 0;
        for (int r = 0; r < 2; r++)
        {
            double Sq(double[] u, double[] v) => Enumerable.Range(r * 4, 4).Sum(k => (u[k] - v[k]) * (u[k] - v[k]));
            expected += Math.Max(0, 3 + Sq(a, p) - Math.Min(Sq(a, n), Sq(p, n)));
        }
        Assert.Equal(expected, loss, 12);
        CheckGradient("twd anchor", a, v => TripletMarginWithDistanceLoss.Forward<double>(v, [2, 4], p, [2, 4], n, [2, 4], o), ga);
        CheckGradient("twd negative", n, v => TripletMarginWithDistanceLoss.Forward<double>(a, [2, 4], p, [2, 4], v, [2, 4], o), gn);

        double byDefault = TripletMarginWithDistanceLoss.Forward<double>(a, [2, 4], p, [2, 4], n, [2, 4]);
        Assert.Equal(TripletMarginLoss.Forward<double>(a, [2, 4], p, [2, 4], n, [2, 4]), byDefault, 14);
        Assert.ThrowsAny<ArgumentException>(() => TripletMarginWithDistanceLoss.Forward<double>(a, [2, 4], p, [2, 4], n, [2, 4],
            new TripletMarginWithDistanceLossOptions<double> { Margin = 0 }));
    }
}

/// <summary>Errors PyTorch does not raise but we must, and the "nothing written before the throw" rule.</summary>
public class LossErrorTests
{
    private static readonly double[] Lp = Enumerable.Repeat(Math.Log(0.25), 5 * 2 * 4).ToArray();

    [Theory]
    [InlineData(new[] { 1, 0, 2, 3 }, new[] { 5, 5 }, new[] { 2, 2 }, "blank label")]         // label == blank (0)
    [InlineData(new[] { 1, 4, 2, 3 }, new[] { 5, 5 }, new[] { 2, 2 }, "label 4 out of range")]
    [InlineData(new[] { 1, -1, 2, 3 }, new[] { 5, 5 }, new[] { 2, 2 }, "negative label")]
    [InlineData(new[] { 1, 2, 2, 3 }, new[] { -1, 5 }, new[] { 2, 2 }, "negative input length")]
    [InlineData(new[] { 1, 2, 2, 3 }, new[] { 5, 5 }, new[] { -1, 2 }, "negative target length")]
    [InlineData(new[] { 1, 2, 2, 3 }, new[] { 6, 5 }, new[] { 2, 2 }, "input length > T")]
    [InlineData(new[] { 1, 2, 2, 3 }, new[] { 5 }, new[] { 2, 2 }, "input_lengths size")]
    public void CTC_rejects_bad_targets_and_lengths_before_writing(int[] targets, int[] inputLengths, int[] targetLengths, string why)
    {
        var output = new double[] { 42, 42 };
        var grad = Enumerable.Repeat(42.0, Lp.Length).ToArray();
        var ex = Assert.ThrowsAny<ArgumentException>(() => CTCLoss.Forward<double>(Lp, [5, 2, 4], targets, [2, 2], inputLengths, targetLengths,
            new CTCLossOptions { Reduction = Reduction.None }, output, grad));
        Assert.False(string.IsNullOrEmpty(ex.ParamName), why);
        Assert.All(output, v => Assert.Equal(42, v));
        Assert.All(grad, v => Assert.Equal(42, v));
    }

    [Fact]
    public void CTC_zero_input_length_follows_the_fixed_rule()
    {
        var output = new double[2];
        var grad = Enumerable.Repeat(42.0, Lp.Length).ToArray();
        CTCLoss.Forward<double>(Lp, [5, 2, 4], [1, 2, 3, 0], [2, 2], [0, 0], [2, 0], new CTCLossOptions { Reduction = Reduction.None, AllowBlankInTargets = true }, output, grad);
        Assert.Equal(double.PositiveInfinity, output[0]);
        Assert.Equal(0, output[1]);
        Assert.All(grad, v => Assert.Equal(0, v));
        Assert.Equal(0, CTCLoss.Forward<double>(Lp, [5, 2, 4], [1, 2, 3, 0], [2, 2], [0, 0], [2, 0], new CTCLossOptions { ZeroInfinity = true, AllowBlankInTargets = true }));
    }

    [Fact]
    public void BCE_rejects_targets_outside_unit_interval_and_nan_input()
    {
        var output = new double[] { 42, 42 };
        Assert.ThrowsAny<ArgumentException>(() => BCELoss.Forward<double>([0.5, 0.5], [0.5, 1.5], [2], new BCELossOptions<double> { Reduction = Reduction.None }, output));
        Assert.ThrowsAny<ArgumentException>(() => BCELoss.Forward<double>([0.5, 0.5], [-0.1, 1], [2], new BCELossOptions<double> { Reduction = Reduction.None }, output));
        Assert.ThrowsAny<ArgumentException>(() => BCELoss.Forward<double>([double.NaN, 0.5], [0, 1], [2], new BCELossOptions<double> { Reduction = Reduction.None }, output));
        Assert.All(output, v => Assert.Equal(42, v));
    }

    [Fact]
    public void Shape_and_option_errors_name_the_argument()
    {
        Assert.Equal("target", Assert.ThrowsAny<ArgumentException>(() => L1Loss.Forward<float>(new float[3], new float[4])).ParamName);
        Assert.Equal("gradInput", Assert.ThrowsAny<ArgumentException>(() => MSELoss.Forward<float>(new float[3], new float[3], gradInput: new float[2])).ParamName);
        Assert.Equal("gradOutput", Assert.ThrowsAny<ArgumentException>(() => MSELoss.Forward<float>(new float[3], new float[3], gradOutput: new float[3])).ParamName);
        Assert.Equal("options", Assert.ThrowsAny<ArgumentException>(() => MultiMarginLoss.Forward<float>(new float[4], [1, 4], [0],
            new MultiMarginLossOptions<float> { Weight = new float[3] })).ParamName);
        Assert.Equal("options", Assert.ThrowsAny<ArgumentException>(() => CrossEntropyLoss.Forward<float>(new float[4], [1, 4], [0], [1],
            new CrossEntropyLossOptions<float> { LabelSmoothing = -0.1 })).ParamName);
        Assert.Equal("options", Assert.ThrowsAny<ArgumentException>(() => CrossEntropyLoss.ForwardProbabilities<float>(new float[4], new float[4], [1, 4],
            new CrossEntropyLossOptions<float> { IgnoreIndex = 0 })).ParamName);
        Assert.Equal("targetShape", Assert.ThrowsAny<ArgumentException>(() => NLLLoss.Forward<float>(new float[8], [2, 4], [0, 0], [2, 1])).ParamName);
        Assert.Equal("var", Assert.ThrowsAny<ArgumentException>(() => GaussianNLLLoss.Forward<float>(new float[4], new float[4], [1, -1], [2, 2], [2])).ParamName);
        Assert.Throws<NotSupportedException>(() => L1Loss.Forward<Half>(new Half[1], new Half[1]));
    }

    [Fact]
    public void Empty_batch_mean_is_nan_and_sum_is_zero()
    {
        Assert.True(double.IsNaN(CrossEntropyLoss.Forward<double>([], [0, 3], [], [0])));
        Assert.Equal(0, CrossEntropyLoss.Forward<double>([], [0, 3], [], [0], new CrossEntropyLossOptions<double> { Reduction = Reduction.Sum }));
        Assert.True(float.IsNaN(L1Loss.Forward<float>([], [])));
        Assert.True(double.IsNaN(CTCLoss.Forward<double>([], [4, 0, 3], [], [0, 0], [], [])));
    }

    [Fact]
    public void Legacy_generated_model_signatures_match_the_generic_api()
    {
        float[] logits = [1f, 2f, 0.5f, 0.1f, -1f, 0.3f, 0.2f, 0.2f, 0.9f];
        int[] targets = [2, -100, 0];
        var legacy = new float[9];
        var generic = new float[9];
        float a = CrossEntropyLoss.Forward(logits, targets, 3, 3, legacy, Reduction.Mean, -100);
        float b = CrossEntropyLoss.Forward<float>(logits, [3, 3], targets, [3], gradInput: generic);
        Assert.Equal(b, a, 6);
        for (int i = 0; i < 9; i++)
            Assert.Equal(generic[i], legacy[i], 6);

        float[] y = [0.5f, -1f, 2f, 0f, 3f, 1f, 1f, 1f, 1f];
        float m = MseLoss.Forward(logits, y, legacy, Reduction.Sum);
        double expected = logits.Zip(y, (p, q) => (p - (double)q) * (p - q)).Sum();
        Assert.Equal(expected, m, 5);
        Assert.Equal(2.0 * (logits[4] - y[4]), legacy[4], 6);
        Assert.Throws<ArgumentException>(() => MseLoss.Forward(logits, y, default, Reduction.None));
    }
}
