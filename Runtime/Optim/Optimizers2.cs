using System;
using System.Collections.Generic;
using System.Numerics;

namespace DslModels.Optim;

/// <summary>
/// <c>torch.optim.ASGD(params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, maximize=False)</c>.
/// <code>
/// t += 1; d = maximize ? -g : g; if wd != 0: d += wd·θ
/// θ = θ·(1 - lambd·eta);  θ = θ - eta·d
/// ax = mu != 1 ? ax + mu·(θ - ax) : θ
/// eta = float32(lr/(1 + lambd·lr·t)^alpha);  mu = float32(1/max(1, t - t0))
/// </code>
/// State: <c>step</c>, <c>eta</c>, <c>mu</c> (float32 0-dim, rounded as in PyTorch), <c>ax</c> — the averaged parameters,
/// also available from <see cref="Averaged"/>; they are not written back to θ.
/// </summary>
public sealed class Asgd : Optimizer
{
    /// <summary>Creates ASGD over <paramref name="groups"/>.</summary>
    public Asgd(IEnumerable<ParamGroup> groups, double lr = 1e-2, double lambd = 1e-4, double alpha = 0.75, double t0 = 1e6, double weightDecay = 0, bool maximize = false)
        : base(groups, Check(lr, lambd, alpha, t0, weightDecay, maximize)) { }

    /// <summary>Creates ASGD over one group of <paramref name="parameters"/>.</summary>
    public Asgd(IEnumerable<OptimParameter> parameters, double lr = 1e-2, double lambd = 1e-4, double alpha = 0.75, double t0 = 1e6, double weightDecay = 0, bool maximize = false)
        : this(OneGroup(parameters), lr, lambd, alpha, t0, weightDecay, maximize) { }

    /// <inheritdoc />
    public override string Name => "ASGD";

    private static Dictionary<string, object?> Check(double lr, double lambd, double alpha, double t0, double wd, bool maximize)
    {
        Validate.Lr(lr);
        Validate.WeightDecay(wd);
        return new() { ["lr"] = lr, ["lambd"] = lambd, ["alpha"] = alpha, ["t0"] = t0, ["weight_decay"] = wd, ["maximize"] = maximize };
    }

    /// <summary>The averaged parameters (<c>state[p]["ax"]</c>) of <paramref name="p"/>, or empty before its first step.</summary>
    public StateTensor? Averaged(OptimParameter p) => State.TryGetValue(p, out var s) && s.TryGetValue("ax", out var ax) ? ax as StateTensor : null;

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            double lr = g.GetDouble("lr"), lambd = g.GetDouble("lambd"), alpha = g.GetDouble("alpha"), t0 = g.GetDouble("t0"), wd = g.GetDouble("weight_decay");
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
                    st.Values["eta"] = StateTensor.Float32Scalar(lr);
                    st.Values["mu"] = StateTensor.Float32Scalar(1);
                    st.Values["ax"] = ZerosLike(p, "ax");
                }
                var stepT = st.Tensor("step");
                stepT.SetItem(stepT.ToScalar() + 1);
                double step = stepT.ToScalar();
                StateTensor etaT = st.Tensor("eta"), muT = st.Tensor("mu");
                double eta = etaT.ToScalar(), mu = muT.ToScalar();
                switch (p)
                {
                    case OptimParameter<float> f: Update(f, st, eta, mu, lambd, wd, maximize); break;
                    case OptimParameter<double> d: Update(d, st, eta, mu, lambd, wd, maximize); break;
                    default: throw Unsupported(p);
                }
                etaT.SetItem(lr / Math.Pow(1 + lambd * lr * step, alpha));
                muT.SetItem(1 / Math.Max(1, step - t0));
            }
        }
    }

    private static void Update<T>(OptimParameter<T> p, ParamState st, double eta, double mu, double lambd, double wd, bool maximize) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var k = new Kernel<T>
        {
            Theta = p.Data, Grad = p.Grad, Ax = st.Span<T>("ax"),
            Decay = Simd.Cast<T>(1 - lambd * eta), NegEta = Simd.Cast<T>(-eta), Mu = Simd.Cast<T>(mu), Wd = Simd.Cast<T>(wd),
            UseWd = wd != 0, Average = mu != 1, Maximize = maximize,
        };
        Simd.Run<T, Kernel<T>>(ref k, p.Length);
    }

    private ref struct Kernel<T> : IKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Span<T> Theta, Grad, Ax;
        public T Decay, NegEta, Mu, Wd;
        public bool UseWd, Average, Maximize;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public readonly void Run<TV>(int i) where TV : struct, IVec<TV, T>
        {
            TV theta = TV.Load(Theta, i);
            TV d = TV.Load(Grad, i);
            if (Maximize) d = -d;
            if (UseWd) d = d + TV.Splat(Wd) * theta;
            theta = theta * TV.Splat(Decay);
            theta = theta + TV.Splat(NegEta) * d;
            TV.Store(Theta, i, theta);
            if (Average)
            {
                TV ax = TV.Load(Ax, i);
                TV.Store(Ax, i, ax + (theta - ax) * TV.Splat(Mu));
            }
            else
            {
                TV.Store(Ax, i, theta);
            }
        }
    }
}

