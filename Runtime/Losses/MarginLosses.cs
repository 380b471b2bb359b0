using System;
using System.Runtime.CompilerServices;
using System.Buffers;
using System.Numerics;
using static DslModels.Losses.LossCore;

namespace DslModels.Losses;

/// <summary>Options of <see cref="MarginRankingLoss"/> (<c>nn.MarginRankingLoss(margin=0.0, reduction='mean')</c>).</summary>
public sealed record MarginRankingLossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static MarginRankingLossOptions Default { get; } = new();

    /// <summary><c>margin</c> (default 0).</summary>
    public double Margin { get; init; }
}

/// <summary>
/// <c>nn.MarginRankingLoss</c> / <c>F.margin_ranking_loss(input1, input2, target)</c>:
/// <c>l = max(0, -y·(x1 - x2) + margin)</c>; where the argument is ≥ 0: d/dx1 = -y, d/dx2 = y, d/dy = -(x1 - x2).
/// </summary>
public static class MarginRankingLoss
{
    /// <summary>
    /// The three tensors must have the same number of dimensions (as in PyTorch) and are broadcast together
    /// (NumPy rules); the unreduced loss has the broadcast shape, and the gradient of a broadcast operand is summed
    /// over the broadcast dims. Other conventions as <see cref="L1Loss.Forward{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input1, ReadOnlySpan<int> shape1, ReadOnlySpan<T> input2, ReadOnlySpan<int> shape2,
        ReadOnlySpan<T> target, ReadOnlySpan<int> targetShape, MarginRankingLossOptions? options = null,
        Span<T> output = default, Span<T> gradInput1 = default, Span<T> gradInput2 = default, Span<T> gradTarget = default,
        ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= MarginRankingLossOptions.Default;
        if (shape1.Length != shape2.Length || shape1.Length != targetShape.Length)
            throw new ArgumentException($"margin_ranking_loss: all input tensors should have the same number of dimensions but got shapes input1: {Shape(shape1)}, input2: {Shape(shape2)}, target: {Shape(targetShape)}.", nameof(shape2));
        int rank = shape1.Length;
        if (rank > Broadcast.MaxRank)
            throw new ArgumentException($"margin_ranking_loss: broadcasting supports at most {Broadcast.MaxRank} dimensions; got shapes input1: {Shape(shape1)}, input2: {Shape(shape2)}, target: {Shape(targetShape)}.", nameof(shape1));
        Span<int> shape = stackalloc int[Broadcast.MaxRank];
        shape = shape[..rank];
        for (int d = 0; d < rank; d++)
        {
            int a = shape1[d], b = shape2[d], c = targetShape[d];
            int m = Math.Max(a, Math.Max(b, c));
            if ((a != m && a != 1) || (b != m && b != 1) || (c != m && c != 1))
                throw new ArgumentException($"margin_ranking_loss: shapes input1: {Shape(shape1)}, input2: {Shape(shape2)}, target: {Shape(targetShape)} cannot be broadcast together (dimension {d}).", nameof(shape2));
            shape[d] = a == 0 || b == 0 || c == 0 ? 0 : m;
        }
        Broadcast b1 = Broadcast.Create(nameof(input1), input1.Length, shape1, shape);
        Broadcast b2 = Broadcast.Create(nameof(input2), input2.Length, shape2, shape);
        Broadcast bt = Broadcast.Create(nameof(target), target.Length, targetShape, shape);
        int n = Numel(shape, "shape");
        Outputs(options.Reduction, n, output.Length, gradOutput.Length);
        OptionalLength(nameof(gradInput1), gradInput1.Length, input1.Length, "like input1");
        OptionalLength(nameof(gradInput2), gradInput2.Length, input2.Length, "like input2");
        OptionalLength(nameof(gradTarget), gradTarget.Length, target.Length, "like target");

