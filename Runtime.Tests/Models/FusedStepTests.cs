using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using DslModels.Optim;
using DslModels.Optim.Schedulers;
using Xunit;

namespace DslModels.Tests.Models;

/// <summary>
/// The generated Step() of models with any optimizer but SparseAdam and LBFGS is an emitted pass over the parameter arena. It must give exactly
/// the bits of the runtime optimizer's Step() (the reference: it is checked against PyTorch by the conformance cases),
/// keep scheduler changes live, fall back when the optimizer no longer matches its specialisation, and really run
/// (DslCanFuseStep true) once the state exists.
/// </summary>
public class FusedStepTests
{
    private sealed record Subject(IModel Model, Optimizer Optimizer, Action Step) : IDisposable
    {
        public bool Fuses => (bool)Model.GetType().GetMethod("DslCanFuseStep", BindingFlags.NonPublic | BindingFlags.Instance)!.Invoke(Model, null)!;

        public void Dispose() => Model.Dispose();
    }

    private static Subject S<T>(T m, Func<T, Optimizer> optimizer, Action<T> step) where T : IModel => new(m, optimizer(m), () => step(m));

    private static Subject Create(string name) => name switch
    {
        nameof(OddMlp) => S(new OddMlp(), m => m.Optimizer, m => m.Step()),
        nameof(TinyRegressor) => S(new TinyRegressor(), m => m.Optimizer, m => m.Step()),
        nameof(OptSgdGroups) => S(new OptSgdGroups(), m => m.Optimizer, m => m.Step()),
        nameof(FusedSgdMaximize) => S(new FusedSgdMaximize(), m => m.Optimizer, m => m.Step()),
        nameof(FusedSgdPlain) => S(new FusedSgdPlain(), m => m.Optimizer, m => m.Step()),
        nameof(OptAdam) => S(new OptAdam(), m => m.Optimizer, m => m.Step()),
        nameof(OptAdamW) => S(new OptAdamW(), m => m.Optimizer, m => m.Step()),
        nameof(FusedAdamAmsgradMaximize) => S(new FusedAdamAmsgradMaximize(), m => m.Optimizer, m => m.Step()),
        nameof(FusedAdamWGroups) => S(new FusedAdamWGroups(), m => m.Optimizer, m => m.Step()),
        nameof(OptAdagrad) => S(new OptAdagrad(), m => m.Optimizer, m => m.Step()),
        nameof(FusedAdagradWdMaximize) => S(new FusedAdagradWdMaximize(), m => m.Optimizer, m => m.Step()),
        nameof(OptRMSprop) => S(new OptRMSprop(), m => m.Optimizer, m => m.Step()),
        nameof(FusedRmspropPlain) => S(new FusedRmspropPlain(), m => m.Optimizer, m => m.Step()),
        nameof(FusedRmspropGroups) => S(new FusedRmspropGroups(), m => m.Optimizer, m => m.Step()),
        nameof(OptAdadelta) => S(new OptAdadelta(), m => m.Optimizer, m => m.Step()),
        nameof(FusedAdadeltaWdMaximize) => S(new FusedAdadeltaWdMaximize(), m => m.Optimizer, m => m.Step()),
        nameof(OptAdamax) => S(new OptAdamax(), m => m.Optimizer, m => m.Step()),
        nameof(FusedAdamaxWdMaximize) => S(new FusedAdamaxWdMaximize(), m => m.Optimizer, m => m.Step()),
        nameof(OptNAdam) => S(new OptNAdam(), m => m.Optimizer, m => m.Step()),
        nameof(FusedNAdamGroups) => S(new FusedNAdamGroups(), m => m.Optimizer, m => m.Step()),
        nameof(OptRAdam) => S(new OptRAdam(), m => m.Optimizer, m => m.Step()),
        nameof(FusedRAdamWd) => S(new FusedRAdamWd(), m => m.Optimizer, m => m.Step()),
        nameof(OptAsgd) => S(new OptAsgd(), m => m.Optimizer, m => m.Step()),
        nameof(FusedAsgdGroups) => S(new FusedAsgdGroups(), m => m.Optimizer, m => m.Step()),
        nameof(OptRprop) => S(new OptRprop(), m => m.Optimizer, m => m.Step()),
        nameof(FusedRpropMaximize) => S(new FusedRpropMaximize(), m => m.Optimizer, m => m.Step()),
        _ => throw new ArgumentException(name),
    };

