using System;
using System.Linq;
using DslModels.Losses;
using Xunit;
using static DslModels.Tests.FloatUlps;

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
    // Eight rows at a time (one Vector512<double> per class): whole groups, a partial last group, a group with an ignored
    // row, the largest grouped class count and the first one past it.
    [InlineData(19, 10, Reduction.Mean, -100, 12)]
    [InlineData(16, 3, Reduction.Sum, 2, 13)]
    [InlineData(24, 64, Reduction.Mean, -100, 14)]
    [InlineData(9, 65, Reduction.Mean, -100, 15)]
    [InlineData(17, 1, Reduction.Sum, -100, 16)]
    [InlineData(32, 10, Reduction.Mean, -100, 17, 1500.0)]
    // Many classes (vectorized rows, ActivationKernels.CrossEntropyRow): an ignored row, far-apart logits.
    [InlineData(5, 1000, Reduction.Sum, 2, 18)]
    [InlineData(3, 257, Reduction.Mean, -100, 19, 1500.0)]
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
    [InlineData(Reduction.Mean, 3, 10)]
    [InlineData(Reduction.Sum, 5, 10)]
    [InlineData(Reduction.Mean, 1, 10)]
    [InlineData(Reduction.Mean, 3, 300)]
    public void Rows_split_anywhere_give_Forward_bit_for_bit(Reduction reduction, int ignored, int classes)
    {
        const int batch = 37, ignoreIndex = 4;
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

    /// <summary>
    /// Rows taken eight at a time give each row's loss term and gradient bit for bit as a row taken alone: every group shape,
    /// and groups that fall back to single rows because one row is ignored, has a NaN logit, a +∞ logit, only -∞ logits, or a
    /// logit so far below the row's max that exp(x - max) leaves the range where .NET's vector Exp treats lanes alone.
    /// </summary>
    [Theory]
    [InlineData(10, 41, 21)]
    [InlineData(3, 24, 22)]
    [InlineData(64, 17, 23)]
    [InlineData(1, 16, 24)]
    public void Rows_in_groups_equal_rows_alone_bit_for_bit(int classes, int batch, int seed)
    {
        const int ignoreIndex = -1;
        var rng = new Random(seed);
        float[] logits = Enumerable.Range(0, batch * classes).Select(_ => (float)(rng.NextDouble() * 30 - 15)).ToArray();
        int[] targets = Enumerable.Range(0, batch).Select(_ => rng.Next(classes)).ToArray();
        if (batch >= 40)
        {
            targets[3] = ignoreIndex;                            // group 0: an ignored row
            logits[9 * classes] = float.NaN;                     // group 1: a NaN logit
            logits[17 * classes] = float.PositiveInfinity;       // group 2: a +∞ logit
            logits.AsSpan(25 * classes, classes).Fill(float.NegativeInfinity); // group 3: a row of -∞ only
            // Group 4: logits spread over [-600, 0], and one row with a logit 900 below its max: exp(x - max) outside the
            // vector Exp's range, which would change how the whole vector of each class is computed.
            for (int i = 32 * classes; i < 40 * classes; i++)
                logits[i] = (float)(-rng.NextDouble() * 600);
            logits.AsSpan(33 * classes, classes - 1).Fill(-900f);
            logits[34 * classes - 1] = 0f;
        }
        if (classes > 1)
            logits[(batch - 1) * classes + (targets[batch - 1] + 1) % classes] = float.NegativeInfinity; // a zero probability
        const double scale = 1.0 / 37;
        var grouped = new float[logits.Length];
        var groupedTerms = new double[batch];
        CrossEntropyLoss.ForwardRows(logits, targets, classes, grouped, scale, ignoreIndex, 0, batch, groupedTerms);
        var alone = new float[logits.Length];
        var aloneTerms = new double[batch];
        for (int n = 0; n < batch; n++)
            CrossEntropyLoss.ForwardRows(logits, targets, classes, alone, scale, ignoreIndex, n, n + 1, aloneTerms);
        for (int n = 0; n < batch; n++)
            Assert.True(BitConverter.DoubleToInt64Bits(aloneTerms[n]) == BitConverter.DoubleToInt64Bits(groupedTerms[n]), $"term {n}: {groupedTerms[n]:R} grouped, {aloneTerms[n]:R} alone");
        for (int i = 0; i < logits.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(alone[i]) == BitConverter.SingleToInt32Bits(grouped[i]), $"grad[{i}]: {grouped[i]:R} grouped, {alone[i]:R} alone");
    }

    /// <summary>
    /// The grouped rows rest on this: for arguments in [-700, 0] (the groups' range) each lane of Vector512.Exp of doubles is
    /// Vector256.Exp's of the same value, bit for bit, on every code path (the runtime tests also run with AVX-512, AVX2 and all
    /// intrinsics off). Outside [-708, 708] .NET computes the whole vector with Math.Exp, so there the lanes of a vector depend
    /// on each other, and the groups leave such rows to the single-row path.
    /// </summary>
    [Fact]
    public void Vector512_exp_lanes_are_Vector256_exp_bit_for_bit()
    {
        var rng = new Random(31);
        var values = new double[8];
        for (int k = 0; k < 20_000; k++)
        {
            for (int j = 0; j < 8; j++)
                values[j] = (double)(float)(-rng.NextDouble() * (k % 4 == 0 ? 700 : 30)); // x - max as the loss forms it: <= 0, from a float
            if (k == 0)
                new[] { 0.0, -0.0, -700.0, -699.9999389648438 }.CopyTo(values, 0);
            var wide = System.Runtime.Intrinsics.Vector512.Exp(System.Runtime.Intrinsics.Vector512.Create(values));
            var lower = System.Runtime.Intrinsics.Vector256.Exp(System.Runtime.Intrinsics.Vector256.Create(values, 0));
            var upper = System.Runtime.Intrinsics.Vector256.Exp(System.Runtime.Intrinsics.Vector256.Create(values, 4));
            for (int j = 0; j < 4; j++)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(lower[j]), BitConverter.DoubleToInt64Bits(wide[j]));
                Assert.Equal(BitConverter.DoubleToInt64Bits(upper[j]), BitConverter.DoubleToInt64Bits(wide[j + 4]));
            }
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

    /// <summary>
    /// Huge logits: two tied at 5·10³⁷ and the rest small give the loss log 2 and gradients ∓1/2 for the two (PyTorch's values),
    /// on every path: the term is (max - x[target]) + log Σe, not max + log Σe - x[target], which rounds to 0 there.
    /// </summary>
    [Theory]
    [InlineData(3, 1)]
    [InlineData(3, 8)]
    [InlineData(100, 1)]
    public void Huge_tied_logits_keep_log_2(int classes, int batch)
    {
        var logits = new float[batch * classes];
        for (int n = 0; n < batch; n++)
        {
            logits.AsSpan(n * classes, classes).Fill(-0.5f);
            logits[n * classes] = logits[n * classes + 1] = 5e37f;
        }
        var targets = new int[batch];
        var grad = new float[logits.Length];
        float fast = CrossEntropyLoss.Forward(logits, targets, batch, classes, grad);
        Assert.Equal(MathF.Log(2), fast, 6);
        Assert.Equal(-0.5f / batch, grad[0], 6);
        Assert.Equal(0.5f / batch, grad[1], 6);
        int[] shape = [batch, classes];
        float generic = CrossEntropyLoss.Forward<float>(logits, shape, targets, [batch], new CrossEntropyLossOptions<float> { LabelSmoothing = 0 }, gradInput: grad);
        Assert.Equal(MathF.Log(2), generic, 6);
        double genericD = CrossEntropyLoss.Forward<double>(logits.Select(v => (double)v).ToArray(), shape, targets, [batch], null);
        Assert.Equal(Math.Log(2), genericD, 12);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(1000)]
    public void A_nan_logit_gives_nan_as_in_pytorch(int classes)
    {
        var logits = Enumerable.Range(0, classes).Select(c => c * 0.01f).ToArray();
        logits[1] = float.NaN;
        var grad = new float[classes];
        Assert.True(float.IsNaN(CrossEntropyLoss.Forward(logits, [0], 1, classes, grad)));
        Assert.True(grad.All(float.IsNaN));
        logits[1] = float.PositiveInfinity;
        Assert.True(float.IsNaN(CrossEntropyLoss.Forward(logits, [0], 1, classes, grad)));
    }

    /// <summary>
    /// Rows of more than 256 classes (vectorized, in double, rounded once) within one float ulp of the generic overload in double
    /// precision: every gradient and the loss, for whole and partial last vectors, with -∞ logits (probability exactly 0).
    /// </summary>
    [Theory]
    [InlineData(257, 31)]
    [InlineData(1000, 32)]
    [InlineData(1001, 33)]
    [InlineData(4099, 34)]
    public void Many_classes_are_within_one_ulp_of_double_precision(int classes, int seed)
    {
        const int batch = 3;
        var rng = new Random(seed);
        float[] logits = Enumerable.Range(0, batch * classes).Select(_ => (float)((rng.NextDouble() - 0.5) * 24)).ToArray();
        int[] targets = Enumerable.Range(0, batch).Select(_ => rng.Next(classes)).ToArray();
        logits[(targets[1] + 7) % classes + classes] = float.NegativeInfinity;
        var grad = new float[logits.Length];
        float loss = CrossEntropyLoss.Forward(logits, targets, batch, classes, grad, Reduction.Sum);
        var gradRef = new double[logits.Length];
        double expected = CrossEntropyLoss.Forward<double>(logits.Select(v => (double)v).ToArray(), [batch, classes], targets, [batch],
            new CrossEntropyLossOptions<double> { Reduction = Reduction.Sum }, gradInput: gradRef, gradOutput: [1.0]);
        Assert.True(Ulps(loss, (float)expected) <= 1, $"loss {loss:R} vs {expected:R}");
        for (int i = 0; i < grad.Length; i++)
            Assert.True(Ulps(grad[i], (float)gradRef[i]) <= 1, $"grad[{i}] {grad[i]:R} vs {gradRef[i]:R}");
        Assert.Equal(0f, grad[(targets[1] + 7) % classes + classes]);
    }
}
