using System;
using System.Runtime.CompilerServices;
using System.Buffers;
using System.Numerics;
using static DslModels.Losses.LossCore;

namespace DslModels.Losses;

/// <summary>
/// A differentiable distance between two vectors of the same length, for <see cref="TripletMarginWithDistanceLoss"/>.
/// Returns the distance; when <paramref name="gradX1"/> / <paramref name="gradX2"/> are not empty (they then have the
/// vectors' length) it writes (overwrites) d distance / d x1 and d distance / d x2 into them.
/// </summary>
/// <param name="x1">First vector.</param>
/// <param name="x2">Second vector.</param>
/// <param name="gradX1">Empty, or receives the gradient w.r.t. x1.</param>
/// <param name="gradX2">Empty, or receives the gradient w.r.t. x2.</param>
public delegate T DistanceFunction<T>(ReadOnlySpan<T> x1, ReadOnlySpan<T> x2, Span<T> gradX1, Span<T> gradX2);

/// <summary>
/// <c>F.pairwise_distance(x1, x2, p, eps)</c> of two vectors: <c>‖x1 - x2 + eps‖_p</c> (eps inside the norm, so the
/// distance of equal vectors is eps·D^(1/p)); p = 0 counts non-zeros, p = ∞ is the largest magnitude.
/// </summary>
public static class PairwiseDistance
{
    /// <summary>PyTorch's defaults p = 2, eps = 1e-6 (the default distance of <see cref="TripletMarginWithDistanceLoss"/>).</summary>
    public static DistanceFunction<T> Create<T>(double p = 2, double eps = 1e-6) where T : struct, IFloatingPointIeee754<T>
    {
        CheckP(p);
        return (x1, x2, g1, g2) => Compute(x1, x2, p, eps, g1, g2);
    }

    /// <summary>
    /// The distance; optional gradients: <c>sign(δ)·|δ|^(p-1) / d^(p-1)</c> (0 where d = 0; for p = ∞ shared among the
    /// entries of largest magnitude; 0 for p = 0) w.r.t. x1 and its negation w.r.t. x2.
    /// </summary>
    public static T Compute<T>(ReadOnlySpan<T> x1, ReadOnlySpan<T> x2, double p = 2, double eps = 1e-6,
        Span<T> gradX1 = default, Span<T> gradX2 = default) where T : struct, IFloatingPointIeee754<T>
    {
        EnsureSupported<T>();
        CheckP(p);
        int n = x1.Length;
        Length(nameof(x2), x2.Length, n, "like x1");
        OptionalLength(nameof(gradX1), gradX1.Length, n, "like x1");
        OptionalLength(nameof(gradX2), gradX2.Length, n, "like x2");
        double d = 0;
        int ties = 0;
        for (int k = 0; k < n; k++)
        {
            double a = Math.Abs(D(x1[k]) - D(x2[k]) + eps);
            if (p == 0)
                d += a != 0 ? 1 : 0;
            else if (double.IsPositiveInfinity(p))
            {
                if (a > d)
                {
                    d = a;
                    ties = 1;
                }
                else if (a == d)
                    ties++;
            }
            else if (p == 1)
                d += a;
            else if (p == 2)
                d += a * a;
            else
                d += Math.Pow(a, p);
        }
        if (p == 2)
            d = Math.Sqrt(d);
        else if (p != 0 && p != 1 && !double.IsPositiveInfinity(p))
            d = Math.Pow(d, 1 / p);
        if (gradX1.IsEmpty && gradX2.IsEmpty)
            return F<T>(d);
        for (int k = 0; k < n; k++)
        {
            double delta = D(x1[k]) - D(x2[k]) + eps, g;
            if (p == 0 || d == 0 || delta == 0)
                g = 0;
            else if (double.IsPositiveInfinity(p))
                g = Math.Abs(delta) == d ? Math.Sign(delta) / (double)ties : 0;
            else if (p == 1)
                g = Math.Sign(delta);
            else if (p == 2)
                g = delta / d;
            else
                g = Math.Sign(delta) * Math.Pow(Math.Abs(delta) / d, p - 1);
            if (!gradX1.IsEmpty)
                gradX1[k] = F<T>(g);
            if (!gradX2.IsEmpty)
                gradX2[k] = F<T>(-g);
        }
        return F<T>(d);
    }

