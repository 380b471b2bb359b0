using System;
using System.Runtime.Intrinsics;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;

namespace DslModels.Optim;

/// <summary>
/// <c>torch.optim.SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False)</c>.
/// Per element, as PyTorch 1.13's single-tensor path, in the parameter's precision:
/// <code>
/// d = maximize ? -g : g
/// if weight_decay != 0: d = d + weight_decay·θ
/// if momentum != 0:
///     buf = first step ? d : buf·momentum + (1 - dampening)·d
///     d = nesterov ? d + momentum·buf : buf
/// θ = θ - lr·d
/// </code>
/// A generated model's <c>Step()</c> performs the same float32 operations in the same order, so the two agree bit
/// for bit. State: <c>momentum_buffer</c> (null while momentum is 0).
/// </summary>
public sealed class Sgd : Optimizer, IDisposable
{
    /// <summary>Creates the optimizer over model <paramref name="parameters"/>; the group is bound to <paramref name="options"/> (live).</summary>
    public Sgd(IEnumerable<Parameter> parameters, SgdOptions options)
        : this(OneGroup((parameters ?? throw new ArgumentNullException(nameof(parameters))).Select(p => (OptimParameter)OptimParameter.From(p))), options, bind: true) { }

    /// <summary>Creates the optimizer over <paramref name="parameters"/>; the group is bound to <paramref name="options"/> (live).</summary>
    public Sgd(IEnumerable<OptimParameter> parameters, SgdOptions options) : this(OneGroup(parameters), options, bind: true) { }

    /// <summary>Creates the optimizer over <paramref name="groups"/>; <paramref name="defaults"/> fill the options groups don't set.</summary>
    public Sgd(IEnumerable<ParamGroup> groups, SgdOptions defaults) : this(groups, defaults, bind: false) { }

    private Sgd(IEnumerable<ParamGroup> groups, SgdOptions options, bool bind)
        : base(Bind(groups, options, bind), DefaultsOf(options))
    {
        Options = options;
    }

