using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Intrinsics;
using DslModels.Optim;
using DslModels.Optim.Schedulers;
using Xunit;

namespace DslModels.Tests.Optim;

/// <summary>Reference values of pytorch-semantics.md Appendix B (torch 1.13.1, float64) and the base-class contract.</summary>
public class OptimizerTests
{
    private static readonly double[][] Grads = [[0.5, -1.0], [0.2, 0.3], [-0.4, 0.1]];

    private static double[] RunAppendixB(Func<TensorParameter<double>, Optimizer> make)
    {
        var p = new TensorParameter<double>(1.0, -2.0);
        var o = make(p);
        foreach (var g in Grads)
        {
            p.SetGrad(g);
            o.Step();
        }
        return p.Data.ToArray();
    }

    public static TheoryData<string, double, double> AppendixB => new()
    {
        { "SGD lr=0.1", 0.97, -1.94 },
        { "SGD momentum dampening wd", 0.8611713887, -1.7789860774 },
        { "SGD nesterov", 0.84985, -1.7564 },
        { "Adam", 0.7925145982, -1.8303899248 },
        { "Adam wd amsgrad", 0.7702771948, -1.7894099287 },
        { "AdamW", 0.7898073547, -1.8246386076 },
        { "AdamW wd amsgrad maximize", 1.1748958267, -2.1077902266 },
        { "Adagrad", 0.9366544498, -1.9408321243 },
        { "RMSprop", 0.9226876418, -1.9384935901 },
        { "RMSprop momentum centered wd", 0.6879993059, -1.7382698275 },
        { "Adadelta", 0.9980736048, -1.9986668069 },
        { "Adamax", 0.8178299777, -1.8521207601 },
        { "ASGD", 0.9670801246, -1.934142769 },
        { "Rprop", 0.78, -1.95 },
        { "RAdam", 0.9089629054, -1.8521848903 },
    };

    private static Optimizer Make(string name, OptimParameter p) => name switch
    {
        "SGD lr=0.1" => new Sgd([p], new SgdOptions(0.1)),
        "SGD momentum dampening wd" => new Sgd([p], new SgdOptions(0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01)),
        "SGD nesterov" => new Sgd([p], new SgdOptions(0.1, momentum: 0.9, nesterov: true)),
        "Adam" => new Adam([p], lr: 0.1),
        "Adam wd amsgrad" => new Adam([p], lr: 0.1, weightDecay: 0.1, amsgrad: true),
        "AdamW" => new AdamW([p], lr: 0.1),
        "AdamW wd amsgrad maximize" => new AdamW([p], lr: 0.1, weightDecay: 0.1, amsgrad: true, maximize: true),
        "Adagrad" => new Adagrad([p], lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1),
        "RMSprop" => new RMSprop([p], lr: 0.01),
        "RMSprop momentum centered wd" => new RMSprop([p], lr: 0.01, momentum: 0.9, centered: true, weightDecay: 0.1),
        "Adadelta" => new Adadelta([p]),
        "Adamax" => new Adamax([p], lr: 0.1),
        "ASGD" => new Asgd([p], lr: 0.1, lambd: 0.01, t0: 1),
        "Rprop" => new Rprop([p], lr: 0.1),
        "RAdam" => new RAdam([p], lr: 0.1),
        _ => throw new ArgumentException(name),
    };

    [Theory, MemberData(nameof(AppendixB))]
    public void Appendix_B_final_parameters(string name, double x0, double x1)
    {
        double[] r = RunAppendixB(p => Make(name, p));
        Assert.Equal(x0, r[0], 9);
        Assert.Equal(x1, r[1], 9);
    }

