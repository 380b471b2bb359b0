using System;
using System.Runtime.CompilerServices;
using System.Numerics;
using static DslModels.Losses.LossCore;

namespace DslModels.Losses;

/// <summary>Options of <see cref="PoissonNLLLoss"/> (<c>nn.PoissonNLLLoss(log_input=True, full=False, eps=1e-8, reduction='mean')</c>).</summary>
public sealed record PoissonNLLLossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static PoissonNLLLossOptions Default { get; } = new();

    /// <summary><c>log_input</c> (default true): the input is log(rate), l = exp(x) - y·x; false: the input is the rate, l = x - y·log(x + eps).</summary>
    public bool LogInput { get; init; } = true;

    /// <summary><c>full</c> (default false): add the Stirling term y·log(y) - y + 0.5·log(2πy) where y &gt; 1.</summary>
    public bool Full { get; init; }

    /// <summary><c>eps</c> (default 1e-8), used only when <see cref="LogInput"/> is false.</summary>
    public double Eps { get; init; } = 1e-8;
}

/// <summary>
/// <c>nn.PoissonNLLLoss</c> / <c>F.poisson_nll_loss</c>. Gradients w.r.t. input and target; like PyTorch, with
/// <c>full</c> the target gradient is NaN where y ≤ 0. Float data: vectorized in double (LaneLoss, PoissonNllLogInputTerm,
/// PoissonNllRateTerm).
/// </summary>
public static class PoissonNLLLoss
{
    /// <summary>Input and target are flat tensors of the same shape; conventions as <see cref="L1Loss.Forward{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, PoissonNLLLossOptions? options = null,
        Span<T> output = default, Span<T> gradInput = default, Span<T> gradTarget = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= PoissonNLLLossOptions.Default;
        Pointwise.Check(options.Reduction, input, target, output, gradInput, gradTarget, gradOutput);
        if (!options.LogInput && (!(options.Eps >= 0) || double.IsInfinity(options.Eps)))
            throw new ArgumentOutOfRangeException(nameof(options), options.Eps, $"options.Eps must be finite and >= 0; got {Num(options.Eps)}.");
        int n = input.Length;
        var up = Upstream<T>.For(options.Reduction, gradOutput, n);
        if (typeof(T) == typeof(float))
        {
            // Float data: vectorized, in double, rounded once.
            double total = options.LogInput
                ? LaneLoss.Run(new PoissonNllLogInputTerm(options.Full), Floats(input), Floats(target), default, default,
                    Floats(output), Floats(gradInput), Floats(gradTarget), up.Scalar, up.IsUniform ? default : Floats(up.Values))
                : LaneLoss.Run(new PoissonNllRateTerm(options.Eps, options.Full), Floats(input), Floats(target), default, default,
                    Floats(output), Floats(gradInput), Floats(gradTarget), up.Scalar, up.IsUniform ? default : Floats(up.Values));
            return Reduce<T>(options.Reduction, total, n);
        }
        double eps = options.Eps, sum = 0;
        for (int i = 0; i < n; i++)
        {
            double x = D(input[i]), y = D(target[i]);
            double l, dx, dy;
            if (options.LogInput)
            {
                double ex = Math.Exp(x);
                l = ex - y * x;
                dx = ex - y;
                dy = -x;
            }
            else
            {
                double lx = Math.Log(x + eps);
                l = x - y * lx;
                dx = 1 - y / (x + eps);
                dy = -lx;
            }
            if (options.Full && y > 1)
            {
                l += y * Math.Log(y) - y + 0.5 * Math.Log(2 * Math.PI * y);
                dy += Math.Log(y) + 0.5 / y;
            }
            else if (options.Full && !(y > 0))
            {
                // PyTorch masks the Stirling term where y <= 1 after computing it, so its backward multiplies the
                // masked zero by log(y) + 0.5/y, which is NaN for y <= 0: the target gradient is NaN there.
                dy = double.NaN;
            }
            sum += l;
            if (!output.IsEmpty)
                output[i] = F<T>(l);
            if (!gradInput.IsEmpty)
                gradInput[i] = F<T>(dx * up[i]);
            if (!gradTarget.IsEmpty)
                gradTarget[i] = F<T>(dy * up[i]);
        }
        return Reduce<T>(options.Reduction, sum, n);
    }
}

