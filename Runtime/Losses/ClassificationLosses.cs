using System;
using System.Runtime.CompilerServices;
using System.Buffers;
using System.Numerics;
using static DslModels.Losses.LossCore;

namespace DslModels.Losses;

/// <summary>Options of <see cref="NLLLoss"/> (<c>nn.NLLLoss(weight=None, ignore_index=-100, reduction='mean')</c>).</summary>
public sealed record NLLLossOptions<T> : LossOptions where T : struct, IFloatingPointIeee754<T>
{
    /// <summary>PyTorch's defaults.</summary>
    public static NLLLossOptions<T> Default { get; } = new();

    /// <summary><c>weight</c> (default none): one weight per class (length C).</summary>
    public T[]? Weight { get; init; }

    /// <summary><c>ignore_index</c> (default -100): samples with this target contribute 0 and leave the mean's denominator.</summary>
    public int IgnoreIndex { get; init; } = -100;
}

/// <summary>Options of <see cref="CrossEntropyLoss"/> (<c>nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0)</c>).</summary>
public sealed record CrossEntropyLossOptions<T> : LossOptions where T : struct, IFloatingPointIeee754<T>
{
    /// <summary>PyTorch's defaults.</summary>
    public static CrossEntropyLossOptions<T> Default { get; } = new();

    /// <summary><c>weight</c> (default none): one weight per class (length C).</summary>
    public T[]? Weight { get; init; }

    /// <summary><c>ignore_index</c> (default -100), class-index targets only (must be negative with probability targets).</summary>
    public int IgnoreIndex { get; init; } = -100;

    /// <summary><c>label_smoothing</c> in [0, 1] (default 0).</summary>
    public double LabelSmoothing { get; init; }
}