        var up = Upstream<T>.For(options.Reduction, gradOutput, n);
        gradInput1.Clear();
        gradInput2.Clear();
        gradTarget.Clear();
        double margin = options.Margin, sum = 0;
        for (int i = 0; i < n; i++)
        {
            int i1 = b1.Map(i), i2 = b2.Map(i), it = bt.Map(i);
            double x1 = D(input1[i1]), x2 = D(input2[i2]), y = D(target[it]);
            double z = -y * (x1 - x2) + margin;
            double l = Math.Max(0, z);
            sum += l;
            if (!output.IsEmpty)
                output[i] = F<T>(l);
            if (z >= 0)
            {
                double g = up[i];
                if (!gradInput1.IsEmpty)
                    gradInput1[i1] += F<T>(-y * g);
                if (!gradInput2.IsEmpty)
                    gradInput2[i2] += F<T>(y * g);
                if (!gradTarget.IsEmpty)
                    gradTarget[it] += F<T>(-(x1 - x2) * g);
            }
        }
        return Reduce<T>(options.Reduction, sum, n);
    }
}

/// <summary>Options of <see cref="HingeEmbeddingLoss"/> (<c>nn.HingeEmbeddingLoss(margin=1.0, reduction='mean')</c>).</summary>
public sealed record HingeEmbeddingLossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static HingeEmbeddingLossOptions Default { get; } = new();

    /// <summary><c>margin</c> (default 1).</summary>
    public double Margin { get; init; } = 1.0;
}

/// <summary>
/// <c>nn.HingeEmbeddingLoss</c> / <c>F.hinge_embedding_loss</c>, target ∈ {1, -1}:
/// <c>l = [y ≠ 1]·max(0, margin - x) + [y ≠ -1]·x</c> (both terms for any other target value, as in PyTorch).
/// </summary>
public static class HingeEmbeddingLoss
{
    /// <summary>Input and target are flat tensors of the same shape; the target gets no gradient. Conventions as <see cref="L1Loss.Forward{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, HingeEmbeddingLossOptions? options = null,
        Span<T> output = default, Span<T> gradInput = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= HingeEmbeddingLossOptions.Default;
        Pointwise.Check(options.Reduction, input, target, output, gradInput, default, gradOutput);
        int n = input.Length;
        var up = Upstream<T>.For(options.Reduction, gradOutput, n);
        double margin = options.Margin, sum = 0;
        for (int i = 0; i < n; i++)
        {
            double x = D(input[i]), y = D(target[i]);
            double l = 0, dx = 0;
            if (y != 1)
            {
                l += Math.Max(0, margin - x);
                if (margin - x >= 0)
                    dx -= 1;
            }
            if (y != -1)
            {
                l += x;
                dx += 1;
            }
            sum += l;
            if (!output.IsEmpty)
                output[i] = F<T>(l);
            if (!gradInput.IsEmpty)
                gradInput[i] = F<T>(dx * up[i]);
        }
        return Reduce<T>(options.Reduction, sum, n);
    }
}

/// <summary>Options of <see cref="SoftMarginLoss"/> (<c>nn.SoftMarginLoss(reduction='mean')</c>).</summary>
public sealed record SoftMarginLossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static SoftMarginLossOptions Default { get; } = new();
}

/// <summary>
/// <c>nn.SoftMarginLoss</c> / <c>F.soft_margin_loss</c>: <c>l = log(1 + exp(-y·x))</c>, computed naively as PyTorch does
/// (in double); d/dx = -y·z/(1 + z) with z = exp(-y·x). Float data: vectorized in double (LaneLoss, SoftMarginTerm).
/// </summary>
public static class SoftMarginLoss
{
    /// <summary>Input and target are flat tensors of the same shape; the target gets no gradient. Conventions as <see cref="L1Loss.Forward{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, SoftMarginLossOptions? options = null,
        Span<T> output = default, Span<T> gradInput = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= SoftMarginLossOptions.Default;
        Pointwise.Check(options.Reduction, input, target, output, gradInput, default, gradOutput);
        int n = input.Length;
        var up = Upstream<T>.For(options.Reduction, gradOutput, n);
        if (typeof(T) == typeof(float))
        {
            // Float data: vectorized, in double, rounded once.
            double total = LaneLoss.Run(new SoftMarginTerm(), Floats(input), Floats(target), default, default,
                Floats(output), Floats(gradInput), default, up.Scalar, up.IsUniform ? default : Floats(up.Values));
            return Reduce<T>(options.Reduction, total, n);
        }
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double x = D(input[i]), y = D(target[i]);
            double z = Math.Exp(-y * x);
            double l = Math.Log(1 + z);
            sum += l;
            if (!output.IsEmpty)
                output[i] = F<T>(l);
            if (!gradInput.IsEmpty)
                gradInput[i] = F<T>(-y * z / (1 + z) * up[i]);
        }
        return Reduce<T>(options.Reduction, sum, n);
    }
}

