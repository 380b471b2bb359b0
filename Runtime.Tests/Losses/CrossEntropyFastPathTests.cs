using System;
using System.Linq;
using DslModels.Losses;
using Xunit;

namespace DslModels.Tests.Losses;

/// <summary>
/// The float fast path generated models call (CrossEntropyLoss.Forward(logits, targets, batch, classes, ...)) against
/// the generic overload in double precision, which the conformance cases check against PyTorch.
/// </summary>
public class CrossEntropyFastPathTests
{
    [Theory]
    [InlineData(7, 10, Reduction.Mean, -100, 1)]
    [InlineData(5, 3, Reduction.Sum, 1, 2)]
    [InlineData(4, 300, Reduction.Mean, -100, 3)]   // more classes than the stack buffer: the other branch
    [InlineData(6, 1, Reduction.Mean, -100, 4)]
    // The exps run four at a time (Vector256<double>): whole vectors, a partial last one, and the largest stack buffer.
    [InlineData(3, 2, Reduction.Mean, -100, 5)]
    [InlineData(3, 4, Reduction.Mean, -100, 6)]
    [InlineData(3, 5, Reduction.Sum, -100, 7)]
    [InlineData(3, 8, Reduction.Mean, -100, 8)]
    [InlineData(3, 13, Reduction.Mean, -100, 9)]
    [InlineData(2, 256, Reduction.Mean, -100, 10)]
    // Logits far apart: exp(x - max) underflows to subnormals and to 0.
    [InlineData(4, 11, Reduction.Mean, -100, 11, 1500.0)]
    public void Matches_the_generic_overload(int batch, int classes, Reduction reduction, int ignoreIndex, int seed, double spread = 20)
    {
        var rng = new Random(seed);
        float[] logits = Enumerable.Range(0, batch * classes).Select(_ => (float)((rng.NextDouble() - 0.5) * spread)).ToArray();
        int[] targets = Enumerable.Range(0, batch).Select(_ => rng.Next(classes)).ToArray();
        if (ignoreIndex >= 0)
            targets[0] = ignoreIndex;
        if (classes > 1)
            logits[(Math.Max(targets[0], 0) + 1) % classes] = float.NegativeInfinity; // a logit that gets probability 0 (not the target's)
        var grad = new float[logits.Length];
        float loss = CrossEntropyLoss.Forward(logits, targets, batch, classes, grad, reduction, ignoreIndex);

        double[] x = logits.Select(v => (double)v).ToArray();
        var gradRef = new double[x.Length];
        var options = new CrossEntropyLossOptions<double> { Reduction = reduction, IgnoreIndex = ignoreIndex };
        double expected = CrossEntropyLoss.Forward<double>(x, [batch, classes], targets, [batch], options, gradInput: gradRef, gradOutput: [1.0]);

        Assert.True(Math.Abs(loss - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected)), $"loss {loss} vs {expected}");
        for (int i = 0; i < grad.Length; i++)
            Assert.True(Math.Abs(grad[i] - gradRef[i]) <= 1e-7 + 1e-6 * Math.Abs(gradRef[i]), $"grad[{i}] {grad[i]} vs {gradRef[i]}");
    }

    /// <summary>
    /// ForwardRows, which generated models run split over their threads: any split into row ranges, with the terms of the
    /// rows that are not ignored summed in order, gives Forward's loss and gradient bit for bit.
    /// </summary>
    [Theory]
    [InlineData(Reduction.Mean, 3)]
    [InlineData(Reduction.Sum, 5)]
    [InlineData(Reduction.Mean, 1)]
    public void Rows_split_anywhere_give_Forward_bit_for_bit(Reduction reduction, int ignored)
    {
        const int batch = 37, classes = 10, ignoreIndex = 4;
        var rng = new Random(11);
        float[] logits = Enumerable.Range(0, batch * classes).Select(_ => (float)(rng.NextDouble() * 16 - 8)).ToArray();
        int[] targets = Enumerable.Range(0, batch).Select(n => n % 7 == ignored ? ignoreIndex : rng.Next(classes)).ToArray();
        logits[3 * classes + 2] = float.NegativeInfinity;
        logits[5 * classes + 1] = float.PositiveInfinity; // a row for the double fallback
        var expectedGrad = new float[logits.Length];
        float expected = CrossEntropyLoss.Forward(logits, targets, batch, classes, expectedGrad, reduction, ignoreIndex);

        int counted = targets.Count(t => t != ignoreIndex);
        double scale = reduction == Reduction.Mean ? 1.0 / counted : 1.0;
        foreach (int[] cuts in new[] { new[] { 0, 37 }, new[] { 0, 16, 37 }, new[] { 0, 1, 20, 36, 37 } })
        {
            var grad = new float[logits.Length];
            var terms = new double[batch];
            for (int k = 0; k + 1 < cuts.Length; k++)
                CrossEntropyLoss.ForwardRows(logits, targets, classes, grad, scale, ignoreIndex, cuts[k], cuts[k + 1], terms);
            double total = 0;
            for (int n = 0; n < batch; n++)
                if (targets[n] != ignoreIndex)
                    total += terms[n];
            float loss = reduction == Reduction.Mean ? (float)(total / counted) : (float)total;
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(loss));
            Assert.Equal(expectedGrad, grad);
        }
    }

    [Fact]
    public void Rows_out_of_range_are_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            CrossEntropyLoss.ForwardRows(new float[20], new int[2], 10, new float[20], 0.5, -100, 1, 3, new double[2]));
        Assert.Equal("end", e.ParamName);
        Assert.Throws<ArgumentException>(() =>
            CrossEntropyLoss.ForwardRows(new float[20], new int[2], 10, new float[10], 0.5, -100, 0, 2, new double[2]));
    }

    [Fact]
    public void A_nan_logit_gives_nan_as_in_pytorch()
    {
        float[] logits = [1f, float.NaN, 0.5f];
        var grad = new float[3];
        Assert.True(float.IsNaN(CrossEntropyLoss.Forward(logits, [0], 1, 3, grad)));
        Assert.True(grad.All(float.IsNaN));
    }
}