    public static TheoryData<string> Names => new(
        nameof(OddMlp), nameof(TinyRegressor), nameof(OptSgdGroups), nameof(FusedSgdMaximize), nameof(FusedSgdPlain),
        nameof(OptAdam), nameof(OptAdamW), nameof(FusedAdamAmsgradMaximize), nameof(FusedAdamWGroups),
        nameof(OptAdagrad), nameof(FusedAdagradWdMaximize), nameof(OptRMSprop), nameof(FusedRmspropPlain), nameof(FusedRmspropGroups),
        nameof(OptAdadelta), nameof(FusedAdadeltaWdMaximize), nameof(OptAdamax), nameof(FusedAdamaxWdMaximize), nameof(OptNAdam),
        nameof(FusedNAdamGroups), nameof(OptRAdam), nameof(FusedRAdamWd), nameof(OptAsgd), nameof(FusedAsgdGroups),
        nameof(OptRprop), nameof(FusedRpropMaximize));

    /// <summary>Forward, then Backward of a fixed random upstream gradient (distinct per step), on both models.</summary>
    private static void Gradients(Subject s, int step, int batch = 3)
    {
        var x = ModelHelpers.Inputs(batch * s.Model.InputWidth, 100 + step);
        var up = ModelHelpers.Inputs(batch * s.Model.OutputWidth, 200 + step);
        var y = new float[batch * s.Model.OutputWidth];
        s.Model.ZeroGrad();
        s.Model.Forward(x, y, batch);
        s.Model.Backward(up, batch);
    }

