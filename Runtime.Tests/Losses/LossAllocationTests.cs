using System;
using System.Numerics;
using DslModels.Losses;
using Xunit;
using static DslModels.Tests.Models.ModelHelpers;

namespace DslModels.Tests.Losses;

/// <summary>
/// Every loss's Forward (with gradients) allocates no managed memory after its first call: generated models call them
/// on every training step. Counted with <see cref="GC.GetAllocatedBytesForCurrentThread"/>, not timed.
/// </summary>
public class LossAllocationTests
{
    public static TheoryData<string> Losses => new()
    {
        "L1", "MSE", "SmoothL1", "Huber", "PoissonNLL", "GaussianNLL", "KLDiv", "BCE", "BCEWithLogits", "NLL",
        "CrossEntropy", "CrossEntropyProbabilities", "MarginRanking", "HingeEmbedding", "SoftMargin", "MultiLabelSoftMargin",
        "CosineEmbedding", "MultiMargin", "MultiLabelMargin", "TripletMargin", "TripletMarginWithDistance", "CTC",
    };

    [Theory]
    [MemberData(nameof(Losses))]
    public void Forward_with_gradients_allocates_nothing_after_warm_up_float(string loss) => AssertNoAllocation(Case<float>(loss));

    [Theory]
    [MemberData(nameof(Losses))]
    public void Forward_with_gradients_allocates_nothing_after_warm_up_double(string loss) => AssertNoAllocation(Case<double>(loss));

    [Fact]
    public void Broadcast_weight_with_more_than_8_dimensions_throws_a_clear_error()
    {
        int[] shape = [1, 1, 1, 1, 1, 1, 1, 1, 2];
        var options = new BCEWithLogitsLossOptions<float> { Weight = [1f, 2f], WeightShape = shape };
        var e = Assert.Throws<ArgumentException>(() => BCEWithLogitsLoss.Forward<float>(new float[2], new float[2], shape, options));
        Assert.Contains("at most 8 dimensions", e.Message);
    }

    [Fact]
    public void Length_errors_still_format_their_lazily_built_messages()
    {
        var e = Assert.Throws<ArgumentException>(() => KLDivLoss.Forward<float>(new float[7], new float[7], [2, 4]));
        Assert.Equal("input", e.ParamName);
        Assert.StartsWith("input must hold 8 values (shape [2, 4]); got 7.", e.Message);
        var w = Assert.Throws<ArgumentException>(() => BCELoss.Forward<float>(new float[8], new float[8], [2, 4],
            new BCELossOptions<float> { Weight = [1f, 2f, 3f], WeightShape = [4] }));
        Assert.StartsWith("options.Weight must hold 4 values (its shape [4]); got 3.", w.Message);
    }

    private static void AssertNoAllocation(Action forward) =>
        AssertAllocatesNothing(() =>
        {
            for (int i = 0; i < 5; i++)
                forward();
        });

