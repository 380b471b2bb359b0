using System;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("DslModels.Runtime.Tests")]

namespace DslModels.Losses;

// Conventions shared by every loss in this namespace (see docs/losses.md):
//
// * Element type T is float or double (anything else throws NotSupportedException). Tensors are flat
//   row-major spans; where a loss accepts several ranks its shape is passed as ReadOnlySpan<int>.
// * Forward returns the reduced loss (Mean/Sum). For Reduction.None it returns the sum of the
//   per-element losses (a convenience); the per-element losses themselves go to `output`.
// * `output` (optional, any reduction): receives the unreduced loss, i.e. what reduction='none' returns.
// * Gradient spans (optional): empty = not computed; otherwise they must match their input's length and
//   are overwritten (never accumulated) with d(g · loss)/d(input), where g is the upstream gradient.
// * `gradOutput` (optional): the upstream gradient. Empty = 1. For Mean/Sum one value, for None one value
//   per element of the unreduced loss.
// * Every argument is validated before anything is written; bad arguments throw ArgumentException
//   (ArgumentOutOfRangeException for values out of range) naming the argument, expected and actual value.

/// <summary>Options shared by every loss: PyTorch's <c>reduction=</c> (default <see cref="Reduction.Mean"/>).</summary>
public record LossOptions
{
    /// <summary><c>reduction</c>: <see cref="Reduction.Mean"/> (default), <see cref="Reduction.Sum"/> or <see cref="Reduction.None"/>.</summary>
    public Reduction Reduction { get; init; } = Reduction.Mean;
}

/// <summary>Reduction of <see cref="KLDivLoss"/>, which adds PyTorch's <c>'batchmean'</c>.</summary>
public enum KLDivReduction
{
    /// <summary><c>'mean'</c>: sum / number of elements (PyTorch's default, which warns that it is not the KL divergence).</summary>
    Mean = 0,
    /// <summary><c>'sum'</c>.</summary>
    Sum = 1,
    /// <summary><c>'none'</c>.</summary>
    None = 2,
    /// <summary><c>'batchmean'</c>: sum / input.size(0) (the plain sum for a 0-dim input); the mathematically correct KL divergence.</summary>
    BatchMean = 3,
}

/// <summary>The upstream gradient of each element of the unreduced loss, already divided by the mean's denominator.</summary>
internal readonly ref struct Upstream<T> where T : struct, IFloatingPointIeee754<T>
{
    private readonly ReadOnlySpan<T> _values;
    private readonly double _scalar;

    private Upstream(ReadOnlySpan<T> values, double scalar)
    {
        _values = values;
        _scalar = scalar;
    }

    public double this[int i] => _values.IsEmpty ? _scalar : double.CreateTruncating(_values[i]);

    /// <summary>True when every element has the same upstream gradient (<see cref="Scalar"/>).</summary>
    public bool IsUniform => _values.IsEmpty;

    public double Scalar => _scalar;

    public ReadOnlySpan<T> Values => _values;

    /// <summary>None: the per-element gradOutput (or 1); Sum: g; Mean: g / denominator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Upstream<T> For(Reduction reduction, ReadOnlySpan<T> gradOutput, double denominator)
    {
        if (reduction == Reduction.None)
            return new Upstream<T>(gradOutput, 1.0);
        double g = gradOutput.IsEmpty ? 1.0 : double.CreateTruncating(gradOutput[0]);
        return new Upstream<T>(default, reduction == Reduction.Mean ? g / denominator : g);
    }
}