/// <summary>Options of <see cref="GaussianNLLLoss"/> (<c>nn.GaussianNLLLoss(full=False, eps=1e-6, reduction='mean')</c>).</summary>
public sealed record GaussianNLLLossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static GaussianNLLLossOptions Default { get; } = new();

    /// <summary><c>full</c> (default false): add the constant 0.5·log(2π).</summary>
    public bool Full { get; init; }

    /// <summary><c>eps</c> (default 1e-6): var is clamped to at least eps (the clamp is invisible to the gradient, as in PyTorch).</summary>
    public double Eps { get; init; } = 1e-6;
}

/// <summary>
/// <c>nn.GaussianNLLLoss</c> / <c>F.gaussian_nll_loss(input, target, var)</c>:
/// <c>l = 0.5 (log v + (x - y)²/v)</c> (+ 0.5 log 2π if full), v = max(var, eps). Float data: vectorized in double (LaneLoss,
/// GaussianNllTerm; with one variance per row, row by row for rows of 24 or more, and GaussianNllVarianceTerm for its gradient
/// summed over the row in double).
/// </summary>
public static class GaussianNLLLoss
{
    /// <summary>
    /// Input and target have shape <paramref name="shape"/>; <paramref name="varShape"/> is that shape (one variance
    /// per element), or the shape without its last dim, or with its last dim 1 (one variance per row, broadcast along
    /// the last dim; its gradient sums over the row). Throws for negative variances.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, ReadOnlySpan<T> var,
        ReadOnlySpan<int> shape, ReadOnlySpan<int> varShape, GaussianNLLLossOptions? options = null,
        Span<T> output = default, Span<T> gradInput = default, Span<T> gradTarget = default, Span<T> gradVar = default,
        ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= GaussianNLLLossOptions.Default;
        int n = Numel(shape, nameof(shape));
        Length(nameof(input), input.Length, n, $"shape {Shape(shape)}");
        Pointwise.Check(options.Reduction, input, target, output, gradInput, gradTarget, gradOutput);
        int nv = Numel(varShape, nameof(varShape));
        Length(nameof(var), var.Length, nv, $"varShape {Shape(varShape)}");
        bool perRow;
        if (varShape.SequenceEqual(shape))
            perRow = false;
        else if (shape.Length >= 1 && (varShape.SequenceEqual(shape[..^1])
                 || (varShape.Length == shape.Length && varShape[^1] == 1 && varShape[..^1].SequenceEqual(shape[..^1]))))
            perRow = true;
        else
            throw new ArgumentException($"var is of incorrect size: varShape {Shape(varShape)} must be the input shape {Shape(shape)}, the input shape without its last dim, or with its last dim 1.", nameof(var));
        OptionalLength(nameof(gradVar), gradVar.Length, nv, "like var");
        double eps = options.Eps;
        if (!(eps >= 0) || double.IsInfinity(eps))
            throw new ArgumentOutOfRangeException(nameof(options), eps, $"options.Eps must be finite and >= 0; got {Num(eps)}.");
        // Floats that pass are checked vectorized; otherwise this loop finds the first negative variance.
        bool nonNegative = typeof(T) == typeof(float) && !LaneLoss.AnyNegative(Floats(var));
        for (int i = 0; i < var.Length && !nonNegative; i++)
            if (D(var[i]) < 0)
                throw new ArgumentOutOfRangeException(nameof(var), D(var[i]), $"var has negative entry/entries: var[{i}] = {Num(D(var[i]))}.");

