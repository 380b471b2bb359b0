using System;

namespace DslModels.Losses;

/// <summary>
/// <c>nn.CrossEntropyLoss</c> / <c>F.cross_entropy</c> on unnormalised logits. This part: the float fast path used by
/// generated models, [batch, classes] logits with class-index targets [batch]: <c>l_i = logsumexp(x_i) - x_i[y_i]</c>;
/// samples whose target equals <c>ignore_index</c> contribute nothing and are left out of the mean's denominator.
/// The generic overloads (weights, label smoothing, K-dim, probabilities) are in ClassificationLosses.cs.
/// </summary>
public static partial class CrossEntropyLoss
{
    /// <summary>
    /// Returns the reduced loss and, when <paramref name="gradLogits"/> is not empty, writes
    /// d loss / d logits into it: <c>scale · (softmax(x_i) - onehot(y_i))</c> with scale 1/(non-ignored count)
    /// for <see cref="Reduction.Mean"/> and 1 for <see cref="Reduction.Sum"/>; 0 for ignored rows.
    /// The mean over no sample is NaN, as in PyTorch.
    /// </summary>
    public static float Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int batch, int classes,
        Span<float> gradLogits = default, Reduction reduction = Reduction.Mean, int ignoreIndex = -100)
    {
        if (batch < 0)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch must be >= 0; got {batch}.");
        if (classes <= 0)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"classes must be >= 1; got {classes}.");
        if (reduction == Reduction.None)
            throw new ArgumentException("Forward returns a reduced loss: use Reduction.Mean or Reduction.Sum.", nameof(reduction));
        if (logits.Length != batch * classes)
            throw new ArgumentException($"logits must hold batch * classes = {batch} * {classes} = {batch * classes} values; got {logits.Length}.", nameof(logits));
        if (targets.Length != batch)
            throw new ArgumentException($"targets must hold batch = {batch} class indices; got {targets.Length}.", nameof(targets));
        if (!gradLogits.IsEmpty && gradLogits.Length != logits.Length)
            throw new ArgumentException($"gradLogits must be empty or hold {logits.Length} values like logits; got {gradLogits.Length}.", nameof(gradLogits));
        ModelChecks.ClassTargets(targets, classes, ignoreIndex);

        int counted = 0;
        for (int n = 0; n < batch; n++)
            if (targets[n] != ignoreIndex)
                counted++;
        double scale = reduction == Reduction.Mean ? 1.0 / counted : 1.0;

        double total = 0;
        Span<double> e = stackalloc double[Math.Min(classes, MaxStackClasses)];
        for (int n = 0; n < batch; n++)
        {
            ReadOnlySpan<float> x = logits.Slice(n * classes, classes);
            int target = targets[n];
            if (target == ignoreIndex)
            {
                if (!gradLogits.IsEmpty)
                    gradLogits.Slice(n * classes, classes).Clear();
                continue;
            }
            if (!gradLogits.IsEmpty && classes <= MaxStackClasses && !float.IsNaN(x[target]))
            {
                // One exp per logit: softmax(x)_c = e_c / Σe with e_c = exp(x_c - max), the terms logsumexp sums anyway.
                float max = float.NegativeInfinity;
                foreach (float v in x)
                    max = Math.Max(max, v);
                if (!float.IsNegativeInfinity(max) && !float.IsNaN(max) && !float.IsPositiveInfinity(max))
                {
                    double sum = 0;
                    for (int c = 0; c < classes; c++)
                        sum += e[c] = Math.Exp(x[c] - max);
                    total += max + Math.Log(sum) - x[target];
                    Span<float> gs = gradLogits.Slice(n * classes, classes);
                    double inv = scale / sum;
                    for (int c = 0; c < classes; c++)
                        gs[c] = (float)(e[c] * inv);
                    gs[target] = (float)((e[target] / sum - 1.0) * scale);
                    continue;
                }
            }
            double lse = LogSumExp(x);
            total += lse - x[target];
            if (!gradLogits.IsEmpty)
            {
                Span<float> g = gradLogits.Slice(n * classes, classes);
                for (int c = 0; c < classes; c++)
                    g[c] = (float)(Math.Exp(x[c] - lse) * scale);
                g[target] = (float)((Math.Exp(x[target] - lse) - 1.0) * scale);
            }
        }
        return reduction == Reduction.Mean ? (float)(total / counted) : (float)total;
    }

    /// <summary>Up to this many classes the softmax terms are kept on the stack and each exp is computed once.</summary>
    private const int MaxStackClasses = 256;

    /// <summary>log(Σ exp(x)) computed stably as max + log(Σ exp(x - max)).</summary>
    public static double LogSumExp(ReadOnlySpan<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x)
            max = Math.Max(max, v);
        if (float.IsNegativeInfinity(max) || float.IsNaN(max))
            return max;
        double sum = 0;
        foreach (float v in x)
            sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }
}
