using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

[assembly: InternalsVisibleTo("DslModels.Runtime.Tests")]

namespace DslModels.Optim;

/// <summary>
/// One SIMD lane group of <typeparamref name="T"/> (float or double): a <see cref="Vector512{T}"/>, a
/// <see cref="Vector256{T}"/> or a single scalar. Optimizer kernels are written once against this interface and
/// instantiated for each width, so the vector and scalar paths perform the same IEEE operations in the same order
/// (no fused multiply-add) and give bit-identical results.
/// </summary>
internal interface IVec<TSelf, T>
    where TSelf : struct, IVec<TSelf, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract TSelf Load(Span<T> source, int index);
    static abstract void Store(Span<T> destination, int index, TSelf value);
    static abstract TSelf Splat(T value);
    static abstract TSelf operator +(TSelf a, TSelf b);
    static abstract TSelf operator -(TSelf a, TSelf b);
    static abstract TSelf operator *(TSelf a, TSelf b);
    static abstract TSelf operator /(TSelf a, TSelf b);
    static abstract TSelf operator -(TSelf a);
    static abstract TSelf Sqrt(TSelf a);
    static abstract TSelf Abs(TSelf a);
    /// <summary>IEEE maximum (NaN propagates, +0 &gt; -0), as <c>torch.maximum</c>.</summary>
    static abstract TSelf Max(TSelf a, TSelf b);
    static abstract TSelf Min(TSelf a, TSelf b);
    /// <summary>A mask: all lanes where a &gt; b.</summary>
    static abstract TSelf GreaterThan(TSelf a, TSelf b);
    static abstract TSelf LessThan(TSelf a, TSelf b);
    static abstract TSelf Equal(TSelf a, TSelf b);
    static abstract TSelf Select(TSelf mask, TSelf ifTrue, TSelf ifFalse);
}