    private static void CheckP(double p)
    {
        if (!(p >= 0))
            throw new ArgumentOutOfRangeException(nameof(p), p, $"p must be >= 0 (or +infinity); got {Num(p)}.");
    }
}

/// <summary>Options of <see cref="TripletMarginLoss"/> (<c>nn.TripletMarginLoss(margin=1.0, p=2.0, eps=1e-6, swap=False, reduction='mean')</c>).</summary>
public sealed record TripletMarginLossOptions : LossOptions
{
    /// <summary>PyTorch's defaults.</summary>
    public static TripletMarginLossOptions Default { get; } = new();

    /// <summary><c>margin</c> (default 1).</summary>
    public double Margin { get; init; } = 1.0;

    /// <summary><c>p</c>: the norm degree of the pairwise distance (default 2).</summary>
    public double P { get; init; } = 2.0;

    /// <summary><c>eps</c> (default 1e-6), added inside the norm.</summary>
    public double Eps { get; init; } = 1e-6;

    /// <summary><c>swap</c> (default false): use min(d(a, n), d(p, n)) as the negative distance.</summary>
    public bool Swap { get; init; }
}

/// <summary>
/// <c>nn.TripletMarginLoss</c> / <c>F.triplet_margin_loss(anchor, positive, negative)</c>:
/// <c>l = max(0, margin + d(a, p) - d(a, n))</c> with d = <see cref="PairwiseDistance"/> over the last dim.
/// </summary>
public static class TripletMarginLoss
{
    /// <summary>
    /// anchor, positive and negative have the same shape (rank ≥ 1, e.g. [N, D] or [D]); the distance is over the last
    /// dim, so the unreduced loss has shape[..^1]. The hinge passes gradient where its argument is ≥ 0; with swap a
    /// tie of the two negative distances splits the gradient in halves. Other conventions as <see cref="L1Loss.Forward{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> anchor, ReadOnlySpan<int> anchorShape, ReadOnlySpan<T> positive, ReadOnlySpan<int> positiveShape,
        ReadOnlySpan<T> negative, ReadOnlySpan<int> negativeShape, TripletMarginLossOptions? options = null, Span<T> output = default,
        Span<T> gradAnchor = default, Span<T> gradPositive = default, Span<T> gradNegative = default, ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        options ??= TripletMarginLossOptions.Default;
        double p = options.P, eps = options.Eps;
        if (!(p >= 0))
            throw new ArgumentOutOfRangeException(nameof(options), p, $"options.P must be >= 0 (or +infinity); got {Num(p)}.");
        return TripletCore.Run(anchor, anchorShape, positive, positiveShape, negative, negativeShape,
            new PNormDistance<T>(p, eps), options.Margin, options.Swap, options.Reduction, output, gradAnchor, gradPositive, gradNegative, gradOutput);
    }
}

/// <summary>Options of <see cref="TripletMarginWithDistanceLoss"/> (<c>nn.TripletMarginWithDistanceLoss(distance_function=None, margin=1.0, swap=False, reduction='mean')</c>).</summary>
public sealed record TripletMarginWithDistanceLossOptions<T> : LossOptions where T : struct, IFloatingPointIeee754<T>
{
    /// <summary>PyTorch's defaults.</summary>
    public static TripletMarginWithDistanceLossOptions<T> Default { get; } = new();

    /// <summary><c>distance_function</c>; null = <see cref="PairwiseDistance"/> with p = 2, eps = 1e-6.</summary>
    public DistanceFunction<T>? DistanceFunction { get; init; }

    /// <summary><c>margin</c> (&gt; 0, default 1).</summary>
    public double Margin { get; init; } = 1.0;

    /// <summary><c>swap</c> (default false).</summary>
    public bool Swap { get; init; }
}

