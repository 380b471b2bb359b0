using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DslModels;

/// <summary>
/// Double-precision lanes of one width (<see cref="L512"/>, <see cref="L256"/>, <see cref="L128"/>, or scalar <see cref="L1"/>),
/// for float data whose functions are evaluated in double and rounded once: the activations, Softmax and LogSoftmax, and the
/// losses' element-wise terms. A step loads <see cref="Floats"/> floats as two halves widened to double and stores them
/// narrowed (round to nearest). Comparisons give all-ones lanes where true, for <see cref="Select"/>.
/// </summary>
/// <remarks>
/// The optimizers use another lane type, <c>Optim.IVec</c>: element-typed (float or double, no widening), without fused
/// multiply-add and without transcendental functions, because a fused optimizer pass must give the same bits on every width.
/// Code written on these lanes may fuse (<see cref="MultiplyAdd"/>) and gives results within its stated error on every width,
/// not the same bits across widths.
/// </remarks>
internal interface ILanes<TSelf> where TSelf : struct, ILanes<TSelf>
{
    static abstract int Floats { get; }

    static abstract void Load(ref float source, out TSelf lower, out TSelf upper);

    static abstract void Store(ref float destination, TSelf lower, TSelf upper);

    /// <summary>Half a step: <see cref="Floats"/> / 2 floats widened to one set of lanes (for loops whose body is too large to write twice).</summary>
    static abstract TSelf LoadHalf(ref float source);

    /// <summary>Half a step: the lanes narrowed to <see cref="Floats"/> / 2 floats.</summary>
    static abstract void StoreHalf(ref float destination, TSelf value);

    /// <summary>For tests: <see cref="Floats"/> doubles as the two halves.</summary>
    static abstract void LoadDoubles(ref double source, out TSelf lower, out TSelf upper);

    /// <summary>For tests: the two halves as <see cref="Floats"/> doubles.</summary>
    static abstract void StoreDoubles(ref double destination, TSelf lower, TSelf upper);

    /// <summary>Copies <see cref="Floats"/> floats unchanged.</summary>
    static abstract void Copy(ref float source, ref float destination);

    static abstract TSelf Create(double value);

    static abstract TSelf operator +(TSelf a, TSelf b);

    static abstract TSelf operator -(TSelf a, TSelf b);

    static abstract TSelf operator *(TSelf a, TSelf b);

    static abstract TSelf operator /(TSelf a, TSelf b);

    /// <summary>a·b + c, fused where the hardware fuses (the bits may then differ from a machine without FMA).</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>
    /// p·2ᵏ for the integer k held by <paramref name="shifted"/> = k + 1.5·2⁵² (k in its low mantissa bits), k in [-1022, 1023]:
    /// the exponent field of 2ᵏ built from those bits.
    /// </summary>
    static abstract TSelf TimesPowerOfTwo(TSelf p, TSelf shifted);

    /// <summary>Each lane rounded to the nearest float (as a double).</summary>
    static abstract TSelf RoundToFloat(TSelf x);

    /// <summary>
    /// For positive normal x: its exponent e (as a double) and, in <paramref name="mantissa"/>, m in [1, 2) with x = m·2ᵉ
    /// (other x: meaningless lanes, which <see cref="LaneMath.Log"/> replaces).
    /// </summary>
    static abstract TSelf SplitExponent(TSelf x, out TSelf mantissa);

    static abstract TSelf Abs(TSelf x);

    /// <summary>The smaller lane; <paramref name="b"/> where either is NaN.</summary>
    static abstract TSelf Min(TSelf a, TSelf b);

    /// <summary>The larger lane; <paramref name="b"/> where either is NaN.</summary>
    static abstract TSelf Max(TSelf a, TSelf b);

    static abstract TSelf Equals(TSelf a, TSelf b);

    static abstract TSelf LessThan(TSelf a, TSelf b);

    static abstract TSelf LessThanOrEqual(TSelf a, TSelf b);

    static abstract TSelf GreaterThan(TSelf a, TSelf b);

    static abstract TSelf GreaterThanOrEqual(TSelf a, TSelf b);

