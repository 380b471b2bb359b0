using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static DslModels.LaneMath;

namespace DslModels;

/// <summary>
/// Softmax and LogSoftmax over one row (a sample's classes), and their backward passes, on the same lanes of doubles as the
/// element-wise activations.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A row is one unit: its max, its sum of exponentials (in double: lane accumulators, then across them) and its
/// outputs depend only on its own values, so a sample's bits do not depend on the batch or the thread that computes it. The
/// last elements that do not fill a vector go through the same code from a copy padded with -∞ (whose exponential is 0).</item>
/// <item>Softmax: <c>p = e / Σe</c> with <c>e = exp(x - max)</c> in double, rounded once to float. LogSoftmax:
/// <c>(x - max) - log(Σe)</c> in double, rounded once. Exponents below -708 are raised to -708 (e ≈ 3·10⁻³⁰⁸, which rounds
/// to a float 0 as the true value does, and cannot move a sum that is at least 1); -∞ gives exactly 0.</item>
/// <item>PyTorch's results for non-finite rows: a NaN or a +∞ anywhere, or a row of only -∞, makes the whole row NaN; a -∞ logit
/// among finite ones gets probability 0 (log-probability -∞) and passes the upstream gradient through unchanged.</item>
/// </list>
/// </remarks>
public static partial class ActivationKernels
{
    /// <summary><c>nn.Softmax(dim=1)</c> in place over one row of <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Softmax(ref float row, int count) => DispatchRow(ref row, ref row, count, RowOp.Softmax);

    /// <summary><c>nn.LogSoftmax(dim=1)</c> in place over one row of <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LogSoftmax(ref float row, int count) => DispatchRow(ref row, ref row, count, RowOp.LogSoftmax);

    /// <summary>Softmax's backward over one row, from its output <paramref name="y"/>: dz = y ⊙ (dy - Σ_c dy_c y_c), dy in <paramref name="dz"/> on entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SoftmaxBackward(ref float y, ref float dz, int count) => DispatchRow(ref y, ref dz, count, RowOp.SoftmaxBackward);

    /// <summary>LogSoftmax's backward over one row, from its output <paramref name="y"/>: dz = dy - exp(y) Σ_c dy_c, dy in <paramref name="dz"/> on entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LogSoftmaxBackward(ref float y, ref float dz, int count) => DispatchRow(ref y, ref dz, count, RowOp.LogSoftmaxBackward);

    /// <summary>
    /// Cross-entropy of one row of logits <paramref name="x"/> against class <paramref name="target"/> (checked by the caller), for
    /// CrossEntropyLoss's rows of many classes: the term <c>log Σ exp(x) - x[target]</c> in <paramref name="term"/> and, unless
    /// <paramref name="grad"/> is empty, <c>scale · (softmax(x) - onehot(target))</c> in it, each exponential computed twice
    /// rather than kept. Returns false, having written nothing, when the row holds a NaN or its max is not finite: the caller's
    /// scalar path gives those PyTorch's NaNs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool CrossEntropyRow(ReadOnlySpan<float> x, int target, double scale, Span<float> grad, out double term)
        => CrossEntropyRow(x, target, default, 0, x.Length, scale, grad, out term);