        int width = perRow ? shape[^1] : 1;
        var up = Upstream<T>.For(options.Reduction, gradOutput, n);
        double constant = options.Full ? 0.5 * Math.Log(2 * Math.PI) : 0;
        if (typeof(T) == typeof(float) && (!perRow || width >= MinLaneRow))
        {
            // Float data: vectorized, in double, rounded once. Rows shorter than MinLaneRow: the scalar loop.
            double total = Lanes(Floats(input), Floats(target), Floats(var), perRow ? width : 0, eps, constant, Floats(output),
                Floats(gradInput), Floats(gradTarget), Floats(gradVar), up.Scalar, up.IsUniform ? default : Floats(up.Values));
            return Reduce<T>(options.Reduction, total, n);
        }
        if (!gradVar.IsEmpty)
            gradVar.Clear();
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            int vi = perRow ? i / width : i;
            double x = D(input[i]), y = D(target[i]), v = Math.Max(D(var[vi]), eps), d = x - y;
            double l = 0.5 * (Math.Log(v) + d * d / v) + constant;
            sum += l;
            if (!output.IsEmpty)
                output[i] = F<T>(l);
            double g = up[i];
            if (!gradInput.IsEmpty)
                gradInput[i] = F<T>(g * d / v);
            if (!gradTarget.IsEmpty)
                gradTarget[i] = F<T>(-g * d / v);
            if (!gradVar.IsEmpty)
                gradVar[vi] += F<T>(g * 0.5 * (1 / v - d * d / (v * v)));
        }
        return Reduce<T>(options.Reduction, sum, n);
    }

    /// <summary>
    /// The shortest rows (one variance each) run on lanes: shorter ones cost less in the scalar loop (which sums a variance's
    /// gradient over the row in T) than two runs per row.
    /// </summary>
    internal const int MinLaneRow = 24;

    /// <summary>
    /// Float data on lanes (a method of its own, which keeps the scalar loop's method small): one variance per element
    /// (<paramref name="width"/> 0), or per row of <paramref name="width"/> elements. The term's second gradient is the
    /// variance's; the target's is minus the input's (negating is exact, as -g·d/v is). Returns Σ l.
    /// </summary>
    private static double Lanes(ReadOnlySpan<float> input, ReadOnlySpan<float> target, ReadOnlySpan<float> var, int width, double eps,
        double constant, Span<float> output, Span<float> gradInput, Span<float> gradTarget, Span<float> gradVar, double scale, ReadOnlySpan<float> upstream)
    {
        Span<float> gx = gradInput.IsEmpty ? gradTarget : gradInput;
        double total = width == 0
            ? LaneLoss.Run(new GaussianNllTerm(eps, constant), input, target, var, default, output, gx, gradVar, scale, upstream)
            : PerRow(input, target, var, width, eps, constant, output, gx, gradVar, scale, upstream);
        if (!gradTarget.IsEmpty)
            LaneLoss.Negate(gx, gradTarget);
        return total;
    }

    /// <summary>
    /// One variance per row of <paramref name="width"/> elements: per row, one pass for the loss and the input's gradient with
    /// the row's variance as a parameter, and one for the variance's gradient, Σ g·½ (1/v - d²/v²) over the row (summed in
    /// double, rounded once). Returns Σ l.
    /// </summary>
    private static double PerRow(ReadOnlySpan<float> input, ReadOnlySpan<float> target, ReadOnlySpan<float> var, int width, double eps,
        double constant, Span<float> output, Span<float> gradInput, Span<float> gradVar, double scale, ReadOnlySpan<float> upstream)
    {
        double total = 0;
        for (int r = 0, start = 0; r < var.Length; r++, start += width)
        {
            ReadOnlySpan<float> x = input.Slice(start, width), y = target.Slice(start, width), v = var.Slice(r, 1);
            ReadOnlySpan<float> g = upstream.IsEmpty ? default : upstream.Slice(start, width);
            total += LaneLoss.Run(new GaussianNllTerm(eps, constant), x, y, v, default, output.IsEmpty ? default : output.Slice(start, width),
                gradInput.IsEmpty ? default : gradInput.Slice(start, width), default, scale, g);
            if (!gradVar.IsEmpty)
                gradVar[r] = (float)(LaneLoss.Run(new GaussianNllVarianceTerm(eps), x, y, v, g, default, default, default, 1, default) * (g.IsEmpty ? scale : 1));
        }
        return total;
    }
}