    static abstract TSelf Select(TSelf mask, TSelf whenTrue, TSelf whenFalse);

    /// <summary>The sum of the lanes (in an order fixed for the type).</summary>
    static abstract double SumAcross(TSelf x);

    /// <summary>The largest lane (a NaN lane may or may not win).</summary>
    static abstract double MaxAcross(TSelf x);

    /// <summary>Whether any lane of a comparison's result is true.</summary>
    static abstract bool Any(TSelf mask);
}

internal readonly struct L512 : ILanes<L512>
{
    private readonly Vector512<double> _v;

    internal L512(Vector512<double> v) => _v = v;

    public static int Floats => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(ref float source, out L512 lower, out L512 upper)
    {
        var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref source));
        lower = new(lo);
        upper = new(hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref float destination, L512 lower, L512 upper) => Vector512.Narrow(lower._v, upper._v).StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 LoadHalf(ref float source) => new(Vector512.WidenLower(Vector256.LoadUnsafe(ref source).ToVector512Unsafe()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreHalf(ref float destination, L512 value) => Vector512.Narrow(value._v, value._v).GetLower().StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ref float source, ref float destination) => Vector512.LoadUnsafe(ref source).StoreUnsafe(ref destination);

    public static void LoadDoubles(ref double source, out L512 lower, out L512 upper)
    {
        lower = new(Vector512.LoadUnsafe(ref source));
        upper = new(Vector512.LoadUnsafe(ref Unsafe.Add(ref source, 8)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreDoubles(ref double destination, L512 lower, L512 upper)
    {
        lower._v.StoreUnsafe(ref destination);
        upper._v.StoreUnsafe(ref Unsafe.Add(ref destination, 8));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 Create(double value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 operator +(L512 a, L512 b) => new(a._v + b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 operator -(L512 a, L512 b) => new(a._v - b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 operator *(L512 a, L512 b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 operator /(L512 a, L512 b) => new(a._v / b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 MultiplyAdd(L512 a, L512 b, L512 c) => new(Vector512.MultiplyAddEstimate(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 TimesPowerOfTwo(L512 p, L512 shifted) => new(p._v * ((shifted._v.AsUInt64() + Vector512.Create(1023UL)) << 52).AsDouble());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 RoundToFloat(L512 x) => new(Vector512.WidenLower(Vector512.Narrow(x._v, x._v)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 SplitExponent(L512 x, out L512 mantissa)
    {
        var bits = x._v.AsUInt64();
        mantissa = new(((bits & Vector512.Create(0x000FFFFFFFFFFFFFUL)) | Vector512.Create(0x3FF0000000000000UL)).AsDouble());
        // The exponent field E as the double 2⁵² + E (exact), minus 2⁵² + 1023.
        return new(((bits >> 52) | Vector512.Create(0x4330000000000000UL)).AsDouble() - Vector512.Create(4503599627371519.0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 Abs(L512 x) => new(Vector512.Abs(x._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 Min(L512 a, L512 b) => new(Vector512.ConditionalSelect(Vector512.LessThan(a._v, b._v), a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 Max(L512 a, L512 b) => new(Vector512.ConditionalSelect(Vector512.GreaterThan(a._v, b._v), a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 Equals(L512 a, L512 b) => new(Vector512.Equals(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 LessThan(L512 a, L512 b) => new(Vector512.LessThan(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 LessThanOrEqual(L512 a, L512 b) => new(Vector512.LessThanOrEqual(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 GreaterThan(L512 a, L512 b) => new(Vector512.GreaterThan(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 GreaterThanOrEqual(L512 a, L512 b) => new(Vector512.GreaterThanOrEqual(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L512 Select(L512 mask, L512 whenTrue, L512 whenFalse) => new(Vector512.ConditionalSelect(mask._v, whenTrue._v, whenFalse._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumAcross(L512 x) => Vector512.Sum(x._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double MaxAcross(L512 x) => L256.MaxAcross(new(Vector256.Max(x._v.GetLower(), x._v.GetUpper())));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Any(L512 mask) => Vector512.ExtractMostSignificantBits(mask._v) != 0;
}

internal readonly struct L256 : ILanes<L256>
{
    private readonly Vector256<double> _v;

    internal L256(Vector256<double> v) => _v = v;

    public static int Floats => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(ref float source, out L256 lower, out L256 upper)
    {
        var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref source));
        lower = new(lo);
        upper = new(hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref float destination, L256 lower, L256 upper) => Vector256.Narrow(lower._v, upper._v).StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 LoadHalf(ref float source) => new(Vector256.WidenLower(Vector128.LoadUnsafe(ref source).ToVector256Unsafe()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreHalf(ref float destination, L256 value) => Vector256.Narrow(value._v, value._v).GetLower().StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ref float source, ref float destination) => Vector256.LoadUnsafe(ref source).StoreUnsafe(ref destination);

    public static void LoadDoubles(ref double source, out L256 lower, out L256 upper)
    {
        lower = new(Vector256.LoadUnsafe(ref source));
        upper = new(Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 4)));
    }

    public static void StoreDoubles(ref double destination, L256 lower, L256 upper)
    {
        lower._v.StoreUnsafe(ref destination);
        upper._v.StoreUnsafe(ref Unsafe.Add(ref destination, 4));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 Create(double value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 operator +(L256 a, L256 b) => new(a._v + b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 operator -(L256 a, L256 b) => new(a._v - b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 operator *(L256 a, L256 b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 operator /(L256 a, L256 b) => new(a._v / b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 MultiplyAdd(L256 a, L256 b, L256 c) => new(Vector256.MultiplyAddEstimate(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 TimesPowerOfTwo(L256 p, L256 shifted) => new(p._v * ((shifted._v.AsUInt64() + Vector256.Create(1023UL)) << 52).AsDouble());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 RoundToFloat(L256 x) => new(Vector256.WidenLower(Vector256.Narrow(x._v, x._v)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 SplitExponent(L256 x, out L256 mantissa)
    {
        var bits = x._v.AsUInt64();
        mantissa = new(((bits & Vector256.Create(0x000FFFFFFFFFFFFFUL)) | Vector256.Create(0x3FF0000000000000UL)).AsDouble());
        // The exponent field E as the double 2⁵² + E (exact), minus 2⁵² + 1023.
        return new(((bits >> 52) | Vector256.Create(0x4330000000000000UL)).AsDouble() - Vector256.Create(4503599627371519.0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 Abs(L256 x) => new(Vector256.Abs(x._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 Min(L256 a, L256 b) => new(Vector256.ConditionalSelect(Vector256.LessThan(a._v, b._v), a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 Max(L256 a, L256 b) => new(Vector256.ConditionalSelect(Vector256.GreaterThan(a._v, b._v), a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 Equals(L256 a, L256 b) => new(Vector256.Equals(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 LessThan(L256 a, L256 b) => new(Vector256.LessThan(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 LessThanOrEqual(L256 a, L256 b) => new(Vector256.LessThanOrEqual(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 GreaterThan(L256 a, L256 b) => new(Vector256.GreaterThan(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 GreaterThanOrEqual(L256 a, L256 b) => new(Vector256.GreaterThanOrEqual(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L256 Select(L256 mask, L256 whenTrue, L256 whenFalse) => new(Vector256.ConditionalSelect(mask._v, whenTrue._v, whenFalse._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumAcross(L256 x) => Vector256.Sum(x._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double MaxAcross(L256 x) => L128.MaxAcross(new(Vector128.Max(x._v.GetLower(), x._v.GetUpper())));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Any(L256 mask) => Vector256.ExtractMostSignificantBits(mask._v) != 0;
}

internal readonly struct L128 : ILanes<L128>
{
    private readonly Vector128<double> _v;

    internal L128(Vector128<double> v) => _v = v;

    public static int Floats => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(ref float source, out L128 lower, out L128 upper)
    {
        var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref source));
        lower = new(lo);
        upper = new(hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref float destination, L128 lower, L128 upper) => Vector128.Narrow(lower._v, upper._v).StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 LoadHalf(ref float source) => new(Vector128.Create((double)source, Unsafe.Add(ref source, 1)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreHalf(ref float destination, L128 value)
    {
        destination = (float)value._v.GetElement(0);
        Unsafe.Add(ref destination, 1) = (float)value._v.GetElement(1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ref float source, ref float destination) => Vector128.LoadUnsafe(ref source).StoreUnsafe(ref destination);

    public static void LoadDoubles(ref double source, out L128 lower, out L128 upper)
    {
        lower = new(Vector128.LoadUnsafe(ref source));
        upper = new(Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 2)));
    }

    public static void StoreDoubles(ref double destination, L128 lower, L128 upper)
    {
        lower._v.StoreUnsafe(ref destination);
        upper._v.StoreUnsafe(ref Unsafe.Add(ref destination, 2));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 Create(double value) => new(Vector128.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 operator +(L128 a, L128 b) => new(a._v + b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 operator -(L128 a, L128 b) => new(a._v - b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 operator *(L128 a, L128 b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 operator /(L128 a, L128 b) => new(a._v / b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 MultiplyAdd(L128 a, L128 b, L128 c) => new(Vector128.MultiplyAddEstimate(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 TimesPowerOfTwo(L128 p, L128 shifted) => new(p._v * ((shifted._v.AsUInt64() + Vector128.Create(1023UL)) << 52).AsDouble());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 RoundToFloat(L128 x) => new(Vector128.WidenLower(Vector128.Narrow(x._v, x._v)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 SplitExponent(L128 x, out L128 mantissa)
    {
        var bits = x._v.AsUInt64();
        mantissa = new(((bits & Vector128.Create(0x000FFFFFFFFFFFFFUL)) | Vector128.Create(0x3FF0000000000000UL)).AsDouble());
        // The exponent field E as the double 2⁵² + E (exact), minus 2⁵² + 1023.
        return new(((bits >> 52) | Vector128.Create(0x4330000000000000UL)).AsDouble() - Vector128.Create(4503599627371519.0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 Abs(L128 x) => new(Vector128.Abs(x._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 Min(L128 a, L128 b) => new(Vector128.ConditionalSelect(Vector128.LessThan(a._v, b._v), a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 Max(L128 a, L128 b) => new(Vector128.ConditionalSelect(Vector128.GreaterThan(a._v, b._v), a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 Equals(L128 a, L128 b) => new(Vector128.Equals(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 LessThan(L128 a, L128 b) => new(Vector128.LessThan(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 LessThanOrEqual(L128 a, L128 b) => new(Vector128.LessThanOrEqual(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 GreaterThan(L128 a, L128 b) => new(Vector128.GreaterThan(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 GreaterThanOrEqual(L128 a, L128 b) => new(Vector128.GreaterThanOrEqual(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static L128 Select(L128 mask, L128 whenTrue, L128 whenFalse) => new(Vector128.ConditionalSelect(mask._v, whenTrue._v, whenFalse._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumAcross(L128 x) => Vector128.Sum(x._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double MaxAcross(L128 x) => Math.Max(x._v.GetElement(0), x._v.GetElement(1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Any(L128 mask) => Vector128.ExtractMostSignificantBits(mask._v) != 0;
}

/// <summary>Scalar lanes (no SIMD): two floats per step, <see cref="Math"/>'s functions; masks are all-ones or zero bits.</summary>
internal readonly struct L1 : ILanes<L1>
{
    private static readonly double True = BitConverter.Int64BitsToDouble(-1L);
    private readonly double _v;

    private L1(double v) => _v = v;

    public static int Floats => 2;

    public static void Load(ref float source, out L1 lower, out L1 upper)
    {
        lower = new(source);
        upper = new(Unsafe.Add(ref source, 1));
    }

    public static L1 LoadHalf(ref float source) => new(source);

    public static void StoreHalf(ref float destination, L1 value) => destination = (float)value._v;

    public static void Store(ref float destination, L1 lower, L1 upper)
    {
        destination = (float)lower._v;
        Unsafe.Add(ref destination, 1) = (float)upper._v;
    }

    public static void Copy(ref float source, ref float destination)
    {
        destination = source;
        Unsafe.Add(ref destination, 1) = Unsafe.Add(ref source, 1);
    }

    public static void LoadDoubles(ref double source, out L1 lower, out L1 upper)
    {
        lower = new(source);
        upper = new(Unsafe.Add(ref source, 1));
    }

    public static void StoreDoubles(ref double destination, L1 lower, L1 upper)
    {
        destination = lower._v;
        Unsafe.Add(ref destination, 1) = upper._v;
    }

    public static L1 Create(double value) => new(value);

    public static L1 operator +(L1 a, L1 b) => new(a._v + b._v);

    public static L1 operator -(L1 a, L1 b) => new(a._v - b._v);

    public static L1 operator *(L1 a, L1 b) => new(a._v * b._v);

    public static L1 operator /(L1 a, L1 b) => new(a._v / b._v);

    public static L1 MultiplyAdd(L1 a, L1 b, L1 c) => new(a._v * b._v + c._v);

    public static L1 TimesPowerOfTwo(L1 p, L1 shifted) => new(p._v * BitConverter.Int64BitsToDouble((BitConverter.DoubleToInt64Bits(shifted._v) + 1023) << 52));

    public static L1 RoundToFloat(L1 x) => new((float)x._v);

    public static L1 SplitExponent(L1 x, out L1 mantissa)
    {
        ulong bits = BitConverter.DoubleToUInt64Bits(x._v);
        mantissa = new(BitConverter.UInt64BitsToDouble((bits & 0x000FFFFFFFFFFFFFUL) | 0x3FF0000000000000UL));
        return new(BitConverter.UInt64BitsToDouble((bits >> 52) | 0x4330000000000000UL) - 4503599627371519.0);
    }

    public static L1 Abs(L1 x) => new(Math.Abs(x._v));

    public static L1 Min(L1 a, L1 b) => a._v < b._v ? a : b;

    public static L1 Max(L1 a, L1 b) => a._v > b._v ? a : b;

    public static L1 Equals(L1 a, L1 b) => Mask(a._v == b._v);

    public static L1 LessThan(L1 a, L1 b) => Mask(a._v < b._v);

    public static L1 LessThanOrEqual(L1 a, L1 b) => Mask(a._v <= b._v);

    public static L1 GreaterThan(L1 a, L1 b) => Mask(a._v > b._v);

    public static L1 GreaterThanOrEqual(L1 a, L1 b) => Mask(a._v >= b._v);

    public static L1 Select(L1 mask, L1 whenTrue, L1 whenFalse) => BitConverter.DoubleToInt64Bits(mask._v) != 0 ? whenTrue : whenFalse;

    public static double SumAcross(L1 x) => x._v;

    public static double MaxAcross(L1 x) => x._v;

    public static bool Any(L1 mask) => BitConverter.DoubleToInt64Bits(mask._v) != 0;

    private static L1 Mask(bool value) => new(value ? True : 0.0);
}

/// <summary>Functions over <see cref="ILanes{TSelf}"/>, written once for every width: exp, expm1, log1p and NaN/∞ handling.</summary>
internal static class LaneMath
{
    internal const double MaxExpArgument = 708;

    /// <summary>exp(x) with x clamped to [-708, 708]; the clamp turns a NaN lane into exp(-708), so callers keep NaN with <see cref="KeepNaN"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Exp<T>(T x) where T : struct, ILanes<T> => ExpInRange(T.Min(T.Max(x, T.Create(-MaxExpArgument)), T.Create(MaxExpArgument)));

    /// <summary>
    /// exp(x) for x in [-708, 708] (NaN for NaN), each lane on its own: x = k·ln 2 + r with k = round(x·log₂e) and |r| ≤ ln 2 / 2
    /// (ln 2 split in two, Cody and Waite's way, so k·ln2Hi is exact), e^r by its Taylor series to r¹⁰ (the rest is below
    /// 2.2·10⁻¹³ relative), times 2ᵏ built in the exponent bits. About three times as fast as .NET's vector Exp of doubles,
    /// and 10⁴ times more accurate than a float result needs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T ExpInRange<T>(T x) where T : struct, ILanes<T>
    {
        const double Shift = 6755399441055744.0; // 1.5·2⁵²: adding it rounds to an integer, kept in the low mantissa bits
        const double Log2E = 1.4426950408889634;
        const double Ln2Hi = 6.93147180369123816490e-01; // ln 2's first 32 bits: k·Ln2Hi is exact for |k| < 2²¹
        const double Ln2Lo = 1.90821492927058770002e-10; // ln 2 - Ln2Hi
        var shifted = T.MultiplyAdd(x, T.Create(Log2E), T.Create(Shift));
        var k = shifted - T.Create(Shift);
        var r = T.MultiplyAdd(k, T.Create(-Ln2Hi), x);
        r = T.MultiplyAdd(k, T.Create(-Ln2Lo), r);
        var p = T.MultiplyAdd(T.Create(1.0 / 3628800), r, T.Create(1.0 / 362880));
        p = T.MultiplyAdd(p, r, T.Create(1.0 / 40320));
        p = T.MultiplyAdd(p, r, T.Create(1.0 / 5040));
        p = T.MultiplyAdd(p, r, T.Create(1.0 / 720));
        p = T.MultiplyAdd(p, r, T.Create(1.0 / 120));
        p = T.MultiplyAdd(p, r, T.Create(1.0 / 24));
        p = T.MultiplyAdd(p, r, T.Create(1.0 / 6));
        p = T.MultiplyAdd(p, r, T.Create(0.5));
        p = T.MultiplyAdd(p, r, T.Create(1));
        p = T.MultiplyAdd(p, r, T.Create(1));
        return T.TimesPowerOfTwo(p, shifted);
    }

    /// <summary><paramref name="r"/>, or NaN where <paramref name="z"/> is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T KeepNaN<T>(T z, T r) where T : struct, ILanes<T> => T.Select(T.Equals(z, z), r, z);

    /// <summary>
    /// <paramref name="r"/>, or the activation's limits where <paramref name="z"/> is ±∞: the formulas multiply z by a factor that
    /// goes to 0 there (x·σ(x), x·Φ(x), …), and ∞·0 would be NaN or, with the clamped exp, ±∞.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T AtInfinity<T>(T z, T r, double atPlus, double atMinus) where T : struct, ILanes<T>
        => T.Select(T.Equals(z, T.Create(double.PositiveInfinity)), T.Create(atPlus), T.Select(T.Equals(z, T.Create(double.NegativeInfinity)), T.Create(atMinus), r));

    /// <summary>
    /// exp(x) - 1 without losing small x: for |x| &lt; 1/2 its Taylor series to x¹⁴ (the next term is below 5·10⁻¹⁷ relative),
    /// as x·P(x) with P's even and odd halves in x²; beyond, eˣ - 1 (no cancellation there: |eˣ - 1| &gt; 0.39).
    /// x is clamped to [-708, 708] (-1 to double precision below; above, a value that overflows float anyway).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T ExpM1<T>(T x) where T : struct, ILanes<T>
    {
        var xc = T.Max(T.Min(x, T.Create(MaxExpArgument)), T.Create(-MaxExpArgument));
        var x2 = xc * xc;
        // P(x) = Σ_{k=0..13} xᵏ/(k + 1)!: even k in 'even', odd k in 'odd'.
        ReadOnlySpan<double> c = ExpM1Series;
        T even = T.Create(c[12]), odd = T.Create(c[13]);
        for (int k = 10; k >= 0; k -= 2)
        {
            even = even * x2 + T.Create(c[k]);
            odd = odd * x2 + T.Create(c[k + 1]);
        }
        var series = xc * (even + xc * odd);
        var direct = ExpInRange(xc) - T.Create(1);
        return T.Select(T.LessThan(T.Abs(xc), T.Create(0.5)), series, direct);
    }

    /// <summary>1/(k + 1)! for k = 0..13, exact to double rounding.</summary>
    internal static ReadOnlySpan<double> ExpM1Series => new[]
    {
        1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800,
        1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800, 1.0 / 87178291200,
    };

    /// <summary>
    /// log(x), each lane on its own (NaN for NaN and x &lt; 0, -∞ at 0, ∞ at ∞): x = m·2ᵉ with m in [√½, √2) (subnormals
    /// scaled by 2⁵⁴ first), log m = 2 atanh(s) with s = (m - 1)/(m + 1), |s| ≤ 0.172, by its series to s²¹ (the rest is
    /// below 10⁻¹⁷ relative), plus e·ln 2 in two parts. Inlined, unlike .NET's vector Log, whose call spills every register.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Log<T>(T x) where T : struct, ILanes<T>
    {
        const double Ln2Hi = 6.93147180369123816490e-01, Ln2Lo = 1.90821492927058770002e-10;
        T one = T.Create(1);
        var tiny = T.LessThan(x, T.Create(2.2250738585072014e-308));
        var e = T.SplitExponent(T.Select(tiny, x * T.Create(18014398509481984.0), x), out var m);
        e = T.Select(tiny, e - T.Create(54), e);
        var high = T.GreaterThan(m, T.Create(1.4142135623730951));
        m = T.Select(high, m * T.Create(0.5), m);
        e = T.Select(high, e + one, e);
        var s = (m - one) / (m + one);
        var s2 = s * s;
        // 2 atanh(s) = 2s Σ s²ᵏ/(2k + 1), k = 0..10
        var p = T.MultiplyAdd(T.Create(1.0 / 21), s2, T.Create(1.0 / 19));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 17));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 15));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 13));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 11));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 9));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 7));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 5));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 3));
        var twoS = s + s;
        var r = T.MultiplyAdd(e, T.Create(Ln2Hi), T.MultiplyAdd(twoS * s2, p, T.MultiplyAdd(e, T.Create(Ln2Lo), twoS)));
        r = T.Select(T.Equals(x, T.Create(0)), T.Create(double.NegativeInfinity), r);
        r = T.Select(T.Equals(x, T.Create(double.PositiveInfinity)), x, r);
        return T.Select(T.LessThan(x, T.Create(0)), T.Create(double.NaN), KeepNaN(x, r));
    }

    /// <summary>
    /// log(1 + t) for t in [0, 1] (softplus's log1p(exp(-|x|))), and, unlike <see cref="Log{T}"/> of 1 + t, exact to small t: 2 atanh(s) with
    /// s = t/(t + 2), or ln 2 + 2 atanh(s) with s = (t - 1)/(t + 3) above √2 - 1, so |s| ≤ 0.172 and the series to s²¹
    /// leaves below 10⁻¹⁷ relative. One division, no exponent split, no special values (NaN stays NaN).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Log1pUnit<T>(T t) where T : struct, ILanes<T>
    {
        T one = T.Create(1);
        var high = T.GreaterThan(t, T.Create(0.41421356237309503));
        var numerator = T.Select(high, t - one, t);
        var twoS = (numerator + numerator) / (t + T.Select(high, T.Create(3), T.Create(2))); // 2s: exact for a subnormal t too
        var s = twoS * T.Create(0.5);
        var s2 = s * s;
        var p = T.MultiplyAdd(T.Create(1.0 / 21), s2, T.Create(1.0 / 19));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 17));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 15));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 13));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 11));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 9));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 7));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 5));
        p = T.MultiplyAdd(p, s2, T.Create(1.0 / 3));
        const double Ln2Hi = 6.93147180369123816490e-01, Ln2Lo = 1.90821492927058770002e-10;
        var zero = T.Create(0);
        return T.Select(high, T.Create(Ln2Hi), zero) + T.MultiplyAdd(twoS * s2, p, twoS + T.Select(high, T.Create(Ln2Lo), zero));
    }

    /// <summary>log(1 + u) for u ≥ 0 without losing a small u: log(w)·u/(w - 1) with w = 1 + u (u itself where w rounds to 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double Log1p(double u)
    {
        double w = 1 + u;
        return w - 1 == 0 ? u : Math.Log(w) * u / (w - 1);
    }
}
