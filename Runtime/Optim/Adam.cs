using System;
using System.Runtime.Intrinsics;
using System.Collections.Generic;
using System.Numerics;

namespace DslModels.Optim;

/// <summary>Constructor validation with PyTorch's messages (ValueError → <see cref="ArgumentException"/>).</summary>
internal static class Validate
{
    public static void NonNegative(double v, string what, string param)
    {
        if (!(v >= 0))
            throw new ArgumentOutOfRangeException(param, v, $"Invalid {what}: {Py.Repr(v)}");
    }

    public static void Lr(double lr) => NonNegative(lr, "learning rate", "lr");
    public static void Eps(double eps) => NonNegative(eps, "epsilon value", "eps");
    public static void WeightDecay(double wd) => NonNegative(wd, "weight_decay value", "weight_decay");

    public static void Betas((double, double) betas)
    {
        if (!(betas.Item1 >= 0 && betas.Item1 < 1))
            throw new ArgumentOutOfRangeException(nameof(betas), betas.Item1, $"Invalid beta parameter at index 0: {Py.Repr(betas.Item1)}");
        if (!(betas.Item2 >= 0 && betas.Item2 < 1))
            throw new ArgumentOutOfRangeException(nameof(betas), betas.Item2, $"Invalid beta parameter at index 1: {Py.Repr(betas.Item2)}");
    }
}

/// <summary>Shared step of Adam and AdamW (PyTorch 1.13 single-tensor path).</summary>
public abstract class AdamBase : Optimizer
{
    private readonly bool _decoupled;

    private protected AdamBase(IEnumerable<ParamGroup> groups, double lr, (double, double) betas, double eps, double weightDecay, bool amsgrad, bool maximize, bool decoupled)
        : base(groups, Check(lr, betas, eps, weightDecay, amsgrad, maximize))
    {
        _decoupled = decoupled;
    }

