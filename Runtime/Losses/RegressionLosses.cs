using System;
using System.Runtime.CompilerServices;
using System.Numerics;

namespace DslModels.Losses;

/// <summary>Options of <see cref="L1Loss"/> (<c>nn.L1Loss(reduction='mean')</c>).</summary>
public sealed record L1LossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static L1LossOptions Default { get; } = new();
}

/// <summary>Options of <see cref="MSELoss"/> (<c>nn.MSELoss(reduction='mean')</c>).</summary>
public sealed record MSELossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static MSELossOptions Default { get; } = new();
}

/// <summary>Options of <see cref="SmoothL1Loss"/> (<c>nn.SmoothL1Loss(reduction='mean', beta=1.0)</c>).</summary>
public sealed record SmoothL1LossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static SmoothL1LossOptions Default { get; } = new();

    /// <summary><c>beta</c> (≥ 0, default 1): the quadratic/linear switch point. 0 is exactly L1 (gradient 0 at d = 0, as in PyTorch 2.x).</summary>
    public double Beta { get; init; } = 1.0;
}

/// <summary>Options of <see cref="HuberLoss"/> (<c>nn.HuberLoss(reduction='mean', delta=1.0)</c>).</summary>
public sealed record HuberLossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static HuberLossOptions Default { get; } = new();

    /// <summary><c>delta</c> (&gt; 0, default 1).</summary>
    public double Delta { get; init; } = 1.0;
}

/// <summary>Shared driver of the element-wise losses with equal-length input and target.</summary>
internal static class Pointwise
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Run<T, TOp>(TOp op, Reduction reduction, ReadOnlySpan<T> input, ReadOnlySpan<T> target,
        Span<T> output, Span<T> gradInput, Span<T> gradTarget, ReadOnlySpan<T> gradOutput)
        where T : struct, IFloatingPointIeee754<T>
        where TOp : struct, IPointwiseLoss<T>
    {
        LossCore.EnsureSupported<T>();
        Check(reduction, input, target, output, gradInput, gradTarget, gradOutput);
        int n = input.Length;
        T scale = T.One;
        if (reduction != Reduction.None)
        {
            T g = gradOutput.IsEmpty ? T.One : gradOutput[0];
            scale = reduction == Reduction.Mean ? g / T.CreateTruncating(n) : g;
        }
        double sum = PointwiseKernel.Run(op, input, target, output, gradInput, gradTarget, scale,
            reduction == Reduction.None ? gradOutput : default);
        return LossCore.Reduce<T>(reduction, sum, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Check<T>(Reduction reduction, ReadOnlySpan<T> input, ReadOnlySpan<T> target,
        Span<T> output, Span<T> gradInput, Span<T> gradTarget, ReadOnlySpan<T> gradOutput)
    {
        int n = input.Length;
        if (target.Length != n)
            throw new ArgumentException($"target must have the input's shape: input holds {n} values, target {target.Length} (this library does not broadcast input and target).", nameof(target));
        LossCore.Outputs(reduction, n, output.Length, gradOutput.Length);
        LossCore.OptionalLength(nameof(gradInput), gradInput.Length, n, "like input");
        LossCore.OptionalLength(nameof(gradTarget), gradTarget.Length, n, "like target");
    }
}

/// <summary>
/// <c>nn.L1Loss</c> / <c>F.l1_loss</c>: <c>l = |x - y|</c>; d/dx = sgn(x - y) with sgn(0) = 0, d/dy = -d/dx. SIMD.
/// </summary>
public static class L1Loss
{
    /// <summary>
    /// Input and target are flat tensors of the same shape. Returns the reduced loss (the sum of the element losses
    /// for <see cref="Reduction.None"/>); <paramref name="output"/> receives the unreduced loss; gradients are
    /// d(g·loss)/d(input|target) with <paramref name="gradOutput"/> = g (empty = 1; one value for Mean/Sum, one per element for None).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, L1LossOptions? options = null,
        Span<T> output = default, Span<T> gradInput = default, Span<T> gradTarget = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
        => Pointwise.Run(new L1Op<T>(), (options ?? L1LossOptions.Default).Reduction, input, target, output, gradInput, gradTarget, gradOutput);
}

/// <summary><c>nn.MSELoss</c> / <c>F.mse_loss</c>: <c>l = (x - y)²</c>; d/dx = 2(x - y), d/dy = -d/dx. SIMD.</summary>
public static class MSELoss
{
    /// <summary>Same conventions as <see cref="L1Loss.Forward{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, MSELossOptions? options = null,
        Span<T> output = default, Span<T> gradInput = default, Span<T> gradTarget = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
        => Pointwise.Run(new MseOp<T>(), (options ?? MSELossOptions.Default).Reduction, input, target, output, gradInput, gradTarget, gradOutput);

    internal static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, Reduction reduction, Span<T> gradInput)
        where T : struct, IFloatingPointIeee754<T>
        => Pointwise.Run(new MseOp<T>(), reduction, input, target, default, gradInput, default, default);
}

/// <summary>
/// <c>nn.SmoothL1Loss(beta)</c> / <c>F.smooth_l1_loss</c>: with d = x - y, <c>l = 0.5 d²/beta</c> if |d| &lt; beta else
/// <c>|d| - 0.5 beta</c>; d/dx = clamp(d/beta, -1, 1). beta = 0 is L1 (PyTorch 2.x semantics: gradient 0 at d = 0). SIMD.
/// </summary>
public static class SmoothL1Loss
{
    /// <summary>Same conventions as <see cref="L1Loss.Forward{T}"/>; throws for beta &lt; 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, SmoothL1LossOptions? options = null,
        Span<T> output = default, Span<T> gradInput = default, Span<T> gradTarget = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        options ??= SmoothL1LossOptions.Default;
        double beta = options.Beta;
        if (!(beta >= 0) || double.IsInfinity(beta))
            throw new ArgumentOutOfRangeException(nameof(options), beta, $"options.Beta must be finite and >= 0 (smooth_l1_loss does not support negative values for beta); got {LossCore.Num(beta)}.");
        if (beta == 0)
            return Pointwise.Run(new L1Op<T>(), options.Reduction, input, target, output, gradInput, gradTarget, gradOutput);
        return Pointwise.Run(new HuberOp<T>(T.CreateTruncating(beta), T.One / T.CreateTruncating(beta)), options.Reduction, input, target, output, gradInput, gradTarget, gradOutput);
    }
}

/// <summary>
/// <c>nn.HuberLoss(delta)</c> / <c>F.huber_loss</c>: with d = x - y, <c>l = 0.5 d²</c> if |d| &lt; delta else
/// <c>delta (|d| - 0.5 delta)</c>; d/dx = clamp(d, -delta, delta). SIMD.
/// </summary>
public static class HuberLoss
{
    /// <summary>Same conventions as <see cref="L1Loss.Forward{T}"/>; throws for delta ≤ 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, HuberLossOptions? options = null,
        Span<T> output = default, Span<T> gradInput = default, Span<T> gradTarget = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        options ??= HuberLossOptions.Default;
        double delta = options.Delta;
        if (!(delta > 0) || double.IsInfinity(delta))
            throw new ArgumentOutOfRangeException(nameof(options), delta, $"options.Delta must be finite and > 0 (huber_loss does not support non-positive values for delta); got {LossCore.Num(delta)}.");
        return Pointwise.Run(new HuberOp<T>(T.CreateTruncating(delta), T.One), options.Reduction, input, target, output, gradInput, gradTarget, gradOutput);
    }
}
