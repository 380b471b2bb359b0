using System;

namespace DslModels.Losses;

/// <summary><c>nn.MSELoss</c>: <c>l = (x - y)²</c> element-wise, reduced by mean or sum.</summary>
public static class MseLoss
{
    /// <summary>
    /// Returns the reduced loss and, when <paramref name="gradInput"/> is not empty, writes
    /// d loss / d input = <c>2 (x - y) · scale</c> (scale 1/n for mean, 1 for sum). The mean of nothing is NaN.
    /// </summary>
    public static float Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradInput = default, Reduction reduction = Reduction.Mean)
    {
        if (reduction == Reduction.None)
            throw new ArgumentException("Forward returns a reduced loss: use Reduction.Mean or Reduction.Sum.", nameof(reduction));
        if (target.Length != input.Length)
            throw new ArgumentException($"target must hold as many values as input ({input.Length}); got {target.Length}.", nameof(target));
        if (!gradInput.IsEmpty && gradInput.Length != input.Length)
            throw new ArgumentException($"gradInput must be empty or hold {input.Length} values like input; got {gradInput.Length}.", nameof(gradInput));
        double scale = reduction == Reduction.Mean ? 1.0 / input.Length : 1.0;
        double total = 0;
        for (int i = 0; i < input.Length; i++)
        {
            double d = (double)input[i] - target[i];
            total += d * d;
            if (!gradInput.IsEmpty)
                gradInput[i] = (float)(2.0 * d * scale);
        }
        return (float)(total * scale);
    }
}
