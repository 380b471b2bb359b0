using System;
using System.Linq;
using DslModels.Losses;
using Xunit;
using static DslModels.Tests.FloatUlps;

namespace DslModels.Tests.Losses;

/// <summary>
/// CrossEntropyLoss's generic overload on float rows of contiguous classes (vectorized in double, ActivationKernels.CrossEntropyRow)
/// against the same call on double data (the scalar loop with Math.Exp and Math.Log): the loss, the per-sample losses and every
/// gradient within one float ulp (or 10⁻¹⁵ of the terms where the formula cancels), with class weights, label smoothing,
/// ignore_index and every reduction, for class counts that leave every partial last vector. CI runs these on every width.
/// </summary>
public class CrossEntropyLanesTests
{
    public static TheoryData<int, int, bool, double, Reduction> Cases()
    {
        var data = new TheoryData<int, int, bool, double, Reduction>();
        foreach (int classes in new[] { 1, 3, 10, 16, 17, 33, 100, 1000 })
            foreach (bool weighted in new[] { false, true })
                foreach (double smoothing in new[] { 0.0, 0.1, 1.0 })
                    data.Add(classes % 2 == 0 ? 6 : 1, classes, weighted, smoothing, ((classes + (weighted ? 1 : 0)) % 3) switch { 0 => Reduction.Mean, 1 => Reduction.Sum, _ => Reduction.None });
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float_rows_are_within_an_ulp_of_double_precision(int batch, int classes, bool weighted, double smoothing, Reduction reduction)
    {
        var rng = new Random(classes * 7 + batch);
        float[] x = Enumerable.Range(0, batch * classes).Select(i => (float)((rng.NextDouble() - 0.5) * (i % 5 == 0 ? 40 : 6))).ToArray();
        int[] targets = Enumerable.Range(0, batch).Select(_ => rng.Next(classes)).ToArray();
        int ignore = -100;
        if (batch > 1)
            targets[1] = ignore;
        float[]? w = weighted ? Enumerable.Range(0, classes).Select(_ => (float)(rng.NextDouble() * 2 + 0.1)).ToArray() : null;
        bool none = reduction == Reduction.None;
        float[] gradOut = none ? Enumerable.Range(0, batch).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray() : [0.625f];
        int[] inputShape = batch == 1 ? [classes] : [batch, classes];
        int[] targetShape = batch == 1 ? [] : [batch];
        var options = new CrossEntropyLossOptions<float> { Weight = w, LabelSmoothing = smoothing, IgnoreIndex = ignore, Reduction = reduction };
        var optionsD = new CrossEntropyLossOptions<double> { Weight = w?.Select(v => (double)v).ToArray(), LabelSmoothing = smoothing, IgnoreIndex = ignore, Reduction = reduction };
        float[] output = new float[none ? batch : 0], grad = new float[x.Length];
        double[] outputD = new double[none ? batch : 0], gradD = new double[x.Length];
        float loss = CrossEntropyLoss.Forward<float>(x, inputShape, targets, targetShape, options, output, grad, gradOut);
        double lossD = CrossEntropyLoss.Forward<double>(x.Select(v => (double)v).ToArray(), inputShape, targets, targetShape, optionsD, outputD, gradD,
            gradOut.Select(v => (double)v).ToArray());
        double rows = 0;
        for (int n = 0; n < batch; n++)
        {
            double magnitude = Enumerable.Range(0, classes).Sum(c => Math.Abs(x[n * classes + c]) * (w?[c] ?? 1)) + 1;
            rows += magnitude;
            if (none)
                Close(output[n], outputD[n], magnitude, $"loss[{n}]");
            for (int c = 0; c < classes; c++)
                Close(grad[n * classes + c], gradD[n * classes + c], 1 + (w?.Max() ?? 1), $"grad[{n}, {c}]");
        }
        Close(loss, lossD, rows, "reduced loss");
    }

    [Fact]
    public void Non_finite_logits_give_what_the_double_loop_gives()
    {
        // A -∞ logit with label smoothing makes the loss ∞ (ε/C·w·∞); a NaN logit or +∞ makes the row NaN (the scalar fallback).
        const int classes = 37;
        foreach (float bad in new[] { float.NegativeInfinity, float.NaN, float.PositiveInfinity })
            foreach (int at in new[] { 3, 36 })
            {
                float[] x = Enumerable.Range(0, classes).Select(c => c * 0.1f).ToArray();
                x[at] = bad;
                var grad = new float[classes];
                var gradD = new double[classes];
                var options = new CrossEntropyLossOptions<float> { LabelSmoothing = 0.2, Reduction = Reduction.Sum };
                float loss = CrossEntropyLoss.Forward<float>(x, [classes], [5], [], options, gradInput: grad);
                double lossD = CrossEntropyLoss.Forward<double>(x.Select(v => (double)v).ToArray(), [classes], [5], [],
                    new CrossEntropyLossOptions<double> { LabelSmoothing = 0.2, Reduction = Reduction.Sum }, gradInput: gradD);
                Assert.True(Ulps(loss, (float)lossD) <= 1, $"{bad} at {at}: loss {loss:R}, double {lossD:R}");
                for (int c = 0; c < classes; c++)
                    Assert.True(Ulps(grad[c], (float)gradD[c]) <= 1 || Math.Abs(grad[c] - gradD[c]) <= 1e-15, $"{bad} at {at}: grad[{c}] {grad[c]:R}, double {gradD[c]:R}");
            }
    }
}