/// <summary>
/// <c>torch.optim.Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False)</c>.
/// <code>
/// d = maximize ? -g : g;  s = sign(d·prev)
/// step_size = clamp(step_size·(s &gt; 0 ? η+ : s &lt; 0 ? η- : 1), min, max)
/// if s &lt; 0: d = 0;   θ = θ - sign(d)·step_size;  prev = d
/// </code>
/// State: <c>step</c> (int), <c>prev</c>, <c>step_size</c> (initially lr).
/// </summary>
public sealed class Rprop : Optimizer
{
    /// <summary>Creates Rprop over <paramref name="groups"/>.</summary>
    public Rprop(IEnumerable<ParamGroup> groups, double lr = 1e-2, (double, double)? etas = null, (double, double)? stepSizes = null, bool maximize = false)
        : base(groups, Check(lr, etas ?? (0.5, 1.2), stepSizes ?? (1e-6, 50), maximize)) { }

    /// <summary>Creates Rprop over one group of <paramref name="parameters"/>.</summary>
    public Rprop(IEnumerable<OptimParameter> parameters, double lr = 1e-2, (double, double)? etas = null, (double, double)? stepSizes = null, bool maximize = false)
        : this(OneGroup(parameters), lr, etas, stepSizes, maximize) { }

    private static Dictionary<string, object?> Check(double lr, (double, double) etas, (double, double) stepSizes, bool maximize)
    {
        Validate.Lr(lr);
        if (!(0 < etas.Item1 && etas.Item1 < 1 && 1 < etas.Item2))
            throw new ArgumentOutOfRangeException(nameof(etas), etas, $"Invalid eta values: {Py.Repr(etas.Item1)}, {Py.Repr(etas.Item2)}");
        return new() { ["lr"] = lr, ["etas"] = new[] { etas.Item1, etas.Item2 }, ["step_sizes"] = new[] { stepSizes.Item1, stepSizes.Item2 }, ["maximize"] = maximize };
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            double lr = g.GetDouble("lr");
            var (etaMinus, etaPlus) = g.GetPair("etas");
            var (minStep, maxStep) = g.GetPair("step_sizes");
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
                    st.Values["prev"] = ZerosLike(p, "prev");
                    st.Values["step_size"] = FullLike(p, "step_size", lr);
                }
                st.Int("step").Value++;
                switch (p)
                {
                    case OptimParameter<float> f: Update(f, st, etaMinus, etaPlus, minStep, maxStep, maximize); break;
                    case OptimParameter<double> d: Update(d, st, etaMinus, etaPlus, minStep, maxStep, maximize); break;
                    default: throw Unsupported(p);
                }
            }
        }
    }

    private static void Update<T>(OptimParameter<T> p, ParamState st, double etaMinus, double etaPlus, double minStep, double maxStep, bool maximize) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var k = new Kernel<T>
        {
            Theta = p.Data, Grad = p.Grad, Prev = st.Span<T>("prev"), StepSize = st.Span<T>("step_size"),
            EtaMinus = Simd.Cast<T>(etaMinus), EtaPlus = Simd.Cast<T>(etaPlus), MinStep = Simd.Cast<T>(minStep), MaxStep = Simd.Cast<T>(maxStep), Maximize = maximize,
        };
        Simd.Run<T, Kernel<T>>(ref k, p.Length);
    }

    private ref struct Kernel<T> : IKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Span<T> Theta, Grad, Prev, StepSize;
        public T EtaMinus, EtaPlus, MinStep, MaxStep;
        public bool Maximize;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public readonly void Run<TV>(int i) where TV : struct, IVec<TV, T>
        {
            TV d = TV.Load(Grad, i);
            if (Maximize) d = -d;
            TV zero = TV.Splat(T.Zero), one = TV.Splat(T.One);
            TV prod = d * TV.Load(Prev, i);
            TV pos = TV.GreaterThan(prod, zero), neg = TV.LessThan(prod, zero);
            TV factor = TV.Select(pos, TV.Splat(EtaPlus), TV.Select(neg, TV.Splat(EtaMinus), one));
            TV stepSize = TV.Min(TV.Max(TV.Load(StepSize, i) * factor, TV.Splat(MinStep)), TV.Splat(MaxStep));
            TV.Store(StepSize, i, stepSize);
            d = TV.Select(neg, zero, d);
            TV sign = TV.Select(TV.GreaterThan(d, zero), one, TV.Select(TV.LessThan(d, zero), -one, zero));
            TV.Store(Theta, i, TV.Load(Theta, i) - sign * stepSize);
            TV.Store(Prev, i, d);
        }
    }
}

