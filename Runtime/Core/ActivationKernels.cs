using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static DslModels.LaneMath;

namespace DslModels;

/// <summary>
/// The activations a generated model applies after a layer's GEMM, and their derivatives, over a run of floats: vectorized
/// (Vector512, Vector256 or Vector128 lanes of doubles, else scalar), with PyTorch's formulas evaluated in double precision and
/// rounded once to float. Generated code calls these; they are public so that it can.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Every element's result depends only on its own input (and the parameters): the last elements of a run that do not fill
/// a vector go through the same vector code from a zero-padded copy. So a sample's outputs have the same bits whether it is
/// computed alone, in a batch or in any thread's rows.</item>
/// <item><c>exp</c> is the kernels' own (<c>ExpInRange</c>: a Cody–Waite reduction, a degree-10 Taylor polynomial and the power of
/// two built in the exponent bits; within 3·10⁻¹³ relative, about three times as fast as .NET's vector Exp of doubles), each
/// lane on its own, with its argument clamped to [-708, 708]; the clamp only changes values far below float's smallest
/// subnormal or formulas whose result no longer depends on them.</item>
/// <item>Formulas are arranged so that nothing cancels: ELU's <c>eˣ - 1</c> is an expm1 (a series below 1/2), softplus is <c>max(x, 0) + log1p(exp(-|x|))</c>, <c>1 + tanh(u)</c> in
/// GELU's tanh form is <c>2 / (1 + exp(-2u))</c>, Mish's <c>tanh(softplus(x))</c> is <c>n / (n + 2)</c> with
/// <c>n = eˣ(eˣ + 2)</c>, and the normal CDF of GELU is <c>1/2 + x·Q(x²)</c> for |x| ≤ 3 (a degree-16 fit,
/// Runtime/Core/fit_cdf.py) and beyond <c>erfc(|x|/√2) / 2</c> or one minus it, with erfc from a degree-20 fit (relative
/// error below 4·10⁻¹⁴ on [0, 26]; Runtime/Core/fit_erfc.py).</item>
/// <item>A NaN input gives a NaN output (the clamps would otherwise turn it into a number); ±∞ give the limits (x·σ(x) at -∞
/// is 0, not ∞·0). Softplus rounds beta and threshold to float and compares the float product with the threshold, and
/// Hardtanh its bounds, as PyTorch does.</item>
/// </list>
/// </remarks>
public static partial class ActivationKernels
{
    /// <summary><c>nn.Tanh</c> in place over <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tanh(ref float y, int count) => Forward<TanhOp>(ref y, ref y, count, false, default);

    /// <summary><c>nn.Sigmoid</c> in place over <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sigmoid(ref float y, int count) => Forward<SigmoidOp>(ref y, ref y, count, false, default);

    /// <summary><c>nn.ELU(alpha)</c> in place; the inputs are first copied to <paramref name="pre"/> when <paramref name="keepPre"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Elu(ref float y, ref float pre, int count, bool keepPre, double alpha) => Forward<EluOp>(ref y, ref pre, count, keepPre, new(alpha, 0));

    /// <summary>dz ⊙= ELU'(z) over <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EluBackward(ref float z, ref float dz, int count, double alpha) => Backward<EluOp>(ref z, ref dz, count, new(alpha, 0));

    /// <summary><c>nn.SELU</c> in place (see <see cref="Elu"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Selu(ref float y, ref float pre, int count, bool keepPre) => Forward<SeluOp>(ref y, ref pre, count, keepPre, default);

    /// <summary>dz ⊙= SELU'(z).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SeluBackward(ref float z, ref float dz, int count) => Backward<SeluOp>(ref z, ref dz, count, default);

    /// <summary><c>nn.CELU(alpha)</c> in place (see <see cref="Elu"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Celu(ref float y, ref float pre, int count, bool keepPre, double alpha) => Forward<CeluOp>(ref y, ref pre, count, keepPre, new(alpha, 0));

    /// <summary>dz ⊙= CELU'(z).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CeluBackward(ref float z, ref float dz, int count, double alpha) => Backward<CeluOp>(ref z, ref dz, count, new(alpha, 0));

    /// <summary><c>nn.GELU()</c> (exact: x·Φ(x)) in place (see <see cref="Elu"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Gelu(ref float y, ref float pre, int count, bool keepPre) => Forward<GeluOp>(ref y, ref pre, count, keepPre, default);

