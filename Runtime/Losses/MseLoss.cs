using System;
using System.Runtime.CompilerServices;

namespace DslModels.Losses;

/// <summary><c>nn.MSELoss</c> for generated models (float, Mean or Sum): <c>l = (x - y)²</c>. Delegates to the SIMD <see cref="MSELoss"/>.</summary>
public static class MseLoss
{
    /// <summary>
    /// Returns the reduced loss and, when <paramref name="gradInput"/> is not empty, writes
    /// d loss / d input = <c>2 (x - y) · scale</c> (scale 1/n for mean, 1 for sum). The mean of nothing is NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradInput = default, Reduction reduction = Reduction.Mean)
    {
        if (reduction == Reduction.None)
            throw new ArgumentException("Forward returns a reduced loss: use Reduction.Mean or Reduction.Sum.", nameof(reduction));
        if (target.Length != input.Length)
            throw new ArgumentException($"target must hold as many values as input ({input.Length}); got {target.Length}.", nameof(target));
        if (!gradInput.IsEmpty && gradInput.Length != input.Length)
            throw new ArgumentException($"gradInput must be empty or hold {input.Length} values like input; got {gradInput.Length}.", nameof(gradInput));
        return MSELoss.Forward(input, target, reduction, gradInput);
    }
}