/// <summary>
/// The layout of a class-dimension input: [C] (one sample), or [N, C, d1..dK] with N·d1···dK samples.
/// Element (n, c, s) is at (n·C + c)·S + s; sample i = n·S + s.
/// </summary>
internal readonly record struct ClassLayout(int N, int C, int S)
{
    public int Samples => N * S;

    public int Index(int sample, int c) => (sample / S * C + c) * S + sample % S;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ClassLayout FromInput(ReadOnlySpan<int> inputShape, int inputLength)
    {
        if (inputShape.Length == 0)
            throw new ArgumentException("inputShape: expected 1 or more dimensions (got 0): the input is [C] or [N, C, d1, ..., dK].", "inputShape");
        int n = Numel(inputShape, "inputShape");
        Length("input", inputLength, n, $"inputShape {Shape(inputShape)}");
        int classes = inputShape.Length == 1 ? inputShape[0] : inputShape[1];
        if (classes < 1)
            throw new ArgumentException($"inputShape {Shape(inputShape)} has no class: the class dimension must be >= 1.", "inputShape");
        if (inputShape.Length == 1)
            return new ClassLayout(1, classes, 1);
        int s = 1;
        for (int d = 2; d < inputShape.Length; d++)
            s *= inputShape[d];
        return new ClassLayout(inputShape[0], classes, s);
    }

    /// <summary>The layout with PyTorch's checks of a class-index target shape ([] for [C], else [N, d1..dK]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ClassLayout ForIndexTargets(ReadOnlySpan<int> inputShape, int inputLength, ReadOnlySpan<int> targetShape, int targetLength)
    {
        ClassLayout layout = FromInput(inputShape, inputLength);
        int nt = Numel(targetShape, "targetShape");
        Length("target", targetLength, nt, $"targetShape {Shape(targetShape)}");
        if (inputShape.Length == 1)
        {
            if (targetShape.Length != 0)
                throw new ArgumentException($"size mismatch (got input: {Shape(inputShape)}, target: {Shape(targetShape)}): an unbatched [C] input takes a 0-dim target.", "targetShape");
            return layout;
        }
        if (targetShape.Length == 0 || targetShape[0] != inputShape[0])
            throw new ArgumentException($"Expected input batch_size ({inputShape[0]}) to match target batch_size ({(targetShape.Length == 0 ? 1 : targetShape[0])}): inputShape {Shape(inputShape)}, targetShape {Shape(targetShape)}.", "targetShape");
        if (inputShape.Length == 2 && targetShape.Length != 1)
            throw new ArgumentException($"0D or 1D target tensor expected, multi-target not supported: targetShape {Shape(targetShape)} for inputShape {Shape(inputShape)}.", "targetShape");
        bool ok = targetShape.Length == inputShape.Length - 1;
        for (int d = 1; ok && d < targetShape.Length; d++)
            ok = targetShape[d] == inputShape[d + 1];
        if (!ok)
        {
            int[] expected = new int[inputShape.Length - 1];
            expected[0] = inputShape[0];
            inputShape[2..].CopyTo(expected.AsSpan(1));
            throw new ArgumentException($"Expected target size {Shape(expected)}, got {Shape(targetShape)}.", "targetShape");
        }
        return layout;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CheckWeight<T>(T[]? weight, int classes)
    {
        if (weight is not null && weight.Length != classes)
            throw new ArgumentException($"weight tensor should be defined either for all {classes} classes or no classes but got weight tensor of shape: [{weight.Length}].", "options");
    }

    /// <summary>Checks every target and returns the mean's denominator Σ w[y_i] over the samples not ignored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double CheckTargets<T>(ReadOnlySpan<int> target, int classes, int ignoreIndex, T[]? weight) where T : struct, IFloatingPointIeee754<T>
    {
        double total = 0;
        for (int i = 0; i < target.Length; i++)
        {
            int t = target[i];
            if (t == ignoreIndex)
                continue;
            if ((uint)t >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(target), t, $"Target {t} is out of bounds: target[{i}] must be in [0, {classes}) or equal ignore_index ({ignoreIndex}).");
            total += weight is null ? 1.0 : D(weight[t]);
        }
        return total;
    }
}

/// <summary>
/// <c>nn.NLLLoss</c> / <c>F.nll_loss</c>, input = log-probabilities: <c>l_i = -w[y_i]·x[i, y_i]</c> (0 if ignored);
/// mean = Σ l_i / Σ_{not ignored} w[y_i].
/// </summary>
public static class NLLLoss
{
    /// <summary>
    /// Input [C] with a 0-dim target, [N, C] with target [N], or [N, C, d1..dK] with target [N, d1..dK] (class indices).
    /// <paramref name="output"/> and a None <paramref name="gradOutput"/> have the target's shape. Other conventions as
    /// <see cref="L1Loss.Forward{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<int> target, ReadOnlySpan<int> targetShape,
        NLLLossOptions<T>? options = null, Span<T> output = default, Span<T> gradInput = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= NLLLossOptions<T>.Default;
        ClassLayout layout = ClassLayout.ForIndexTargets(inputShape, input.Length, targetShape, target.Length);
        Outputs(options.Reduction, layout.Samples, output.Length, gradOutput.Length);
        OptionalLength(nameof(gradInput), gradInput.Length, input.Length, "like input");
        ClassLayout.CheckWeight(options.Weight, layout.C);
        double denominator = ClassLayout.CheckTargets(target, layout.C, options.IgnoreIndex, options.Weight);

        var up = Upstream<T>.For(options.Reduction, gradOutput, denominator);
        if (!gradInput.IsEmpty)
            gradInput.Clear();
        double sum = 0;
        for (int i = 0; i < layout.Samples; i++)
        {
            int t = target[i];
            double l = 0;
            if (t != options.IgnoreIndex)
            {
                double w = options.Weight is null ? 1.0 : D(options.Weight[t]);
                int k = layout.Index(i, t);
                l = -w * D(input[k]);
                if (!gradInput.IsEmpty)
                    gradInput[k] = F<T>(-w * up[i]);
            }
            sum += l;
            if (!output.IsEmpty)
                output[i] = F<T>(l);
        }
        return Reduce<T>(options.Reduction, sum, denominator);
    }
}

