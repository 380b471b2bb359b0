using System;
using System.Runtime.CompilerServices;
using System.Buffers;
using System.Numerics;
using static DslModels.Losses.LossCore;

namespace DslModels.Losses;

/// <summary>Options of <see cref="CTCLoss"/> (<c>nn.CTCLoss(blank=0, reduction='mean', zero_infinity=False)</c>).</summary>
public sealed record CTCLossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static CTCLossOptions Default { get; } = new();

    /// <summary><c>blank</c> (default 0): the blank label, in [0, C).</summary>
    public int Blank { get; init; }

    /// <summary><c>zero_infinity</c> (default false): infeasible samples (loss +∞) get loss 0 and gradient 0.</summary>
    public bool ZeroInfinity { get; init; }

    /// <summary>
    /// Accept target labels equal to <see cref="Blank"/> (default false: they throw). PyTorch documents them as invalid
    /// but silently treats them as an ordinary label; set this to reproduce such PyTorch results.
    /// </summary>
    public bool AllowBlankInTargets { get; init; }
}

/// <summary>
/// <c>nn.CTCLoss</c> / <c>F.ctc_loss(log_probs, targets, input_lengths, target_lengths)</c>: the negative log-likelihood
/// of the target sequence summed over all CTC alignments (log-space alpha/beta recursions, in double).
/// Mean divides each sample's loss by max(target_length, 1), then averages over the batch.
/// </summary>
public static class CTCLoss
{
    /// <summary>
    /// <paramref name="logProbs"/>: [T, N, C] (or unbatched [T, C]) log-probabilities, C including the blank.
    /// <paramref name="targets"/>: padded [N, S] (row b uses its first target_lengths[b] labels), concatenated
    /// [Σ target_lengths], or unbatched [S]. <paramref name="inputLengths"/> and <paramref name="targetLengths"/>: one
    /// per sample (one value when unbatched). The unreduced loss has N values (one when unbatched).
    /// <paramref name="gradLogProbs"/> follows PyTorch's convention (it assumes log_probs = log_softmax(x)):
    /// <c>g_b·(exp(lp[t,b,c]) + d nll_b / d lp[t,b,c])</c> for t &lt; input_lengths[b], 0 after; NaN for infeasible samples
    /// unless <see cref="CTCLossOptions.ZeroInfinity"/>. Also throws (unlike PyTorch 1.13) for negative lengths, labels
    /// outside [0, C) and labels equal to the blank (unless <see cref="CTCLossOptions.AllowBlankInTargets"/>). Other conventions as <see cref="L1Loss.Forward{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> logProbs, ReadOnlySpan<int> logProbsShape, ReadOnlySpan<int> targets, ReadOnlySpan<int> targetsShape,
        ReadOnlySpan<int> inputLengths, ReadOnlySpan<int> targetLengths, CTCLossOptions? options = null,
        Span<T> output = default, Span<T> gradLogProbs = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= CTCLossOptions.Default;
        bool unbatched = logProbsShape.Length == 2;
        if (logProbsShape.Length is not (2 or 3))
            throw new ArgumentException($"Expected a 3-dimensional [T, N, C] (or unbatched 2-dimensional [T, C]) log_probs, but got logProbsShape {Shape(logProbsShape)}.", nameof(logProbsShape));
        int total = Numel(logProbsShape, nameof(logProbsShape));
        Length(nameof(logProbs), logProbs.Length, total, $"logProbsShape {Shape(logProbsShape)}");
        int steps = logProbsShape[0], batch = unbatched ? 1 : logProbsShape[1], classes = logProbsShape[^1];
        int blank = options.Blank;
        if ((uint)blank >= (uint)classes)
            throw new ArgumentOutOfRangeException(nameof(options), blank, $"blank must be in label range: options.Blank = {blank}, C = {classes}.");
        if (targetsShape.Length is not (1 or 2) || (unbatched && targetsShape.Length != 1))
            throw new ArgumentException($"Expected targets [N, S] (padded) or [sum of target_lengths] (concatenated), or [S] when unbatched; got targetsShape {Shape(targetsShape)}.", nameof(targetsShape));
        Length(nameof(targets), targets.Length, Numel(targetsShape, nameof(targetsShape)), $"targetsShape {Shape(targetsShape)}");
        Length(nameof(inputLengths), inputLengths.Length, batch, "input_lengths must be of size batch_size");
        Length(nameof(targetLengths), targetLengths.Length, batch, "target_lengths must be of size batch_size");
        bool padded = unbatched || targetsShape.Length == 2;
        int stride = padded ? targetsShape[^1] : 0;
        if (padded && !unbatched && targetsShape[0] != batch)
            throw new ArgumentException($"Expected padded targets to have size {batch} at dimension 0, but got targetsShape {Shape(targetsShape)}.", nameof(targetsShape));
        long lengthSum = 0;
        int maxTarget = 0;
        for (int b = 0; b < batch; b++)
        {
            if (inputLengths[b] < 0 || inputLengths[b] > steps)
                throw new ArgumentOutOfRangeException(nameof(inputLengths), inputLengths[b], $"Expected input_lengths to have values in [0, {steps}], but got input_lengths[{b}] = {inputLengths[b]}.");
            if (targetLengths[b] < 0)
                throw new ArgumentOutOfRangeException(nameof(targetLengths), targetLengths[b], $"Expected target_lengths to have value at least 0, but got target_lengths[{b}] = {targetLengths[b]}.");
            lengthSum += targetLengths[b];
            maxTarget = Math.Max(maxTarget, targetLengths[b]);
        }
        if (padded && stride < maxTarget)
            throw new ArgumentException($"Expected padded targets to have size at least {maxTarget} at dimension 1 (the longest target_length), but got targetsShape {Shape(targetsShape)}.", nameof(targets));
        if (!padded && targets.Length != lengthSum)
            throw new ArgumentException($"Expected concatenated targets to have size {lengthSum} (the sum of target_lengths), but got {targets.Length}.", nameof(targets));
        for (int b = 0, offset = 0; b < batch; b++)
        {
            int start = padded ? b * stride : offset;
            for (int k = 0; k < targetLengths[b]; k++)
            {
                int label = targets[start + k];
                if ((uint)label >= (uint)classes)
                    throw new ArgumentOutOfRangeException(nameof(targets), label, $"target label {label} (sample {b}, position {k}) is out of range [0, {classes}).");
                if (label == blank && !options.AllowBlankInTargets)
                    throw new ArgumentException($"target index cannot be blank: sample {b}, position {k} is the blank label {blank}.", nameof(targets));
            }
            offset += targetLengths[b];
        }
        Outputs(options.Reduction, batch, output.Length, gradOutput.Length);
        OptionalLength(nameof(gradLogProbs), gradLogProbs.Length, total, "like logProbs");

