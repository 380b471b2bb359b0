using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DslModels.Losses;

/// <summary>
/// An element-wise loss term on double lanes of float data: <c>l(x, y; a, b)</c> and its partial derivatives, with up to two
/// per-element parameters (a weight, a pos_weight) that repeat along the data with a period (the last dimension, usually).
/// </summary>
internal interface ILaneTerm
{
    T Eval<T>(T x, T y, T a, T b, out T dx, out T dy) where T : struct, ILanes<T>;
}

/// <summary>
/// Runs an <see cref="ILaneTerm"/> over float spans on the widest accelerated lanes (<see cref="ILanes{TSelf}"/>), in double
/// precision with each output rounded once to float, as the scalar loops of the losses compute in double. The loss terms are
/// summed in double (in lanes, then across them). Used by the float overloads of the losses whose terms need exp or log.
/// </summary>
internal static class LaneLoss
{
    /// <summary>
    /// The period with which the broadcast parameter of shape <paramref name="operandShape"/> (null: 1-D) repeats along data of
    /// shape <paramref name="shape"/>: 1 for one value, the last dimension for a 1-D parameter of that length, the element
    /// count for one value per element; 0 for no parameter; -1 for other broadcasts (the scalar loops handle those).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Period<T>(T[]? parameter, int[]? operandShape, ReadOnlySpan<int> shape)
    {
        if (parameter is null)
            return 0;
        if (parameter.Length == 1)
            return 1;
        int length = parameter.Length;
        ReadOnlySpan<int> s = operandShape is null ? new ReadOnlySpan<int>(in length) : operandShape;
        if (s.SequenceEqual(shape))
            return parameter.Length;
        int nonOne = 0, last = 0;
        for (int d = 0; d < s.Length; d++)
            if (s[d] != 1)
            {
                nonOne++;
                last = d;
            }
        // Only the last dimension varies, and it is the data's last dimension.
        return nonOne == 1 && shape.Length > 0 && s.Length - last == 1 && s[last] == shape[^1] ? s[last] : -1;
    }