/// <summary>
/// <c>nn.TripletMarginWithDistanceLoss</c> / <c>F.triplet_margin_with_distance_loss</c>:
/// <c>l = max(0, margin + dist(a, p) - dist(a, n))</c> with a user distance (and its gradient) per row.
/// </summary>
public static class TripletMarginWithDistanceLoss
{
    /// <summary>Shapes and conventions as <see cref="TripletMarginLoss.Forward{T}"/>; throws for margin ≤ 0 (as PyTorch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Forward<T>(ReadOnlySpan<T> anchor, ReadOnlySpan<int> anchorShape, ReadOnlySpan<T> positive, ReadOnlySpan<int> positiveShape,
        ReadOnlySpan<T> negative, ReadOnlySpan<int> negativeShape, TripletMarginWithDistanceLossOptions<T>? options = null,
        Span<T> output = default, Span<T> gradAnchor = default, Span<T> gradPositive = default, Span<T> gradNegative = default,
        ReadOnlySpan<T> gradOutput = default)
        where T : struct, IFloatingPointIeee754<T>
    {
        options ??= TripletMarginWithDistanceLossOptions<T>.Default;
        if (!(options.Margin > 0))
            throw new ArgumentOutOfRangeException(nameof(options), options.Margin, $"TripletMarginWithDistanceLoss: expected options.Margin to be greater than 0, got {Num(options.Margin)}.");
        // The default distance is a struct (no delegate call); a user distance is called through its delegate, which
        // allocates nothing itself (whatever the user's function allocates is its own).
        if (options.DistanceFunction is { } distance)
            return TripletCore.Run(anchor, anchorShape, positive, positiveShape, negative, negativeShape, new DelegateDistance<T>(distance),
                options.Margin, options.Swap, options.Reduction, output, gradAnchor, gradPositive, gradNegative, gradOutput);
        return TripletCore.Run(anchor, anchorShape, positive, positiveShape, negative, negativeShape, new PNormDistance<T>(2, 1e-6),
            options.Margin, options.Swap, options.Reduction, output, gradAnchor, gradPositive, gradNegative, gradOutput);
    }
}

/// <summary>A distance of <see cref="TripletCore"/>, as a struct so the default one needs no delegate (nor closure).</summary>
internal interface ITripletDistance<T> where T : struct, IFloatingPointIeee754<T>
{
    T Distance(ReadOnlySpan<T> x1, ReadOnlySpan<T> x2, Span<T> gradX1, Span<T> gradX2);
}

/// <summary><see cref="PairwiseDistance.Compute{T}"/> with a fixed p and eps.</summary>
internal readonly struct PNormDistance<T>(double p, double eps) : ITripletDistance<T> where T : struct, IFloatingPointIeee754<T>
{
    public T Distance(ReadOnlySpan<T> x1, ReadOnlySpan<T> x2, Span<T> gradX1, Span<T> gradX2)
        => PairwiseDistance.Compute(x1, x2, p, eps, gradX1, gradX2);
}

/// <summary>A user-supplied <see cref="DistanceFunction{T}"/>.</summary>
internal readonly struct DelegateDistance<T>(DistanceFunction<T> function) : ITripletDistance<T> where T : struct, IFloatingPointIeee754<T>
{
    public T Distance(ReadOnlySpan<T> x1, ReadOnlySpan<T> x2, Span<T> gradX1, Span<T> gradX2) => function(x1, x2, gradX1, gradX2);
}