    [Fact]
    public void Asgd_eta_and_mu_are_float32_as_in_torch()
    {
        var p = new TensorParameter<double>(1.0, -2.0);
        var o = new Asgd([p], lr: 0.1, lambd: 0.01, t0: 1);
        foreach (var g in Grads) { p.SetGrad(g); o.Step(); }
        var st = o.State[p];
        Assert.Equal(0.09977559000253677, st.Tensor("eta").ToScalar());
        Assert.Equal(ScalarType.Float32, st.Tensor("eta").DType);
        Assert.Equal(0.5, st.Tensor("mu").ToScalar());
        Assert.NotNull(o.Averaged(p));
    }

    [Theory]
    [InlineData(null, -0.7817427683, 0.6141036969, 20, 20)]
    [InlineData("strong_wolfe", -0.0852312055, -0.0288246453, 25, 19)]
    public void Lbfgs_appendix_B_rosenbrock(string? lineSearch, double x0, double x1, long funcEvals, long nIter)
    {
        var p = new TensorParameter<double>(-1.5, 2.0);
        var o = new Lbfgs([p], lr: 1, maxIter: 20, historySize: 10, lineSearchFn: lineSearch);
        double Closure()
        {
            var x = p.Data;
            double a = x[1] - x[0] * x[0];
            p.SetGrad([-400 * x[0] * a - 2 * (1 - x[0]), 200 * a]);
            return (1 - x[0]) * (1 - x[0]) + 100 * a * a;
        }
        Assert.Equal(12.5, o.Step(Closure));
        Assert.Equal(x0, p.Data[0], 9);
        Assert.Equal(x1, p.Data[1], 9);
        Assert.Equal(funcEvals, (long)o.State[p]["func_evals"]!);
        Assert.Equal(nIter, (long)o.State[p]["n_iter"]!);
    }

    [Fact]
    public void Param_group_errors_follow_pytorch()
    {
        var a = new TensorParameter<double>(1.0);
        var b = new TensorParameter<double>(2.0);
        var e1 = Assert.Throws<ArgumentException>(() => new Adam(new[] { new ParamGroup([a]), new ParamGroup([a, b]) }));
        Assert.Contains("some parameters appear in more than one parameter group", e1.Message);
        Assert.Throws<ArgumentException>(() => new Adam(new OptimParameter[] { a, a }));
        Assert.Contains("empty parameter list", Assert.Throws<ArgumentException>(() => new Adam(Array.Empty<OptimParameter>())).Message);
        var o = new Adam([a], lr: 0.5);
        Assert.Throws<ArgumentException>(() => o.AddParamGroup(new ParamGroup(Array.Empty<OptimParameter>())));
        Assert.Throws<ArgumentException>(() => o.AddParamGroup(new ParamGroup([a])));
        o.AddParamGroup(new ParamGroup([b], new Dictionary<string, object?> { ["lr"] = 0.25 }));
        Assert.Equal(0.25, o.ParamGroups[1].LearningRate);
        Assert.Equal((0.9, 0.999), o.ParamGroups[1].GetPair("betas"));
        Assert.Equal(0.5, o.ParamGroups[0].LearningRate);
    }

    [Fact]
    public void Group_options_are_read_live_and_parameters_without_grad_are_skipped()
    {
        var a = new TensorParameter<double>(1.0);
        var b = new TensorParameter<double>(1.0);
        var o = new Sgd(new[] { new ParamGroup([a]), new ParamGroup([b]) }, new SgdOptions(0.1));
        a.SetGrad([1.0]);
        o.ParamGroups[0].LearningRate = 0.5;
        o.Step();
        Assert.Equal(0.5, a.Data[0]);
        Assert.Equal(1.0, b.Data[0]);
        Assert.False(o.State.ContainsKey(b));
        o.ZeroGrad(setToNone: true);
        Assert.False(a.HasGrad);
    }