    private static void AssertSameBits(Subject expected, Subject actual, string when)
    {
        for (int k = 0; k < expected.Model.Parameters.Count; k++)
            Assert.True(expected.Model.Parameters[k].Data.SequenceEqual(actual.Model.Parameters[k].Data), $"{when}: {expected.Model.Parameters[k].Name} differs");
        Assert.Equal(expected.Optimizer.StateDict().ToJson(), actual.Optimizer.StateDict().ToJson());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Fused_step_equals_the_runtime_optimizer_bit_for_bit(string name)
    {
        using var fused = Create(name);
        using var runtime = Create(name);
        Assert.False(fused.Fuses); // no state yet: the first step is the optimizer's own (it creates the state)
        for (int step = 0; step < 8; step++) // 8: RAdam's rectified branch starts at about step 6, ASGD averages after t0
        {
            Gradients(fused, step);
            Gradients(runtime, step);
            fused.Step();
            runtime.Optimizer.Step();
            Assert.True(fused.Fuses, $"{name}: the fused pass does not apply after step {step}");
            AssertSameBits(runtime, fused, $"{name} step {step}");
        }
        // The parameters really moved, so the comparison above compared updates.
        using var untouched = Create(name);
        Assert.False(untouched.Model.Parameters[0].Data.SequenceEqual(fused.Model.Parameters[0].Data));
    }

    [Theory]
    [InlineData(nameof(OptAdam))]
    [InlineData(nameof(OptAdamW))]
    [InlineData(nameof(FusedAdamAmsgradMaximize))]
    [InlineData(nameof(FusedAdamWGroups))]
    [InlineData(nameof(OptNAdam))]
    [InlineData(nameof(FusedNAdamGroups))]
    public void Late_steps_whose_bias_correction_is_exactly_one_stay_bit_identical(string name)
    {
        // Long runs: from ~16,600 steps (beta2 = 0.999) the float sqrt(1 - beta2^step) is exactly 1, just before that it is
        // the float below 1. The fused pass must keep the runtime optimizer's bits at both (a kernel that special-cased a
        // divisor of "about 1" would not).
        Assert.Equal(1f, (float)Math.Sqrt(1 - Math.Pow(0.999, 20_001)));
        Assert.True((float)Math.Sqrt(1 - Math.Pow(0.999, 15_001)) < 1f);
        foreach (int late in new[] { 15_000, 20_000 })
        {
            using var fused = Create(name);
            using var runtime = Create(name);
            for (int step = 0; step < 5; step++)
            {
                if (step == 1) // after the first step created the state: jump both to a late step count
                {
                    foreach (var s in new[] { fused, runtime })
                        foreach (var p in s.Optimizer.Parameters)
                            ((StateTensor)s.Optimizer.State[p]["step"]!).SetItem(late);
                }
                Gradients(fused, step);
                Gradients(runtime, step);
                fused.Step();
                runtime.Optimizer.Step();
                Assert.True(fused.Fuses, $"{name}: the fused pass does not apply after step {step}");
                AssertSameBits(runtime, fused, $"{name} step {step} (jumped to {late})");
            }
            Assert.Equal(late + 4.0, ((StateTensor)fused.Optimizer.State[fused.Optimizer.Parameters.First()]["step"]!).ToScalar());
        }
    }

    [Theory]
    [InlineData(nameof(OddMlp))]
    [InlineData(nameof(OptAdam))]
    [InlineData(nameof(FusedAdamWGroups))]
    [InlineData(nameof(FusedAdagradWdMaximize))]
    [InlineData(nameof(OptRMSprop))]
    [InlineData(nameof(FusedRmspropGroups))]
    [InlineData(nameof(FusedAdadeltaWdMaximize))]
    [InlineData(nameof(OptAdamax))]
    [InlineData(nameof(FusedNAdamGroups))]
    [InlineData(nameof(FusedRAdamWd))]
    [InlineData(nameof(FusedAsgdGroups))]
    [InlineData(nameof(FusedRpropMaximize))]
    public void Scheduled_and_edited_hyperparameters_stay_live(string name)
    {
        using var fused = Create(name);
        using var runtime = Create(name);
        var schedulers = new[] { fused, runtime }.Select(s => new ExponentialLR(s.Optimizer, gamma: 0.7)).ToArray();
        for (int step = 0; step < 6; step++)
        {
            Gradients(fused, step);
            Gradients(runtime, step);
            if (step == 3)
            {
                foreach (var s in new[] { fused, runtime })
                {
                    // Every option of the optimizer that the pass reads live (momentum only where it is on: turning it on
                    // would need a buffer the state does not have).
                    var g = s.Optimizer.ParamGroups[0];
                    if (g.ContainsKey("momentum") && g.GetDouble("momentum") != 0) g["momentum"] = 0.5;
                    foreach (var (key, value) in Edits)
                        if (g.ContainsKey(key))
                            g[key] = value is double[] a ? (double[])a.Clone() : value;
                }
            }
            fused.Step();
            runtime.Optimizer.Step();
            foreach (var sc in schedulers)
                sc.Step();
            Assert.True(fused.Fuses);
            AssertSameBits(runtime, fused, $"{name} step {step}");
        }
    }

    private static readonly (string Key, object Value)[] Edits =
    [
        ("betas", new[] { 0.7, 0.95 }), ("weight_decay", 0.03), ("eps", 1e-3), ("lr_decay", 0.05), ("alpha", 0.8), ("rho", 0.7),
        ("momentum_decay", 0.02), ("lambd", 1e-3), ("t0", 4.0), ("etas", new[] { 0.3, 1.5 }), ("step_sizes", new[] { 1e-4, 0.02 }),
    ];

    [Fact]
    public void A_changed_flag_or_an_added_group_falls_back_to_the_runtime_optimizer()
    {
        using var fused = Create(nameof(OddMlp));
        using var runtime = Create(nameof(OddMlp));
        void Both(Action<Subject> a) { a(fused); a(runtime); }
        for (int step = 0; step < 2; step++)
        {
            Both(s => Gradients(s, step));
            fused.Step();
            runtime.Optimizer.Step();
        }
        Assert.True(fused.Fuses);

        Both(s => s.Optimizer.ParamGroups[0]["nesterov"] = false); // OddMlp was declared with nesterov
        Assert.False(fused.Fuses);
        Both(s => Gradients(s, 2));
        fused.Step();
        runtime.Optimizer.Step();
        AssertSameBits(runtime, fused, "nesterov switched off");

        Both(s => s.Optimizer.ParamGroups[0]["nesterov"] = true);
        Assert.True(fused.Fuses);
        Both(s => s.Optimizer.AddParamGroup(new ParamGroup(new OptimParameter[] { new TensorParameter<float>(1f, 2f, 3f) })));
        Assert.False(fused.Fuses);
        foreach (var p in new[] { fused, runtime }.Select(s => (TensorParameter<float>)s.Optimizer.ParamGroups[1].Params[0]))
            p.SetGrad(new float[] { 0.5f, -1f, 2f });
        Both(s => Gradients(s, 3));
        fused.Step();
        runtime.Optimizer.Step();
        AssertSameBits(runtime, fused, "group added");
        Assert.False(((TensorParameter<float>)fused.Optimizer.ParamGroups[1].Params[0]).Data.SequenceEqual(new float[] { 1f, 2f, 3f }));
    }

    [Theory]
    [InlineData(nameof(OddMlp))]
    [InlineData(nameof(FusedAdamAmsgradMaximize))]
    [InlineData(nameof(FusedAdamWGroups))]
    [InlineData(nameof(OptAdagrad))]
    [InlineData(nameof(OptRMSprop))]
    [InlineData(nameof(FusedAdadeltaWdMaximize))]
    [InlineData(nameof(OptAdamax))]
    [InlineData(nameof(FusedNAdamGroups))]
    [InlineData(nameof(OptRAdam))]
    [InlineData(nameof(FusedAsgdGroups))]
    [InlineData(nameof(FusedRpropMaximize))]
    public void Loaded_state_lands_in_the_arena_and_the_continuation_is_bit_identical(string name)
    {
        using var original = Create(name);
        for (int step = 0; step < 3; step++)
        {
            Gradients(original, step);
            original.Step();
        }
        string saved = original.Optimizer.StateDict().ToJson();
        using var resumed = Create(name);
        for (int k = 0; k < original.Model.Parameters.Count; k++)
            resumed.Model.Parameters[k].CopyFrom(original.Model.Parameters[k].Data);
        resumed.Optimizer.LoadStateDict(OptimizerStateDict.FromJson(saved));
        Assert.True(resumed.Fuses); // the loaded tensors were copied into the arena, so the next step is already fused

        // The arena and the state tensors are one memory: the tensor of every parameter is the arena slice at its offset.
        foreach (var p in resumed.Optimizer.Parameters.OfType<ModelParameter>())
        {
            foreach (var (key, value) in resumed.Optimizer.State[p])
            {
                if (value is StateTensor { Shape.Count: > 0 } t)
                    Assert.True(t.Float32.SequenceEqual(resumed.Optimizer.StateArena(key).Slice(p.Parameter.Offset, p.Parameter.Length)), $"{p.Name} {key}");
            }
        }
        for (int step = 3; step < 6; step++)
        {
            Gradients(original, step);
            Gradients(resumed, step);
            original.Step();
            resumed.Step();
            AssertSameBits(original, resumed, $"{name} step {step}");
        }
    }

    [Theory]
    [InlineData(nameof(OptAsgd), "eta")]
    [InlineData(nameof(OptAsgd), "mu")]
    [InlineData(nameof(FusedNAdamGroups), "mu_product")]
    public void Per_parameter_scalars_that_differ_within_a_group_fall_back_to_the_runtime_optimizer(string name, string key)
    {
        using var fused = Create(name);
        using var runtime = Create(name);
        for (int step = 0; step < 2; step++)
        {
            Gradients(fused, step);
            Gradients(runtime, step);
            fused.Step();
            runtime.Optimizer.Step();
        }
        Assert.True(fused.Fuses);
        foreach (var s in new[] { fused, runtime })
        {
            var sd = s.Optimizer.StateDict();
            var t = (StateTensor)sd.State[0][key]!;
            t.SetItem(t.ToScalar() * 0.75);
            s.Optimizer.LoadStateDict(sd);
        }
        Assert.False(fused.Fuses);
        for (int step = 2; step < 5; step++)
        {
            Gradients(fused, step);
            Gradients(runtime, step);
            fused.Step();
            runtime.Optimizer.Step();
            AssertSameBits(runtime, fused, $"{name} step {step}");
        }
        // eta and mu are recomputed from the step count at every step, so they agree again and the pass is back;
        // mu_product accumulates, so every parameter keeps its own and the runtime optimizer keeps stepping.
        Assert.Equal(key != "mu_product", fused.Fuses);
    }

    [Fact]
    public void A_failed_load_leaves_the_arena_and_the_fused_step_untouched()
    {
        using var model = Create(nameof(OptAdam));
        Gradients(model, 0);
        model.Step();
        var before = model.Optimizer.StateDict().ToJson();
        var bad = OptimizerStateDict.FromJson(before);
        bad.State[1]["exp_avg"] = new StateTensor(ScalarType.Float32, new[] { 7 });
        Assert.Throws<ArgumentException>(() => model.Optimizer.LoadStateDict(bad));
        Assert.Equal(before, model.Optimizer.StateDict().ToJson());
        Assert.True(model.Fuses);
    }
}
