using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DslModels.Losses;

/// <summary>
/// An element-wise loss term <c>l(x, y)</c> with its partial derivatives <c>dl/dx</c> and <c>dl/dy</c>, in scalar
/// and SIMD form. The scalar form is the reference for the SIMD forms and handles the tails.
/// </summary>
internal interface IPointwiseLoss<T> where T : struct, IFloatingPointIeee754<T>
{
    T Eval(T x, T y, out T dx, out T dy);
    Vector128<T> Eval(Vector128<T> x, Vector128<T> y, out Vector128<T> dx, out Vector128<T> dy);
    Vector256<T> Eval(Vector256<T> x, Vector256<T> y, out Vector256<T> dx, out Vector256<T> dy);
    Vector512<T> Eval(Vector512<T> x, Vector512<T> y, out Vector512<T> dx, out Vector512<T> dy);
}

/// <summary>
/// Runs an <see cref="IPointwiseLoss{T}"/> over spans with the widest accelerated vector width
/// (Vector512, Vector256, Vector128, then scalar), writing optional per-element losses and gradients
/// <c>g_i · dl/dx</c>, <c>g_i · dl/dy</c>, and returning the sum of the losses (accumulated in double per block).
/// </summary>
internal static class PointwiseKernel
{
    private const int BlockVectors = 64;