    /// <summary>
    /// l_i = op(x_i, y_i; a[i mod a.Length], b[i mod b.Length]) (1 where a or b is empty); writes l_i to <paramref name="loss"/>,
    /// g_i·dl/dx to <paramref name="gx"/> and g_i·dl/dy to <paramref name="gy"/> where those are not empty, with g_i from
    /// <paramref name="upstream"/> or else <paramref name="scale"/>; returns Σ l_i.
    /// </summary>
    public static double Run<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> a, ReadOnlySpan<float> b,
        Span<float> loss, Span<float> gx, Span<float> gy, double scale, ReadOnlySpan<float> upstream) where TOp : struct, ILaneTerm
    {
        if (x.IsEmpty)
            return 0;
        if (Vector512.IsHardwareAccelerated)
            return Run<TOp, L512>(op, x, y, a, b, loss, gx, gy, scale, upstream);
        if (Vector256.IsHardwareAccelerated)
            return Run<TOp, L256>(op, x, y, a, b, loss, gx, gy, scale, upstream);
        if (Vector128.IsHardwareAccelerated)
            return Run<TOp, L128>(op, x, y, a, b, loss, gx, gy, scale, upstream);
        return Run<TOp, L1>(op, x, y, a, b, loss, gx, gy, scale, upstream);
    }

    private const int MaxFloats = 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Run<TOp, T>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> a, ReadOnlySpan<float> b,
        Span<float> loss, Span<float> gx, Span<float> gy, double scale, ReadOnlySpan<float> upstream)
        where TOp : struct, ILaneTerm where T : struct, ILanes<T>
    {
        // Half steps (one set of lanes each), so that the term is written once in the loop and the JIT inlines all of it.
        int n = x.Length, step = T.Floats / 2;
        bool wantLoss = !loss.IsEmpty, wantGx = !gx.IsEmpty, wantGy = !gy.IsEmpty, perElement = !upstream.IsEmpty;
        // Scratch of one step each: the padded last elements, and parameters that wrap around their period within a step.
        Span<float> scratch = stackalloc float[9 * MaxFloats];
        scratch.Clear();
        ref float s0 = ref MemoryMarshal.GetReference(scratch);
        ref float xT = ref s0, yT = ref Unsafe.Add(ref s0, MaxFloats), uT = ref Unsafe.Add(ref s0, 2 * MaxFloats);
        ref float lT = ref Unsafe.Add(ref s0, 3 * MaxFloats), gxT = ref Unsafe.Add(ref s0, 4 * MaxFloats), gyT = ref Unsafe.Add(ref s0, 5 * MaxFloats);
        ref float aW = ref Unsafe.Add(ref s0, 6 * MaxFloats), bW = ref Unsafe.Add(ref s0, 7 * MaxFloats), valid = ref Unsafe.Add(ref s0, 8 * MaxFloats);
        int pa = a.Length, pb = b.Length, ja = 0, jb = 0;
        T one = T.Create(1), zero = T.Create(0), g = T.Create(scale);
        T av = pa == 1 ? T.Create(a[0]) : one, bv = pb == 1 ? T.Create(b[0]) : one;
        T sum = zero;
        ref float x0 = ref MemoryMarshal.GetReference(x), y0 = ref MemoryMarshal.GetReference(y), u0 = ref MemoryMarshal.GetReference(upstream);
        ref float a0 = ref MemoryMarshal.GetReference(a), b0 = ref MemoryMarshal.GetReference(b);
        ref float l0 = ref MemoryMarshal.GetReference(loss), gx0 = ref MemoryMarshal.GetReference(gx), gy0 = ref MemoryMarshal.GetReference(gy);
        for (int i = 0; i < n; i += step)
        {
            int rest = n - i;
            bool partial = rest < step;
            if (partial)
            {
                // The last elements from zero-padded copies; only the first 'rest' lanes are kept and summed.
                MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref x0, i), rest).CopyTo(scratch);
                MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref y0, i), rest).CopyTo(scratch.Slice(MaxFloats));
                if (perElement)
                    MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref u0, i), rest).CopyTo(scratch.Slice(2 * MaxFloats));
                scratch.Slice(8 * MaxFloats, rest).Fill(1f);
            }
            var xv = T.LoadHalf(ref partial ? ref xT : ref Unsafe.Add(ref x0, i));
            var yv = T.LoadHalf(ref partial ? ref yT : ref Unsafe.Add(ref y0, i));
            if (pa > 1)
                av = LoadPeriodic<T>(ref a0, pa, ref ja, step, ref aW);
            if (pb > 1)
                bv = LoadPeriodic<T>(ref b0, pb, ref jb, step, ref bW);
            var l = op.Eval(xv, yv, av, bv, out var dx, out var dy);
            sum += partial ? T.Select(T.GreaterThan(T.LoadHalf(ref valid), zero), l, zero) : l;
            var gv = perElement ? T.LoadHalf(ref partial ? ref uT : ref Unsafe.Add(ref u0, i)) : g;
            if (wantLoss)
                T.StoreHalf(ref partial ? ref lT : ref Unsafe.Add(ref l0, i), l);
            if (wantGx)
                T.StoreHalf(ref partial ? ref gxT : ref Unsafe.Add(ref gx0, i), dx * gv);
            if (wantGy)
                T.StoreHalf(ref partial ? ref gyT : ref Unsafe.Add(ref gy0, i), dy * gv);
            if (partial)
            {
                if (wantLoss)
                    scratch.Slice(3 * MaxFloats, rest).CopyTo(loss.Slice(i));
                if (wantGx)
                    scratch.Slice(4 * MaxFloats, rest).CopyTo(gx.Slice(i));
                if (wantGy)
                    scratch.Slice(5 * MaxFloats, rest).CopyTo(gy.Slice(i));
            }
        }
        return T.SumAcross(sum);
    }

    /// <summary>
    /// One half step of a parameter that repeats with period <paramref name="period"/>, starting at index <paramref name="j"/>
    /// of it (advanced by the step): read in place when the step does not wrap, else gathered into <paramref name="wrapped"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T LoadPeriodic<T>(ref float p0, int period, ref int j, int step, ref float wrapped) where T : struct, ILanes<T>
    {
        T v;
        if (j + step <= period)
            v = T.LoadHalf(ref Unsafe.Add(ref p0, j));
        else
        {
            for (int k = 0, at = j; k < step; k++, at = at + 1 == period ? 0 : at + 1)
                Unsafe.Add(ref wrapped, k) = Unsafe.Add(ref p0, at);
            v = T.LoadHalf(ref wrapped);
        }
        j += step;
        while (j >= period)
            j -= period;
        return v;
    }

    /// <summary>
    /// exp(u) over Math.Exp's range: 0 where Math.Exp underflows to 0 (u &lt; -1075 ln 2), ∞ where it overflows
    /// (u &gt; ln(double.MaxValue)), NaN for NaN; <see cref="LaneMath.Exp{T}"/> in between, whose clamp to [-708, 708] leaves
    /// exp(±708) in (708, 709.78] and [-745.13, -708), beyond float's range as Math.Exp's value is. For formulas whose special
    /// values come from those zeros and infinities (0·∞ = NaN, ∞/∞ = NaN), as in the scalar loops.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T MathExp<T>(T u) where T : struct, ILanes<T>
    {
        var e = LaneMath.Exp(u);
        e = T.Select(T.LessThan(u, T.Create(-745.13321910194111)), T.Create(0), e);
        e = T.Select(T.GreaterThan(u, T.Create(709.782712893384)), T.Create(double.PositiveInfinity), e);
        return LaneMath.KeepNaN(u, e);
    }

    /// <summary>Whether every value lies in [0, 1] (false for NaN): BCELoss's range check, vectorized for its passing case.</summary>
    internal static bool InUnitInterval(ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            ref float v0 = ref MemoryMarshal.GetReference(values);
            Vector<int> outside = Vector<int>.Zero;
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = Vector.LoadUnsafe(ref v0, (nuint)i);
                // NaN fails both comparisons.
                outside |= ~(Vector.GreaterThanOrEqual(v, Vector<float>.Zero) & Vector.LessThanOrEqual(v, Vector<float>.One));
            }
            if (outside != Vector<int>.Zero)
                return false;
        }
        for (; i < values.Length; i++)
            if (!(values[i] >= 0 && values[i] <= 1))
                return false;
        return true;
    }

    /// <summary>Whether any value is below 0 (not NaN): GaussianNLLLoss's variance check, vectorized for its passing case.</summary>
    internal static bool AnyNegative(ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            ref float v0 = ref MemoryMarshal.GetReference(values);
            Vector<int> negative = Vector<int>.Zero;
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
                negative |= Vector.LessThan(Vector.LoadUnsafe(ref v0, (nuint)i), Vector<float>.Zero);
            if (negative != Vector<int>.Zero)
                return true;
        }
        for (; i < values.Length; i++)
            if (values[i] < 0)
                return true;
        return false;
    }

    /// <summary><paramref name="destination"/>[i] = -<paramref name="source"/>[i] (in place too): the sign bit flipped.</summary>
    internal static void Negate(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException("destination is shorter than source.", nameof(destination));
        int i = 0;
        ref float s0 = ref MemoryMarshal.GetReference(source), d0 = ref MemoryMarshal.GetReference(destination);
        if (Vector.IsHardwareAccelerated)
        {
            var sign = new Vector<int>(int.MinValue); // xor, not 0 - x, which would give +0 for +0
            for (; i <= source.Length - Vector<float>.Count; i += Vector<float>.Count)
                Vector.AsVectorSingle(Vector.AsVectorInt32(Vector.LoadUnsafe(ref s0, (nuint)i)) ^ sign).StoreUnsafe(ref d0, (nuint)i);
        }
        for (; i < source.Length; i++)
            Unsafe.Add(ref d0, i) = -Unsafe.Add(ref s0, i);
    }
}
/// <summary>
/// Binary cross-entropy on logits, PyTorch's stable form with weight a and pos_weight b: with t = exp(-|x|),
/// sp = softplus(-x) = max(-x, 0) + log1p(t), l = a [(1 - y) x + (1 + (b - 1) y) sp]; d/dx = a [(1 + (b - 1) y) σ(x) - b y]
/// with σ(x) = 1/(1 + t) for x ≥ 0, t/(1 + t) below; d/dy = a [-x + (b - 1) sp].
/// </summary>
internal readonly struct BceWithLogitsTerm : ILaneTerm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval<T>(T x, T y, T a, T b, out T dx, out T dy) where T : struct, ILanes<T>
    {
        T one = T.Create(1), zero = T.Create(0);
        var t = LaneMath.Exp(zero - T.Abs(x));
        var sp = T.Max(zero - x, zero) + LaneMath.Log1pUnit(t);
        var r = one / (one + t);
        var sigmoid = T.Select(T.LessThan(x, zero), t * r, r);
        var lw = one + (b - one) * y;
        // A NaN logit makes the clamped exp a number: keep its NaN in the gradients (the loss has it from (1 - y) x).
        dx = LaneMath.KeepNaN(x, a * (lw * sigmoid - b * y));
        dy = LaneMath.KeepNaN(x, a * ((b - one) * sp - x));
        return a * ((one - y) * x + lw * sp);
    }
}