    /// <summary>dz ⊙= GELU'(z) = Φ(z) + z·φ(z).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GeluBackward(ref float z, ref float dz, int count) => Backward<GeluOp>(ref z, ref dz, count, default);

    /// <summary><c>nn.GELU(approximate='tanh')</c> in place (see <see cref="Elu"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GeluTanh(ref float y, ref float pre, int count, bool keepPre) => Forward<GeluTanhOp>(ref y, ref pre, count, keepPre, default);

    /// <summary>dz ⊙= the derivative of GELU's tanh form, as PyTorch's <c>gelu_backward</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GeluTanhBackward(ref float z, ref float dz, int count) => Backward<GeluTanhOp>(ref z, ref dz, count, default);

    /// <summary><c>nn.Softplus(beta, threshold)</c> in place (see <see cref="Elu"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Softplus(ref float y, ref float pre, int count, bool keepPre, double beta, double threshold) => Forward<SoftplusOp>(ref y, ref pre, count, keepPre, new(beta, threshold));

    /// <summary>dz ⊙= Softplus'(z).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SoftplusBackward(ref float z, ref float dz, int count, double beta, double threshold) => Backward<SoftplusOp>(ref z, ref dz, count, new(beta, threshold));

    /// <summary><c>nn.SiLU</c> in place (see <see cref="Elu"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Silu(ref float y, ref float pre, int count, bool keepPre) => Forward<SiluOp>(ref y, ref pre, count, keepPre, default);

    /// <summary>dz ⊙= SiLU'(z) = σ(z)·(1 + z·(1 - σ(z))).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SiluBackward(ref float z, ref float dz, int count) => Backward<SiluOp>(ref z, ref dz, count, default);

    /// <summary><c>nn.Mish</c> in place (see <see cref="Elu"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Mish(ref float y, ref float pre, int count, bool keepPre) => Forward<MishOp>(ref y, ref pre, count, keepPre, default);

    /// <summary>dz ⊙= Mish'(z).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MishBackward(ref float z, ref float dz, int count) => Backward<MishOp>(ref z, ref dz, count, default);

    /// <summary><c>nn.Hardtanh(min_val, max_val)</c> in place (see <see cref="Elu"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Hardtanh(ref float y, ref float pre, int count, bool keepPre, double minValue, double maxValue) => Forward<HardtanhOp>(ref y, ref pre, count, keepPre, new(minValue, maxValue));

    /// <summary>dz ⊙= Hardtanh'(z): 0 where z ≤ min_val or z ≥ max_val (the bounds rounded to float, as PyTorch compares), else 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void HardtanhBackward(ref float z, ref float dz, int count, double minValue, double maxValue) => Backward<HardtanhOp>(ref z, ref dz, count, new(minValue, maxValue));

    /// <summary><c>nn.Hardswish</c> in place (see <see cref="Elu"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Hardswish(ref float y, ref float pre, int count, bool keepPre) => Forward<HardswishOp>(ref y, ref pre, count, keepPre, default);

    /// <summary>dz ⊙= Hardswish'(z), PyTorch's boundaries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void HardswishBackward(ref float z, ref float dz, int count) => Backward<HardswishOp>(ref z, ref dz, count, default);

    /// <summary>
    /// For tests: the values (or derivatives) of activation <paramref name="name"/> (a method name of this class) at each
    /// <paramref name="z"/>, in double before the rounding to float, computed in steps of the current lanes (the last one
    /// zero-padded), so a test can check that a lane's bits do not depend on its neighbours.
    /// </summary>
    internal static double[] EvaluateInDouble(string name, bool derivative, double[] z, double a = 0, double b = 0)
    {
        var p = new Parameters(a, b);
        return name switch
        {
            nameof(Tanh) => Evaluate<TanhOp>(derivative, z, p),
            nameof(Sigmoid) => Evaluate<SigmoidOp>(derivative, z, p),
            nameof(Elu) => Evaluate<EluOp>(derivative, z, p),
            nameof(Selu) => Evaluate<SeluOp>(derivative, z, p),
            nameof(Celu) => Evaluate<CeluOp>(derivative, z, p),
            nameof(Gelu) => Evaluate<GeluOp>(derivative, z, p),
            nameof(GeluTanh) => Evaluate<GeluTanhOp>(derivative, z, p),
            nameof(Softplus) => Evaluate<SoftplusOp>(derivative, z, p),
            nameof(Silu) => Evaluate<SiluOp>(derivative, z, p),
            nameof(Mish) => Evaluate<MishOp>(derivative, z, p),
            nameof(Hardtanh) => Evaluate<HardtanhOp>(derivative, z, p),
            nameof(Hardswish) => Evaluate<HardswishOp>(derivative, z, p),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not an activation of ActivationKernels"),
        };
    }