    /// <summary>
    /// <see cref="CrossEntropyRow(ReadOnlySpan{float}, int, double, Span{float}, out double)"/> with class weights w (none: 1)
    /// summing to <paramref name="weightSum"/>, and label smoothing ε, as PyTorch defines them: with lsm = log_softmax(x) and
    /// C classes, <c>term = (1 - ε)·w[t]·(-lsm[t]) + (ε/C)·Σ_c w[c]·(-lsm[c])</c>, and
    /// <c>grad[c] = scale·(((1 - ε)·w[t] + ε·W/C)·p[c] - (ε/C)·w[c] - (1 - ε)·w[t]·[c = t])</c> with p = softmax(x).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool CrossEntropyRow(ReadOnlySpan<float> x, int target, ReadOnlySpan<float> weight, double eps, double weightSum,
        double scale, Span<float> grad, out double term)
    {
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float w0 = ref MemoryMarshal.GetReference(weight);
        ref float g0 = ref MemoryMarshal.GetReference(grad);
        var c = new CrossEntropyConstants(target, !weight.IsEmpty, eps, weightSum, scale, !grad.IsEmpty);
        if (Vector512.IsHardwareAccelerated)
            return CrossEntropyRow<L512>(ref x0, ref w0, x.Length, c, ref g0, out term);
        if (Vector256.IsHardwareAccelerated)
            return CrossEntropyRow<L256>(ref x0, ref w0, x.Length, c, ref g0, out term);
        if (Vector128.IsHardwareAccelerated)
            return CrossEntropyRow<L128>(ref x0, ref w0, x.Length, c, ref g0, out term);
        return CrossEntropyRow<L1>(ref x0, ref w0, x.Length, c, ref g0, out term);
    }

    private readonly record struct CrossEntropyConstants(int Target, bool Weighted, double Eps, double WeightSum, double Scale, bool WantGrad);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool CrossEntropyRow<T>(ref float x, ref float w, int count, CrossEntropyConstants c, ref float grad, out double term) where T : struct, ILanes<T>
    {
        term = 0;
        int step = T.Floats, full = count - count % step, rest = count - full, end = rest > 0 ? full + step : full;
        // Tails: x padded with -∞ (exp 0), the weights with 0, the gradient's, and 1 in the lanes that hold elements.
        Span<float> tail = stackalloc float[4 * MaxFloats];
        tail.Slice(0, MaxFloats).Fill(float.NegativeInfinity);
        tail.Slice(MaxFloats).Clear();
        tail.Slice(3 * MaxFloats, rest).Fill(1f);
        MemoryMarshal.CreateSpan(ref Unsafe.Add(ref x, full), rest).CopyTo(tail);
        if (c.Weighted)
            MemoryMarshal.CreateSpan(ref Unsafe.Add(ref w, full), rest).CopyTo(tail.Slice(MaxFloats));
        ref float xTail = ref MemoryMarshal.GetReference(tail);
        ref float wTail = ref Unsafe.Add(ref xTail, MaxFloats);
        ref float gTail = ref Unsafe.Add(ref xTail, 2 * MaxFloats);
        ref float valid = ref Unsafe.Add(ref xTail, 3 * MaxFloats);
        double max = Max<T>(ref x, full, end, ref xTail);
        if (!double.IsFinite(max))
            return false;
        var m = T.Create(max);
        var (k, t) = ExpSums<T>(ref x, full, end, ref xTail, m);
        if (double.IsNaN(t))
            return false;
        double sum = k + t, logSum = LogOfSum(k, t), classes = count;
        double wt = c.Weighted ? Unsafe.Add(ref w, c.Target) : 1.0;
        // -lsm[c] = (max - x[c]) + log Σe
        term = (1 - c.Eps) * wt * ((max - Unsafe.Add(ref x, c.Target)) + logSum);
        if (c.Eps > 0)
        {
            // Σ_c w[c]·(-lsm[c]); the padded lanes of the tail (x = -∞: (max - x) = ∞) are left out by position.
            T zero = T.Create(0), one = T.Create(1), accLo = zero, accHi = zero, ls = T.Create(logSum);
            for (int i = 0; i < end; i += step)
            {
                bool inTail = i >= full;
                T.Load(ref inTail ? ref xTail : ref Unsafe.Add(ref x, i), out var lo, out var hi);
                T wLo = one, wHi = one;
                if (c.Weighted)
                    T.Load(ref inTail ? ref wTail : ref Unsafe.Add(ref w, i), out wLo, out wHi);
                var nLo = wLo * ((m - lo) + ls);
                var nHi = wHi * ((m - hi) + ls);
                if (inTail)
                {
                    T.Load(ref valid, out var vLo, out var vHi);
                    nLo = T.Select(T.GreaterThan(vLo, zero), nLo, zero);
                    nHi = T.Select(T.GreaterThan(vHi, zero), nHi, zero);
                }
                accLo += nLo;
                accHi += nHi;
            }
            term += c.Eps / classes * SumOf(accLo, accHi);
        }
        if (!c.WantGrad)
            return true;
        // grad[c] = e[c]·(A/Σe) - B·w[c], A = scale·((1 - ε)·w[t] + ε·W/C), B = scale·ε/C; the target's below.
        double coefA = (1 - c.Eps) * wt + c.Eps * c.WeightSum / classes;
        var a = T.Create(c.Scale * coefA / sum);
        var b = T.Create(c.Scale * c.Eps / classes);
        for (int i = 0; i < end; i += step)
        {
            bool inTail = i >= full;
            T.Load(ref inTail ? ref xTail : ref Unsafe.Add(ref x, i), out var lo, out var hi);
            var gLo = ExpOrZero(lo - m) * a;
            var gHi = ExpOrZero(hi - m) * a;
            if (c.Eps > 0)
            {
                T wLo = T.Create(1), wHi = T.Create(1);
                if (c.Weighted)
                    T.Load(ref inTail ? ref wTail : ref Unsafe.Add(ref w, i), out wLo, out wHi);
                gLo -= b * wLo;
                gHi -= b * wHi;
            }
            T.Store(ref inTail ? ref gTail : ref Unsafe.Add(ref grad, i), gLo, gHi);
        }
        MemoryMarshal.CreateSpan(ref gTail, rest).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref grad, full), rest));
        // The target: scale·(A'·p[t] - (ε/C)·w[t] - (1 - ε)·w[t]), with e[t] as the lanes computed it (every lane of a broadcast
        // gets the same bits). Without weights and smoothing this is (p[t] - 1)·scale.
        Span<double> lanes = stackalloc double[MaxFloats];
        var et = ExpOrZero(T.Create(Unsafe.Add(ref x, c.Target)) - m);
        T.StoreDoubles(ref MemoryMarshal.GetReference(lanes), et, et);
        double coefT = c.Eps / classes * wt + (1 - c.Eps) * wt;
        Unsafe.Add(ref grad, c.Target) = (float)((coefA * (lanes[0] / sum) - coefT) * c.Scale);
        return true;
    }

    private enum RowOp
    {
        Softmax,
        LogSoftmax,
        SoftmaxBackward,
        LogSoftmaxBackward,
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DispatchRow(ref float y, ref float dz, int count, RowOp op)
    {
        if (count <= 0)
            return;
        if (Vector512.IsHardwareAccelerated)
            Row<L512>(ref y, ref dz, count, op);
        else if (Vector256.IsHardwareAccelerated)
            Row<L256>(ref y, ref dz, count, op);
        else if (Vector128.IsHardwareAccelerated)
            Row<L128>(ref y, ref dz, count, op);
        else
            Row<L1>(ref y, ref dz, count, op);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<T>(ref float y, ref float dz, int count, RowOp op) where T : struct, ILanes<T>
    {
        int step = T.Floats, full = count - count % step, rest = count - full, end = rest > 0 ? full + step : full;
        // The last elements, padded: with -∞ for the forward passes (exp(-∞) = 0 adds nothing), with 0 for the backward ones.
        bool forward = op is RowOp.Softmax or RowOp.LogSoftmax;
        Span<float> tail = stackalloc float[2 * MaxFloats];
        tail.Fill(forward ? float.NegativeInfinity : 0f);
        var yRun = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref y, full), rest);
        var dRun = MemoryMarshal.CreateSpan(ref Unsafe.Add(ref dz, full), rest);
        yRun.CopyTo(tail);
        if (!forward)
            dRun.CopyTo(tail.Slice(MaxFloats));
        ref float yTail = ref MemoryMarshal.GetReference(tail);
        ref float dTail = ref Unsafe.Add(ref yTail, MaxFloats);
        if (forward)
        {
            double max = Max<T>(ref y, full, end, ref yTail);
            var m = T.Create(max);
            var (k, t) = ExpSums<T>(ref y, full, end, ref yTail, m);
            double sum = k + t;
            if (op == RowOp.Softmax)
            {
                var s = T.Create(sum);
                for (int i = 0; i < end; i += step)
                {
                    ref float at = ref i < full ? ref Unsafe.Add(ref y, i) : ref yTail;
                    T.Load(ref at, out var lo, out var hi);
                    T.Store(ref at, ExpOrZero(lo - m) / s, ExpOrZero(hi - m) / s);
                }
            }
            else
            {
                var logSum = T.Create(LogOfSum(k, t));
                for (int i = 0; i < end; i += step)
                {
                    ref float at = ref i < full ? ref Unsafe.Add(ref y, i) : ref yTail;
                    T.Load(ref at, out var lo, out var hi);
                    T.Store(ref at, lo - m - logSum, hi - m - logSum);
                }
            }
            tail.Slice(0, rest).CopyTo(yRun);
            return;
        }
        // Σ_c dy_c y_c (Softmax) or Σ_c dy_c (LogSoftmax)
        T aLo = T.Create(0), aHi = T.Create(0);
        for (int i = 0; i < end; i += step)
        {
            T.Load(ref i < full ? ref Unsafe.Add(ref dz, i) : ref dTail, out var dLo, out var dHi);
            if (op == RowOp.SoftmaxBackward)
            {
                T.Load(ref i < full ? ref Unsafe.Add(ref y, i) : ref yTail, out var yLo, out var yHi);
                dLo *= yLo;
                dHi *= yHi;
            }
            aLo += dLo;
            aHi += dHi;
        }
        var total = T.Create(SumOf(aLo, aHi));
        for (int i = 0; i < end; i += step)
        {
            ref float d = ref i < full ? ref Unsafe.Add(ref dz, i) : ref dTail;
            T.Load(ref i < full ? ref Unsafe.Add(ref y, i) : ref yTail, out var yLo, out var yHi);
            T.Load(ref d, out var dLo, out var dHi);
            if (op == RowOp.SoftmaxBackward)
                T.Store(ref d, yLo * (dLo - total), yHi * (dHi - total));
            else
                T.Store(ref d, dLo - ExpOrZero(yLo) * total, dHi - ExpOrZero(yHi) * total);
        }
        tail.Slice(MaxFloats, rest).CopyTo(dRun);
    }

    /// <summary>
    /// Σ exp(x - max) over a row as k + t: k the elements equal to the max (each exp(0) = 1), t the others' sum, so that
    /// log(k + t) can keep a small t (<see cref="LogOfSum"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (double K, double T) ExpSums<T>(ref float y, int full, int end, ref float tail, T m) where T : struct, ILanes<T>
    {
        T zero = T.Create(0), one = T.Create(1), tLo = zero, tHi = zero, kLo = zero, kHi = zero;
        for (int i = 0; i < end; i += T.Floats)
        {
            T.Load(ref i < full ? ref Unsafe.Add(ref y, i) : ref tail, out var lo, out var hi);
            var dLo = lo - m;
            var dHi = hi - m;
            var atLo = T.Equals(dLo, zero);
            var atHi = T.Equals(dHi, zero);
            tLo += T.Select(atLo, zero, ExpOrZero(dLo));
            tHi += T.Select(atHi, zero, ExpOrZero(dHi));
            kLo += T.Select(atLo, one, zero);
            kHi += T.Select(atHi, one, zero);
        }
        return (SumOf(kLo, kHi), SumOf(tLo, tHi));
    }

    /// <summary>log(k + t): log1p(t) for a single max (-log(1 + t) would round to 0 from a sum rounded to 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double LogOfSum(double k, double t) => k == 1 ? Log1p(t) : Math.Log(k + t);

    /// <summary>exp(x) for x ≤ 0: exactly 0 at -∞, exp(-708) below -708 (on the vector path), NaN for NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T ExpOrZero<T>(T x) where T : struct, ILanes<T>
        // Max(-708, x) keeps a NaN x (it returns its second argument unless the first is greater).
        => T.Select(T.Equals(x, T.Create(double.NegativeInfinity)), T.Create(0), ExpInRange(T.Max(T.Create(-MaxExpArgument), x)));


    /// <summary>The row's largest value; NaNs are skipped here (they make the row NaN through their own exponentials).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Max<T>(ref float y, int full, int end, ref float tail) where T : struct, ILanes<T>
    {
        var lowest = T.Create(double.NegativeInfinity);
        T mLo = lowest, mHi = lowest;
        int step = T.Floats;
        for (int i = 0; i < end; i += step)
        {
            T.Load(ref i < full ? ref Unsafe.Add(ref y, i) : ref tail, out var lo, out var hi);
            mLo = T.Max(lo, mLo); // a NaN lane of lo keeps mLo
            mHi = T.Max(hi, mHi);
        }
        return T.MaxAcross(T.Max(mLo, mHi));
    }

    /// <summary>The lanes of two accumulators summed: lane by lane, then across.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double SumOf<T>(T lo, T hi) where T : struct, ILanes<T> => T.SumAcross(lo + hi);
}