/// <summary>Options of <see cref="KLDivLoss"/> (<c>nn.KLDivLoss(reduction='mean', log_target=False)</c>).</summary>
public sealed record KLDivLossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static KLDivLossOptions Default { get; } = new();

    /// <summary><c>reduction</c>: Mean (PyTorch's default, divides by the number of elements), Sum, None or BatchMean.</summary>
    public KLDivReduction Reduction { get; init; } = KLDivReduction.Mean;

    /// <summary><c>log_target</c> (default false): the target holds log-probabilities.</summary>
    public bool LogTarget { get; init; }
}

/// <summary>
/// <c>nn.KLDivLoss</c> / <c>F.kl_div(input, target)</c>, input = log-probabilities:
/// <c>l = xlogy(y, y) - y·x</c> (0 where y = 0, NaN where y &lt; 0) or, with log_target, <c>l = exp(y)·(y - x)</c>.
/// Float data: vectorized in double (LaneLoss, KLDivTerm, KLDivLogTargetTerm).
/// </summary>
public static class KLDivLoss
{
    /// <summary>
    /// Input and target have shape <paramref name="shape"/> (BatchMean divides by <c>shape[0]</c>, or by 1 for a 0-dim
    /// input). Other conventions as <see cref="L1Loss.Forward{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, ReadOnlySpan<int> shape, KLDivLossOptions? options = null,
        Span<T> output = default, Span<T> gradInput = default, Span<T> gradTarget = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= KLDivLossOptions.Default;
        if (options.Reduction is not (KLDivReduction.Mean or KLDivReduction.Sum or KLDivReduction.None or KLDivReduction.BatchMean))
            throw new ArgumentOutOfRangeException(nameof(options), options.Reduction, $"options.Reduction must be Mean, Sum, None or BatchMean; got {(int)options.Reduction}.");
        int n = Numel(shape, nameof(shape));
        Length(nameof(input), input.Length, n, $"shape {Shape(shape)}");
        Reduction reduction = options.Reduction switch
        {
            KLDivReduction.None => Reduction.None,
            KLDivReduction.Sum => Reduction.Sum,
            _ => Reduction.Mean,
        };
        Pointwise.Check(reduction, input, target, output, gradInput, gradTarget, gradOutput);
        double denominator = options.Reduction == KLDivReduction.BatchMean ? (shape.Length == 0 ? 1 : shape[0]) : n;
        var up = Upstream<T>.For(reduction, gradOutput, denominator);
        if (typeof(T) == typeof(float))
        {
            // Float data: vectorized, in double, rounded once.
            double total = options.LogTarget
                ? LaneLoss.Run(new KLDivLogTargetTerm(), Floats(input), Floats(target), default, default,
                    Floats(output), Floats(gradInput), Floats(gradTarget), up.Scalar, up.IsUniform ? default : Floats(up.Values))
                : LaneLoss.Run(new KLDivTerm(), Floats(input), Floats(target), default, default,
                    Floats(output), Floats(gradInput), Floats(gradTarget), up.Scalar, up.IsUniform ? default : Floats(up.Values));
            return Reduce<T>(reduction, total, denominator);
        }
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double x = D(input[i]), y = D(target[i]), l, dx, dy;
            if (options.LogTarget)
            {
                double ey = Math.Exp(y);
                l = ey * (y - x);
                dx = -ey;
                dy = ey * (y - x + 1);
            }
            else
            {
                l = (y == 0 ? 0 : y * Math.Log(y)) - y * x;
                dx = -y;
                dy = Math.Log(y) + 1 - x;
            }
            sum += l;
            if (!output.IsEmpty)
                output[i] = F<T>(l);
            if (!gradInput.IsEmpty)
                gradInput[i] = F<T>(dx * up[i]);
            if (!gradTarget.IsEmpty)
                gradTarget[i] = F<T>(dy * up[i]);
        }
        return Reduce<T>(reduction, sum, denominator);
    }
}

/// <summary>Options of <see cref="BCELoss"/> (<c>nn.BCELoss(weight=None, reduction='mean')</c>).</summary>
public sealed record BCELossOptions<T> : LossOptions where T : struct, IFloatingPointIeee754<T>
{
    /// <summary>PyTorch's defaults.</summary>
    public static BCELossOptions<T> Default { get; } = new();

    /// <summary><c>weight</c> (default none): a rescaling weight broadcast to the input's shape.</summary>
    public T[]? Weight { get; init; }

