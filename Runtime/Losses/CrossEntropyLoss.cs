using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        Span<double> e = stackalloc double[ExpBufferLength(classes)];
        for (int n = 0; n < batch; n++)
        {
            if (targets[n] == ignoreIndex)
            {
                if (!gradLogits.IsEmpty)
                    gradLogits.Slice(n * classes, classes).Clear();
                continue;
            }
            total += Row(logits.Slice(n * classes, classes), targets[n], scale, gradLogits.IsEmpty ? default : gradLogits.Slice(n * classes, classes), e);
        }
        return reduction == Reduction.Mean ? (float)(total / counted) : (float)total;
    }

    /// <summary>
    /// Rows [<paramref name="start"/>, <paramref name="end"/>) of <see cref="Forward"/> with its gradient: each row's gradient
    /// and its loss term (<c>logsumexp(x) - x[y]</c>, 0 for an ignored row) in <paramref name="terms"/>[n]. Summing the terms of
    /// the rows that are not ignored in order from 0 gives <see cref="Forward"/>'s total bit for bit, so a model can split the
    /// rows over threads. <paramref name="scale"/>: 1 / (rows not ignored) for the mean, 1 for the sum. Arguments as checked
    /// by <see cref="Forward"/>; only the ranges are checked here.
    /// </summary>
    public static void ForwardRows(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int classes, Span<float> gradLogits,
        double scale, int ignoreIndex, int start, int end, Span<double> terms)
    {
        if (classes <= 0)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"classes must be >= 1; got {classes}.");
        if (start < 0 || end < start || end > targets.Length)
            throw new ArgumentOutOfRangeException(nameof(end), $"rows [start, end) must lie in [0, {targets.Length}); got [{start}, {end}).");
        if (logits.Length < end * classes || gradLogits.Length < end * classes || terms.Length < end)
            throw new ArgumentException($"logits and gradLogits need {end} * {classes} values and terms {end}; got {logits.Length}, {gradLogits.Length} and {terms.Length}.", nameof(logits));
        Span<double> e = stackalloc double[ExpBufferLength(classes)];
        for (int n = start; n < end; n++)
        {
            if (targets[n] == ignoreIndex)
            {
                gradLogits.Slice(n * classes, classes).Clear();
                terms[n] = 0;
                continue;
            }
            terms[n] = Row(logits.Slice(n * classes, classes), targets[n], scale, gradLogits.Slice(n * classes, classes), e);
        }
    }

    /// <summary>One row's loss term; writes <c>scale · (softmax(x) - onehot(target))</c> into <paramref name="grad"/> unless it is empty.</summary>
    private static double Row(ReadOnlySpan<float> x, int target, double scale, Span<float> grad, Span<double> e)
    {
        int classes = x.Length;
        if (!grad.IsEmpty && classes <= MaxStackClasses && !float.IsNaN(x[target]))
        {
            // One exp per logit: softmax(x)_c = e_c / Σe with e_c = exp(x_c - max), the terms logsumexp sums anyway.
            float max = float.NegativeInfinity;
            foreach (float v in x)
                max = Math.Max(max, v);
            if (!float.IsNegativeInfinity(max) && !float.IsNaN(max) && !float.IsPositiveInfinity(max))
            {
                Exps(x, max, e);
                double sum = 0;
                for (int c = 0; c < classes; c++)
                    sum += e[c];
                double term = max + Math.Log(sum) - x[target];
                double inv = scale / sum;
                for (int c = 0; c < classes; c++)
                    grad[c] = (float)(e[c] * inv);
                grad[target] = (float)((e[target] / sum - 1.0) * scale);
                return term;
            }
        }
        double lse = LogSumExp(x);
        if (!grad.IsEmpty)
        {
            for (int c = 0; c < classes; c++)
                grad[c] = (float)(Math.Exp(x[c] - lse) * scale);
            grad[target] = (float)((Math.Exp(x[target] - lse) - 1.0) * scale);
        }
        return lse - x[target];
    }

    /// <summary>Up to this many classes the softmax terms are kept on the stack and each exp is computed once.</summary>
    private const int MaxStackClasses = 256;

    /// <summary>The stack buffer <see cref="Row"/> needs: room for the classes rounded up to whole Vector256&lt;double&gt;.</summary>
    private static int ExpBufferLength(int classes) => (Math.Min(classes, MaxStackClasses) + 3) & ~3;

    /// <summary>
    /// e[c] = exp(x[c] - max) in double, the difference taken in float as <c>Math.Exp(x[c] - max)</c> takes it, four at a
    /// time with <see cref="Vector256.Exp(Vector256{double})"/> (about 4x faster than Math.Exp here; both are within an ulp or
    /// two of the exact double, far below the float the results are rounded to). The lanes past x.Length hold exp(0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Exps(ReadOnlySpan<float> x, float max, Span<double> e)
    {
        int classes = x.Length, padded = (classes + 3) & ~3;
        for (int c = 0; c < classes; c++)
            e[c] = x[c] - max;
        e.Slice(classes, padded - classes).Clear();
        ref double e0 = ref MemoryMarshal.GetReference(e);
        for (int c = 0; c < padded; c += 4)
            Vector256.Exp(Vector256.LoadUnsafe(ref e0, (nuint)c)).StoreUnsafe(ref e0, (nuint)c);
    }

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