        if (!gradLogProbs.IsEmpty)
            gradLogProbs.Clear();
        double g0 = options.Reduction != Reduction.None && !gradOutput.IsEmpty ? D(gradOutput[0]) : 1.0;
        double sum = 0;
        for (int b = 0, offset = 0; b < batch; b++)
        {
            int length = targetLengths[b];
            ReadOnlySpan<int> labels = targets.Slice(padded ? b * stride : offset, length);
            offset += length;
            double scale = options.Reduction switch
            {
                Reduction.Mean => 1.0 / Math.Max(length, 1) / batch,
                Reduction.Sum => 1.0,
                _ => 0,
            };
            double g = options.Reduction == Reduction.None ? (gradOutput.IsEmpty ? 1.0 : D(gradOutput[b])) : g0 * scale;
            double nll = Sample(logProbs, batch, classes, b, inputLengths[b], labels, blank, gradLogProbs, g, options.ZeroInfinity);
            if (!output.IsEmpty)
                output[b] = F<T>(nll);
            sum += options.Reduction == Reduction.Mean ? nll * scale : nll;
        }
        return F<T>(options.Reduction == Reduction.Mean && batch == 0 ? double.NaN : sum);
    }

    /// <summary>One sample's nll; adds its gradient (times g) into grad when not empty.</summary>
    private static double Sample<T>(ReadOnlySpan<T> lp, int batch, int classes, int b, int steps, ReadOnlySpan<int> labels, int blank,
        Span<T> grad, double g, bool zeroInfinity)
        where T : struct, IFloatingPointIeee754<T>
    {
        int length = labels.Length;
        if (steps == 0)
        {
            double empty = length == 0 ? 0 : double.PositiveInfinity;
            return zeroInfinity && double.IsPositiveInfinity(empty) ? 0 : empty;
        }
        int width = 2 * length + 1;
        double[] lps = ArrayPool<double>.Shared.Rent(steps * classes);
        int[] ext = ArrayPool<int>.Shared.Rent(width);
        for (int t = 0; t < steps; t++)
            for (int c = 0; c < classes; c++)
                lps[t * classes + c] = D(lp[(t * batch + b) * classes + c]);
        for (int s = 0; s < width; s++)
            ext[s] = (s & 1) == 0 ? blank : labels[s >> 1];
        double Lp(int t, int c) => lps[t * classes + c];
        int Label(int s) => ext[s];

        double[] alpha = ArrayPool<double>.Shared.Rent(steps * width);
        double[]? beta = null, acc = null;
        try
        {
            alpha.AsSpan(0, steps * width).Fill(double.NegativeInfinity);
            alpha[0] = Lp(0, blank);
            if (length > 0)
                alpha[1] = Lp(0, Label(1));
            for (int t = 1; t < steps; t++)
            {
                int prev = (t - 1) * width, cur = t * width;
                for (int s = 0; s < width; s++)
                {
                    int l = Label(s);
                    double a = alpha[prev + s];
                    if (s >= 1)
                        a = LogAddExp(a, alpha[prev + s - 1]);
                    if (s >= 2 && l != Label(s - 2))
                        a = LogAddExp(a, alpha[prev + s - 2]);
                    alpha[cur + s] = double.IsNegativeInfinity(a) ? a : a + Lp(t, l);
                }
            }
            int last = (steps - 1) * width;
            double nll = length > 0 ? -LogAddExp(alpha[last + width - 1], alpha[last + width - 2]) : -alpha[last];
            bool infinite = double.IsPositiveInfinity(nll);
            if (zeroInfinity && infinite)
                return 0;
            if (grad.IsEmpty)
                return nll;

            beta = ArrayPool<double>.Shared.Rent(steps * width);
            beta.AsSpan(0, steps * width).Fill(double.NegativeInfinity);
            beta[last + width - 1] = Lp(steps - 1, blank);
            if (length > 0)
                beta[last + width - 2] = Lp(steps - 1, Label(width - 2));
            for (int t = steps - 2; t >= 0; t--)
            {
                int next = (t + 1) * width, cur = t * width;
                for (int s = width - 1; s >= 0; s--)
                {
                    int l = Label(s);
                    double v = beta[next + s];
                    if (s < width - 1)
                        v = LogAddExp(v, beta[next + s + 1]);
                    if (s < width - 2 && Label(s + 2) != l)
                        v = LogAddExp(v, beta[next + s + 2]);
                    beta[cur + s] = double.IsNegativeInfinity(v) ? v : v + Lp(t, l);
                }
            }
            acc = ArrayPool<double>.Shared.Rent(classes);
            for (int t = 0; t < steps; t++)
            {
                acc.AsSpan(0, classes).Fill(double.NegativeInfinity);
                if (t == steps - 1)
                {
                    // PyTorch's last step: A[blank] = α + β at s = 2L, then A[l'(2L-1)] = α + β at s = 2L-1, assigned
                    // rather than log-added (other s have β = -inf). Differs only for a last label equal to the blank.
                    acc[blank] = alpha[t * width + width - 1] + beta[t * width + width - 1];
                    if (length > 0)
                        acc[Label(width - 2)] = alpha[t * width + width - 2] + beta[t * width + width - 2];
                }
                else
                {
                    for (int s = 0; s < width; s++)
                    {
                        int l = Label(s);
                        acc[l] = LogAddExp(acc[l], alpha[t * width + s] + beta[t * width + s]);
                    }
                }
                for (int c = 0; c < classes; c++)
                {
                    double lpc = Lp(t, c);
                    grad[(t * batch + b) * classes + c] = F<T>((Math.Exp(lpc) - Math.Exp(acc[c] + nll - lpc)) * g);
                }
            }
            return nll;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(alpha);
            ArrayPool<double>.Shared.Return(lps);
            ArrayPool<int>.Shared.Return(ext);
            if (beta is not null)
                ArrayPool<double>.Shared.Return(beta);
            if (acc is not null)
                ArrayPool<double>.Shared.Return(acc);
        }
    }
}