    private static Dictionary<string, object?> Check(double lr, (double, double) betas, double eps, double weightDecay, bool amsgrad, bool maximize)
    {
        Validate.Lr(lr);
        Validate.Eps(eps);
        Validate.Betas(betas);
        Validate.WeightDecay(weightDecay);
        return new()
        {
            ["lr"] = lr, ["betas"] = new[] { betas.Item1, betas.Item2 }, ["eps"] = eps,
            ["weight_decay"] = weightDecay, ["amsgrad"] = amsgrad, ["maximize"] = maximize,
        };
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            double lr = g.GetDouble("lr"), eps = g.GetDouble("eps"), wd = g.GetDouble("weight_decay");
            var (b1, b2) = g.GetPair("betas");
            bool amsgrad = g.GetBool("amsgrad"), maximize = g.GetBool("maximize");
            foreach (var p in g.ParamList)
            {
                if (!p.HasGrad)
                    continue;
                RejectSparse(p, _decoupled ? "AdamW does not support sparse gradients" : "Adam does not support sparse gradients, please consider SparseAdam instead");
                var st = StateOf(p);
                if (st.Count == 0)
                {
                    st.Values["step"] = StateTensor.Float32Scalar(0);
                    st.Values["exp_avg"] = ZerosLike(p, "exp_avg");
                    st.Values["exp_avg_sq"] = ZerosLike(p, "exp_avg_sq");
                    if (amsgrad)
                        st.Values["max_exp_avg_sq"] = ZerosLike(p, "max_exp_avg_sq");
                }
                var stepT = st.Tensor("step");
                stepT.SetItem(stepT.ToScalar() + 1);
                double step = stepT.ToScalar();
                double bc1 = 1 - Math.Pow(b1, step), bc2 = 1 - Math.Pow(b2, step);
                double stepSize = lr / bc1, bc2Sqrt = Math.Sqrt(bc2);
                if (p is OptimParameter<float> f && Simd.MaxLanesOverride == 0)
                    UpdateFloat(f.Data, f.Grad, st, lr, b1, b2, eps, wd, amsgrad, maximize, stepSize, bc2Sqrt);
                else if (p is OptimParameter<float> f32)
                    Update(f32.Data, f32.Grad, st, lr, b1, b2, eps, wd, amsgrad, maximize, stepSize, bc2Sqrt);
                else if (p is OptimParameter<double> d)
                    Update(d.Data, d.Grad, st, lr, b1, b2, eps, wd, amsgrad, maximize, stepSize, bc2Sqrt);
            }
        }
    }

    /// <summary>
    /// float32 Adam/AdamW with explicit Vector512 / Vector256 loops and the flags hoisted: the same operations in the same
    /// order as the generic kernel (so the same bits), without its per-vector call overhead.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void UpdateFloat(Span<float> theta, Span<float> grad, ParamState st, double lr, double b1, double b2, double eps, double wd,
        bool amsgrad, bool maximize, double stepSize, double bc2Sqrt)
    {
        ref float t = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(theta);
        ref float g = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(grad);
        ref float m = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(st.Span<float>("exp_avg"));
        ref float v = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(st.Span<float>("exp_avg_sq"));
        ref float vmax = ref amsgrad ? ref System.Runtime.InteropServices.MemoryMarshal.GetReference(st.Span<float>("max_exp_avg_sq")) : ref t;
        float fb1 = (float)b1, f1b1 = (float)(1 - b1), fb2 = (float)b2, f1b2 = (float)(1 - b2), feps = (float)eps, fwd = (float)wd,
            decay = (float)(1 - lr * wd), negStep = (float)(-stepSize), fbc2 = (float)bc2Sqrt;
        bool decoupled = _decoupled, useWd = wd != 0;
        int n = theta.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vb1 = Vector512.Create(fb1); var v1b1 = Vector512.Create(f1b1); var vb2 = Vector512.Create(fb2); var v1b2 = Vector512.Create(f1b2);
            var veps = Vector512.Create(feps); var vwd = Vector512.Create(fwd); var vdecay = Vector512.Create(decay); var vstep = Vector512.Create(negStep);
            var vbc2 = Vector512.Create(fbc2);
            for (; i <= n - 16; i += 16)
            {
                nuint k = (nuint)i;
                var th = Vector512.LoadUnsafe(ref t, k);
                var d = Vector512.LoadUnsafe(ref g, k);
                if (maximize) d = -d;
                if (decoupled) th *= vdecay;
                else if (useWd) d += vwd * th;
                var mm = Vector512.LoadUnsafe(ref m, k) * vb1 + v1b1 * d;
                var vv = Vector512.LoadUnsafe(ref v, k) * vb2 + v1b2 * d * d;
                mm.StoreUnsafe(ref m, k);
                vv.StoreUnsafe(ref v, k);
                if (amsgrad)
                {
                    vv = Vector512.Max(Vector512.LoadUnsafe(ref vmax, k), vv);
                    vv.StoreUnsafe(ref vmax, k);
                }
                var denom = Vector512.Sqrt(vv) / vbc2 + veps;
                (th + vstep * (mm / denom)).StoreUnsafe(ref t, k);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vb1 = Vector256.Create(fb1); var v1b1 = Vector256.Create(f1b1); var vb2 = Vector256.Create(fb2); var v1b2 = Vector256.Create(f1b2);
            var veps = Vector256.Create(feps); var vwd = Vector256.Create(fwd); var vdecay = Vector256.Create(decay); var vstep = Vector256.Create(negStep);
            var vbc2 = Vector256.Create(fbc2);
            for (; i <= n - 8; i += 8)
            {
                nuint k = (nuint)i;
                var th = Vector256.LoadUnsafe(ref t, k);
                var d = Vector256.LoadUnsafe(ref g, k);
                if (maximize) d = -d;
                if (decoupled) th *= vdecay;
                else if (useWd) d += vwd * th;
                var mm = Vector256.LoadUnsafe(ref m, k) * vb1 + v1b1 * d;
                var vv = Vector256.LoadUnsafe(ref v, k) * vb2 + v1b2 * d * d;
                mm.StoreUnsafe(ref m, k);
                vv.StoreUnsafe(ref v, k);
                if (amsgrad)
                {
                    vv = Vector256.Max(Vector256.LoadUnsafe(ref vmax, k), vv);
                    vv.StoreUnsafe(ref vmax, k);
                }
                var denom = Vector256.Sqrt(vv) / vbc2 + veps;
                (th + vstep * (mm / denom)).StoreUnsafe(ref t, k);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var vb1 = Vector128.Create(fb1); var v1b1 = Vector128.Create(f1b1); var vb2 = Vector128.Create(fb2); var v1b2 = Vector128.Create(f1b2);
            var veps = Vector128.Create(feps); var vwd = Vector128.Create(fwd); var vdecay = Vector128.Create(decay); var vstep = Vector128.Create(negStep);
            var vbc2 = Vector128.Create(fbc2);
            for (; i <= n - 4; i += 4)
            {
                nuint k = (nuint)i;
                var th = Vector128.LoadUnsafe(ref t, k);
                var d = Vector128.LoadUnsafe(ref g, k);
                if (maximize) d = -d;
                if (decoupled) th *= vdecay;
                else if (useWd) d += vwd * th;
                var mm = Vector128.LoadUnsafe(ref m, k) * vb1 + v1b1 * d;
                var vv = Vector128.LoadUnsafe(ref v, k) * vb2 + v1b2 * d * d;
                mm.StoreUnsafe(ref m, k);
                vv.StoreUnsafe(ref v, k);
                if (amsgrad)
                {
                    vv = Vector128.Max(Vector128.LoadUnsafe(ref vmax, k), vv);
                    vv.StoreUnsafe(ref vmax, k);
                }
                var denom = Vector128.Sqrt(vv) / vbc2 + veps;
                (th + vstep * (mm / denom)).StoreUnsafe(ref t, k);
            }
        }
        for (; i < n; i++)
        {
            float th = System.Runtime.CompilerServices.Unsafe.Add(ref t, i);
            float d = System.Runtime.CompilerServices.Unsafe.Add(ref g, i);
            if (maximize) d = -d;
            if (decoupled) th *= decay;
            else if (useWd) d += fwd * th;
            float mm = System.Runtime.CompilerServices.Unsafe.Add(ref m, i) * fb1 + f1b1 * d;
            float vv = System.Runtime.CompilerServices.Unsafe.Add(ref v, i) * fb2 + f1b2 * d * d;
            System.Runtime.CompilerServices.Unsafe.Add(ref m, i) = mm;
            System.Runtime.CompilerServices.Unsafe.Add(ref v, i) = vv;
            if (amsgrad)
            {
                vv = MathF.Max(System.Runtime.CompilerServices.Unsafe.Add(ref vmax, i), vv);
                System.Runtime.CompilerServices.Unsafe.Add(ref vmax, i) = vv;
            }
            float denom = MathF.Sqrt(vv) / fbc2 + feps;
            System.Runtime.CompilerServices.Unsafe.Add(ref t, i) = th + negStep * (mm / denom);
        }
    }

    private void Update<T>(Span<T> theta, Span<T> grad, ParamState st, double lr, double b1, double b2, double eps, double wd,
        bool amsgrad, bool maximize, double stepSize, double bc2Sqrt) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var k = new Kernel<T>
        {
            Theta = theta, Grad = grad, M = st.Span<T>("exp_avg"), V = st.Span<T>("exp_avg_sq"),
            VMax = amsgrad ? st.Span<T>("max_exp_avg_sq") : default,
            B1 = Simd.Cast<T>(b1), OneMinusB1 = Simd.Cast<T>(1 - b1), B2 = Simd.Cast<T>(b2), OneMinusB2 = Simd.Cast<T>(1 - b2),
            Eps = Simd.Cast<T>(eps), Wd = Simd.Cast<T>(wd), Decay = Simd.Cast<T>(1 - lr * wd),
            NegStepSize = Simd.Cast<T>(-stepSize), Bc2Sqrt = Simd.Cast<T>(bc2Sqrt),
            Amsgrad = amsgrad, Maximize = maximize, UseWd = wd != 0, Decoupled = _decoupled,
        };
        Simd.Run<T, Kernel<T>>(ref k, theta.Length);
    }

    private ref struct Kernel<T> : IKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Span<T> Theta, Grad, M, V, VMax;
        public T B1, OneMinusB1, B2, OneMinusB2, Eps, Wd, Decay, NegStepSize, Bc2Sqrt;
        public bool Amsgrad, Maximize, UseWd, Decoupled;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public readonly void Run<TV>(int i) where TV : struct, IVec<TV, T>
        {
            TV theta = TV.Load(Theta, i);
            TV d = TV.Load(Grad, i);
            if (Maximize) d = -d;
            if (Decoupled) theta = theta * TV.Splat(Decay);
            else if (UseWd) d = d + TV.Splat(Wd) * theta;
            TV m = TV.Load(M, i) * TV.Splat(B1) + TV.Splat(OneMinusB1) * d;
            TV v = TV.Load(V, i) * TV.Splat(B2) + TV.Splat(OneMinusB2) * d * d;
            TV.Store(M, i, m);
            TV.Store(V, i, v);
            if (Amsgrad)
            {
                v = TV.Max(TV.Load(VMax, i), v);
                TV.Store(VMax, i, v);
            }
            TV denom = TV.Sqrt(v) / TV.Splat(Bc2Sqrt) + TV.Splat(Eps);
            TV.Store(Theta, i, theta + TV.Splat(NegStepSize) * (m / denom));
        }
    }
}