internal readonly struct V512<T> : IVec<V512<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Vector512<T> _v;
    private V512(Vector512<T> v) => _v = v;
    public static int Count => Vector512<T>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> Load(Span<T> s, int i) => new(Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Span<T> s, int i, V512<T> v) => v._v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> Splat(T v) => new(Vector512.Create(v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> operator +(V512<T> a, V512<T> b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> operator -(V512<T> a, V512<T> b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> operator *(V512<T> a, V512<T> b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> operator /(V512<T> a, V512<T> b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> operator -(V512<T> a) => new(-a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> Sqrt(V512<T> a) => new(Vector512.Sqrt(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> Abs(V512<T> a) => new(Vector512.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> Max(V512<T> a, V512<T> b) => new(Vector512.Max(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> Min(V512<T> a, V512<T> b) => new(Vector512.Min(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> GreaterThan(V512<T> a, V512<T> b) => new(Vector512.GreaterThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> LessThan(V512<T> a, V512<T> b) => new(Vector512.LessThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> Equal(V512<T> a, V512<T> b) => new(Vector512.Equals(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512<T> Select(V512<T> m, V512<T> a, V512<T> b) => new(Vector512.ConditionalSelect(m._v, a._v, b._v));
}

internal readonly struct V256<T> : IVec<V256<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Vector256<T> _v;
    private V256(Vector256<T> v) => _v = v;
    public static int Count => Vector256<T>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> Load(Span<T> s, int i) => new(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Span<T> s, int i, V256<T> v) => v._v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> Splat(T v) => new(Vector256.Create(v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> operator +(V256<T> a, V256<T> b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> operator -(V256<T> a, V256<T> b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> operator *(V256<T> a, V256<T> b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> operator /(V256<T> a, V256<T> b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> operator -(V256<T> a) => new(-a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> Sqrt(V256<T> a) => new(Vector256.Sqrt(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> Abs(V256<T> a) => new(Vector256.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> Max(V256<T> a, V256<T> b) => new(Vector256.Max(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> Min(V256<T> a, V256<T> b) => new(Vector256.Min(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> GreaterThan(V256<T> a, V256<T> b) => new(Vector256.GreaterThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> LessThan(V256<T> a, V256<T> b) => new(Vector256.LessThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> Equal(V256<T> a, V256<T> b) => new(Vector256.Equals(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256<T> Select(V256<T> m, V256<T> a, V256<T> b) => new(Vector256.ConditionalSelect(m._v, a._v, b._v));
}

internal readonly struct V128<T> : IVec<V128<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Vector128<T> _v;
    private V128(Vector128<T> v) => _v = v;
    public static int Count => Vector128<T>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> Load(Span<T> s, int i) => new(Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Span<T> s, int i, V128<T> v) => v._v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> Splat(T v) => new(Vector128.Create(v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> operator +(V128<T> a, V128<T> b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> operator -(V128<T> a, V128<T> b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> operator *(V128<T> a, V128<T> b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> operator /(V128<T> a, V128<T> b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> operator -(V128<T> a) => new(-a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> Sqrt(V128<T> a) => new(Vector128.Sqrt(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> Abs(V128<T> a) => new(Vector128.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> Max(V128<T> a, V128<T> b) => new(Vector128.Max(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> Min(V128<T> a, V128<T> b) => new(Vector128.Min(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> GreaterThan(V128<T> a, V128<T> b) => new(Vector128.GreaterThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> LessThan(V128<T> a, V128<T> b) => new(Vector128.LessThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> Equal(V128<T> a, V128<T> b) => new(Vector128.Equals(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128<T> Select(V128<T> m, V128<T> a, V128<T> b) => new(Vector128.ConditionalSelect(m._v, a._v, b._v));
}

internal readonly struct VScalar<T> : IVec<VScalar<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T _v;
    private VScalar(T v) => _v = v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> Load(Span<T> s, int i) => new(Unsafe.Add(ref MemoryMarshal.GetReference(s), i));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Span<T> s, int i, VScalar<T> v) => Unsafe.Add(ref MemoryMarshal.GetReference(s), i) = v._v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> Splat(T v) => new(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> operator +(VScalar<T> a, VScalar<T> b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> operator -(VScalar<T> a, VScalar<T> b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> operator *(VScalar<T> a, VScalar<T> b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> operator /(VScalar<T> a, VScalar<T> b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> operator -(VScalar<T> a) => new(-a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> Sqrt(VScalar<T> a) => new(T.Sqrt(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> Abs(VScalar<T> a) => new(T.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> Max(VScalar<T> a, VScalar<T> b) => new(T.Max(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> Min(VScalar<T> a, VScalar<T> b) => new(T.Min(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> GreaterThan(VScalar<T> a, VScalar<T> b) => new(a._v > b._v ? T.One : T.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> LessThan(VScalar<T> a, VScalar<T> b) => new(a._v < b._v ? T.One : T.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> Equal(VScalar<T> a, VScalar<T> b) => new(a._v == b._v ? T.One : T.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VScalar<T> Select(VScalar<T> m, VScalar<T> a, VScalar<T> b) => m._v != T.Zero ? a : b;
}

/// <summary>An element-wise kernel: <c>Run</c> processes the lanes starting at <c>index</c>.</summary>
internal interface IKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    void Run<TV>(int index) where TV : struct, IVec<TV, T>;
}

/// <summary>Runs kernels with Vector512, then Vector256, then Vector128 (Arm64, or an x64 without AVX2), then a scalar tail.</summary>
internal static class Simd
{
    /// <summary>Test hook (per thread): the widest vector allowed, in elements (1 = scalar only).</summary>
    [ThreadStatic] internal static int MaxLanesOverride;

    // Fully optimised at first call: optimizer steps are hot loops from the first training step, and tier-0 or
    // OSR code for them ran several times slower in measurements.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Run<T, TK>(ref TK kernel, int length)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TK : IKernel<T>, allows ref struct
    {
        int max = MaxLanesOverride == 0 ? int.MaxValue : MaxLanesOverride;
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.Count <= max)
            for (; i <= length - Vector512<T>.Count; i += Vector512<T>.Count)
                kernel.Run<V512<T>>(i);
        if (Vector256.IsHardwareAccelerated && Vector256<T>.Count <= max)
            for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
                kernel.Run<V256<T>>(i);
        if (Vector128.IsHardwareAccelerated && Vector128<T>.Count <= max)
            for (; i <= length - Vector128<T>.Count; i += Vector128<T>.Count)
                kernel.Run<V128<T>>(i);
        for (; i < length; i++)
            kernel.Run<VScalar<T>>(i);
    }

    /// <summary>Converts a double hyper-parameter to the parameter type (round to nearest), as torch casts Python scalars.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Cast<T>(double v) where T : unmanaged, IFloatingPointIeee754<T> => T.CreateTruncating(v);
}