/// <summary>
/// <c>torch.optim.NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3)</c>, with
/// PyTorch 2.x's corrected momentum product (<c>mu_product_next = mu_product·μ_{t+1}</c>; PyTorch 1.13's default
/// single-tensor path multiplies μ_t in twice — see docs/optim.md):
/// <code>
/// t += 1; d = g; if wd != 0: d += wd·θ
/// μ_t = β1·(1 - 0.5·0.96^(t·ψ)); μ_{t+1} = β1·(1 - 0.5·0.96^((t+1)·ψ))
/// mu_product = float32(mu_product·μ_t)
/// m = β1·m + (1-β1)·d;  v = β2·v + (1-β2)·d²;  denom = sqrt(v)/sqrt(1-β2^t) + eps
/// θ = θ - lr·(1-μ_t)/(1-mu_product)·d/denom - lr·μ_{t+1}/(1-mu_product·μ_{t+1})·m/denom
/// </code>
/// State: <c>step</c>, <c>mu_product</c> (float32 0-dim), <c>exp_avg</c>, <c>exp_avg_sq</c>.
/// </summary>
public sealed class NAdam : Optimizer
{
    /// <summary>Creates NAdam over <paramref name="groups"/>.</summary>
    public NAdam(IEnumerable<ParamGroup> groups, double lr = 2e-3, (double, double)? betas = null, double eps = 1e-8, double weightDecay = 0, double momentumDecay = 4e-3)
        : base(groups, Check(lr, betas ?? (0.9, 0.999), eps, weightDecay, momentumDecay)) { }

    /// <summary>Creates NAdam over one group of <paramref name="parameters"/>.</summary>
    public NAdam(IEnumerable<OptimParameter> parameters, double lr = 2e-3, (double, double)? betas = null, double eps = 1e-8, double weightDecay = 0, double momentumDecay = 4e-3)
        : this(OneGroup(parameters), lr, betas, eps, weightDecay, momentumDecay) { }