    [Fact]
    public void Sgd_bound_options_follow_a_scheduler()
    {
        var w = new TensorParameter<float>([1f], [1]);
        var options = new SgdOptions(0.1, momentum: 0.9);
        var o = new Sgd([w], options);
        var s = new StepLR(o, 1, 0.5);
        s.Step();
        Assert.Equal(0.05, options.LearningRate, 15);
        options.LearningRate = 0.2;
        Assert.Equal(0.2, o.ParamGroups[0].LearningRate);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.LearningRate = -1);
    }

    [Fact]
    public void Errors_of_constructors_match_pytorch_messages()
    {
        var p = new TensorParameter<double>(1.0);
        Assert.Contains("Invalid learning rate: -0.1", Assert.ThrowsAny<ArgumentException>(() => new Sgd([p], new SgdOptions(-0.1))).Message);
        Assert.Contains("Invalid beta parameter at index 1: 1.0", Assert.ThrowsAny<ArgumentException>(() => new Adam([p], betas: (0.9, 1.0))).Message);
        Assert.Contains("Invalid epsilon value: -1e-05", Assert.ThrowsAny<ArgumentException>(() => new Adam([p], eps: -1e-5)).Message);
        Assert.Contains("Invalid eta values", Assert.ThrowsAny<ArgumentException>(() => new Rprop([p], etas: (1.5, 2.0))).Message);
        Assert.Contains("Invalid learning rate: 0.0", Assert.ThrowsAny<ArgumentException>(() => new SparseAdam([p], lr: 0)).Message);
        Assert.Contains("LBFGS doesn't support", Assert.ThrowsAny<ArgumentException>(() => new Lbfgs(new[] { new ParamGroup([p]), new ParamGroup([new TensorParameter<double>(2.0)]) })).Message);
    }

    [Fact]
    public void Load_state_dict_errors_leave_the_optimizer_unchanged()
    {
        var a = new TensorParameter<double>(1.0, 2.0);
        var b = new TensorParameter<double>(3.0);
        var o = new Adam(new[] { new ParamGroup([a]), new ParamGroup([b]) }, lr: 0.1);
        a.SetGrad([1.0, 1.0]); b.SetGrad([1.0]);
        o.Step();
        string before = o.StateDict().ToJson();

        var sd = o.StateDict();
        sd.ParamGroups.RemoveAt(1);
        Assert.Contains("different number of parameter groups", Assert.Throws<ArgumentException>(() => o.LoadStateDict(sd)).Message);

        sd = o.StateDict();
        sd.ParamGroups[0]["params"] = new[] { 0, 1 };
        sd.ParamGroups[1]["params"] = Array.Empty<int>();
        Assert.Contains("doesn't match the size", Assert.Throws<ArgumentException>(() => o.LoadStateDict(sd)).Message);

        sd = o.StateDict();
        sd.ParamGroups[0]["lr"] = 7.0;
        sd.State[0]["exp_avg"] = new StateTensor(ScalarType.Float64, [3]);
        Assert.Contains("shape", Assert.Throws<ArgumentException>(() => o.LoadStateDict(sd)).Message);

        Assert.Equal(before, o.StateDict().ToJson());
        Assert.Equal(0.1, o.ParamGroups[0].LearningRate);
    }

    [Fact]
    public void State_dict_layout_is_pytorch_s()
    {
        var a = new TensorParameter<double>(1.0, 2.0);
        var b = new TensorParameter<double>(3.0);
        var c = new TensorParameter<double>(4.0);
        var o = new Sgd(new[] { new ParamGroup([a]), new ParamGroup([b, c], new Dictionary<string, object?> { ["lr"] = 0.5, ["momentum"] = 0.9 }) }, new SgdOptions(0.1));
        a.SetGrad([1.0, 1.0]); b.SetGrad([1.0]);
        o.Step();
        var sd = o.StateDict();
        Assert.Equal([0, 1], sd.State.Keys);
        Assert.Null(sd.State[0]["momentum_buffer"]);
        Assert.Equal([1.0], ((StateTensor)sd.State[1]["momentum_buffer"]!).ToDoubleArray());
        Assert.Equal([0], (int[])sd.ParamGroups[0]["params"]!);
        Assert.Equal([1, 2], (int[])sd.ParamGroups[1]["params"]!);
        Assert.Equal(0.9, sd.ParamGroups[1]["momentum"]);
        var round = OptimizerStateDict.FromJson(sd.ToJson());
        Assert.Equal(sd.ToJson(), round.ToJson());
    }

    [Fact]
    public void Clip_grad_norm_and_value()
    {
        var a = new TensorParameter<double>(0.0, 0.0);
        var b = new TensorParameter<double>(0.0);
        a.SetGrad([3.0, 4.0]); b.SetGrad([12.0]);
        Assert.Equal(13.0, ClipGrad.ClipGradNorm([a, b], 6.5));
        double coef = 6.5 / (13.0 + 1e-6);
        Assert.Equal(3.0 * coef, a.Grad[0], 15);
        Assert.Equal(12.0 * coef, b.Grad[0], 15);

        a.SetGrad([3.0, -4.0]); b.SetGrad([12.0]);
        Assert.Equal(12.0, ClipGrad.ClipGradNorm([a, b], 100, double.PositiveInfinity));
        Assert.Equal(-4.0, a.Grad[1]);
        Assert.Equal(19.0, ClipGrad.ClipGradNorm([a, b], 100, 1));
        Assert.Equal(0.0, ClipGrad.ClipGradNorm([new TensorParameter<double>(1.0)], 1));

        ClipGrad.ClipGradValue([a, b], 3.5);
        Assert.Equal([3.0, -3.5], a.Grad.ToArray());
        Assert.Equal(3.5, b.Grad[0]);

        a.SetGrad([double.NaN, 1]);
        Assert.Throws<InvalidOperationException>(() => ClipGrad.ClipGradNorm([a], 1, errorIfNonfinite: true));
    }

    [Fact]
    public void SequentialLR_warmup_then_cosine_matches_reference()
    {
        var o = new Sgd([new TensorParameter<double>(1.0)], new SgdOptions(0.1));
        var seq = new SequentialLR(o, [new LinearLR(o, 0.1, 1.0, 3), new CosineAnnealingLR(o, 5)], [3]);
        double[] expected = [0.01, 0.04, 0.07, 0.1, 0.0905, 0.0655, 0.0345, 0.0095, 0.0, 0.0095];
        var got = new List<double> { o.ParamGroups[0].LearningRate };
        for (int i = 1; i < expected.Length; i++)
        {
            seq.Step();
            got.Add(o.ParamGroups[0].LearningRate);
        }
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], got[i], 4);
    }

    [Fact]
    public void Chained_schedulers_multiply_and_scheduler_state_round_trips()
    {
        var o = new Sgd([new TensorParameter<double>(1.0)], new SgdOptions(1.0));
        var a = new ExponentialLR(o, 0.5);
        var b = new StepLR(o, 2, 0.1);
        var ch = new ChainedScheduler([a, b]);
        ch.Step();
        Assert.Equal(0.5, o.ParamGroups[0].LearningRate, 15);
        ch.Step();
        Assert.Equal(0.025, o.ParamGroups[0].LearningRate, 15);

        var state = a.StateDict();
        var o2 = new Sgd([new TensorParameter<double>(1.0)], new SgdOptions(1.0));
        var a2 = new ExponentialLR(o2, 0.5);
        a2.LoadStateDict(state);
        Assert.Equal(2, a2.LastEpoch);
        Assert.Equal(a.GetLastLr(), a2.GetLastLr());
    }

    [Fact]
    public void Factory_rejects_unknown_keywords_and_ignores_implementation_switches()
    {
        var g = new[] { new ParamGroup([new TensorParameter<double>(1.0)]) };
        Assert.IsType<Adam>(OptimizerFactory.Create("Adam", g, new Dictionary<string, object?> { ["foreach"] = true }));
        var g2 = new[] { new ParamGroup([new TensorParameter<double>(1.0)]) };
        Assert.Throws<ArgumentException>(() => OptimizerFactory.Create("Adam", g2, new Dictionary<string, object?> { ["momentum"] = 0.9 }));
    }
}