    /// <param name="op">The loss term.</param>
    /// <param name="x">First operand (input).</param>
    /// <param name="y">Second operand (target), same length.</param>
    /// <param name="loss">Empty, or receives l_i.</param>
    /// <param name="gx">Empty, or receives g_i · dl/dx.</param>
    /// <param name="gy">Empty, or receives g_i · dl/dy.</param>
    /// <param name="scale">g_i when <paramref name="upstream"/> is empty.</param>
    /// <param name="upstream">Empty, or g_i per element.</param>
    /// <param name="maxVectorBits">Widest vector width to use (512, 256, 128, or 0 for scalar only); for tests.</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static double Run<T, TOp>(TOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> loss, Span<T> gx, Span<T> gy,
        T scale, ReadOnlySpan<T> upstream, int maxVectorBits = 512)
        where T : struct, IFloatingPointIeee754<T>
        where TOp : struct, IPointwiseLoss<T>
    {
        int n = x.Length;
        int i = 0;
        double total = 0;
        if (maxVectorBits >= 512 && Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
            i = Run512(op, x, y, loss, gx, gy, scale, upstream, ref total);
        else if (maxVectorBits >= 256 && Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
            i = Run256(op, x, y, loss, gx, gy, scale, upstream, ref total);
        else if (maxVectorBits >= 128 && Vector128.IsHardwareAccelerated && n >= Vector128<T>.Count)
            i = Run128(op, x, y, loss, gx, gy, scale, upstream, ref total);
        bool wantGrad = !gx.IsEmpty || !gy.IsEmpty;
        for (; i < n; i++)
        {
            T l = op.Eval(x[i], y[i], out T dx, out T dy);
            total += double.CreateTruncating(l);
            if (!loss.IsEmpty)
                loss[i] = l;
            if (wantGrad)
            {
                T g = upstream.IsEmpty ? scale : upstream[i];
                if (!gx.IsEmpty)
                    gx[i] = dx * g;
                if (!gy.IsEmpty)
                    gy[i] = dy * g;
            }
        }
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Run512<T, TOp>(TOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> loss, Span<T> gx, Span<T> gy,
        T scale, ReadOnlySpan<T> upstream, ref double total)
        where T : struct, IFloatingPointIeee754<T>
        where TOp : struct, IPointwiseLoss<T>
    {
        int w = Vector512<T>.Count, n = x.Length, i = 0, block = 0;
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T ry = ref MemoryMarshal.GetReference(y);
        ref T rl = ref MemoryMarshal.GetReference(loss);
        ref T rgx = ref MemoryMarshal.GetReference(gx);
        ref T rgy = ref MemoryMarshal.GetReference(gy);
        ref T ru = ref MemoryMarshal.GetReference(upstream);
        bool wantLoss = !loss.IsEmpty, wantGx = !gx.IsEmpty, wantGy = !gy.IsEmpty, perElement = !upstream.IsEmpty;
        Vector512<T> vs = Vector512.Create(scale), acc = Vector512<T>.Zero;
        for (; i <= n - w; i += w)
        {
            Vector512<T> l = op.Eval(Vector512.LoadUnsafe(ref rx, (nuint)i), Vector512.LoadUnsafe(ref ry, (nuint)i), out var dx, out var dy);
            acc += l;
            if (++block == BlockVectors)
            {
                total += double.CreateTruncating(Vector512.Sum(acc));
                acc = Vector512<T>.Zero;
                block = 0;
            }
            if (wantLoss)
                l.StoreUnsafe(ref rl, (nuint)i);
            Vector512<T> g = perElement ? Vector512.LoadUnsafe(ref ru, (nuint)i) : vs;
            if (wantGx)
                (dx * g).StoreUnsafe(ref rgx, (nuint)i);
            if (wantGy)
                (dy * g).StoreUnsafe(ref rgy, (nuint)i);
        }
        total += double.CreateTruncating(Vector512.Sum(acc));
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Run256<T, TOp>(TOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> loss, Span<T> gx, Span<T> gy,
        T scale, ReadOnlySpan<T> upstream, ref double total)
        where T : struct, IFloatingPointIeee754<T>
        where TOp : struct, IPointwiseLoss<T>
    {
        int w = Vector256<T>.Count, n = x.Length, i = 0, block = 0;
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T ry = ref MemoryMarshal.GetReference(y);
        ref T rl = ref MemoryMarshal.GetReference(loss);
        ref T rgx = ref MemoryMarshal.GetReference(gx);
        ref T rgy = ref MemoryMarshal.GetReference(gy);
        ref T ru = ref MemoryMarshal.GetReference(upstream);
        bool wantLoss = !loss.IsEmpty, wantGx = !gx.IsEmpty, wantGy = !gy.IsEmpty, perElement = !upstream.IsEmpty;
        Vector256<T> vs = Vector256.Create(scale), acc = Vector256<T>.Zero;
        for (; i <= n - w; i += w)
        {
            Vector256<T> l = op.Eval(Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256.LoadUnsafe(ref ry, (nuint)i), out var dx, out var dy);
            acc += l;
            if (++block == BlockVectors)
            {
                total += double.CreateTruncating(Vector256.Sum(acc));
                acc = Vector256<T>.Zero;
                block = 0;
            }
            if (wantLoss)
                l.StoreUnsafe(ref rl, (nuint)i);
            Vector256<T> g = perElement ? Vector256.LoadUnsafe(ref ru, (nuint)i) : vs;
            if (wantGx)
                (dx * g).StoreUnsafe(ref rgx, (nuint)i);
            if (wantGy)
                (dy * g).StoreUnsafe(ref rgy, (nuint)i);
        }
        total += double.CreateTruncating(Vector256.Sum(acc));
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Run128<T, TOp>(TOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> loss, Span<T> gx, Span<T> gy,
        T scale, ReadOnlySpan<T> upstream, ref double total)
        where T : struct, IFloatingPointIeee754<T>
        where TOp : struct, IPointwiseLoss<T>
    {
        int w = Vector128<T>.Count, n = x.Length, i = 0, block = 0;
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T ry = ref MemoryMarshal.GetReference(y);
        ref T rl = ref MemoryMarshal.GetReference(loss);
        ref T rgx = ref MemoryMarshal.GetReference(gx);
        ref T rgy = ref MemoryMarshal.GetReference(gy);
        ref T ru = ref MemoryMarshal.GetReference(upstream);
        bool wantLoss = !loss.IsEmpty, wantGx = !gx.IsEmpty, wantGy = !gy.IsEmpty, perElement = !upstream.IsEmpty;
        Vector128<T> vs = Vector128.Create(scale), acc = Vector128<T>.Zero;
        for (; i <= n - w; i += w)
        {
            Vector128<T> l = op.Eval(Vector128.LoadUnsafe(ref rx, (nuint)i), Vector128.LoadUnsafe(ref ry, (nuint)i), out var dx, out var dy);
            acc += l;
            if (++block == BlockVectors)
            {
                total += double.CreateTruncating(Vector128.Sum(acc));
                acc = Vector128<T>.Zero;
                block = 0;
            }
            if (wantLoss)
                l.StoreUnsafe(ref rl, (nuint)i);
            Vector128<T> g = perElement ? Vector128.LoadUnsafe(ref ru, (nuint)i) : vs;
            if (wantGx)
                (dx * g).StoreUnsafe(ref rgx, (nuint)i);
            if (wantGy)
                (dy * g).StoreUnsafe(ref rgy, (nuint)i);
        }
        total += double.CreateTruncating(Vector128.Sum(acc));
        return i;
    }
}

/// <summary>exp and log of float/double vectors for generic T.</summary>
internal static class VMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Exp<T>(Vector128<T> v) where T : struct
        => typeof(T) == typeof(float) ? Vector128.Exp(v.As<T, float>()).As<float, T>() : Vector128.Exp(v.As<T, double>()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp<T>(Vector256<T> v) where T : struct
        => typeof(T) == typeof(float) ? Vector256.Exp(v.As<T, float>()).As<float, T>() : Vector256.Exp(v.As<T, double>()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp<T>(Vector512<T> v) where T : struct
        => typeof(T) == typeof(float) ? Vector512.Exp(v.As<T, float>()).As<float, T>() : Vector512.Exp(v.As<T, double>()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Log<T>(Vector128<T> v) where T : struct
        => typeof(T) == typeof(float) ? Vector128.Log(v.As<T, float>()).As<float, T>() : Vector128.Log(v.As<T, double>()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Log<T>(Vector256<T> v) where T : struct
        => typeof(T) == typeof(float) ? Vector256.Log(v.As<T, float>()).As<float, T>() : Vector256.Log(v.As<T, double>()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Log<T>(Vector512<T> v) where T : struct
        => typeof(T) == typeof(float) ? Vector512.Log(v.As<T, float>()).As<float, T>() : Vector512.Log(v.As<T, double>()).As<double, T>();
}

/// <summary><c>|x - y|</c>; d/dx = sgn(x - y) with sgn(0) = 0.</summary>
internal readonly struct L1Op<T> : IPointwiseLoss<T> where T : struct, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval(T x, T y, out T dx, out T dy)
    {
        T d = x - y;
        dx = d > T.Zero ? T.One : d < T.Zero ? -T.One : T.Zero;
        dy = -dx;
        return T.Abs(d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<T> Eval(Vector128<T> x, Vector128<T> y, out Vector128<T> dx, out Vector128<T> dy)
    {
        Vector128<T> d = x - y, one = Vector128<T>.One;
        dx = (Vector128.GreaterThan(d, Vector128<T>.Zero) & one) - (Vector128.LessThan(d, Vector128<T>.Zero) & one);
        dy = -dx;
        return Vector128.Abs(d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<T> Eval(Vector256<T> x, Vector256<T> y, out Vector256<T> dx, out Vector256<T> dy)
    {
        Vector256<T> d = x - y, one = Vector256<T>.One;
        dx = (Vector256.GreaterThan(d, Vector256<T>.Zero) & one) - (Vector256.LessThan(d, Vector256<T>.Zero) & one);
        dy = -dx;
        return Vector256.Abs(d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> Eval(Vector512<T> x, Vector512<T> y, out Vector512<T> dx, out Vector512<T> dy)
    {
        Vector512<T> d = x - y, one = Vector512<T>.One;
        dx = (Vector512.GreaterThan(d, Vector512<T>.Zero) & one) - (Vector512.LessThan(d, Vector512<T>.Zero) & one);
        dy = -dx;
        return Vector512.Abs(d);
    }
}

/// <summary><c>(x - y)²</c>; d/dx = 2(x - y).</summary>
internal readonly struct MseOp<T> : IPointwiseLoss<T> where T : struct, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval(T x, T y, out T dx, out T dy)
    {
        T d = x - y;
        dx = d + d;
        dy = -dx;
        return d * d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<T> Eval(Vector128<T> x, Vector128<T> y, out Vector128<T> dx, out Vector128<T> dy)
    {
        Vector128<T> d = x - y;
        dx = d + d;
        dy = -dx;
        return d * d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<T> Eval(Vector256<T> x, Vector256<T> y, out Vector256<T> dx, out Vector256<T> dy)
    {
        Vector256<T> d = x - y;
        dx = d + d;
        dy = -dx;
        return d * d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> Eval(Vector512<T> x, Vector512<T> y, out Vector512<T> dx, out Vector512<T> dy)
    {
        Vector512<T> d = x - y;
        dx = d + d;
        dy = -dx;
        return d * d;
    }
}

/// <summary>
/// Huber with <c>delta &gt; 0</c> and a scale: <c>l = s·(0.5 d² if |d| &lt; delta else delta(|d| - 0.5 delta))</c>,
/// d/dx = s·clamp(d, -delta, delta). HuberLoss uses s = 1; SmoothL1Loss(beta) uses delta = beta, s = 1/beta.
/// </summary>
internal readonly struct HuberOp<T> : IPointwiseLoss<T> where T : struct, IFloatingPointIeee754<T>
{
    private readonly T _delta, _halfDelta, _scale, _half;

    public HuberOp(T delta, T scale)
    {
        _delta = delta;
        _half = T.CreateTruncating(0.5);
        _halfDelta = _half * delta;
        _scale = scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval(T x, T y, out T dx, out T dy)
    {
        T d = x - y, ad = T.Abs(d);
        T l = ad < _delta ? _half * d * d : _delta * (ad - _halfDelta);
        dx = T.Clamp(d, -_delta, _delta) * _scale;
        dy = -dx;
        return l * _scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<T> Eval(Vector128<T> x, Vector128<T> y, out Vector128<T> dx, out Vector128<T> dy)
    {
        Vector128<T> d = x - y, ad = Vector128.Abs(d), delta = Vector128.Create(_delta), half = Vector128.Create(_half), s = Vector128.Create(_scale);
        Vector128<T> l = Vector128.ConditionalSelect(Vector128.LessThan(ad, delta), half * d * d, delta * (ad - Vector128.Create(_halfDelta)));
        dx = Vector128.Min(Vector128.Max(d, -delta), delta) * s;
        dy = -dx;
        return l * s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<T> Eval(Vector256<T> x, Vector256<T> y, out Vector256<T> dx, out Vector256<T> dy)
    {
        Vector256<T> d = x - y, ad = Vector256.Abs(d), delta = Vector256.Create(_delta), half = Vector256.Create(_half), s = Vector256.Create(_scale);
        Vector256<T> l = Vector256.ConditionalSelect(Vector256.LessThan(ad, delta), half * d * d, delta * (ad - Vector256.Create(_halfDelta)));
        dx = Vector256.Min(Vector256.Max(d, -delta), delta) * s;
        dy = -dx;
        return l * s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> Eval(Vector512<T> x, Vector512<T> y, out Vector512<T> dx, out Vector512<T> dy)
    {
        Vector512<T> d = x - y, ad = Vector512.Abs(d), delta = Vector512.Create(_delta), half = Vector512.Create(_half), s = Vector512.Create(_scale);
        Vector512<T> l = Vector512.ConditionalSelect(Vector512.LessThan(ad, delta), half * d * d, delta * (ad - Vector512.Create(_halfDelta)));
        dx = Vector512.Min(Vector512.Max(d, -delta), delta) * s;
        dy = -dx;
        return l * s;
    }
}

/// <summary>
/// Binary cross-entropy on logits without weights, in PyTorch's stable form:
/// <c>m = max(-x, 0)</c>, <c>sp = log(exp(-m) + exp(-x - m)) + m</c> (= softplus(-x)), <c>l = (1 - y)·x + sp</c>;
/// d/dx = σ(x) - y = exp(-sp) - y, d/dy = -x.
/// </summary>
internal readonly struct BceWithLogitsOp<T> : IPointwiseLoss<T> where T : struct, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Eval(T x, T y, out T dx, out T dy)
    {
        T m = T.Max(-x, T.Zero);
        T sp = T.Log(T.Exp(-m) + T.Exp(-x - m)) + m;
        dx = T.Exp(-sp) - y;
        dy = -x;
        return (T.One - y) * x + sp;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<T> Eval(Vector128<T> x, Vector128<T> y, out Vector128<T> dx, out Vector128<T> dy)
    {
        Vector128<T> m = Vector128.Max(-x, Vector128<T>.Zero);
        Vector128<T> sp = VMath.Log(VMath.Exp(-m) + VMath.Exp(-x - m)) + m;
        dx = VMath.Exp(-sp) - y;
        dy = -x;
        return (Vector128<T>.One - y) * x + sp;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<T> Eval(Vector256<T> x, Vector256<T> y, out Vector256<T> dx, out Vector256<T> dy)
    {
        Vector256<T> m = Vector256.Max(-x, Vector256<T>.Zero);
        Vector256<T> sp = VMath.Log(VMath.Exp(-m) + VMath.Exp(-x - m)) + m;
        dx = VMath.Exp(-sp) - y;
        dy = -x;
        return (Vector256<T>.One - y) * x + sp;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> Eval(Vector512<T> x, Vector512<T> y, out Vector512<T> dx, out Vector512<T> dy)
    {
        Vector512<T> m = Vector512.Max(-x, Vector512<T>.Zero);
        Vector512<T> sp = VMath.Log(VMath.Exp(-m) + VMath.Exp(-x - m)) + m;
        dx = VMath.Exp(-sp) - y;
        dy = -x;
        return (Vector512<T>.One - y) * x + sp;
    }
}