    /// <summary>The shape of <see cref="Weight"/>; null = 1-D (broadcast along the last dimension).</summary>
    public int[]? WeightShape { get; init; }
}

/// <summary>
/// <c>nn.BCELoss</c> / <c>F.binary_cross_entropy</c>, input = probabilities:
/// <c>l = -w (y·max(log x, -100) + (1 - y)·max(log(1 - x), -100))</c>; d/dx = w (x - y) / max(x (1 - x), 1e-12),
/// d/dy = -w·logit(x). Float data with no weight or a weight along the last dimension: vectorized in double (LaneLoss, BceTerm).
/// </summary>
public static class BCELoss
{
    /// <summary>
    /// Input and target have shape <paramref name="shape"/>; input and target values must lie in [0, 1]
    /// (PyTorch checks only the input). Other conventions as <see cref="L1Loss.Forward{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, ReadOnlySpan<int> shape, BCELossOptions<T>? options = null,
        Span<T> output = default, Span<T> gradInput = default, Span<T> gradTarget = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= BCELossOptions<T>.Default;
        int n = Numel(shape, nameof(shape));
        Length(nameof(input), input.Length, n, $"shape {Shape(shape)}");
        Pointwise.Check(options.Reduction, input, target, output, gradInput, gradTarget, gradOutput);
        T[]? weight = options.Weight;
        Broadcast wb = Broadcast.ForWeight("options.Weight", weight, options.WeightShape, shape);
        // Floats that pass are checked vectorized; otherwise this loop finds the first value out of range.
        bool inRange = typeof(T) == typeof(float) && LaneLoss.InUnitInterval(Floats(input)) && LaneLoss.InUnitInterval(Floats(target));
        for (int i = 0; i < n && !inRange; i++)
        {
            double x = D(input[i]);
            if (!(x >= 0 && x <= 1))
                throw new ArgumentOutOfRangeException(nameof(input), x, $"all elements of input should be between 0 and 1: input[{i}] = {Num(x)}.");
            double y = D(target[i]);
            if (!(y >= 0 && y <= 1))
                throw new ArgumentOutOfRangeException(nameof(target), y, $"all elements of target should be between 0 and 1: target[{i}] = {Num(y)}.");
        }
        var up = Upstream<T>.For(options.Reduction, gradOutput, n);
        if (typeof(T) == typeof(float) && LaneLoss.Period(weight, options.WeightShape, shape) >= 0)
        {
            // Float data, a weight that repeats along the last dimension (or none): vectorized, in double, rounded once.
            double total = LaneLoss.Run(new BceTerm(), Floats(input), Floats(target), Floats<T>(weight), default,
                Floats(output), Floats(gradInput), Floats(gradTarget), up.Scalar, up.IsUniform ? default : Floats(up.Values));
            return Reduce<T>(options.Reduction, total, n);
        }
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double x = D(input[i]), y = D(target[i]);
            double wi = weight is null ? 1.0 : D(weight[wb.Map(i)]);
            double lx = Math.Max(Math.Log(x), -100), l1x = Math.Max(Math.Log(1 - x), -100);
            double l = -wi * (y * lx + (1 - y) * l1x);
            sum += l;
            if (!output.IsEmpty)
                output[i] = F<T>(l);
            if (!gradInput.IsEmpty)
                gradInput[i] = F<T>(up[i] * wi * (x - y) / Math.Max(x * (1 - x), 1e-12));
            if (!gradTarget.IsEmpty)
                gradTarget[i] = F<T>(-up[i] * wi * Math.Log(x / (1 - x)));
        }
        return Reduce<T>(options.Reduction, sum, n);
    }
}

/// <summary>Options of <see cref="BCEWithLogitsLoss"/> (<c>nn.BCEWithLogitsLoss(weight=None, reduction='mean', pos_weight=None)</c>).</summary>
public sealed record BCEWithLogitsLossOptions<T> : LossOptions where T : struct, IFloatingPointIeee754<T>
{
    /// <summary>PyTorch's defaults.</summary>
    public static BCEWithLogitsLossOptions<T> Default { get; } = new();