    /// <summary>For tests: exp of each <paramref name="x"/> (in [-708, 708]) by the kernels' own exponential on the current lanes.</summary>
    internal static double[] ExpInDouble(double[] x) => LanesInDouble(x, 0);

    /// <summary>For tests: log of each <paramref name="x"/> by the kernels' own logarithm (LaneMath.Log) on the current lanes.</summary>
    internal static double[] LogInDouble(double[] x) => LanesInDouble(x, 1);

    /// <summary>For tests: log(1 + t) of each <paramref name="t"/> in [0, 1] by LaneMath.Log1pUnit on the current lanes.</summary>
    internal static double[] Log1pUnitInDouble(double[] t) => LanesInDouble(t, 2);

    private static double[] LanesInDouble(double[] x, int function)
    {
        if (Vector512.IsHardwareAccelerated)
            return LanesInDouble<L512>(x, function);
        if (Vector256.IsHardwareAccelerated)
            return LanesInDouble<L256>(x, function);
        if (Vector128.IsHardwareAccelerated)
            return LanesInDouble<L128>(x, function);
        return LanesInDouble<L1>(x, function);
    }

    private static double[] LanesInDouble<T>(double[] x, int function) where T : struct, ILanes<T>
    {
        int step = T.Floats;
        var padded = new double[(x.Length + step - 1) / step * step];
        x.CopyTo(padded, 0);
        for (int i = 0; i < padded.Length; i += step)
        {
            T.LoadDoubles(ref padded[i], out var lo, out var hi);
            if (function == 1)
                T.StoreDoubles(ref padded[i], Log(lo), Log(hi));
            else if (function == 2)
                T.StoreDoubles(ref padded[i], Log1pUnit(lo), Log1pUnit(hi));
            else
                T.StoreDoubles(ref padded[i], ExpInRange(lo), ExpInRange(hi));
        }
        return padded[..x.Length];
    }

    private static double[] Evaluate<TOp>(bool derivative, double[] z, Parameters p) where TOp : struct, IOp
    {
        if (Vector512.IsHardwareAccelerated)
            return Evaluate<TOp, L512>(derivative, z, p);
        if (Vector256.IsHardwareAccelerated)
            return Evaluate<TOp, L256>(derivative, z, p);
        if (Vector128.IsHardwareAccelerated)
            return Evaluate<TOp, L128>(derivative, z, p);
        return Evaluate<TOp, L1>(derivative, z, p);
    }

    private static double[] Evaluate<TOp, T>(bool derivative, double[] z, Parameters p) where TOp : struct, IOp where T : struct, ILanes<T>
    {
        int step = T.Floats;
        var padded = new double[(z.Length + step - 1) / step * step];
        z.CopyTo(padded, 0);
        for (int i = 0; i < padded.Length; i += step)
        {
            T.LoadDoubles(ref padded[i], out var lo, out var hi);
            T.StoreDoubles(ref padded[i], derivative ? TOp.Derivative(lo, p) : TOp.Value(lo, p), derivative ? TOp.Derivative(hi, p) : TOp.Value(hi, p));
        }
        return padded[..z.Length];
    }

