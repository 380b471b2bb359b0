using System;
using System.Collections.Generic;
using System.Numerics;

namespace DslModels.Optim;

/// <summary>
/// <c>torch.optim.Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, maximize=False)</c>.
/// <code>
/// t += 1; d = maximize ? -g : g; if wd != 0: d += wd·θ
/// clr = lr/(1 + (t-1)·lr_decay);  sum = sum + d²;  θ = θ - clr·d/(sqrt(sum) + eps)
/// </code>
/// Sparse gradients (<see cref="OptimParameter.SparseGradRows"/>) update <c>sum</c> and θ on the present rows only
/// (weight decay is then an error). State: <c>step</c> (float32 0-dim), <c>sum</c>. Unlike PyTorch, the state is created
/// lazily at the first step (same numbers; parameters added later work). As in PyTorch, <c>sum</c> starts at the
/// constructor's <c>initial_accumulator_value</c>; a group's own value is ignored.
/// </summary>
public sealed class Adagrad : Optimizer
{
    /// <summary>Creates Adagrad over <paramref name="groups"/>.</summary>
    public Adagrad(IEnumerable<ParamGroup> groups, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : base(groups, Check(lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize)) { }

    /// <summary>Creates Adagrad over one group of <paramref name="parameters"/>.</summary>
    public Adagrad(IEnumerable<OptimParameter> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this(OneGroup(parameters), lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize) { }

    private static Dictionary<string, object?> Check(double lr, double lrDecay, double weightDecay, double init, double eps, bool maximize)
    {
        Validate.Lr(lr);
        Validate.NonNegative(lrDecay, "lr_decay value", "lr_decay");
        Validate.WeightDecay(weightDecay);
        Validate.NonNegative(init, "initial_accumulator_value value", "initial_accumulator_value");
        Validate.Eps(eps);
        return new() { ["lr"] = lr, ["lr_decay"] = lrDecay, ["eps"] = eps, ["weight_decay"] = weightDecay, ["initial_accumulator_value"] = init, ["maximize"] = maximize };
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            double lr = g.GetDouble("lr"), lrDecay = g.GetDouble("lr_decay"), eps = g.GetDouble("eps"), wd = g.GetDouble("weight_decay");
            bool maximize = g.GetBool("maximize");
            foreach (var p in g.ParamList)
            {
                if (!p.HasGrad)
                    continue;
                var st = StateOf(p);
                if (st.Count == 0)
                {
                    st.Values["step"] = StateTensor.Float32Scalar(0);
                    // PyTorch fills the accumulator with the constructor's value, not the group's.
                    st.Values["sum"] = FullLike(p, "sum", ParamGroup.ToDouble(Defaults["initial_accumulator_value"], "initial_accumulator_value"));
                }
                if (p.SparseGradRows is not null && wd != 0)
                    throw new InvalidOperationException("weight_decay option is not compatible with sparse gradients");
                var stepT = st.Tensor("step");
                stepT.SetItem(stepT.ToScalar() + 1);
                double clr = lr / (1 + (stepT.ToScalar() - 1) * lrDecay);
                switch (p)
                {
                    case OptimParameter<float> f: Update(f, st, clr, eps, wd, maximize); break;
                    case OptimParameter<double> d: Update(d, st, clr, eps, wd, maximize); break;
                    default: throw Unsupported(p);
                }
            }
        }
    }

    private static void Update<T>(OptimParameter<T> p, ParamState st, double clr, double eps, double wd, bool maximize) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> theta = p.Data, grad = p.Grad, sum = st.Span<T>("sum");
        var k = new Kernel<T> { NegClr = Simd.Cast<T>(-clr), Eps = Simd.Cast<T>(eps), Wd = Simd.Cast<T>(wd), UseWd = wd != 0, Maximize = maximize };
        if (p.SparseGradRows is { } rows)
        {
            int n = p.RowLength;
            foreach (int r in rows)
            {
                k.Theta = theta.Slice(r * n, n); k.Grad = grad.Slice(r * n, n); k.Sum = sum.Slice(r * n, n);
                Simd.Run<T, Kernel<T>>(ref k, n);
            }
            return;
        }
        k.Theta = theta; k.Grad = grad; k.Sum = sum;
        Simd.Run<T, Kernel<T>>(ref k, theta.Length);
    }