/// <summary>Options of <see cref="MultiLabelSoftMarginLoss"/> (<c>nn.MultiLabelSoftMarginLoss(weight=None, reduction='mean')</c>).</summary>
public sealed record MultiLabelSoftMarginLossOptions<T> : LossOptions where T : struct, IFloatingPointIeee754<T>
{
    /// <summary>PyTorch's defaults.</summary>
    public static MultiLabelSoftMarginLossOptions<T> Default { get; } = new();

    /// <summary><c>weight</c> (default none): broadcast to the input's shape, normally one weight per class (length C).</summary>
    public T[]? Weight { get; init; }

    /// <summary>The shape of <see cref="Weight"/>; null = 1-D (broadcast along the last dimension).</summary>
    public int[]? WeightShape { get; init; }
}

/// <summary>
/// <c>nn.MultiLabelSoftMarginLoss</c> / <c>F.multilabel_soft_margin_loss</c>: per sample
/// <c>l_n = (1/C)·Σ_c w_c·(y·softplus(-x) + (1 - y)·softplus(x))</c>; d/dx = w(σ(x) - y)/C, d/dy = -w·x/C. Float data with
/// no weight or a weight along the classes: vectorized in double (LaneLoss, MultiLabelSoftMarginTerm).
/// </summary>
public static class MultiLabelSoftMarginLoss
{
    /// <summary>
    /// Input and target have shape <paramref name="shape"/>: [C] or [N, C] (any rank ≥ 1; the last dim holds the classes).
    /// The unreduced loss has one value per row. Other conventions as <see cref="L1Loss.Forward{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, ReadOnlySpan<int> shape,
        MultiLabelSoftMarginLossOptions<T>? options = null, Span<T> output = default, Span<T> gradInput = default,
        Span<T> gradTarget = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= MultiLabelSoftMarginLossOptions<T>.Default;
        if (shape.Length == 0)
            throw new ArgumentException("shape must have at least one dimension (the classes); got [].", nameof(shape));
        int n = Numel(shape, nameof(shape));
        Length(nameof(input), input.Length, n, $"shape {Shape(shape)}");
        Length(nameof(target), target.Length, n, $"the input's shape {Shape(shape)}");
        int classes = shape[^1];
        int rows = classes == 0 ? n : n / classes;
        if (classes == 0)
            rows = Numel(shape[..^1], nameof(shape));
        Outputs(options.Reduction, rows, output.Length, gradOutput.Length);
        OptionalLength(nameof(gradInput), gradInput.Length, n, "like input");
        OptionalLength(nameof(gradTarget), gradTarget.Length, n, "like target");
        T[]? weight = options.Weight;
        Broadcast wb = Broadcast.ForWeight("options.Weight", weight, options.WeightShape, shape);