    /// <summary><c>weight</c> (default none): a rescaling weight broadcast to the input's shape.</summary>
    public T[]? Weight { get; init; }

    /// <summary>The shape of <see cref="Weight"/>; null = 1-D (broadcast along the last dimension).</summary>
    public int[]? WeightShape { get; init; }

    /// <summary><c>pos_weight</c> (default none): weight of the positive term, usually one per class (last dim).</summary>
    public T[]? PosWeight { get; init; }

    /// <summary>The shape of <see cref="PosWeight"/>; null = 1-D (broadcast along the last dimension).</summary>
    public int[]? PosWeightShape { get; init; }
}

/// <summary>
/// <c>nn.BCEWithLogitsLoss</c> / <c>F.binary_cross_entropy_with_logits</c> in PyTorch's stable form:
/// <c>l = w [(1 - y) x + (1 + (p - 1) y)·softplus(-x)]</c>; d/dx = w [(1 + (p - 1) y) σ(x) - p y],
/// d/dy = w [-x + (p - 1) softplus(-x)]. Float data with no weights or weights along the last dimension: vectorized in double
/// (LaneLoss, BceWithLogitsTerm); double data: SIMD without weights.
/// </summary>
public static class BCEWithLogitsLoss
{
    /// <summary>Input (logits) and target have shape <paramref name="shape"/>. Other conventions as <see cref="L1Loss.Forward{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, ReadOnlySpan<int> shape, BCEWithLogitsLossOptions<T>? options = null,
        Span<T> output = default, Span<T> gradInput = default, Span<T> gradTarget = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        options ??= BCEWithLogitsLossOptions<T>.Default;
        int n = Numel(shape, nameof(shape));
        Length(nameof(input), input.Length, n, $"shape {Shape(shape)}");
        if (typeof(T) != typeof(float) && options.Weight is null && options.PosWeight is null)
            return Pointwise.Run(new BceWithLogitsOp<T>(), options.Reduction, input, target, output, gradInput, gradTarget, gradOutput);

        Pointwise.Check(options.Reduction, input, target, output, gradInput, gradTarget, gradOutput);
        T[]? weight = options.Weight, posWeight = options.PosWeight;
        Broadcast wb = Broadcast.ForWeight("options.Weight", weight, options.WeightShape, shape);
        Broadcast pb = Broadcast.ForWeight("options.PosWeight", posWeight, options.PosWeightShape, shape);
        var up = Upstream<T>.For(options.Reduction, gradOutput, n);
        int weightPeriod = LaneLoss.Period(weight, options.WeightShape, shape), posPeriod = LaneLoss.Period(posWeight, options.PosWeightShape, shape);
        if (typeof(T) == typeof(float) && weightPeriod >= 0 && posPeriod >= 0)
        {
            // Float data, weights that repeat along the last dimension (or none): vectorized, in double, rounded once.
            double total = LaneLoss.Run(new BceWithLogitsTerm(), Floats(input), Floats(target), Floats<T>(weight), Floats<T>(posWeight),
                Floats(output), Floats(gradInput), Floats(gradTarget), up.Scalar, up.IsUniform ? default : Floats(up.Values));
            return Reduce<T>(options.Reduction, total, n);
        }
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double x = D(input[i]), y = D(target[i]);
            double wi = weight is null ? 1.0 : D(weight[wb.Map(i)]);
            double pi = posWeight is null ? 1.0 : D(posWeight[pb.Map(i)]);
            double m = Math.Max(-x, 0);
            double sp = Math.Log(Math.Exp(-m) + Math.Exp(-x - m)) + m;
            double lw = 1 + (pi - 1) * y;
            double l = wi * ((1 - y) * x + lw * sp);
            sum += l;
            if (!output.IsEmpty)
                output[i] = F<T>(l);
            if (!gradInput.IsEmpty)
                gradInput[i] = F<T>(up[i] * wi * (lw * Math.Exp(-sp) - pi * y));
            if (!gradTarget.IsEmpty)
                gradTarget[i] = F<T>(up[i] * wi * (-x + (pi - 1) * sp));
        }
        return Reduce<T>(options.Reduction, sum, n);
    }
}