    private static T[] Values<T>(int n, int seed, double lo = -2, double hi = 2) where T : struct, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        var values = new T[n];
        for (int i = 0; i < n; i++)
            values[i] = T.CreateTruncating(lo + (hi - lo) * random.NextDouble());
        return values;
    }

    private static T[] Of<T>(params double[] values) where T : struct, IFloatingPointIeee754<T>
        => Array.ConvertAll(values, v => T.CreateTruncating(v));

    /// <summary>Row-wise log_softmax (or softmax) of random values, [rows, classes].</summary>
    private static T[] LogSoftmax<T>(int rows, int classes, int seed, bool exp = false) where T : struct, IFloatingPointIeee754<T>
    {
        double[] x = Values<double>(rows * classes, seed);
        var result = new T[rows * classes];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int c = 0; c < classes; c++)
                max = Math.Max(max, x[r * classes + c]);
            for (int c = 0; c < classes; c++)
                sum += Math.Exp(x[r * classes + c] - max);
            for (int c = 0; c < classes; c++)
            {
                double lsm = x[r * classes + c] - max - Math.Log(sum);
                result[r * classes + c] = T.CreateTruncating(exp ? Math.Exp(lsm) : lsm);
            }
        }
        return result;
    }

    /// <summary>One Forward call of the named loss with every gradient requested, on [2, 4]-shaped data.</summary>
    private static Action Case<T>(string loss) where T : struct, IFloatingPointIeee754<T>
    {
        const int n = 8;
        T[] x = Values<T>(n, 1), y = Values<T>(n, 2), g1 = new T[n], g2 = new T[n], g3 = new T[n], gv = new T[n];
        int[] shape = [2, 4];
        switch (loss)
        {
            case "L1":
                return () => L1Loss.Forward<T>(x, y, gradInput: g1, gradTarget: g2);
            case "MSE":
                return () => MSELoss.Forward<T>(x, y, gradInput: g1, gradTarget: g2);
            case "SmoothL1":
                var smooth = new SmoothL1LossOptions { Beta = 0.5 };
                return () => SmoothL1Loss.Forward<T>(x, y, smooth, gradInput: g1, gradTarget: g2);
            case "Huber":
                var huber = new HuberLossOptions { Delta = 0.7, Reduction = Reduction.Sum };
                return () => HuberLoss.Forward<T>(x, y, huber, gradInput: g1, gradTarget: g2);
            case "PoissonNLL":
            {
                T[] counts = Values<T>(n, 3, 0, 4);
                var options = new PoissonNLLLossOptions { Full = true };
                return () => PoissonNLLLoss.Forward<T>(x, counts, options, gradInput: g1, gradTarget: g2);
            }
            case "GaussianNLL":
            {
                T[] var = Values<T>(2, 4, 0.1, 2);
                var options = new GaussianNLLLossOptions { Full = true };
                return () => GaussianNLLLoss.Forward<T>(x, y, var, shape, [2, 1], options, gradInput: g1, gradTarget: g2, gradVar: gv.AsSpan(0, 2));
            }
            case "KLDiv":
            {
                T[] logp = LogSoftmax<T>(2, 4, 5), p = LogSoftmax<T>(2, 4, 6, exp: true);
                var options = new KLDivLossOptions { Reduction = KLDivReduction.BatchMean };
                return () => KLDivLoss.Forward<T>(logp, p, shape, options, gradInput: g1, gradTarget: g2);
            }
            case "BCE":
            {
                T[] prob = Values<T>(n, 7, 0.05, 0.95), target = Values<T>(n, 8, 0, 1);
                var options = new BCELossOptions<T> { Weight = Of<T>(1, 2, 0.5, 1.5) };
                return () => BCELoss.Forward<T>(prob, target, shape, options, gradInput: g1, gradTarget: g2);
            }
            case "BCEWithLogits":
            {
                T[] target = Values<T>(n, 8, 0, 1);
                var options = new BCEWithLogitsLossOptions<T> { Weight = Of<T>(1, 2, 0.5, 1.5), PosWeight = Of<T>(2, 0.5, 1, 3) };
                return () => BCEWithLogitsLoss.Forward<T>(x, target, shape, options, gradInput: g1, gradTarget: g2);
            }
            case "NLL":
            {
                T[] logp = LogSoftmax<T>(2, 4, 9);
                int[] target = [3, 1];
                var options = new NLLLossOptions<T> { Weight = Of<T>(1, 2, 0.5, 1.5) };
                return () => NLLLoss.Forward<T>(logp, shape, target, [2], options, gradInput: g1);
            }
            case "CrossEntropy":
            {
                int[] target = [3, 1];
                var options = new CrossEntropyLossOptions<T> { Weight = Of<T>(1, 2, 0.5, 1.5), LabelSmoothing = 0.1 };
                return () => CrossEntropyLoss.Forward<T>(x, shape, target, [2], options, gradInput: g1);
            }
            case "CrossEntropyProbabilities":
            {
                T[] p = LogSoftmax<T>(2, 4, 10, exp: true);
                var options = new CrossEntropyLossOptions<T> { Weight = Of<T>(1, 2, 0.5, 1.5), LabelSmoothing = 0.1 };
                return () => CrossEntropyLoss.ForwardProbabilities<T>(x, p, shape, options, gradInput: g1, gradTarget: g2);
            }
            case "MarginRanking":
            {
                T[] target = Of<T>(1, -1);
                var options = new MarginRankingLossOptions { Margin = 0.3 };
                return () => MarginRankingLoss.Forward<T>(x, shape, y.AsSpan(0, 4), [1, 4], target, [2, 1], options,
                    gradInput1: g1, gradInput2: g2.AsSpan(0, 4), gradTarget: g3.AsSpan(0, 2));
            }
            case "HingeEmbedding":
            {
                T[] target = Of<T>(1, -1, -1, 1, 1, 1, -1, -1);
                var options = new HingeEmbeddingLossOptions { Margin = 1.5 };
                return () => HingeEmbeddingLoss.Forward<T>(x, target, options, gradInput: g1);
            }
            case "SoftMargin":
            {
                T[] target = Of<T>(1, -1, -1, 1, 1, 1, -1, -1);
                return () => SoftMarginLoss.Forward<T>(x, target, gradInput: g1);
            }
            case "MultiLabelSoftMargin":
            {
                T[] target = Of<T>(1, 0, 0, 1, 0, 1, 1, 0);
                var options = new MultiLabelSoftMarginLossOptions<T> { Weight = Of<T>(1, 2, 0.5, 1.5) };
                return () => MultiLabelSoftMarginLoss.Forward<T>(x, target, shape, options, gradInput: g1, gradTarget: g2);
            }
            case "CosineEmbedding":
            {
                T[] target = Of<T>(1, -1);
                var options = new CosineEmbeddingLossOptions { Margin = -0.2 };
                return () => CosineEmbeddingLoss.Forward<T>(x, y, shape, target, options, gradInput1: g1, gradInput2: g2);
            }
            case "MultiMargin":
            {
                int[] target = [3, 1];
                var options = new MultiMarginLossOptions<T> { P = 2, Margin = 0.5, Weight = Of<T>(1, 2, 0.5, 1.5) };
                return () => MultiMarginLoss.Forward<T>(x, shape, target, options, gradInput: g1);
            }
            case "MultiLabelMargin":
            {
                int[] target = [3, 0, -1, 1, 2, -1, 0, 0];
                return () => MultiLabelMarginLoss.Forward<T>(x, shape, target, gradInput: g1);
            }
            case "TripletMargin":
            {
                T[] negative = Values<T>(n, 11);
                var options = new TripletMarginLossOptions { Margin = 0.5, Swap = true };
                return () => TripletMarginLoss.Forward<T>(x, shape, y, shape, negative, shape, options,
                    gradAnchor: g1, gradPositive: g2, gradNegative: g3);
            }
            case "TripletMarginWithDistance":
            {
                T[] negative = Values<T>(n, 11);
                return () => TripletMarginWithDistanceLoss.Forward<T>(x, shape, y, shape, negative, shape,
                    gradAnchor: g1, gradPositive: g2, gradNegative: g3);
            }
            case "CTC":
            {
                T[] logProbs = LogSoftmax<T>(5 * 2, 4, 12);
                T[] grad = new T[logProbs.Length];
                int[] targets = [1, 2, 2, 3, 1, 0];
                int[] inputLengths = [5, 4], targetLengths = [3, 2];
                return () => CTCLoss.Forward<T>(logProbs, [5, 2, 4], targets, [2, 3], inputLengths, targetLengths, gradLogProbs: grad);
            }
            default:
                throw new ArgumentException($"unknown loss {loss}", nameof(loss));
        }
    }
}