internal static class TripletCore
{
    public static T Run<T, TDistance>(ReadOnlySpan<T> anchor, ReadOnlySpan<int> anchorShape, ReadOnlySpan<T> positive, ReadOnlySpan<int> positiveShape,
        ReadOnlySpan<T> negative, ReadOnlySpan<int> negativeShape, TDistance distance, double margin, bool swap, Reduction reduction,
        Span<T> output, Span<T> gradAnchor, Span<T> gradPositive, Span<T> gradNegative, ReadOnlySpan<T> gradOutput)
        where T : struct, IFloatingPointIeee754<T>
        where TDistance : struct, ITripletDistance<T>
    {
        EnsureSupported<T>();
        if (anchorShape.Length != positiveShape.Length || anchorShape.Length != negativeShape.Length)
            throw new ArgumentException($"All inputs should have same dimension but got {anchorShape.Length}D, {positiveShape.Length}D and {negativeShape.Length}D inputs (anchor {Shape(anchorShape)}, positive {Shape(positiveShape)}, negative {Shape(negativeShape)}).", nameof(negativeShape));
        if (anchorShape.Length == 0)
            throw new ArgumentException("anchorShape must have at least one dimension (the vectors); got [].", nameof(anchorShape));
        if (!positiveShape.SequenceEqual(anchorShape) || !negativeShape.SequenceEqual(anchorShape))
            throw new ArgumentException($"anchor, positive and negative must have the same shape; got {Shape(anchorShape)}, {Shape(positiveShape)} and {Shape(negativeShape)}.", nameof(positiveShape));
        int n = Numel(anchorShape, nameof(anchorShape));
        Length(nameof(anchor), anchor.Length, n, $"anchorShape {Shape(anchorShape)}");
        Length(nameof(positive), positive.Length, n, $"positiveShape {Shape(positiveShape)}");
        Length(nameof(negative), negative.Length, n, $"negativeShape {Shape(negativeShape)}");
        int dim = anchorShape[^1];
        int rows = Numel(anchorShape[..^1], nameof(anchorShape));
        Outputs(reduction, rows, output.Length, gradOutput.Length);
        OptionalLength(nameof(gradAnchor), gradAnchor.Length, n, "like anchor");
        OptionalLength(nameof(gradPositive), gradPositive.Length, n, "like positive");
        OptionalLength(nameof(gradNegative), gradNegative.Length, n, "like negative");

        bool wantGrad = !gradAnchor.IsEmpty || !gradPositive.IsEmpty || !gradNegative.IsEmpty;
        var up = Upstream<T>.For(reduction, gradOutput, rows);
        T[] scratch = ArrayPool<T>.Shared.Rent(Math.Max(1, 6 * dim));
        try
        {
            Span<T> s = wantGrad ? scratch.AsSpan(0, 6 * dim) : default;
            Span<T> apA = s.IsEmpty ? default : s.Slice(0, dim), apP = s.IsEmpty ? default : s.Slice(dim, dim);
            Span<T> anA = s.IsEmpty ? default : s.Slice(2 * dim, dim), anN = s.IsEmpty ? default : s.Slice(3 * dim, dim);
            Span<T> pnP = s.IsEmpty ? default : s.Slice(4 * dim, dim), pnN = s.IsEmpty ? default : s.Slice(5 * dim, dim);
            double sum = 0;
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<T> a = anchor.Slice(r * dim, dim), p = positive.Slice(r * dim, dim), ng = negative.Slice(r * dim, dim);
                double dPos = D(distance.Distance(a, p, apA, apP));
                double dAn = D(distance.Distance(a, ng, anA, anN));
                double wAn = 1, wPn = 0, dNeg = dAn;
                if (swap)
                {
                    double dPn = D(distance.Distance(p, ng, pnP, pnN));
                    if (dPn < dAn)
                        (wAn, wPn, dNeg) = (0, 1, dPn);
                    else if (dPn == dAn)
                        (wAn, wPn) = (0.5, 0.5);
                }
                double z = margin + dPos - dNeg;
                double l = Math.Max(0, z);
                sum += l;
                if (!output.IsEmpty)
                    output[r] = F<T>(l);
                if (!wantGrad)
                    continue;
                double g = z >= 0 ? up[r] : 0;
                for (int k = 0; k < dim; k++)
                {
                    int i = r * dim + k;
                    if (!gradAnchor.IsEmpty)
                        gradAnchor[i] = F<T>(g * (D(apA[k]) - wAn * D(anA[k])));
                    if (!gradPositive.IsEmpty)
                        gradPositive[i] = F<T>(g * (D(apP[k]) - (wPn != 0 ? wPn * D(pnP[k]) : 0)));
                    if (!gradNegative.IsEmpty)
                        gradNegative[i] = F<T>(g * (-wAn * D(anN[k]) - (wPn != 0 ? wPn * D(pnN[k]) : 0)));
                }
            }
            return Reduce<T>(reduction, sum, rows);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }
}