        var up = Upstream<T>.For(options.Reduction, gradOutput, rows);
        int weightPeriod = LaneLoss.Period(weight, options.WeightShape, shape);
        if (typeof(T) == typeof(float) && n > 0 && weightPeriod >= 0)
            return MultiLabelSoftMarginLanes(input, target, weight, weightPeriod, classes, rows, options.Reduction, output, gradInput, gradTarget, up);
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            double l = 0, g = up[r];
            for (int c = 0; c < classes; c++)
            {
                int i = r * classes + c;
                double x = D(input[i]), y = D(target[i]);
                double wi = weight is null ? 1.0 : D(weight[wb.Map(i)]);
                l += wi * (y * Softplus(-x) + (1 - y) * Softplus(x));
                if (!gradInput.IsEmpty)
                    gradInput[i] = F<T>(g * wi * (1 / (1 + Math.Exp(-x)) - y) / classes);
                if (!gradTarget.IsEmpty)
                    gradTarget[i] = F<T>(-g * wi * x / classes);
            }
            l /= classes;
            sum += l;
            if (!output.IsEmpty)
                output[r] = F<T>(l);
        }
        return Reduce<T>(options.Reduction, sum, rows);
    }

    /// <summary>
    /// Float data (T = float) with a weight that repeats along the classes (or none), vectorized in double: one pass over all
    /// the data when only the reduced loss and a uniform upstream gradient are needed (the sum of the rows' means is the sum
    /// of all terms over C); else one pass per row.
    /// </summary>
    private static T MultiLabelSoftMarginLanes<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, T[]? weight, int weightPeriod,
        int classes, int rows, Reduction reduction, Span<T> output, Span<T> gradInput, Span<T> gradTarget, Upstream<T> up)
        where T : struct, IFloatingPointIeee754<T>
    {
        ReadOnlySpan<float> x = Floats(input), y = Floats(target), w = Floats<T>(weight);
        Span<float> gx = Floats(gradInput), gy = Floats(gradTarget);
        if (output.IsEmpty && up.IsUniform)
            return Reduce<T>(reduction, LaneLoss.Run(new MultiLabelSoftMarginTerm(), x, y, w, default, default, gx, gy, up.Scalar / classes, default) / classes, rows);
        double sum = 0;
        for (int r = 0, start = 0; r < rows; r++, start += classes)
        {
            double l = LaneLoss.Run(new MultiLabelSoftMarginTerm(), x.Slice(start, classes), y.Slice(start, classes),
                weightPeriod > classes ? w.Slice(start, classes) : w, default, default,
                gx.IsEmpty ? default : gx.Slice(start, classes), gy.IsEmpty ? default : gy.Slice(start, classes), up[r] / classes, default) / classes;
            sum += l;
            if (!output.IsEmpty)
                output[r] = F<T>(l);
        }
        return Reduce<T>(reduction, sum, rows);
    }
}

/// <summary>Options of <see cref="CosineEmbeddingLoss"/> (<c>nn.CosineEmbeddingLoss(margin=0.0, reduction='mean')</c>).</summary>
public sealed record CosineEmbeddingLossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static CosineEmbeddingLossOptions Default { get; } = new();

    /// <summary><c>margin</c> (default 0), meaningful in [-1, 1].</summary>
    public double Margin { get; init; }
}

/// <summary>
/// <c>nn.CosineEmbeddingLoss</c> / <c>F.cosine_embedding_loss(input1, input2, target)</c>, with
/// <c>cos = Σ x1·x2 / sqrt((Σ x1² + 1e-12)(Σ x2² + 1e-12))</c> over the last dim:
/// <c>l = 1 - cos</c> if y = 1, <c>max(0, cos - margin)</c> if y = -1, 0 otherwise. The target gets no gradient.
/// </summary>
public static class CosineEmbeddingLoss
{
    private const double Eps = 1e-12;

    /// <summary>
    /// input1 and input2 have shape <paramref name="shape"/>: [N, D] with target [N], or [D] with a 0-dim target (one value).
    /// The unreduced loss has the target's shape. Other conventions as <see cref="L1Loss.Forward{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input1, ReadOnlySpan<T> input2, ReadOnlySpan<int> shape, ReadOnlySpan<T> target,
        CosineEmbeddingLossOptions? options = null, Span<T> output = default, Span<T> gradInput1 = default, Span<T> gradInput2 = default,
        ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= CosineEmbeddingLossOptions.Default;
        if (shape.Length is not (1 or 2))
            throw new ArgumentException($"shape must be [D] (with a 0-dim target) or [N, D] (with target [N]); got {Shape(shape)}.", nameof(shape));
        int n = Numel(shape, nameof(shape));
        Length(nameof(input1), input1.Length, n, $"shape {Shape(shape)}");
        Length(nameof(input2), input2.Length, n, $"input2 has input1's shape {Shape(shape)}");
        int rows = shape.Length == 1 ? 1 : shape[0], dim = shape[^1];
        Length(nameof(target), target.Length, rows, shape.Length == 1 ? "a 0-dim target" : "one target per row");
        Outputs(options.Reduction, rows, output.Length, gradOutput.Length);
        OptionalLength(nameof(gradInput1), gradInput1.Length, n, "like input1");
        OptionalLength(nameof(gradInput2), gradInput2.Length, n, "like input2");