/// <summary>Argument checks and small numeric helpers of the losses.</summary>
internal static class LossCore
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EnsureSupported<T>()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Losses support float and double elements; got {typeof(T).Name}.");
    }

    public static string Shape(ReadOnlySpan<int> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++)
            parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", parts) + "]";
    }

    public static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Checks the dims are non-negative and returns their product.</summary>
    public static int Numel(ReadOnlySpan<int> shape, string argument) => Numel(shape, argument, "");

    /// <summary>As <see cref="Numel(ReadOnlySpan{int}, string)"/> for the argument named <paramref name="argument"/> + <paramref name="suffix"/> (concatenated only to throw).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Numel(ReadOnlySpan<int> shape, string argument, string suffix)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                argument += suffix;
                throw new ArgumentException($"{argument} must not have negative dimensions; got {Shape(shape)}.", argument);
            }
            n *= d;
            if (n > int.MaxValue)
            {
                argument += suffix;
                throw new ArgumentException($"{argument} {Shape(shape)} has more than int.MaxValue elements.", argument);
            }
        }
        return (int)n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Length(string argument, int actual, long expected, string what)
    {
        if (actual != expected)
            ThrowLength(argument, actual, expected, what);
    }

    /// <summary>
    /// As <see cref="Length(string, int, long, string)"/>, but the interpolated description is only formatted (its holes
    /// only evaluated) when the check fails, so a passing check allocates nothing.
    /// </summary>
    public static void Length(string argument, int actual, long expected,
        [InterpolatedStringHandlerArgument(nameof(actual), nameof(expected))] ref FailureMessage what)
    {
        if (actual != expected)
            ThrowLength(argument, actual, expected, what.ToStringAndClear());
    }

    [DoesNotReturn]
    private static void ThrowLength(string argument, int actual, long expected, string what)
        => throw new ArgumentException($"{argument} must hold {expected} values ({what}); got {actual}.", argument);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OptionalLength(string argument, int actual, long expected, string what)
    {
        if (actual != 0 && actual != expected)
            throw new ArgumentException($"{argument} must be empty or hold {expected} values ({what}); got {actual}.", argument);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CheckReduction(Reduction reduction)
    {
        if (reduction is not (Reduction.Mean or Reduction.Sum or Reduction.None))
            throw new ArgumentOutOfRangeException("options", reduction, $"options.Reduction must be Mean, Sum or None; got {reduction}{(reduction == Reduction.BatchMean ? " (only KLDivLoss takes BatchMean, through KLDivReduction)" : "")}.");
    }

    /// <summary>Checks the optional output, and the upstream gradient: one value for Mean/Sum, <paramref name="count"/> for None.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Outputs(Reduction reduction, int count, int outputLength, int gradOutputLength)
    {
        CheckReduction(reduction);
        OptionalLength("output", outputLength, count, "the unreduced loss");
        if (reduction == Reduction.None)
            OptionalLength("gradOutput", gradOutputLength, count, "one upstream gradient per element of the unreduced loss");
        else
            OptionalLength("gradOutput", gradOutputLength, 1, "the upstream gradient of the reduced loss");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Reduce<T>(Reduction reduction, double sum, double denominator) where T : struct, IFloatingPointIeee754<T>
        => T.CreateTruncating(reduction == Reduction.Mean ? sum / denominator : sum);

    public static double D<T>(T v) where T : struct, IFloatingPointIeee754<T> => double.CreateTruncating(v);

    public static T F<T>(double v) where T : struct, IFloatingPointIeee754<T> => T.CreateTruncating(v);

    /// <summary>The span as floats, for a caller that has checked <c>typeof(T) == typeof(float)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<float> Floats<T>(ReadOnlySpan<T> v) where T : struct => System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(v);

    /// <summary>The span as floats, for a caller that has checked <c>typeof(T) == typeof(float)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<float> Floats<T>(Span<T> v) where T : struct => System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(v);

    /// <summary>An optional array as floats (empty for none), for a caller that has checked <c>typeof(T) == typeof(float)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<float> Floats<T>(T[]? v) where T : struct => v is null ? default : System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(v.AsSpan());

    /// <summary>log(1 + exp(z)) without overflow.</summary>
    public static double Softplus(double z) => z > 0 ? z + Math.Log(1.0 + Math.Exp(-z)) : Math.Log(1.0 + Math.Exp(z));

    /// <summary>log(exp(a) + exp(b)) with -inf handling.</summary>
    public static double LogAddExp(double a, double b)
    {
        double m = Math.Max(a, b);
        if (double.IsNegativeInfinity(m))
            return double.NegativeInfinity;
        return m + Math.Log(Math.Exp(a - m) + Math.Exp(b - m));
    }
}

/// <summary>
/// An interpolated string for an argument check that is formatted only when the check fails: constructed from the
/// checked length and the expected one, it evaluates and appends its holes only when they differ.
/// </summary>
[InterpolatedStringHandler]
internal ref struct FailureMessage
{
    private DefaultInterpolatedStringHandler _inner;
    private readonly bool _active;

    public FailureMessage(int literalLength, int formattedCount, int actual, long expected, out bool shouldAppend)
    {
        _active = shouldAppend = actual != expected;
        _inner = shouldAppend ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    public void AppendLiteral(string value) => _inner.AppendLiteral(value);

    public void AppendFormatted<TValue>(TValue value) => _inner.AppendFormatted(value);

    public void AppendFormatted(string? value) => _inner.AppendFormatted(value);

    public string ToStringAndClear() => _active ? _inner.ToStringAndClear() : "";
}

/// <summary>Inline storage of up to <see cref="Broadcast.MaxRank"/> dimensions.</summary>
[InlineArray(Broadcast.MaxRank)]
internal struct Dims8
{
    private int _element0;
}

/// <summary>
/// Maps a flat index of a tensor of shape <c>shape</c> to the flat index of an operand broadcast to it
/// (NumPy rules, aligned on the trailing dimension: each operand dim is 1 or equal; the operand may have fewer dims).
/// A value type with inline storage (at most <see cref="MaxRank"/> dimensions), so creating one allocates nothing.
/// </summary>
internal readonly struct Broadcast
{
    /// <summary>The most dimensions a broadcast loss shape may have.</summary>
    public const int MaxRank = 8;

    private readonly Dims8 _shape;
    private readonly Dims8 _strides;
    private readonly int _rank;
    private readonly bool _identity;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Broadcast(in Dims8 shape, in Dims8 strides, int rank, bool identity)
    {
        _shape = shape;
        _strides = strides;
        _rank = rank;
        _identity = identity;
    }

    /// <summary>The identity map (an operand with the loss's own shape).</summary>
    public static Broadcast Identity
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(default, default, 0, true);
    }

    /// <summary>Validates the operand's shape and data length against <paramref name="shape"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Broadcast Create(string argument, int dataLength, ReadOnlySpan<int> operandShape, ReadOnlySpan<int> shape)
    {
        int n = LossCore.Numel(operandShape, argument, "Shape");
        LossCore.Length(argument, dataLength, n, $"its shape {LossCore.Shape(operandShape)}");
        if (operandShape.Length > shape.Length)
            throw new ArgumentException($"{argument} of shape {LossCore.Shape(operandShape)} cannot be broadcast to the loss shape {LossCore.Shape(shape)}: it has more dimensions.", argument);
        if (shape.Length > MaxRank)
            throw new ArgumentException($"{argument} cannot be broadcast to the loss shape {LossCore.Shape(shape)}: broadcasting supports at most {MaxRank} dimensions; got {shape.Length}.", argument);
        int offset = shape.Length - operandShape.Length;
        Dims8 dims = default, strides = default;
        bool identity = operandShape.Length == shape.Length;
        int stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            int od = d - offset;
            int size = od >= 0 ? operandShape[od] : 1;
            if (size != shape[d] && size != 1)
                throw new ArgumentException($"{argument} of shape {LossCore.Shape(operandShape)} cannot be broadcast to the loss shape {LossCore.Shape(shape)}: size {size} does not match {shape[d]} at dimension {d}.", argument);
            if (size != shape[d])
                identity = false;
            dims[d] = shape[d];
            strides[d] = size == 1 ? 0 : stride;
            stride *= size;
        }
        return new Broadcast(dims, strides, shape.Length, identity);
    }

    /// <summary>
    /// <see cref="Create"/> for an optional weight whose shape defaults to 1-D (<c>[weight.Length]</c>, broadcast along
    /// the last dimension); <see cref="Identity"/> without a weight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Broadcast ForWeight<T>(string argument, T[]? weight, int[]? weightShape, ReadOnlySpan<int> shape)
    {
        if (weight is null)
            return Identity;
        int length = weight.Length;
        return Create(argument, length, weightShape is null ? new ReadOnlySpan<int>(in length) : weightShape, shape);
    }

    public int Map(int index)
    {
        if (_identity)
            return index;
        int offset = 0;
        ReadOnlySpan<int> shape = _shape, strides = _strides;
        for (int d = _rank - 1; d >= 0 && index > 0; d--)
        {
            int size = shape[d];
            int q = index / size;
            offset += (index - q * size) * strides[d];
            index = q;
        }
        return offset;
    }
}