    private static Dictionary<string, object?> Check(double lr, (double, double) betas, double eps, double wd, double momentumDecay)
    {
        Validate.Lr(lr);
        Validate.Eps(eps);
        Validate.Betas(betas);
        Validate.WeightDecay(wd);
        Validate.NonNegative(momentumDecay, "momentum_decay value", "momentum_decay");
        return new() { ["lr"] = lr, ["betas"] = new[] { betas.Item1, betas.Item2 }, ["eps"] = eps, ["weight_decay"] = wd, ["momentum_decay"] = momentumDecay };
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            double lr = g.GetDouble("lr"), eps = g.GetDouble("eps"), wd = g.GetDouble("weight_decay"), psi = g.GetDouble("momentum_decay");
            var (b1, b2) = g.GetPair("betas");
            foreach (var p in g.ParamList)
            {
                if (!p.HasGrad)
                    continue;
                RejectSparse(p);
                var st = StateOf(p);
                if (st.Count == 0)
                {
                    st.Values["step"] = StateTensor.Float32Scalar(0);
                    st.Values["mu_product"] = StateTensor.Float32Scalar(1);
                    st.Values["exp_avg"] = ZerosLike(p, "exp_avg");
                    st.Values["exp_avg_sq"] = ZerosLike(p, "exp_avg_sq");
                }
                var stepT = st.Tensor("step");
                stepT.SetItem(stepT.ToScalar() + 1);
                double step = stepT.ToScalar();
                double bc2 = 1 - Math.Pow(b2, step);
                double mu = b1 * (1 - 0.5 * Math.Pow(0.96, step * psi));
                double muNext = b1 * (1 - 0.5 * Math.Pow(0.96, (step + 1) * psi));
                var muProductT = st.Tensor("mu_product");
                // A float32 0-dim tensor times a Python float: float32 arithmetic.
                muProductT.SetItem((float)muProductT.ToScalar() * (float)mu);
                double muProduct = muProductT.ToScalar();
                double muProductNext = muProduct * muNext;
                double s1 = lr * (1 - mu) / (1 - muProduct) * -1, s2 = lr * muNext / (1 - muProductNext) * -1;
                switch (p)
                {
                    case OptimParameter<float> f: Update(f, st, b1, b2, eps, wd, Math.Sqrt(bc2), s1, s2); break;
                    case OptimParameter<double> d: Update(d, st, b1, b2, eps, wd, Math.Sqrt(bc2), s1, s2); break;
                    default: throw Unsupported(p);
                }
            }
        }
    }

    private static void Update<T>(OptimParameter<T> p, ParamState st, double b1, double b2, double eps, double wd, double bc2Sqrt, double s1, double s2) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var k = new Kernel<T>
        {
            Theta = p.Data, Grad = p.Grad, M = st.Span<T>("exp_avg"), V = st.Span<T>("exp_avg_sq"),
            B1 = Simd.Cast<T>(b1), OneMinusB1 = Simd.Cast<T>(1 - b1), B2 = Simd.Cast<T>(b2), OneMinusB2 = Simd.Cast<T>(1 - b2),
            Eps = Simd.Cast<T>(eps), Wd = Simd.Cast<T>(wd), Bc2Sqrt = Simd.Cast<T>(bc2Sqrt), S1 = Simd.Cast<T>(s1), S2 = Simd.Cast<T>(s2), UseWd = wd != 0,
        };
        Simd.Run<T, Kernel<T>>(ref k, p.Length);
    }

    private ref struct Kernel<T> : IKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Span<T> Theta, Grad, M, V;
        public T B1, OneMinusB1, B2, OneMinusB2, Eps, Wd, Bc2Sqrt, S1, S2;
        public bool UseWd;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public readonly void Run<TV>(int i) where TV : struct, IVec<TV, T>
        {
            TV theta = TV.Load(Theta, i);
            TV d = TV.Load(Grad, i);
            if (UseWd) d = d + TV.Splat(Wd) * theta;
            TV m = TV.Load(M, i) * TV.Splat(B1) + TV.Splat(OneMinusB1) * d;
            TV v = TV.Load(V, i) * TV.Splat(B2) + TV.Splat(OneMinusB2) * d * d;
            TV.Store(M, i, m);
            TV.Store(V, i, v);
            TV denom = TV.Sqrt(v) / TV.Splat(Bc2Sqrt) + TV.Splat(Eps);
            theta = theta + TV.Splat(S1) * (d / denom);
            TV.Store(Theta, i, theta + TV.Splat(S2) * (m / denom));
        }
    }
}

/// <summary>
/// <c>torch.optim.RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)</c>.
/// <code>
/// t += 1; d = g; if wd != 0: d += wd·θ;  m = β1·m + (1-β1)·d;  v = β2·v + (1-β2)·d²
/// m̂ = m/(1-β1^t);  ρ∞ = 2/(1-β2) - 1;  ρ_t = ρ∞ - 2t·β2^t/(1-β2^t)
/// ρ_t &gt; 5 ? θ -= m̂·lr·(sqrt(1-β2^t)/(sqrt(v)+eps))·r  (r = sqrt((ρ_t-4)(ρ_t-2)ρ∞/((ρ∞-4)(ρ∞-2)ρ_t)))  :  θ -= m̂·lr
/// </code>
/// State: <c>step</c> (float32 0-dim), <c>exp_avg</c>, <c>exp_avg_sq</c>.
/// </summary>
public sealed class RAdam : Optimizer
{
    /// <summary>Creates RAdam over <paramref name="groups"/>.</summary>
    public RAdam(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weightDecay = 0)
        : base(groups, Check(lr, betas ?? (0.9, 0.999), eps, weightDecay)) { }

