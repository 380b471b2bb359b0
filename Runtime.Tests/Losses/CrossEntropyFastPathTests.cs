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
    public void Matches_the_generic_overload(int batch, int classes, Reduction reduction, int ignoreIndex, int seed)
    {
        var rng = new Random(seed);
        float[] logits = Enumerable.Range(0, batch * classes).Select(_ => (float)(rng.NextDouble() * 20 - 10)).ToArray();
        int[] targets = Enumerable.Range(0, batch).Select(_ => rng.Next(classes)).ToArray();
        if (ignoreIndex >= 0)
            targets[0] = ignoreIndex;
        if (classes > 1)
            logits[classes - 1] = float.NegativeInfinity; // a logit that gets probability 0
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

    [Fact]
    public void A_nan_logit_gives_nan_as_in_pytorch()
    {
        float[] logits = [1f, float.NaN, 0.5f];
        var grad = new float[3];
        Assert.True(float.IsNaN(CrossEntropyLoss.Forward(logits, [0], 1, 3, grad)));
        Assert.True(grad.All(float.IsNaN));
    }
}
