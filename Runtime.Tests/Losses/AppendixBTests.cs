using System;
using System.Linq;
using DslModels.Losses;
using Xunit;

namespace DslModels.Tests.Losses;

/// <summary>The loss reference values of pytorch-semantics.md Appendix B (torch 1.13.1, float64, rounded to 8 decimals).</summary>
public class AppendixBTests
{
    private const double Tol = 2e-8;

    private static readonly double[] X = [1.0, 2.0, 0.5, 0.1, -1.0, 0.3];
    private static readonly int[] XShape = [2, 3];
    private static readonly int[] Y = [2, 0];
    private static readonly double[] W = [0.2, 0.3, 0.5];
    private static readonly double[] D5 = [-2.0, -0.3, 0.0, 0.4, 1.5];
    private static readonly double[] Zero5 = new double[5];
    private static readonly double[] Mx = [0.1, 0.2, 0.4, 0.8, 0.5, 0.1, 0.9, 0.3];

    private static void Near(double expected, double actual, double tol = Tol) =>
        Assert.True(Math.Abs(expected - actual) <= tol, $"expected {expected:R}, got {actual:R}");

    private static void Near(double[] expected, double[] actual, double tol = Tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    /// <summary>log_softmax over the last dim of rows of width c, written here independently of the library.</summary>
    private static double[] LogSoftmaxRows(double[] x, int c)
    {
        var r = new double[x.Length];
        for (int i = 0; i < x.Length; i += c)
        {
            double m = x.Skip(i).Take(c).Max();
            double lse = m + Math.Log(x.Skip(i).Take(c).Sum(v => Math.Exp(v - m)));
            for (int k = 0; k < c; k++)
                r[i + k] = x[i + k] - lse;
        }
        return r;
    }

    [Fact]
    public void CrossEntropy_index_targets()
    {
        var g = new double[6];
        Near(1.45106838, CrossEntropyLoss.Forward<double>(X, XShape, Y, [2], gradInput: g));
        Near([0.11561195, 0.31426586, -0.42987781, -0.30424965, 0.06515963, 0.23909002], g);

        Near(1.67105427, CrossEntropyLoss.Forward<double>(X, XShape, Y, [2], new CrossEntropyLossOptions<double> { Weight = W }, gradInput: g));
        Near([0.16515993, 0.44895123, -0.61411115, -0.17385694, 0.03723408, 0.13662287], g);

        Near(1.62690773, CrossEntropyLoss.Forward<double>(X, XShape, Y, [2], new CrossEntropyLossOptions<double> { Weight = W, LabelSmoothing = 0.1 }, gradInput: g));
        Near([0.15013079, 0.41970047, -0.56983126, -0.14735217, 0.02543063, 0.12192153], g);

        var output = new double[2];
        CrossEntropyLoss.Forward<double>(X, XShape, [2, -100], [2], new CrossEntropyLossOptions<double> { Reduction = Reduction.None }, output, g);
        Near([1.96436878, 0.0], output);
        Near([0.2312239, 0.62853172, -0.85975562, 0, 0, 0], g);
    }

    [Fact]
    public void CrossEntropy_probability_targets()
    {
        double[] p = [0.1, 0.2, 0.7, 0.5, 0.5, 0];
        var g = new double[6];
        Near(1.55106838, CrossEntropyLoss.ForwardProbabilities<double>(X, p, XShape, gradInput: g));
        Near([0.06561195, 0.21426586, -0.27987781, -0.05424965, -0.18484037, 0.23909002], g);

        Near(1.08743891, CrossEntropyLoss.ForwardProbabilities<double>(X, p, XShape,
            new CrossEntropyLossOptions<double> { Weight = W, LabelSmoothing = 0.2, Reduction = Reduction.Sum }, gradInput: g));
        Near([0.06562261, 0.19011703, -0.25573964, 0.01106685, -0.1052482, 0.09418134], g);
    }

    [Fact]
    public void NLL_weighted_mean_divides_by_target_weights()
    {
        var g = new double[6];
        Near(1.67105427, NLLLoss.Forward<double>(LogSoftmaxRows(X, 3), XShape, Y, [2], new NLLLossOptions<double> { Weight = W }, gradInput: g));
        Near([0, 0, -0.71428571, -0.28571429, 0, 0], g);
    }

    [Fact]
    public void BCE_and_BCEWithLogits()
    {
        var g = new double[3];
        Near(0.37981143, BCELoss.Forward<double>([0.2, 0.8, 0.5], [0, 1, 0.3], [3], gradInput: g));
        Near([0.41666667, -0.41666667, 0.26666667], g);

        Near(1.1342383, BCEWithLogitsLoss.Forward<double>([-1, 0.5, 3], [0, 1, 0.3], [3],
            new BCEWithLogitsLossOptions<double> { Weight = [1, 2, 1], PosWeight = [2, 1, 0.5] }, gradInput: g));
        Near([0.08964714, -0.25169378, 0.219896], g);
    }

    [Fact]
    public void Regression_losses()
    {
        var g = new double[5];
        Near(0.84, L1Loss.Forward<double>(D5, Zero5, gradInput: g));
        Near([-0.2, -0.2, 0.0, 0.2, 0.2], g);
        Near(1.3, MSELoss.Forward<double>(D5, Zero5, gradInput: g));
        Near([-0.8, -0.12, 0.0, 0.16, 0.6], g);
        Near(0.65, SmoothL1Loss.Forward<double>(D5, Zero5, new SmoothL1LossOptions { Beta = 0.5 }, gradInput: g));
        Near([-0.2, -0.12, 0.0, 0.16, 0.2], g);
        Near(0.325, HuberLoss.Forward<double>(D5, Zero5, new HuberLossOptions { Delta = 0.5 }, gradInput: g));
        Near([-0.1, -0.06, 0.0, 0.08, 0.1], g);
    }

    [Fact]
    public void SoftMargin_and_HingeEmbedding()
    {
        var g = new double[5];
        Near(0.89777179, SoftMarginLoss.Forward<double>(D5, [1, -1, 1, -1, 1], gradInput: g));
        Near([-0.17615942, 0.0851115, -0.1, 0.11973753, -0.0364851], g);

        var output = new double[5];
        HingeEmbeddingLoss.Forward<double>(D5, [1, -1, -1, 1, -1], new HingeEmbeddingLossOptions { Reduction = Reduction.None }, output, g);
        Near([-2.0, 1.3, 1.0, 0.4, 0.0], output);
        Near([1, -1, -1, 1, 0], g);
    }

    [Fact]
    public void PoissonNLL_and_GaussianNLL()
    {
        var g = new double[3];
        Near(3.6394088, PoissonNLLLoss.Forward<double>([0.5, 1, -2], [0, 2, 3], new PoissonNLLLossOptions { Full = true }, gradInput: g));
        Near([0.54957376, 0.23942728, -0.95488824], g);
        Near(1.42055842, PoissonNLLLoss.Forward<double>([0.5, 1, 2], [0, 2, 3], new PoissonNLLLossOptions { LogInput = false, Reduction = Reduction.Sum }, gradInput: g));
        Near([1.0, -0.99999998, -0.49999999], g);

        var gx = new double[4];
        var gv = new double[2];
        Near(1.30956353, GaussianNLLLoss.Forward<double>([1, 2, 0, -1], [1.5, 1, 0.5, 0], [0.5, 2.0], [2, 2], [2, 1],
            new GaussianNLLLossOptions { Full = true }, gradInput: gx, gradVar: gv));
        Near([-0.25, 0.5, -0.0625, -0.125], gx);
        Near([-0.125, 0.0859375], gv);
    }

    [Fact]
    public void KLDiv_batchmean_and_log_target()
    {
        double[] input = LogSoftmaxRows([1, 2, 3, 0, 0, 1], 3);
        double[] t = [0.2, 0.3, 0.5, 0, 0.5, 0.5];
        var g = new double[6];
        Near(0.21812524, KLDivLoss.Forward<double>(input, t, [2, 3], new KLDivLossOptions { Reduction = KLDivReduction.BatchMean }, gradInput: g));
        Near([-0.1, -0.15, -0.25, 0.0, -0.25, -0.25], g);
        double[] logT = t.Select(v => Math.Log(Math.Max(v, 1e-3))).ToArray();
        Near(0.43089417, KLDivLoss.Forward<double>(input, logT, [2, 3], new KLDivLossOptions { Reduction = KLDivReduction.Sum, LogTarget = true }, gradInput: g));
        Near([-0.2, -0.3, -0.5, -0.001, -0.5, -0.5], g);
    }

    [Fact]
    public void MarginRanking()
    {
        var g1 = new double[3];
        var g2 = new double[3];
        Near(0.66666667, MarginRankingLoss.Forward<double>([1, 2, 3], [3], [2, 2, 1], [3], [1, -1, 1], [3],
            new MarginRankingLossOptions { Margin = 0.5 }, gradInput1: g1, gradInput2: g2));
        Near([-0.33333333, 0.33333333, 0], g1);
        Near([0.33333333, -0.33333333, 0], g2);
    }

    [Fact]
    public void MultiMargin_MultiLabelMargin_MultiLabelSoftMargin()
    {
        var g = new double[8];
        Near(0.5125, MultiMarginLoss.Forward<double>(Mx, [2, 4], [3, 0], gradInput: g));
        Near([0.125, 0.125, 0.125, -0.375, -0.375, 0.125, 0.125, 0.125], g);

        var output = new double[2];
        MultiMarginLoss.Forward<double>(Mx, [2, 4], [3, 0], new MultiMarginLossOptions<double> { P = 2, Margin = 0.5, Weight = [1, 2, 3, 4], Reduction = Reduction.None }, output, g);
        Near([0.01, 0.2275], output);
        Near([0, 0, 0.2, -0.2, -0.65, 0.05, 0.45, 0.15], g);

        Near(0.575, MultiLabelMarginLoss.Forward<double>(Mx, [2, 4], [3, 0, -1, 1, 2, -1, 0, 0], gradInput: g));
        Near([-0.25, 0.25, 0.25, -0.25, 0.125, 0.125, -0.375, 0.125], g);

        Near(0.82130522, MultiLabelSoftMarginLoss.Forward<double>(Mx, [1, 0, 0, 1, 0, 0, 1, 0], [2, 4],
            new MultiLabelSoftMarginLossOptions<double> { Weight = [1, 2, 1, 0.5] }, gradInput: g));
        Near([-0.0593776, 0.1374585, 0.07483596, -0.01937659, 0.07780742, 0.1312448, -0.03613131, 0.03590266], g);
    }

    [Fact]
    public void CosineEmbedding()
    {
        var g1 = new double[6];
        var g2 = new double[6];
        Near(0.11357445, CosineEmbeddingLoss.Forward<double>([1, 2, 3, 1, 0, 0], [1, 2, 2, 0.5, 0.5, 0], [2, 3], [1, -1],
            new CosineEmbeddingLossOptions { Margin = 0.5 }, gradInput1: g1, gradInput2: g2));
        Near([-0.00954504, -0.01909009, 0.01590841, 0, 0.35355339, 0], g1);
        Near([0.00989856, 0.01979713, -0.02474641, 0.35355339, -0.35355339, 0], g2);
    }

    [Fact]
    public void TripletMargin()
    {
        double[] a = [0, 0, 1, 1], p = [1, 0, 1, 2], n = [0, 0.5, 3, 3];
        var output = new double[2];
        var ga = new double[4];
        TripletMarginLoss.Forward<double>(a, [2, 2], p, [2, 2], n, [2, 2], new TripletMarginLossOptions { Reduction = Reduction.None }, output, ga);
        Near([1.5, 0.0], output, 1e-5);
        Near([-1.000002, 1.000001, 0, 0], ga);

        TripletMarginLoss.Forward<double>(a, [2, 2], p, [2, 2], n, [2, 2], new TripletMarginLossOptions { Reduction = Reduction.None, P = 1, Swap = true }, output, ga);
        Near([1.5, 0.0], output, 1e-5);
        Near([-2.0, 2.0, 0, 0], ga);
    }

    private static readonly double[] CtcLogits =
        [0.1, 0.5, 0.2, 0.3, 0.4, 0.1, 0.9, 0.2, 0.3, 0.3, 0.3, 0.3, 1.0, 0.2, 0.1, 0.5, 0.2, 0.8, 0.1, 0.1];

    [Fact]
    public void CTC()
    {
        double[] lp = LogSoftmaxRows(CtcLogits, 4);
        var g = new double[20];
        Near(1.81164246, CTCLoss.Forward<double>(lp, [5, 1, 4], [1, 2], [1, 2], [5], [2], gradLogProbs: g));
        Near([-0.02978631, -0.21163973, 0.11468239, 0.12674365, -0.03597144, -0.11902831, 0.05772335, 0.0972764,
              -0.04651985, 0.0048065, -0.08328666, 0.125, -0.07741888, 0.05957726, -0.10531535, 0.12315697,
              -0.15785918, 0.19669689, -0.13651449, 0.09767678], g);

        Near(3.89158011, CTCLoss.Forward<double>(lp, [5, 1, 4], [1, 1], [1, 2], [5], [2], new CTCLossOptions { Reduction = Reduction.Sum }, gradLogProbs: g));
        Near([-0.08166569, -0.40118638, 0.22936479, 0.25348729, -0.28216813, -0.3041659, 0.39178122, 0.1945528,
              -0.29620813, -0.20379187, 0.25, 0.25, -0.26958213, -0.14184098, 0.16510917, 0.24631394,
              0.02197959, -0.41268672, 0.19535357, 0.19535357], g);
    }
}
