using System;
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
                    st.Values["exp_avg"] = ZerosLike(p);
                    st.Values["exp_avg_sq"] = ZerosLike(p);
                    if (amsgrad)
                        st.Values["max_exp_avg_sq"] = ZerosLike(p);
                }
                var stepT = st.Tensor("step");
                stepT.SetItem(stepT.ToScalar() + 1);
                double step = stepT.ToScalar();
                double bc1 = 1 - Math.Pow(b1, step), bc2 = 1 - Math.Pow(b2, step);
                double stepSize = lr / bc1, bc2Sqrt = Math.Sqrt(bc2);
                if (p is OptimParameter<float> f)
                    Update(f.Data, f.Grad, st, lr, b1, b2, eps, wd, amsgrad, maximize, stepSize, bc2Sqrt);
                else if (p is OptimParameter<double> d)
                    Update(d.Data, d.Grad, st, lr, b1, b2, eps, wd, amsgrad, maximize, stepSize, bc2Sqrt);
            }
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