    private ref struct Kernel<T> : IKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Span<T> Theta, Grad, Sum;
        public T NegClr, Eps, Wd;
        public bool UseWd, Maximize;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public readonly void Run<TV>(int i) where TV : struct, IVec<TV, T>
        {
            TV theta = TV.Load(Theta, i);
            TV d = TV.Load(Grad, i);
            if (Maximize) d = -d;
            if (UseWd) d = d + TV.Splat(Wd) * theta;
            TV sum = TV.Load(Sum, i) + d * d;
            TV.Store(Sum, i, sum);
            TV.Store(Theta, i, theta + TV.Splat(NegClr) * (d / (TV.Sqrt(sum) + TV.Splat(Eps))));
        }
    }
}

/// <summary>
/// <c>torch.optim.RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, maximize=False)</c>.
/// <code>
/// d = maximize ? -g : g; if wd != 0: d += wd·θ
/// sq = α·sq + (1-α)·d²
/// avg = centered ? sqrt(sq - ga²) + eps (ga = α·ga + (1-α)·d) : sqrt(sq) + eps
/// momentum &gt; 0 ? (buf = momentum·buf + d/avg; θ -= lr·buf) : θ -= lr·d/avg
/// </code>
/// State: <c>step</c> (int), <c>square_avg</c>, [<c>momentum_buffer</c>], [<c>grad_avg</c>].
/// </summary>
public sealed class RMSprop : Optimizer
{
    /// <summary>Creates RMSprop over <paramref name="groups"/>.</summary>
    public RMSprop(IEnumerable<ParamGroup> groups, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base(groups, Check(lr, alpha, eps, weightDecay, momentum, centered, maximize)) { }

    /// <summary>Creates RMSprop over one group of <paramref name="parameters"/>.</summary>
    public RMSprop(IEnumerable<OptimParameter> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : this(OneGroup(parameters), lr, alpha, eps, weightDecay, momentum, centered, maximize) { }

    private static Dictionary<string, object?> Check(double lr, double alpha, double eps, double wd, double momentum, bool centered, bool maximize)
    {
        Validate.Lr(lr);
        Validate.Eps(eps);
        Validate.NonNegative(momentum, "momentum value", "momentum");
        Validate.WeightDecay(wd);
        Validate.NonNegative(alpha, "alpha value", "alpha");
        return new() { ["lr"] = lr, ["momentum"] = momentum, ["alpha"] = alpha, ["eps"] = eps, ["centered"] = centered, ["weight_decay"] = wd, ["maximize"] = maximize };
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            double lr = g.GetDouble("lr"), alpha = g.GetDouble("alpha"), eps = g.GetDouble("eps"), wd = g.GetDouble("weight_decay"), momentum = g.GetDouble("momentum");
            bool centered = g.GetBool("centered"), maximize = g.GetBool("maximize");
            foreach (var p in g.ParamList)
            {
                if (!p.HasGrad)
                    continue;
                RejectSparse(p);
                var st = StateOf(p);
                if (st.Count == 0)
                {
                    st.Values["step"] = new PyInt();
                    st.Values["square_avg"] = ZerosLike(p, "square_avg");
                    if (momentum > 0) st.Values["momentum_buffer"] = ZerosLike(p, "momentum_buffer");
                    if (centered) st.Values["grad_avg"] = ZerosLike(p, "grad_avg");
                }
                st.Int("step").Value++;
                switch (p)
                {
                    case OptimParameter<float> f: Update(f, st, lr, alpha, eps, wd, momentum, centered, maximize); break;
                    case OptimParameter<double> d: Update(d, st, lr, alpha, eps, wd, momentum, centered, maximize); break;
                    default: throw Unsupported(p);
                }
            }
        }
    }

    private static void Update<T>(OptimParameter<T> p, ParamState st, double lr, double alpha, double eps, double wd, double momentum, bool centered, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var k = new Kernel<T>
        {
            Theta = p.Data, Grad = p.Grad, Sq = st.Span<T>("square_avg"),
            Ga = centered ? st.Span<T>("grad_avg") : default, Buf = momentum > 0 ? st.Span<T>("momentum_buffer") : default,
            Alpha = Simd.Cast<T>(alpha), OneMinusAlpha = Simd.Cast<T>(1 - alpha), Eps = Simd.Cast<T>(eps), Wd = Simd.Cast<T>(wd),
            Momentum = Simd.Cast<T>(momentum), NegLr = Simd.Cast<T>(-lr),
            UseWd = wd != 0, UseMomentum = momentum > 0, Centered = centered, Maximize = maximize,
        };
        Simd.Run<T, Kernel<T>>(ref k, p.Length);
    }

    private ref struct Kernel<T> : IKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Span<T> Theta, Grad, Sq, Ga, Buf;
        public T Alpha, OneMinusAlpha, Eps, Wd, Momentum, NegLr;
        public bool UseWd, UseMomentum, Centered, Maximize;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public readonly void Run<TV>(int i) where TV : struct, IVec<TV, T>
        {
            TV theta = TV.Load(Theta, i);
            TV d = TV.Load(Grad, i);
            if (Maximize) d = -d;
            if (UseWd) d = d + TV.Splat(Wd) * theta;
            TV sq = TV.Load(Sq, i) * TV.Splat(Alpha) + TV.Splat(OneMinusAlpha) * d * d;
            TV.Store(Sq, i, sq);
            TV avg;
            if (Centered)
            {
                TV ga = TV.Load(Ga, i) * TV.Splat(Alpha) + TV.Splat(OneMinusAlpha) * d;
                TV.Store(Ga, i, ga);
                avg = TV.Sqrt(sq + -(ga * ga)) + TV.Splat(Eps);
            }
            else
            {
                avg = TV.Sqrt(sq) + TV.Splat(Eps);
            }
            if (UseMomentum)
            {
                TV buf = TV.Load(Buf, i) * TV.Splat(Momentum) + d / avg;
                TV.Store(Buf, i, buf);
                TV.Store(Theta, i, theta + TV.Splat(NegLr) * buf);
            }
            else
            {
                TV.Store(Theta, i, theta + TV.Splat(NegLr) * (d / avg));
            }
        }
    }
}