        var up = Upstream<T>.For(options.Reduction, gradOutput, rows);
        double margin = options.Margin, sum = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> a = input1.Slice(r * dim, dim), b = input2.Slice(r * dim, dim);
            double dot = 0, m1 = Eps, m2 = Eps;
            for (int k = 0; k < dim; k++)
            {
                double u = D(a[k]), v = D(b[k]);
                dot += u * v;
                m1 += u * u;
                m2 += v * v;
            }
            double root = Math.Sqrt(m1 * m2), cos = dot / root;
            double y = D(target[r]), l = 0, sign = 0;
            if (y == 1)
            {
                l = 1 - cos;
                sign = -1;
            }
            else if (y == -1)
            {
                l = Math.Max(0, cos - margin);
                sign = cos - margin >= 0 ? 1 : 0;
            }
            sum += l;
            if (!output.IsEmpty)
                output[r] = F<T>(l);
            double g = sign * up[r];
            for (int k = 0; k < dim; k++)
            {
                double u = D(a[k]), v = D(b[k]);
                if (!gradInput1.IsEmpty)
                    gradInput1[r * dim + k] = F<T>(g * (v / root - cos * u / m1));
                if (!gradInput2.IsEmpty)
                    gradInput2[r * dim + k] = F<T>(g * (u / root - cos * v / m2));
            }
        }
        return Reduce<T>(options.Reduction, sum, rows);
    }
}

/// <summary>Options of <see cref="MultiMarginLoss"/> (<c>nn.MultiMarginLoss(p=1, margin=1.0, weight=None, reduction='mean')</c>).</summary>
public sealed record MultiMarginLossOptions<T> : LossOptions where T : struct, IFloatingPointIeee754<T>
{
    /// <summary>PyTorch's defaults.</summary>
    public static MultiMarginLossOptions<T> Default { get; } = new();

    /// <summary><c>p</c>: 1 (default) or 2.</summary>
    public int P { get; init; } = 1;

    /// <summary><c>margin</c> (default 1).</summary>
    public double Margin { get; init; } = 1.0;

    /// <summary><c>weight</c> (default none): one weight per class (length C), applied as w[y]·z^p.</summary>
    public T[]? Weight { get; init; }
}

/// <summary>
/// <c>nn.MultiMarginLoss</c> / <c>F.multi_margin_loss</c>: per sample with target t,
/// <c>l = (1/C)·Σ_{i≠t} w[t]·max(0, margin - x[t] + x[i])^p</c> (gradient where the hinge is strictly positive).
/// </summary>
public static class MultiMarginLoss
{
    /// <summary>
    /// Input [N, C] with target [N], or [C] with one target (class indices). The unreduced loss has one value per
    /// sample. Other conventions as <see cref="L1Loss.Forward{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<int> target,
        MultiMarginLossOptions<T>? options = null, Span<T> output = default, Span<T> gradInput = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= MultiMarginLossOptions<T>.Default;
        if (options.P is not (1 or 2))
            throw new ArgumentOutOfRangeException(nameof(options), options.P, $"only p == 1 and p == 2 supported: options.P = {options.P}.");
        (int rows, int classes) = MatrixShape(inputShape, input.Length);
        Length(nameof(target), target.Length, rows, "one class index per sample");
        Outputs(options.Reduction, rows, output.Length, gradOutput.Length);
        OptionalLength(nameof(gradInput), gradInput.Length, input.Length, "like input");
        if (options.Weight is not null && options.Weight.Length != classes)
            throw new ArgumentException($"options.Weight must hold one weight per class ({classes}); got {options.Weight.Length}.", nameof(options));
        for (int r = 0; r < rows; r++)
            if ((uint)target[r] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(target), target[r], $"target out of range: target[{r}] = {target[r]} must be in [0, {classes}).");

