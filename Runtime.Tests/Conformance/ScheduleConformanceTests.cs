using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using DslModels.Optim;
using DslModels.Optim.Schedulers;
using Xunit;

namespace DslModels.Tests.Conformance;

/// <summary>Runs FORMAT.md's "schedule" suite: every case is one test.</summary>
public class ScheduleConformanceTests
{
    public static TheoryData<string> Cases => ConformanceCases.Ids("schedule");

    [Theory, MemberData(nameof(Cases))]
    public void Case(string id)
    {
        var c = ConformanceCases.Get(id);
        var json = c.Json;
        int steps = json.GetProperty("steps").GetInt32();
        double[]? metrics = json.TryGetProperty("metrics", out var m) ? m.EnumerateArray().Select(x => x.GetDouble()).ToArray() : null;
        var lrs = new List<double>();
        var momenta = new List<double>();
        double lrAfterInit = double.NaN, momentumAfterInit = double.NaN;
        Optimizer? optimizer = null;

        void Run()
        {
            var p = new TensorParameter<double>(1.0, -2.0);
            p.SetGrad([0.5, -0.25]);
            var opt = json.GetProperty("optimizer");
            optimizer = OptimizerFactory.Create(opt.GetProperty("op").GetString()!, [new ParamGroup([p])], JsonValues.ToDictionary(opt.GetProperty("defaults")));
            var o = JsonValues.ToDictionary(json.GetProperty("options"));
            Action<int> step = Create(c.Op, optimizer, o, metrics);
            lrAfterInit = optimizer.ParamGroups[0].LearningRate;
            momentumAfterInit = Momentum(optimizer);
            for (int i = 0; i < steps; i++)
            {
                optimizer.Step();
                step(i);
                lrs.Add(optimizer.ParamGroups[0].LearningRate);
                momenta.Add(Momentum(optimizer));
            }
        }

        if (json.TryGetProperty("expect_error", out var err))
        {
            ConformanceErrors.AssertMatches(err.GetString()!, Record.Exception(Run));
            return;
        }
        Run();
        var expected = json.GetProperty("expected");
        const double rtol = 1e-10, atol = 1e-12;
        CaseTolerance.AssertClose("lr_after_init", [expected.GetProperty("lr_after_init").GetDouble()], [lrAfterInit], rtol, atol);
        CaseTolerance.AssertClose("lr", expected.GetProperty("lr").EnumerateArray().Select(x => x.GetDouble()).ToArray(), lrs.ToArray(), rtol, atol);
        if (expected.TryGetProperty("momentum", out var mom))
        {
            CaseTolerance.AssertClose("momentum_after_init", [expected.GetProperty("momentum_after_init").GetDouble()], [momentumAfterInit], rtol, atol);
            CaseTolerance.AssertClose("momentum", mom.EnumerateArray().Select(x => x.GetDouble()).ToArray(), momenta.ToArray(), rtol, atol);
        }
    }

    private static double Momentum(Optimizer o)
    {
        var g = o.ParamGroups[0];
        return g.ContainsKey("betas") ? g.GetPair("betas").First : g.ContainsKey("momentum") ? g.GetDouble("momentum") : double.NaN;
    }

    /// <summary>Constructs the scheduler from torch keyword arguments; returns the per-step action.</summary>
    private static Action<int> Create(string op, Optimizer opt, Dictionary<string, object?> o, double[]? metrics)
    {
        double D(string k, double d) => o.TryGetValue(k, out var v) ? Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture) : d;
        int I(string k, int d) => o.TryGetValue(k, out var v) ? Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture) : d;
        int? NI(string k) => o.TryGetValue(k, out var v) && v is not null ? Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture) : null;
        bool B(string k, bool d) => o.TryGetValue(k, out var v) ? (bool)v! : d;
        string S(string k, string d) => o.TryGetValue(k, out var v) ? (string)v! : d;
        LRScheduler s;
        switch (op)
        {
            case "StepLR": s = new StepLR(opt, I("step_size", 0), D("gamma", 0.1)); break;
            case "MultiStepLR": s = new MultiStepLR(opt, ((double[])o["milestones"]!).Select(x => (int)x), D("gamma", 0.1)); break;
            case "ConstantLR": s = new ConstantLR(opt, D("factor", 1.0 / 3), I("total_iters", 5)); break;
            case "LinearLR": s = new LinearLR(opt, D("start_factor", 1.0 / 3), D("end_factor", 1.0), I("total_iters", 5)); break;
            case "ExponentialLR": s = new ExponentialLR(opt, D("gamma", double.NaN)); break;
            case "PolynomialLR": s = new PolynomialLR(opt, I("total_iters", 5), D("power", 1.0)); break;
            case "CosineAnnealingLR": s = new CosineAnnealingLR(opt, I("T_max", 0), D("eta_min", 0)); break;
            case "CosineAnnealingWarmRestarts": s = new CosineAnnealingWarmRestarts(opt, I("T_0", 0), I("T_mult", 1), D("eta_min", 0)); break;
            case "CyclicLR":
                s = new CyclicLR(opt, D("base_lr", double.NaN), D("max_lr", double.NaN), I("step_size_up", 2000), NI("step_size_down"),
                    S("mode", "triangular") switch { "triangular" => CyclicMode.Triangular, "triangular2" => CyclicMode.Triangular2, _ => CyclicMode.ExpRange },
                    D("gamma", 1.0), cycleMomentum: B("cycle_momentum", true), baseMomentum: D("base_momentum", 0.8), maxMomentum: D("max_momentum", 0.9));
                break;
            case "OneCycleLR":
                s = new OneCycleLR(opt, D("max_lr", double.NaN), NI("total_steps"), NI("epochs"), NI("steps_per_epoch"), D("pct_start", 0.3),
                    S("anneal_strategy", "cos"), B("cycle_momentum", true), D("base_momentum", 0.85), D("max_momentum", 0.95), D("div_factor", 25.0),
                    D("final_div_factor", 1e4), B("three_phase", false));
                break;
            case "ReduceLROnPlateau":
            {
                var r = new ReduceLROnPlateau(opt, S("mode", "min"), D("factor", 0.1), I("patience", 10), D("threshold", 1e-4), S("threshold_mode", "rel"),
                    I("cooldown", 0), D("min_lr", 0), D("eps", 1e-8));
                return i => r.Step(metrics![i]);
            }
            default: throw new InvalidOperationException($"unknown scheduler {op}");
        }
        return _ => s.Step();
    }
}