/// <summary>
/// <c>torch.optim.Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False)</c>.
/// <code>
/// d = maximize ? -g : g; if wd != 0: d += wd·θ
/// v = ρ·v + (1-ρ)·d²;  Δ = sqrt(u + eps)/sqrt(v + eps)·d;  u = ρ·u + (1-ρ)·Δ²;  θ = θ - lr·Δ
/// </code>
/// State: <c>step</c> (int), <c>square_avg</c>, <c>acc_delta</c>.
/// </summary>
public sealed class Adadelta : Optimizer
{
    /// <summary>Creates Adadelta over <paramref name="groups"/>.</summary>
    public Adadelta(IEnumerable<ParamGroup> groups, double lr = 1.0, double rho = 0.9, double eps = 1e-6, double weightDecay = 0, bool maximize = false)
        : base(groups, Check(lr, rho, eps, weightDecay, maximize)) { }

    /// <summary>Creates Adadelta over one group of <paramref name="parameters"/>.</summary>
    public Adadelta(IEnumerable<OptimParameter> parameters, double lr = 1.0, double rho = 0.9, double eps = 1e-6, double weightDecay = 0, bool maximize = false)
        : this(OneGroup(parameters), lr, rho, eps, weightDecay, maximize) { }

    private static Dictionary<string, object?> Check(double lr, double rho, double eps, double wd, bool maximize)
    {
        Validate.Lr(lr);
        if (!(rho >= 0 && rho <= 1))
            throw new ArgumentOutOfRangeException(nameof(rho), rho, $"Invalid rho value: {Py.Repr(rho)}");
        Validate.Eps(eps);
        Validate.WeightDecay(wd);
        return new() { ["lr"] = lr, ["rho"] = rho, ["eps"] = eps, ["weight_decay"] = wd, ["maximize"] = maximize };
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            double lr = g.GetDouble("lr"), rho = g.GetDouble("rho"), eps = g.GetDouble("eps"), wd = g.GetDouble("weight_decay");
            bool maximize = g.GetBool("maximize");
            foreach (var p in g.ParamList)
            {
                if (!p.HasGrad)
                    continue;
                RejectSparse(p);
                var st = StateOf(p);
                if (st.Count == 0)
                {
                    st.Values["step"] = new PyInt();
                    st.Values["square_avg"] = ZerosLike(p, "square_avg");
                    st.Values["acc_delta"] = ZerosLike(p, "acc_delta");
                }
                st.Int("step").Value++;
                switch (p)
                {
                    case OptimParameter<float> f: Update(f, st, lr, rho, eps, wd, maximize); break;
                    case OptimParameter<double> d: Update(d, st, lr, rho, eps, wd, maximize); break;
                    default: throw Unsupported(p);
                }
            }
        }
    }

    private static void Update<T>(OptimParameter<T> p, ParamState st, double lr, double rho, double eps, double wd, bool maximize) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var k = new Kernel<T>
        {
            Theta = p.Data, Grad = p.Grad, V = st.Span<T>("square_avg"), U = st.Span<T>("acc_delta"),
            Rho = Simd.Cast<T>(rho), OneMinusRho = Simd.Cast<T>(1 - rho), Eps = Simd.Cast<T>(eps), Wd = Simd.Cast<T>(wd), NegLr = Simd.Cast<T>(-lr),
            UseWd = wd != 0, Maximize = maximize,
        };
        Simd.Run<T, Kernel<T>>(ref k, p.Length);
    }

    private ref struct Kernel<T> : IKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Span<T> Theta, Grad, V, U;
        public T Rho, OneMinusRho, Eps, Wd, NegLr;
        public bool UseWd, Maximize;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public readonly void Run<TV>(int i) where TV : struct, IVec<TV, T>
        {
            TV theta = TV.Load(Theta, i);
            TV d = TV.Load(Grad, i);
            if (Maximize) d = -d;
            if (UseWd) d = d + TV.Splat(Wd) * theta;
            TV v = TV.Load(V, i) * TV.Splat(Rho) + TV.Splat(OneMinusRho) * d * d;
            TV.Store(V, i, v);
            TV std = TV.Sqrt(v + TV.Splat(Eps));
            TV delta = TV.Sqrt(TV.Load(U, i) + TV.Splat(Eps)) / std * d;
            TV.Store(U, i, TV.Load(U, i) * TV.Splat(Rho) + TV.Splat(OneMinusRho) * delta * delta);
            TV.Store(Theta, i, theta + TV.Splat(NegLr) * delta);
        }
    }
}