    // ---- drivers ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Forward<TOp>(ref float y, ref float pre, int count, bool keepPre, Parameters p) where TOp : struct, IOp
    {
        if (count <= 0)
            return;
        if (Vector512.IsHardwareAccelerated)
            Forward<TOp, L512>(ref y, ref pre, count, keepPre, p);
        else if (Vector256.IsHardwareAccelerated)
            Forward<TOp, L256>(ref y, ref pre, count, keepPre, p);
        else if (Vector128.IsHardwareAccelerated)
            Forward<TOp, L128>(ref y, ref pre, count, keepPre, p);
        else
            Forward<TOp, L1>(ref y, ref pre, count, keepPre, p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Backward<TOp>(ref float z, ref float dz, int count, Parameters p) where TOp : struct, IOp
    {
        if (count <= 0)
            return;
        if (Vector512.IsHardwareAccelerated)
            Backward<TOp, L512>(ref z, ref dz, count, p);
        else if (Vector256.IsHardwareAccelerated)
            Backward<TOp, L256>(ref z, ref dz, count, p);
        else if (Vector128.IsHardwareAccelerated)
            Backward<TOp, L128>(ref z, ref dz, count, p);
        else
            Backward<TOp, L1>(ref z, ref dz, count, p);
    }

    private const int MaxFloats = 16; // floats per step of the widest lanes

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward<TOp, T>(ref float y, ref float pre, int count, bool keepPre, Parameters p) where TOp : struct, IOp where T : struct, ILanes<T>
    {
        int step = T.Floats, i = 0;
        for (; i <= count - step; i += step)
        {
            ref float yi = ref Unsafe.Add(ref y, i);
            T.Load(ref yi, out var lo, out var hi);
            if (keepPre)
                T.Copy(ref yi, ref Unsafe.Add(ref pre, i));
            T.Store(ref yi, TOp.Value(lo, p), TOp.Value(hi, p));
        }
        int rest = count - i;
        if (rest > 0)
        {
            // The same vector code on a zero-padded copy: each element gets the bits it gets in a full vector.
            Span<float> tail = stackalloc float[MaxFloats];
            var run = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref y, i), rest);
            run.CopyTo(tail);
            if (keepPre)
                run.CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref pre, i), rest));
            ref float t0 = ref MemoryMarshal.GetReference(tail);
            T.Load(ref t0, out var lo, out var hi);
            T.Store(ref t0, TOp.Value(lo, p), TOp.Value(hi, p));
            tail.Slice(0, rest).CopyTo(run);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Backward<TOp, T>(ref float z, ref float dz, int count, Parameters p) where TOp : struct, IOp where T : struct, ILanes<T>
    {
        int step = T.Floats, i = 0;
        for (; i <= count - step; i += step)
        {
            ref float di = ref Unsafe.Add(ref dz, i);
            T.Load(ref Unsafe.Add(ref z, i), out var zLo, out var zHi);
            T.Load(ref di, out var dLo, out var dHi);
            T.Store(ref di, dLo * TOp.Derivative(zLo, p), dHi * TOp.Derivative(zHi, p));
        }
        int rest = count - i;
        if (rest > 0)
        {
            Span<float> tail = stackalloc float[2 * MaxFloats];
            var zRun = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref z, i), rest);
            var dRun = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref dz, i), rest);
            zRun.CopyTo(tail);
            dRun.CopyTo(tail.Slice(MaxFloats));
            ref float z0 = ref MemoryMarshal.GetReference(tail);
            ref float d0 = ref Unsafe.Add(ref z0, MaxFloats);
            T.Load(ref z0, out var zLo, out var zHi);
            T.Load(ref d0, out var dLo, out var dHi);
            T.Store(ref d0, dLo * TOp.Derivative(zLo, p), dHi * TOp.Derivative(zHi, p));
            tail.Slice(MaxFloats, rest).CopyTo(dRun);
        }
    }

    // ---- the activations, written once over any lanes ----

    private readonly record struct Parameters(double A, double B);

    private interface IOp
    {
        static abstract T Value<T>(T z, Parameters p) where T : struct, ILanes<T>;

        static abstract T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T>;
    }

    private struct TanhOp : IOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Value<T>(T z, Parameters p) where T : struct, ILanes<T>
        {
            // |z| < 2⁻¹⁰: the series to z⁷ (next term 2·10⁻²⁶ relative); else (1 - e)/(1 + e) with e = exp(-2|z|).
            var z2 = z * z;
            var series = z * (T.Create(1) + z2 * (T.Create(-1.0 / 3) + z2 * (T.Create(2.0 / 15) + z2 * T.Create(-17.0 / 315))));
            var e = Exp(T.Create(-2) * T.Abs(z));
            var magnitude = (T.Create(1) - e) / (T.Create(1) + e);
            var signed = T.Select(T.LessThan(z, T.Create(0)), T.Create(0) - magnitude, magnitude);
            return KeepNaN(z, T.Select(T.LessThan(T.Abs(z), T.Create(1.0 / 1024)), series, signed));
        }

        public static T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T> => throw new NotSupportedException();
    }

    private struct SigmoidOp : IOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Value<T>(T z, Parameters p) where T : struct, ILanes<T> => KeepNaN(z, T.Create(1) / (T.Create(1) + Exp(T.Create(0) - z)));

        public static T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T> => throw new NotSupportedException();
    }

    private struct EluOp : IOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Value<T>(T z, Parameters p) where T : struct, ILanes<T>
            => KeepNaN(z, T.Select(T.GreaterThan(z, T.Create(0)), z, T.Create(p.A) * ExpM1(z)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T>
            => KeepNaN(z, T.Select(T.GreaterThan(z, T.Create(0)), T.Create(1), T.Create(p.A) * Exp(z)));
    }

    private struct SeluOp : IOp
    {
        private const double Scale = 1.0507009873554805, Alpha = 1.6732632423543772;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Value<T>(T z, Parameters p) where T : struct, ILanes<T>
            => KeepNaN(z, T.Create(Scale) * T.Select(T.GreaterThan(z, T.Create(0)), z, T.Create(Alpha) * ExpM1(z)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T>
            => KeepNaN(z, T.Create(Scale) * T.Select(T.GreaterThan(z, T.Create(0)), T.Create(1), T.Create(Alpha) * Exp(z)));
    }

    private struct CeluOp : IOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Value<T>(T z, Parameters p) where T : struct, ILanes<T>
            => KeepNaN(z, T.Select(T.GreaterThan(z, T.Create(0)), z, T.Create(p.A) * ExpM1(z / T.Create(p.A))));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T>
            => KeepNaN(z, T.Select(T.GreaterThan(z, T.Create(0)), T.Create(1), Exp(z / T.Create(p.A))));
    }

    private struct GeluOp : IOp
    {
        private const double InvSqrt2 = 0.70710678118654752, InvSqrt2Pi = 0.3989422804014327;

        /// <summary>
        /// h(t) = erfc(x)·exp(x²)/t with t = 2/(2 + x), as a polynomial in u = 2t - 1 (a₀ first): a least-squares Chebyshev fit of
        /// degree 20 (Runtime/Core/fit_erfc.py; erfc's relative error below 4·10⁻¹⁴ on [0, 26]).
        /// </summary>
        private static ReadOnlySpan<double> Erfc => new[]
        {
            0.5107913526210103, 0.3435803422072124, 0.13973604627851466, 0.018221115730393173, -0.01075533096419894,
            -0.003239592019636516, 0.0015453063200252938, 0.0004186427396716441, -0.0003315389200922111, -1.7155536497668235e-05,
            7.224449521177734e-05, -1.717923064194696e-05, -1.0870585203797168e-05, 8.292810683746883e-06, -5.321679253346402e-07,
            -2.157018730662813e-06, 9.867569545604342e-07, 3.1052791644500345e-07, -3.068014806080357e-07, -1.609729731700254e-08,
            3.88541259709803e-08,
        };

        /// <summary>
        /// Q(u) = (Φ(√u) - 1/2)/√u on u = z² ∈ [0, 9], a₀ first: a least-squares Chebyshev fit of degree 16 written in u
        /// (Runtime/Core/fit_cdf.py; Φ = 1/2 + z·Q(z²) within 2.1·10⁻¹² relative on [-3, 3], most of it the cancellation near -3).
        /// </summary>
        private static ReadOnlySpan<double> CdfNearZero => new[]
        {
            0.3989422804014324, -0.06649038006689476, 0.009973557009928996, -0.0011873282150646253, 0.00011543468676927064,
            -9.444655208990656e-06, 6.659684843746826e-07, -4.122617058298061e-08, 2.273316757703036e-09, -1.1294452429546692e-10,
            5.096429079268116e-12, -2.0927827794191405e-13, 7.734636109011952e-15, -2.48178326912635e-16, 6.406803524613642e-18,
            -1.1546690457630906e-19, 1.0599419010629653e-21,
        };

        /// <summary>
        /// Φ(z): 1/2 + z·Q(z²) where |z| ≤ 3 (no exp, no division); beyond, erfc(|z|/√2)/2 below zero and 1 minus it above,
        /// computed only when a lane of the vector needs it. Each lane's formula depends on its own z alone.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static T Cdf<T>(T z) where T : struct, ILanes<T>
        {
            var u = z * z;
            var u2 = u * u;
            ReadOnlySpan<double> a = CdfNearZero;
            T even = T.Create(a[16]), odd = T.Create(a[15]);
            for (int k = 13; k >= 1; k -= 2)
            {
                even = even * u2 + T.Create(a[k + 1]);
                odd = odd * u2 + T.Create(a[k]);
            }
            even = even * u2 + T.Create(a[0]);
            var near = T.Create(0.5) + z * (even + u * odd);
            var far = T.GreaterThan(T.Abs(z), T.Create(3));
            return T.Any(far) ? T.Select(far, CdfFar(z), near) : near;
        }

        /// <summary>Φ = erfc(|z|/√2)/2 below zero, 1 minus it from zero (no cancellation in either).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static T CdfFar<T>(T z) where T : struct, ILanes<T>
        {
            var x = T.Abs(z) * T.Create(InvSqrt2);
            var t = T.Create(2) / (T.Create(2) + x);
            var u = t + t - T.Create(1);
            var u2 = u * u;
            // h = even(u²) + u·odd(u²): two independent Horner chains of 10 steps instead of one of 20.
            ReadOnlySpan<double> a = Erfc;
            T even = T.Create(a[20]), odd = T.Create(a[19]);
            for (int k = 17; k >= 1; k -= 2)
            {
                even = even * u2 + T.Create(a[k + 1]);
                odd = odd * u2 + T.Create(a[k]);
            }
            even = even * u2 + T.Create(a[0]);
            var h = even + u * odd;
            var gauss = Exp(T.Create(-0.5) * z * z); // z is a float: z² is exact in double
            var half = T.Create(0.5) * t * gauss * h; // erfc(x) / 2
            return T.Select(T.LessThan(z, T.Create(0)), half, T.Create(1) - half);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Value<T>(T z, Parameters p) where T : struct, ILanes<T>
            => KeepNaN(z, AtInfinity(z, z * Cdf(z), double.PositiveInfinity, -0.0));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T>
        {
            var gauss = Exp(T.Create(-0.5) * z * z);
            return KeepNaN(z, AtInfinity(z, Cdf(z) + z * T.Create(InvSqrt2Pi) * gauss, 1, 0));
        }
    }

    private struct GeluTanhOp : IOp
    {
        private const double Beta = 0.79788456080286536, Kappa = 0.044715; // sqrt(2/π)

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Value<T>(T z, Parameters p) where T : struct, ILanes<T>
        {
            // 0.5·z·(1 + tanh(u)) = z / (1 + exp(-2u)), u = β(z + κz³)
            var u = T.Create(Beta) * (z + T.Create(Kappa) * z * z * z);
            return KeepNaN(z, AtInfinity(z, z / (T.Create(1) + Exp(T.Create(-2) * u)), double.PositiveInfinity, -0.0));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T>
        {
            // 0.5·(1 + t) + 0.5·z·(1 - t²)·β(1 + 3κz²) with t = tanh(u): s = (1 + t)/2 = 1/(1 + e), e = exp(-2u),
            // 1 - s = e·s, so the derivative is s + 2z·s·(e·s)·β(1 + 3κz²).
            var z2 = z * z;
            var u = T.Create(Beta) * (z + T.Create(Kappa) * z2 * z);
            var e = Exp(T.Create(-2) * u);
            var s = T.Create(1) / (T.Create(1) + e);
            return KeepNaN(z, AtInfinity(z, s + T.Create(2) * z * s * (e * s) * T.Create(Beta) * (T.Create(1) + T.Create(3 * Kappa) * z2), 1, 0));
        }
    }

    private struct SoftplusOp : IOp
    {
        // PyTorch works in float: beta and threshold are rounded to float, and the branch compares the float product
        // (float)(x·beta) with them (with beta = 1 and threshold = 0.1, x = 0.1f is not above the threshold).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static T AboveThreshold<T>(T z, Parameters p) where T : struct, ILanes<T>
            => T.GreaterThan(T.RoundToFloat(T.Create((float)p.A) * z), T.Create((float)p.B));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Value<T>(T z, Parameters p) where T : struct, ILanes<T>
        {
            // log(1 + exp(βz))/β = (max(βz, 0) + log1p(exp(-|βz|)))/β; z itself above the threshold.
            var beta = T.Create((float)p.A);
            var bz = beta * z;
            var softplus = (T.Max(bz, T.Create(0)) + Log1pUnit(Exp(T.Create(0) - T.Abs(bz)))) / beta;
            return KeepNaN(z, T.Select(AboveThreshold(z, p), z, softplus));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T>
        {
            var bz = T.Create((float)p.A) * z;
            return KeepNaN(z, T.Select(AboveThreshold(z, p), T.Create(1), T.Create(1) / (T.Create(1) + Exp(T.Create(0) - bz))));
        }
    }

    private struct SiluOp : IOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Value<T>(T z, Parameters p) where T : struct, ILanes<T>
            => KeepNaN(z, AtInfinity(z, z / (T.Create(1) + Exp(T.Create(0) - z)), double.PositiveInfinity, -0.0));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T>
        {
            // σ·(1 + z·(1 - σ)) with 1 - σ = e·σ, e = exp(-z)
            var e = Exp(T.Create(0) - z);
            var s = T.Create(1) / (T.Create(1) + e);
            return KeepNaN(z, AtInfinity(z, s * (T.Create(1) + z * (e * s)), 1, 0));
        }
    }

    private struct MishOp : IOp
    {
        private const double Threshold = 20; // PyTorch's softplus threshold inside Mish

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Value<T>(T z, Parameters p) where T : struct, ILanes<T>
        {
            // tanh(softplus(z)) = n/(n + 2) with n = eᶻ(eᶻ + 2); z itself above 20, where softplus(z) = z.
            var u = Exp(T.Min(z, T.Create(Threshold)));
            var n = u * (u + T.Create(2));
            return KeepNaN(z, AtInfinity(z, T.Select(T.GreaterThan(z, T.Create(Threshold)), z, z * (n / (n + T.Create(2)))), double.PositiveInfinity, -0.0));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T>
        {
            // t + z·(1 - t²)·σ(z), t = n/(n + 2), 1 - t² = 4(n + 1)/(n + 2)², σ = u/(1 + u); 1 above 20 (t rounds to 1 there).
            var u = Exp(T.Min(z, T.Create(Threshold)));
            var n = u * (u + T.Create(2));
            var n2 = n + T.Create(2);
            var t = n / n2;
            var oneMinusT2 = T.Create(4) * (n + T.Create(1)) / (n2 * n2);
            var sigmoid = u / (T.Create(1) + u);
            return KeepNaN(z, AtInfinity(z, T.Select(T.GreaterThan(z, T.Create(Threshold)), T.Create(1), t + z * oneMinusT2 * sigmoid), 1, 0));
        }
    }

    private struct HardtanhOp : IOp
    {
        // PyTorch compares a float tensor with its bounds converted to float: Hardtanh'(0.7f) is 0 with max_val = 0.7.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Value<T>(T z, Parameters p) where T : struct, ILanes<T>
            => KeepNaN(z, T.Min(T.Max(z, T.Create((float)p.A)), T.Create((float)p.B)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T>
            => T.Select(T.LessThanOrEqual(z, T.Create((float)p.A)), T.Create(0), T.Select(T.GreaterThanOrEqual(z, T.Create((float)p.B)), T.Create(0), T.Create(1)));
    }

    private struct HardswishOp : IOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Value<T>(T z, Parameters p) where T : struct, ILanes<T>
        {
            var middle = z * (z + T.Create(3)) / T.Create(6);
            return KeepNaN(z, T.Select(T.LessThanOrEqual(z, T.Create(-3)), T.Create(0), T.Select(T.GreaterThanOrEqual(z, T.Create(3)), z, middle)));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Derivative<T>(T z, Parameters p) where T : struct, ILanes<T>
            => T.Select(T.LessThan(z, T.Create(-3)), T.Create(0), T.Select(T.LessThanOrEqual(z, T.Create(3)), z / T.Create(3) + T.Create(0.5), T.Create(1)));
    }

    // ---- lanes ----
}