    /// <summary>Creates RAdam over one group of <paramref name="parameters"/>.</summary>
    public RAdam(IEnumerable<OptimParameter> parameters, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weightDecay = 0)
        : this(OneGroup(parameters), lr, betas, eps, weightDecay) { }

    private static Dictionary<string, object?> Check(double lr, (double, double) betas, double eps, double wd)
    {
        Validate.Lr(lr);
        Validate.Eps(eps);
        Validate.Betas(betas);
        Validate.WeightDecay(wd);
        return new() { ["lr"] = lr, ["betas"] = new[] { betas.Item1, betas.Item2 }, ["eps"] = eps, ["weight_decay"] = wd };
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            double lr = g.GetDouble("lr"), eps = g.GetDouble("eps"), wd = g.GetDouble("weight_decay");
            var (b1, b2) = g.GetPair("betas");
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
                    st.Values["exp_avg_sq"] = ZerosLike(p, "exp_avg_sq");
                }
                var stepT = st.Tensor("step");
                stepT.SetItem(stepT.ToScalar() + 1);
                double step = stepT.ToScalar();
                double bc1 = 1 - Math.Pow(b1, step), bc2 = 1 - Math.Pow(b2, step);
                double rhoInf = 2 / (1 - b2) - 1;
                double rhoT = rhoInf - 2 * step * Math.Pow(b2, step) / bc2;
                bool rect = rhoT > 5;
                double r = rect ? Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0;
                switch (p)
                {
                    case OptimParameter<float> f: Update(f, st, lr, b1, b2, eps, wd, bc1, Math.Sqrt(bc2), rect, r); break;
                    case OptimParameter<double> d: Update(d, st, lr, b1, b2, eps, wd, bc1, Math.Sqrt(bc2), rect, r); break;
                    default: throw Unsupported(p);
                }
            }
        }
    }

    private static void Update<T>(OptimParameter<T> p, ParamState st, double lr, double b1, double b2, double eps, double wd, double bc1, double bc2Sqrt, bool rect, double r)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var k = new Kernel<T>
        {
            Theta = p.Data, Grad = p.Grad, M = st.Span<T>("exp_avg"), V = st.Span<T>("exp_avg_sq"),
            B1 = Simd.Cast<T>(b1), OneMinusB1 = Simd.Cast<T>(1 - b1), B2 = Simd.Cast<T>(b2), OneMinusB2 = Simd.Cast<T>(1 - b2),
            Eps = Simd.Cast<T>(eps), Wd = Simd.Cast<T>(wd), Bc1 = Simd.Cast<T>(bc1), Bc2Sqrt = Simd.Cast<T>(bc2Sqrt), Lr = Simd.Cast<T>(lr), R = Simd.Cast<T>(r),
            UseWd = wd != 0, Rect = rect,
        };
        Simd.Run<T, Kernel<T>>(ref k, p.Length);
    }

    private ref struct Kernel<T> : IKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Span<T> Theta, Grad, M, V;
        public T B1, OneMinusB1, B2, OneMinusB2, Eps, Wd, Bc1, Bc2Sqrt, Lr, R;
        public bool UseWd, Rect;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public readonly void Run<TV>(int i) where TV : struct, IVec<TV, T>
        {
            TV theta = TV.Load(Theta, i);
            TV d = TV.Load(Grad, i);
            if (UseWd) d = d + TV.Splat(Wd) * theta;
            TV m = TV.Load(M, i) * TV.Splat(B1) + TV.Splat(OneMinusB1) * d;
            TV v = TV.Load(V, i) * TV.Splat(B2) + TV.Splat(OneMinusB2) * d * d;
            TV.Store(M, i, m);
            TV.Store(V, i, v);
            TV mHat = m / TV.Splat(Bc1);
            TV update = Rect
                ? mHat * TV.Splat(Lr) * (TV.Splat(Bc2Sqrt) / (TV.Sqrt(v) + TV.Splat(Eps))) * TV.Splat(R)
                : mHat * TV.Splat(Lr);
            TV.Store(Theta, i, theta - update);
        }
    }
}