/// <summary>
/// <c>torch.optim.Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False)</c>.
/// <code>
/// t += 1; d = maximize ? -g : g; if wd != 0: d += wd·θ
/// m = β1·m + (1-β1)·d;  u = max(β2·u, |d| + eps);  θ = θ - (lr/(1-β1^t))·m/u
/// </code>
/// State: <c>step</c> (float32 0-dim), <c>exp_avg</c>, <c>exp_inf</c>.
/// </summary>
public sealed class Adamax : Optimizer
{
    /// <summary>Creates Adamax over <paramref name="groups"/>.</summary>
    public Adamax(IEnumerable<ParamGroup> groups, double lr = 2e-3, (double, double)? betas = null, double eps = 1e-8, double weightDecay = 0, bool maximize = false)
        : base(groups, Check(lr, betas ?? (0.9, 0.999), eps, weightDecay, maximize)) { }

    /// <summary>Creates Adamax over one group of <paramref name="parameters"/>.</summary>
    public Adamax(IEnumerable<OptimParameter> parameters, double lr = 2e-3, (double, double)? betas = null, double eps = 1e-8, double weightDecay = 0, bool maximize = false)
        : this(OneGroup(parameters), lr, betas, eps, weightDecay, maximize) { }

    private static Dictionary<string, object?> Check(double lr, (double, double) betas, double eps, double wd, bool maximize)
    {
        Validate.Lr(lr);
        Validate.Eps(eps);
        Validate.Betas(betas);
        Validate.WeightDecay(wd);
        return new() { ["lr"] = lr, ["betas"] = new[] { betas.Item1, betas.Item2 }, ["eps"] = eps, ["weight_decay"] = wd, ["maximize"] = maximize };
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            double lr = g.GetDouble("lr"), eps = g.GetDouble("eps"), wd = g.GetDouble("weight_decay");
            var (b1, b2) = g.GetPair("betas");
            bool maximize = g.GetBool("maximize");
            foreach (var p in g.ParamList)
            {
                if (!p.HasGrad)
                    continue;
                RejectSparse(p);
                var st = StateOf(p);
                if (st.Count == 0)
                {
                    st.Values["step"] = StateTensor.Float32Scalar(0);
                    st.Values["exp_avg"] = ZerosLike(p, "exp_avg");
                    st.Values["exp_inf"] = ZerosLike(p, "exp_inf");
                }
                var stepT = st.Tensor("step");
                stepT.SetItem(stepT.ToScalar() + 1);
                double clr = lr / (1 - Math.Pow(b1, stepT.ToScalar()));
                switch (p)
                {
                    case OptimParameter<float> f: Update(f, st, b1, b2, eps, wd, clr, maximize); break;
                    case OptimParameter<double> d: Update(d, st, b1, b2, eps, wd, clr, maximize); break;
                    default: throw Unsupported(p);
                }
            }
        }
    }

    private static void Update<T>(OptimParameter<T> p, ParamState st, double b1, double b2, double eps, double wd, double clr, bool maximize) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var k = new Kernel<T>
        {
            Theta = p.Data, Grad = p.Grad, M = st.Span<T>("exp_avg"), U = st.Span<T>("exp_inf"),
            B1 = Simd.Cast<T>(b1), OneMinusB1 = Simd.Cast<T>(1 - b1), B2 = Simd.Cast<T>(b2), Eps = Simd.Cast<T>(eps), Wd = Simd.Cast<T>(wd),
            NegClr = Simd.Cast<T>(-clr), UseWd = wd != 0, Maximize = maximize,
        };
        Simd.Run<T, Kernel<T>>(ref k, p.Length);
    }

    private ref struct Kernel<T> : IKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Span<T> Theta, Grad, M, U;
        public T B1, OneMinusB1, B2, Eps, Wd, NegClr;
        public bool UseWd, Maximize;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public readonly void Run<TV>(int i) where TV : struct, IVec<TV, T>
        {
            TV theta = TV.Load(Theta, i);
            TV d = TV.Load(Grad, i);
            if (Maximize) d = -d;
            if (UseWd) d = d + TV.Splat(Wd) * theta;
            TV m = TV.Load(M, i) * TV.Splat(B1) + TV.Splat(OneMinusB1) * d;
            TV u = TV.Max(TV.Load(U, i) * TV.Splat(B2), TV.Abs(d) + TV.Splat(Eps));
            TV.Store(M, i, m);
            TV.Store(U, i, u);
            TV.Store(Theta, i, theta + TV.Splat(NegClr) * (m / u));
        }
    }
}

