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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
        foreach (int target in targets)
            if (target != ignoreIndex)
                counted++;
        double scale = reduction == Reduction.Mean ? 1.0 / counted : 1.0;

        double total = 0;
        Span<double> e = stackalloc double[ExpBufferLength(classes)];
        Span<double> t = stackalloc double[!gradLogits.IsEmpty && classes <= MaxGroupClasses && batch >= GroupRows ? GroupRows * classes : 0];
        Span<double> terms = stackalloc double[GroupRows];
        for (int n = 0; n < batch; n += GroupRows)
        {
            int end = Math.Min(n + GroupRows, batch);
            RowTerms(logits, targets, n, end, classes, scale, gradLogits, ignoreIndex, e, t, terms);
            for (int r = n; r < end; r++)
                if (targets[r] != ignoreIndex)
                    total += terms[r - n];
        }
        return reduction == Reduction.Mean ? (float)(total / counted) : (float)total;
    }

    /// <summary>
    /// Rows [<paramref name="n"/>, <paramref name="end"/>), at most GroupRows of them: their loss terms (0 for an ignored row) into
    /// <paramref name="terms"/>[0 .. end - n) and their gradients if wanted; as one <see cref="Group"/> when it applies
    /// (<paramref name="t"/> not empty), otherwise row by row. Either way each row gets the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowTerms(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int n, int end, int classes, double scale,
        Span<float> gradLogits, int ignoreIndex, Span<double> e, Span<double> t, Span<double> terms)
    {
        if (end - n == GroupRows && !t.IsEmpty && Group(logits, targets, n, classes, scale, gradLogits, ignoreIndex, t, terms))
            return;
        for (int r = n; r < end; r++)
            terms[r - n] = OneRow(logits, targets, r, classes, scale, gradLogits, ignoreIndex, e);
    }

    /// <summary>Row <paramref name="n"/> of <see cref="Forward"/>: its loss term (0 for an ignored row) and its gradient if wanted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double OneRow(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int n, int classes, double scale,
        Span<float> gradLogits, int ignoreIndex, Span<double> e)
    {
        if (targets[n] == ignoreIndex)
        {
            if (!gradLogits.IsEmpty)
                gradLogits.Slice(n * classes, classes).Clear();
            return 0;
        }
        return Row(logits.Slice(n * classes, classes), targets[n], scale, gradLogits.IsEmpty ? default : gradLogits.Slice(n * classes, classes), e);
    }

    /// <summary>
    /// Rows [<paramref name="start"/>, <paramref name="end"/>) of <see cref="Forward"/> with its gradient: each row's gradient
    /// and its loss term (<c>logsumexp(x) - x[y]</c>, 0 for an ignored row) in <paramref name="terms"/>[n]. Summing the terms of
    /// the rows that are not ignored in order from 0 gives <see cref="Forward"/>'s total bit for bit, so a model can split the
    /// rows over threads. <paramref name="scale"/>: 1 / (rows not ignored) for the mean, 1 for the sum. Arguments as checked
    /// by <see cref="Forward"/>; only the ranges are checked here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
        Span<double> t = stackalloc double[classes <= MaxGroupClasses && end - start >= GroupRows ? GroupRows * classes : 0];
        for (int n = start; n < end; n += GroupRows)
        {
            int groupEnd = Math.Min(n + GroupRows, end);
            RowTerms(logits, targets, n, groupEnd, classes, scale, gradLogits, ignoreIndex, e, t, terms.Slice(n, groupEnd - n));
        }
    }

    /// <summary>Rows a group takes at once: the lanes of a <see cref="Vector512{T}"/> of doubles.</summary>
    private const int GroupRows = 8;

    /// <summary>Up to this many classes rows go in groups (a group's exps take GroupRows · classes doubles of stack).</summary>
    private const int MaxGroupClasses = 64;

    /// <summary>
    /// A group needs every x_c - max at or above this. .NET's vector Exp of doubles computes the whole vector with Math.Exp when
    /// any lane lies outside [-708, 708], so an extreme logit of one row would change the bits of the other rows in its vector;
    /// such a group (a -∞ logit included) goes row by row, as <see cref="Row"/>'s vectors of four classes would.
    /// </summary>
    private const float MinGroupExpArgument = -700f;

    /// <summary>
    /// Rows [<paramref name="n"/>, n + GroupRows) of <see cref="Row"/>'s fast path at once, when every one of them takes it (target
    /// not ignored and not NaN, finite max) and every x_c - max is at least <see cref="MinGroupExpArgument"/>; otherwise returns
    /// false having written nothing. Each row's operations are <see cref="Row"/>'s, in its order: the max, e_c = exp(x_c - max) with the difference in float, Σe in class order, the term
    /// <c>(max - x[target]) + log(Σe)</c>, and the gradient e_c · (scale / Σe). Only the layout differs: class c of the eight rows
    /// is one vector, so one <see cref="Vector512.Exp(Vector512{double})"/> serves eight rows (in that range its lanes are bit for bit
    /// those of <see cref="Vector256.Exp(Vector256{double})"/>, which <see cref="Row"/> uses; Runtime.Tests checks that). With 10 classes a row then
    /// costs 1.25 exp calls instead of 3 (Benchmarks --timeline: the loss phase of mlp128's train step).
    /// The rows' terms go to <paramref name="terms"/>[0..GroupRows); <paramref name="t"/> holds GroupRows · classes doubles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Group(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int n, int classes, double scale,
        Span<float> gradLogits, int ignoreIndex, Span<double> t, Span<double> terms)
    {
        // The callers checked the lengths: logits and gradLogits hold rows [n, n + GroupRows), t GroupRows · classes doubles.
        ReadOnlySpan<float> rows = logits.Slice(n * classes, GroupRows * classes);
        Span<float> gradRows = gradLogits.Slice(n * classes, GroupRows * classes);
        ref float g0 = ref MemoryMarshal.GetReference(gradRows);
        ref double t0 = ref MemoryMarshal.GetReference(t.Slice(0, GroupRows * classes));
        Span<float> max = stackalloc float[GroupRows];
        for (int r = 0; r < GroupRows; r++)
        {
            int target = targets[n + r];
            if (target == ignoreIndex)
                return false;
            ReadOnlySpan<float> x = rows.Slice(r * classes, classes);
            ref float xr = ref MemoryMarshal.GetReference(x);
            float m = Max(x);
            if (float.IsNaN(x[target]) || !float.IsFinite(m))
                return false;
            max[r] = m;
            // Class-major: t[c · GroupRows + r] = x_c - max (in float, as Row takes it).
            for (int c = 0; c < classes; c++)
            {
                float d = Unsafe.Add(ref xr, c) - m;
                if (!(d >= MinGroupExpArgument))
                    return false;
                Unsafe.Add(ref t0, c * GroupRows + r) = d;
            }
        }
        Vector512<double> sum = Vector512<double>.Zero;
        for (int c = 0; c < classes; c++)
        {
            var ec = Vector512.Exp(Vector512.LoadUnsafe(ref t0, (nuint)(c * GroupRows)));
            ec.StoreUnsafe(ref t0, (nuint)(c * GroupRows));
            sum += ec;
        }
        var inv = Vector512.Create(scale) / sum;
        for (int r = 0; r < GroupRows; r++)
        {
            int target = targets[n + r];
            double s = sum.GetElement(r), ir = inv.GetElement(r);
            terms[r] = (max[r] - rows[r * classes + target]) + Math.Log(s); // not max + log s - x: max + log s can round to max
            ref float gr = ref Unsafe.Add(ref g0, r * classes);
            for (int c = 0; c < classes; c++)
                Unsafe.Add(ref gr, c) = (float)(Unsafe.Add(ref t0, c * GroupRows + r) * ir);
            gradRows[r * classes + target] = (float)((Unsafe.Add(ref t0, target * GroupRows + r) / s - 1.0) * scale);
        }
        return true;
    }

    /// <summary>One row's loss term; writes <c>scale · (softmax(x) - onehot(target))</c> into <paramref name="grad"/> unless it is empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Row(ReadOnlySpan<float> x, int target, double scale, Span<float> grad, Span<double> e)
    {
        int classes = x.Length;
        // More classes than a group takes: vectorized along the classes, in double, each exponential computed twice rather than
        // kept (ActivationKernels.CrossEntropyRow; 1.5-2 ns a logit against 4-5 for the loop below).
        if (classes > MaxGroupClasses && ActivationKernels.CrossEntropyRow(x, target, scale, grad, out double wide))
            return wide;
        if (!grad.IsEmpty && classes <= MaxStackClasses && !float.IsNaN(x[target]))
        {
            // One exp per logit: softmax(x)_c = e_c / Σe with e_c = exp(x_c - max), the terms logsumexp sums anyway.
            float max = Max(x);
            if (float.IsFinite(max))
            {
                Exps(x, max, e);
                double sum = 0;
                for (int c = 0; c < classes; c++)
                    sum += e[c];
                double term = (max - x[target]) + Math.Log(sum);
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

    /// <summary>The largest of <paramref name="x"/> by <see cref="Math.Max(float, float)"/>: NaN if any is NaN, -∞ for none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Max(ReadOnlySpan<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x)
            max = Math.Max(max, v);
        return max;
    }

    /// <summary>log(Σ exp(x)) computed stably as max + log(Σ exp(x - max)).</summary>
    public static double LogSumExp(ReadOnlySpan<float> x)
    {
        float max = Max(x);
        if (float.IsNegativeInfinity(max) || float.IsNaN(max))
            return max;
        double sum = 0;
        foreach (float v in x)
            sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }
}