/// <summary>
/// <c>torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False)</c>.
/// <code>
/// t += 1; d = maximize ? -g : g; if wd != 0: d += wd·θ
/// m = β1·m + (1-β1)·d;  v = β2·v + (1-β2)·d²;  if amsgrad: vmax = max(vmax, v), use vmax for v
/// θ = θ - (lr/(1-β1^t)) · m / (sqrt(v)/sqrt(1-β2^t) + eps)
/// </code>
/// State: <c>step</c> (float32 0-dim), <c>exp_avg</c>, <c>exp_avg_sq</c>, [<c>max_exp_avg_sq</c>].
/// </summary>
public sealed class Adam : AdamBase
{
    /// <summary>Creates Adam over <paramref name="groups"/>.</summary>
    public Adam(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : base(groups, lr, betas ?? (0.9, 0.999), eps, weightDecay, amsgrad, maximize, decoupled: false) { }

    /// <summary>Creates Adam over one group of <paramref name="parameters"/>.</summary>
    public Adam(IEnumerable<OptimParameter> parameters, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(OneGroup(parameters), lr, betas, eps, weightDecay, amsgrad, maximize) { }
}

/// <summary>
/// <c>torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False)</c>:
/// Adam with decoupled weight decay, applied first: <c>θ = θ·(1 - lr·weight_decay)</c>, then Adam's update without the L2
/// term. Note the default weight_decay is 0.01. State as <see cref="Adam"/>.
/// </summary>
public sealed class AdamW : AdamBase
{
    /// <summary>Creates AdamW over <paramref name="groups"/>.</summary>
    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(groups, lr, betas ?? (0.9, 0.999), eps, weightDecay, amsgrad, maximize, decoupled: true) { }

    /// <summary>Creates AdamW over one group of <paramref name="parameters"/>.</summary>
    public AdamW(IEnumerable<OptimParameter> parameters, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : this(OneGroup(parameters), lr, betas, eps, weightDecay, amsgrad, maximize) { }
}