/// <summary>
/// <c>torch.optim.SparseAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False)</c>: lazy Adam for sparse
/// gradients — only the rows present in <see cref="OptimParameter.SparseGradRows"/> are updated:
/// <code>
/// t += 1; d = maximize ? -g : g
/// m_I = m_I + (1-β1)·(d_I - m_I);  v_I = v_I + (1-β2)·(d_I² - v_I)
/// θ_I = θ_I - lr·sqrt(1-β2^t)/(1-β1^t) · m_I/(sqrt(v_I) + eps)     (eps on the uncorrected scale)
/// </code>
/// A dense gradient is an error. State: <c>step</c> (int), <c>exp_avg</c>, <c>exp_avg_sq</c>.
/// </summary>
public sealed class SparseAdam : Optimizer
{
    /// <summary>Creates SparseAdam over <paramref name="groups"/>.</summary>
    public SparseAdam(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, bool maximize = false)
        : base(groups, Check(lr, betas ?? (0.9, 0.999), eps, maximize)) { }

    /// <summary>Creates SparseAdam over one group of <paramref name="parameters"/>.</summary>
    public SparseAdam(IEnumerable<OptimParameter> parameters, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, bool maximize = false)
        : this(OneGroup(parameters), lr, betas, eps, maximize) { }

    private static Dictionary<string, object?> Check(double lr, (double, double) betas, double eps, bool maximize)
    {
        if (!(lr > 0))
            throw new ArgumentOutOfRangeException(nameof(lr), lr, $"Invalid learning rate: {Py.Repr(lr)}");
        if (!(eps > 0))
            throw new ArgumentOutOfRangeException(nameof(eps), eps, $"Invalid epsilon value: {Py.Repr(eps)}");
        Validate.Betas(betas);
        return new() { ["lr"] = lr, ["betas"] = new[] { betas.Item1, betas.Item2 }, ["eps"] = eps, ["maximize"] = maximize };
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            double lr = g.GetDouble("lr"), eps = g.GetDouble("eps");
            var (b1, b2) = g.GetPair("betas");
            bool maximize = g.GetBool("maximize");
            foreach (var p in g.ParamList)
            {
                if (!p.HasGrad)
                    continue;
                if (p.SparseGradRows is null)
                    throw new InvalidOperationException("SparseAdam does not support dense gradients, please consider Adam instead");
                var st = StateOf(p);
                if (st.Count == 0)
                {
                    st.Values["step"] = new PyInt();
                    st.Values["exp_avg"] = ZerosLike(p, "exp_avg");
                    st.Values["exp_avg_sq"] = ZerosLike(p, "exp_avg_sq");
                }
                long step = ++st.Int("step").Value;
                double stepSize = lr * Math.Sqrt(1 - Math.Pow(b2, step)) / (1 - Math.Pow(b1, step));
                switch (p)
                {
                    case OptimParameter<float> f: Update(f, st, b1, b2, eps, stepSize, maximize); break;
                    case OptimParameter<double> d: Update(d, st, b1, b2, eps, stepSize, maximize); break;
                    default: throw Unsupported(p);
                }
            }
        }
    }

    private static void Update<T>(OptimParameter<T> p, ParamState st, double b1, double b2, double eps, double stepSize, bool maximize) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> theta = p.Data, grad = p.Grad, m = st.Span<T>("exp_avg"), v = st.Span<T>("exp_avg_sq");
        var k = new Kernel<T>
        {
            OneMinusB1 = Simd.Cast<T>(1 - b1), OneMinusB2 = Simd.Cast<T>(1 - b2), Eps = Simd.Cast<T>(eps), NegStepSize = Simd.Cast<T>(-stepSize), Maximize = maximize,
        };
        int n = p.RowLength;
        foreach (int r in p.SparseGradRows!)
        {
            k.Theta = theta.Slice(r * n, n); k.Grad = grad.Slice(r * n, n); k.M = m.Slice(r * n, n); k.V = v.Slice(r * n, n);
            Simd.Run<T, Kernel<T>>(ref k, n);
        }
    }

    private ref struct Kernel<T> : IKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Span<T> Theta, Grad, M, V;
        public T OneMinusB1, OneMinusB2, Eps, NegStepSize;
        public bool Maximize;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public readonly void Run<TV>(int i) where TV : struct, IVec<TV, T>
        {
            TV d = TV.Load(Grad, i);
            if (Maximize) d = -d;
            TV m0 = TV.Load(M, i), v0 = TV.Load(V, i);
            TV mUpd = (d - m0) * TV.Splat(OneMinusB1);
            TV vUpd = (d * d - v0) * TV.Splat(OneMinusB2);
            TV m = m0 + mUpd, v = v0 + vUpd;
            TV.Store(M, i, m);
            TV.Store(V, i, v);
            TV denom = TV.Sqrt(vUpd + v0) + TV.Splat(Eps);
            TV.Store(Theta, i, TV.Load(Theta, i) + TV.Splat(NegStepSize) * ((mUpd + m0) / denom));
        }
    }
}