public static partial class CrossEntropyLoss
{
    /// <summary>
    /// Class-index targets. Input (logits) [C] with a 0-dim target, [N, C] with target [N], or [N, C, d1..dK] with
    /// target [N, d1..dK]. With ε = label smoothing and w the class weights (1 without):
    /// <c>l_i = (1 - ε)·(-w[y_i]·lsm[i, y_i]) + (ε/C)·Σ_c -w[c]·lsm[i, c]</c> (0 if ignored), mean = Σ l_i / Σ_{not ignored} w[y_i].
    /// <paramref name="output"/> and a None <paramref name="gradOutput"/> have the target's shape. Other conventions as
    /// <see cref="L1Loss.Forward{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<int> target, ReadOnlySpan<int> targetShape,
        CrossEntropyLossOptions<T>? options = null, Span<T> output = default, Span<T> gradInput = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= CrossEntropyLossOptions<T>.Default;
        ClassLayout layout = ClassLayout.ForIndexTargets(inputShape, input.Length, targetShape, target.Length);
        Outputs(options.Reduction, layout.Samples, output.Length, gradOutput.Length);
        OptionalLength(nameof(gradInput), gradInput.Length, input.Length, "like input");
        ClassLayout.CheckWeight(options.Weight, layout.C);
        double eps = CheckSmoothing(options.LabelSmoothing);
        double denominator = ClassLayout.CheckTargets(target, layout.C, options.IgnoreIndex, options.Weight);