        var up = Upstream<T>.For(options.Reduction, gradOutput, rows);
        double margin = options.Margin, sum = 0;
        for (int r = 0; r < rows; r++)
        {
            int t = target[r], row = r * classes;
            double w = options.Weight is null ? 1.0 : D(options.Weight[t]);
            double xt = D(input[row + t]), l = 0, gt = 0, g = up[r];
            for (int i = 0; i < classes; i++)
            {
                if (i == t)
                    continue;
                double z = margin - xt + D(input[row + i]);
                double gi = 0;
                if (z > 0)
                {
                    l += w * (options.P == 1 ? z : z * z);
                    gi = w * (options.P == 1 ? 1 : 2 * z) / classes;
                }
                gt -= gi;
                if (!gradInput.IsEmpty)
                    gradInput[row + i] = F<T>(g * gi);
            }
            if (!gradInput.IsEmpty)
                gradInput[row + t] = F<T>(g * gt);
            l /= classes;
            sum += l;
            if (!output.IsEmpty)
                output[r] = F<T>(l);
        }
        return Reduce<T>(options.Reduction, sum, rows);
    }

    /// <summary>[C] → (1, C); [N, C] → (N, C); anything else throws.</summary>
    internal static (int Rows, int Classes) MatrixShape(ReadOnlySpan<int> shape, int length)
    {
        if (shape.Length is not (1 or 2) || shape[^1] == 0)
            throw new ArgumentException($"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {Shape(shape)}.", "inputShape");
        int n = Numel(shape, "inputShape");
        Length("input", length, n, $"inputShape {Shape(shape)}");
        return shape.Length == 1 ? (1, shape[0]) : (shape[0], shape[1]);
    }
}

/// <summary>Options of <see cref="MultiLabelMarginLoss"/> (<c>nn.MultiLabelMarginLoss(reduction='mean')</c>).</summary>
public sealed record MultiLabelMarginLossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static MultiLabelMarginLossOptions Default { get; } = new();
}

/// <summary>
/// <c>nn.MultiLabelMarginLoss</c> / <c>F.multilabel_margin_loss</c>: each target row lists class indices up to the first -1
/// (the label set J); <c>l = (1/C)·Σ_{j∈J} Σ_{i∉J} max(0, 1 - (x[j] - x[i]))</c> (gradient where the hinge is strictly positive).
/// </summary>
public static class MultiLabelMarginLoss
{
    /// <summary>
    /// Input [N, C] or [C]; target (class indices padded with -1) has the input's shape, every value in [-1, C).
    /// The unreduced loss has one value per sample. Other conventions as <see cref="L1Loss.Forward{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<int> inputShape, ReadOnlySpan<int> target,
        MultiLabelMarginLossOptions? options = null, Span<T> output = default, Span<T> gradInput = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= MultiLabelMarginLossOptions.Default;
        (int rows, int classes) = MultiMarginLoss.MatrixShape(inputShape, input.Length);
        if (target.Length != input.Length)
            throw new ArgumentException($"target must have the input's shape {Shape(inputShape)} ({input.Length} values); got {target.Length} values.", nameof(target));
        Outputs(options.Reduction, rows, output.Length, gradOutput.Length);
        OptionalLength(nameof(gradInput), gradInput.Length, input.Length, "like input");
        for (int i = 0; i < target.Length; i++)
            if (target[i] < -1 || target[i] >= classes)
                throw new ArgumentOutOfRangeException(nameof(target), target[i], $"target is out of range: target[{i}] = {target[i]} must be in [-1, {classes}).");

        var up = Upstream<T>.For(options.Reduction, gradOutput, rows);
        bool[]? rented = classes <= 1024 ? null : ArrayPool<bool>.Shared.Rent(classes);
        Span<bool> isTarget = rented is null ? stackalloc bool[classes] : rented.AsSpan(0, classes);
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            int row = r * classes;
            ReadOnlySpan<int> labels = target.Slice(row, classes);
            int count = labels.IndexOf(-1);
            if (count < 0)
                count = classes;
            isTarget.Clear();
            for (int k = 0; k < count; k++)
                isTarget[labels[k]] = true;
            if (!gradInput.IsEmpty)
                gradInput.Slice(row, classes).Clear();
            double l = 0, g = up[r] / classes;
            for (int k = 0; k < count; k++)
            {
                int j = labels[k];
                double xj = D(input[row + j]);
                for (int i = 0; i < classes; i++)
                {
                    if (isTarget[i])
                        continue;
                    double z = 1 - xj + D(input[row + i]);
                    if (z > 0)
                    {
                        l += z;
                        if (!gradInput.IsEmpty)
                        {
                            gradInput[row + j] -= F<T>(g);
                            gradInput[row + i] += F<T>(g);
                        }
                    }
                }
            }
            l /= classes;
            sum += l;
            if (!output.IsEmpty)
                output[r] = F<T>(l);
        }
        if (rented is not null)
            ArrayPool<bool>.Shared.Return(rented);
        return Reduce<T>(options.Reduction, sum, rows);
    }
}