    private static IEnumerable<ParamGroup> Bind(IEnumerable<ParamGroup> groups, SgdOptions options, bool bind)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(options);
        var list = groups.ToList();
        if (bind)
            foreach (var g in list)
                g.BoundSgdOptions = options;
        return list;
    }

    private static Dictionary<string, object?> DefaultsOf(SgdOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return new()
        {
            ["lr"] = o.LearningRate, ["momentum"] = o.Momentum, ["dampening"] = o.Dampening,
            ["weight_decay"] = o.WeightDecay, ["nesterov"] = o.Nesterov, ["maximize"] = o.Maximize,
        };
    }

    /// <summary>The options given to the constructor (live for the group bound to them).</summary>
    public SgdOptions Options { get; }

    /// <summary>The <c>momentum_buffer</c> of parameter <paramref name="index"/> (group order), or empty before the first step with momentum.</summary>
    public ReadOnlySpan<float> MomentumBuffer(int index)
    {
        var p = Parameters.ElementAt(index);
        return State.TryGetValue(p, out var s) && s.TryGetValue("momentum_buffer", out var b) && b is StateTensor t ? t.Float32 : default;
    }

    /// <summary>Applies one update to every parameter (no closure).</summary>
    public void Step() => Step(null);

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad() => ZeroGrad(false);

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            double lr = g.GetDouble("lr"), momentum = g.GetDouble("momentum"), dampening = g.GetDouble("dampening"), wd = g.GetDouble("weight_decay");
            bool nesterov = g.GetBool("nesterov"), maximize = g.GetBool("maximize");
            foreach (var p in g.ParamList)
            {
                if (!p.HasGrad)
                    continue;
                RejectSparse(p, "DslModels' SGD does not support sparse gradients");
                var st = StateOf(p);
                bool first = false;
                StateTensor? buf = st.TryGetValue("momentum_buffer", out var b) ? b as StateTensor : null;
                if (momentum != 0 && buf is null)
                {
                    buf = ZerosLike(p, "momentum_buffer");
                    first = true;
                }
                st.Values["momentum_buffer"] = buf;
                if (p is OptimParameter<float> f)
                    UpdateFloat(f.Data, f.Grad, momentum != 0 ? buf!.Float32 : default, first, (float)lr, (float)momentum, (float)(1.0 - dampening), (float)wd, nesterov, maximize);
                else if (p is OptimParameter<double> d)
                    Update(d.Data, d.Grad, momentum != 0 ? buf!.Float64 : default, first, lr, momentum, dampening, wd, nesterov, maximize);
            }
        }
    }

    /// <summary>
    /// float32 SGD with explicit Vector512 / Vector256 loops and the flags hoisted out of them: the same operations in the
    /// same order as the generic kernel (so the results are the same bits), at memory speed for model-sized parameters.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void UpdateFloat(Span<float> theta, Span<float> grad, Span<float> buf, bool first, float lr, float momentum, float oneMinusDampening, float wd, bool nesterov, bool maximize)
    {
        if (Simd.MaxLanesOverride != 0)
        {
            Update(theta, grad, buf, first, lr, momentum, 1.0 - (double)oneMinusDampening, wd, nesterov, maximize, exactDampening: oneMinusDampening);
            return;
        }
        ref float t = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(theta);
        ref float g = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(grad);
        ref float b = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(buf);
        bool useMomentum = momentum != 0, useWd = wd != 0;
        int n = theta.Length, i = 0;
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            var lrV = System.Runtime.Intrinsics.Vector512.Create(lr);
            var mV = System.Runtime.Intrinsics.Vector512.Create(momentum);
            var dV = System.Runtime.Intrinsics.Vector512.Create(oneMinusDampening);
            var wdV = System.Runtime.Intrinsics.Vector512.Create(wd);
            for (; i <= n - 16; i += 16)
            {
                var th = System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref t, (nuint)i);
                var d = System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref g, (nuint)i);
                if (maximize) d = -d;
                if (useWd) d += wdV * th;
                if (useMomentum)
                {
                    var bb = first ? d : System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref b, (nuint)i) * mV + dV * d;
                    bb.StoreUnsafe(ref b, (nuint)i);
                    d = nesterov ? d + mV * bb : bb;
                }
                (th - lrV * d).StoreUnsafe(ref t, (nuint)i);
            }
        }
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            var lrV = System.Runtime.Intrinsics.Vector256.Create(lr);
            var mV = System.Runtime.Intrinsics.Vector256.Create(momentum);
            var dV = System.Runtime.Intrinsics.Vector256.Create(oneMinusDampening);
            var wdV = System.Runtime.Intrinsics.Vector256.Create(wd);
            for (; i <= n - 8; i += 8)
            {
                var th = System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref t, (nuint)i);
                var d = System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref g, (nuint)i);
                if (maximize) d = -d;
                if (useWd) d += wdV * th;
                if (useMomentum)
                {
                    var bb = first ? d : System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref b, (nuint)i) * mV + dV * d;
                    bb.StoreUnsafe(ref b, (nuint)i);
                    d = nesterov ? d + mV * bb : bb;
                }
                (th - lrV * d).StoreUnsafe(ref t, (nuint)i);
            }
        }
        if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
        {
            var lrV = System.Runtime.Intrinsics.Vector128.Create(lr);
            var mV = System.Runtime.Intrinsics.Vector128.Create(momentum);
            var dV = System.Runtime.Intrinsics.Vector128.Create(oneMinusDampening);
            var wdV = System.Runtime.Intrinsics.Vector128.Create(wd);
            for (; i <= n - 4; i += 4)
            {
                var th = System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref t, (nuint)i);
                var d = System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref g, (nuint)i);
                if (maximize) d = -d;
                if (useWd) d += wdV * th;
                if (useMomentum)
                {
                    var bb = first ? d : System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref b, (nuint)i) * mV + dV * d;
                    bb.StoreUnsafe(ref b, (nuint)i);
                    d = nesterov ? d + mV * bb : bb;
                }
                (th - lrV * d).StoreUnsafe(ref t, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float th = System.Runtime.CompilerServices.Unsafe.Add(ref t, i);
            float d = System.Runtime.CompilerServices.Unsafe.Add(ref g, i);
            if (maximize) d = -d;
            if (useWd) d += wd * th;
            if (useMomentum)
            {
                float bb = first ? d : System.Runtime.CompilerServices.Unsafe.Add(ref b, i) * momentum + oneMinusDampening * d;
                System.Runtime.CompilerServices.Unsafe.Add(ref b, i) = bb;
                d = nesterov ? d + momentum * bb : bb;
            }
            System.Runtime.CompilerServices.Unsafe.Add(ref t, i) = th - lr * d;
        }
    }

    private static void Update<T>(Span<T> theta, Span<T> grad, Span<T> buf, bool first, double lr, double momentum, double dampening, double wd, bool nesterov, bool maximize, float? exactDampening = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var k = new Kernel<T>
        {
            Theta = theta, Grad = grad, Buf = buf, First = first,
            Lr = Simd.Cast<T>(lr), Momentum = Simd.Cast<T>(momentum), OneMinusDampening = exactDampening is float e ? Simd.Cast<T>(e) : Simd.Cast<T>(1.0 - dampening),
            WeightDecay = Simd.Cast<T>(wd), UseMomentum = momentum != 0, UseWd = wd != 0, Nesterov = nesterov, Maximize = maximize,
        };
        Simd.Run<T, Kernel<T>>(ref k, theta.Length);
    }

    private ref struct Kernel<T> : IKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Span<T> Theta, Grad, Buf;
        public T Lr, Momentum, OneMinusDampening, WeightDecay;
        public bool First, UseMomentum, UseWd, Nesterov, Maximize;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public readonly void Run<TV>(int i) where TV : struct, IVec<TV, T>
        {
            TV theta = TV.Load(Theta, i);
            TV d = TV.Load(Grad, i);
            if (Maximize) d = -d;
            if (UseWd) d = d + TV.Splat(WeightDecay) * theta;
            if (UseMomentum)
            {
                // Branches rather than conditional expressions: a ?: on the vector wrapper makes the JIT spill it.
                TV b = d;
                if (!First)
                    b = TV.Load(Buf, i) * TV.Splat(Momentum) + TV.Splat(OneMinusDampening) * d;
                TV.Store(Buf, i, b);
                if (Nesterov)
                    d = d + TV.Splat(Momentum) * b;
                else
                    d = b;
            }
            TV.Store(Theta, i, theta - TV.Splat(Lr) * d);
        }
    }

    /// <summary>Nothing to free (state buffers are managed); kept for compatibility.</summary>
    public void Dispose() { }
}