        int classes = layout.C;
        double weightSum = 0;
        for (int c = 0; c < classes; c++)
            weightSum += options.Weight is null ? 1.0 : D(options.Weight[c]);
        var up = Upstream<T>.For(options.Reduction, gradOutput, denominator);
        // Float rows of contiguous classes ([C] or [N, C]): vectorized in double (ActivationKernels.CrossEntropyRow); a row
        // with a NaN or an infinite max goes through the scalar loop below.
        bool vectorRows = typeof(T) == typeof(float) && layout.S == 1;
        double[] lsm = ArrayPool<double>.Shared.Rent(classes);
        try
        {
            double sum = 0;
            for (int i = 0; i < layout.Samples; i++)
            {
                int t = target[i];
                if (t == options.IgnoreIndex)
                {
                    if (!output.IsEmpty)
                        output[i] = T.Zero;
                    if (!gradInput.IsEmpty)
                        for (int c = 0; c < classes; c++)
                            gradInput[layout.Index(i, c)] = T.Zero;
                    continue;
                }
                if (vectorRows && ActivationKernels.CrossEntropyRow(Floats(input).Slice(i * classes, classes), t, Floats<T>(options.Weight), eps,
                        weightSum, up[i], gradInput.IsEmpty ? default : Floats(gradInput).Slice(i * classes, classes), out double term))
                {
                    sum += term;
                    if (!output.IsEmpty)
                        output[i] = F<T>(term);
                    continue;
                }
                LogSoftmax(input, layout, i, lsm);
                double wt = options.Weight is null ? 1.0 : D(options.Weight[t]);
                double l = -wt * lsm[t];
                if (eps > 0)
                {
                    double smooth = 0;
                    for (int c = 0; c < classes; c++)
                        smooth -= (options.Weight is null ? 1.0 : D(options.Weight[c])) * lsm[c];
                    l = (1 - eps) * l + eps / classes * smooth;
                }
                sum += l;
                if (!output.IsEmpty)
                    output[i] = F<T>(l);
                if (!gradInput.IsEmpty)
                {
                    double g = up[i];
                    for (int c = 0; c < classes; c++)
                    {
                        double p = Math.Exp(lsm[c]);
                        double wc = options.Weight is null ? 1.0 : D(options.Weight[c]);
                        double d = (1 - eps) * wt * (p - (c == t ? 1 : 0));
                        if (eps > 0)
                            d += eps / classes * (weightSum * p - wc);
                        gradInput[layout.Index(i, c)] = F<T>(g * d);
                    }
                }
            }
            return Reduce<T>(options.Reduction, sum, denominator);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(lsm);
        }
    }

    /// <summary>
    /// Class-probability targets (PyTorch's branch for a target shaped like the input): input and target [C] or
    /// [N, C, d1..dK]; with t' = (1 - ε)·t + ε/C, <c>l_i = -Σ_c w[c]·t'[i, c]·lsm[i, c]</c>; mean = Σ l_i / (number of samples)
    /// (not divided by the weights). <see cref="CrossEntropyLossOptions{T}.IgnoreIndex"/> must be negative.
    /// <paramref name="output"/> and a None <paramref name="gradOutput"/> have shape [] for [C], else [N, d1..dK].
    /// </summary>
    public static T ForwardProbabilities<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, ReadOnlySpan<int> shape,
        CrossEntropyLossOptions<T>? options = null, Span<T> output = default, Span<T> gradInput = default, Span<T> gradTarget = default,
        ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= CrossEntropyLossOptions<T>.Default;
        ClassLayout layout = ClassLayout.FromInput(shape, input.Length);
        Length(nameof(target), target.Length, input.Length, $"probability targets have the input's shape {Shape(shape)}");
        Outputs(options.Reduction, layout.Samples, output.Length, gradOutput.Length);
        OptionalLength(nameof(gradInput), gradInput.Length, input.Length, "like input");
        OptionalLength(nameof(gradTarget), gradTarget.Length, input.Length, "like target");
        ClassLayout.CheckWeight(options.Weight, layout.C);
        double eps = CheckSmoothing(options.LabelSmoothing);
        if (options.IgnoreIndex >= 0)
            throw new ArgumentException($"ignore_index is not supported for floating point target: options.IgnoreIndex must be negative; got {options.IgnoreIndex}.", nameof(options));

        int classes = layout.C;
        int samples = layout.Samples;
        var up = Upstream<T>.For(options.Reduction, gradOutput, samples);
        double[] lsm = ArrayPool<double>.Shared.Rent(classes);
        try
        {
            double sum = 0;
            for (int i = 0; i < samples; i++)
            {
                LogSoftmax(input, layout, i, lsm);
                double l = 0, wtSum = 0;
                for (int c = 0; c < classes; c++)
                {
                    double wc = options.Weight is null ? 1.0 : D(options.Weight[c]);
                    double tc = D(target[layout.Index(i, c)]) * (1 - eps) + eps / classes;
                    l -= wc * tc * lsm[c];
                    wtSum += wc * tc;
                }
                sum += l;
                if (!output.IsEmpty)
                    output[i] = F<T>(l);
                double g = up[i];
                for (int c = 0; c < classes; c++)
                {
                    int k = layout.Index(i, c);
                    double wc = options.Weight is null ? 1.0 : D(options.Weight[c]);
                    if (!gradInput.IsEmpty)
                    {
                        double tc = D(target[k]) * (1 - eps) + eps / classes;
                        gradInput[k] = F<T>(g * (wtSum * Math.Exp(lsm[c]) - wc * tc));
                    }
                    if (!gradTarget.IsEmpty)
                        gradTarget[k] = F<T>(-g * wc * lsm[c] * (1 - eps));
                }
            }
            return Reduce<T>(options.Reduction, sum, samples);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(lsm);
        }
    }

    private static double CheckSmoothing(double eps)
    {
        if (!(eps >= 0 && eps <= 1))
            throw new ArgumentOutOfRangeException("options", eps, $"label_smoothing must be between 0.0 and 1.0: options.LabelSmoothing = {Num(eps)}.");
        return eps;
    }

    /// <summary>Writes log_softmax of sample <paramref name="sample"/> (over the class dim) into lsm[0..C).</summary>
    private static void LogSoftmax<T>(ReadOnlySpan<T> input, ClassLayout layout, int sample, double[] lsm) where T : struct, IFloatingPointIeee754<T>
    {
        double max = double.NegativeInfinity;
        for (int c = 0; c < layout.C; c++)
        {
            double v = D(input[layout.Index(sample, c)]);
            lsm[c] = v;
            max = Math.Max(max, v);
        }
        double s = 0;
        if (!double.IsInfinity(max))
            for (int c = 0; c < layout.C; c++)
                s += Math.Exp(lsm[c] - max);
        // (x - max) - log s, not x - (max + log s): with huge logits max + log s rounds to max (5e37 + log 2 = 5e37).
        double logS = double.IsInfinity(max) ? 0 : Math.Log(s);
        for (int c = 0; c < layout.C; c++)
            lsm[c] = lsm[c] - max - logS;
    }
}
