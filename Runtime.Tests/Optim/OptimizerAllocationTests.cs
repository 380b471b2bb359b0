using System;
using System.Collections.Generic;
using System.Linq;
using DslModels.Optim;
using Xunit;
using static DslModels.Tests.Models.ModelHelpers;

namespace DslModels.Tests.Optim;

/// <summary>Optimizer steps on float32 model parameters allocate no managed memory after warm-up.</summary>
public class OptimizerAllocationTests
{
    /// <summary>Every optimizer, with options that take its optional code paths (momentum, centering, amsgrad, decay, sparse rows, line search).</summary>
    public static TheoryData<string, string> Cases => new()
    {
        { "SGD", "plain" }, { "SGD", "nesterov" },
        { "Adam", "plain" }, { "Adam", "amsgrad" }, { "AdamW", "amsgrad" },
        { "Adagrad", "plain" }, { "Adagrad", "sparse" },
        { "RMSprop", "plain" }, { "RMSprop", "centered" },
        { "Adadelta", "plain" }, { "Adamax", "plain" }, { "SparseAdam", "sparse" },
        { "ASGD", "plain" }, { "ASGD", "averaging" }, { "Rprop", "plain" }, { "NAdam", "plain" }, { "RAdam", "plain" },
        { "LBFGS", "plain" }, { "LBFGS", "strong_wolfe" },
    };

    private static Dictionary<string, object?> Kwargs(string name, string variant) => (name, variant) switch
    {
        ("SGD", "plain") => new() { ["lr"] = 0.05 },
        ("SGD", "nesterov") => new() { ["lr"] = 0.05, ["momentum"] = 0.9, ["weight_decay"] = 0.01, ["nesterov"] = true, ["maximize"] = false },
        ("Adam", "plain") => new() { ["lr"] = 0.05 },
        ("Adam" or "AdamW", "amsgrad") => new() { ["lr"] = 0.05, ["amsgrad"] = true, ["weight_decay"] = 0.1 },
        ("Adagrad", "plain") => new() { ["lr"] = 0.1, ["lr_decay"] = 0.01, ["weight_decay"] = 0.1 },
        ("Adagrad", "sparse") => new() { ["lr"] = 0.1, ["lr_decay"] = 0.01 },
        ("RMSprop", "plain") => new() { ["lr"] = 0.01 },
        ("RMSprop", "centered") => new() { ["lr"] = 0.01, ["momentum"] = 0.5, ["centered"] = true, ["weight_decay"] = 0.1 },
        ("Adadelta", _) => new() { ["weight_decay"] = 0.1 },
        ("Adamax", _) => new() { ["lr"] = 0.05, ["weight_decay"] = 0.1 },
        ("SparseAdam", _) => new() { ["lr"] = 0.05 },
        ("ASGD", "plain") => new() { ["lr"] = 0.05, ["weight_decay"] = 0.1 },
        ("ASGD", "averaging") => new() { ["lr"] = 0.05, ["t0"] = 1.0 },
        ("Rprop", _) => new() { ["lr"] = 0.05 },
        ("NAdam", _) => new() { ["lr"] = 0.05, ["weight_decay"] = 0.1 },
        ("RAdam", _) => new() { ["lr"] = 0.05, ["weight_decay"] = 0.1 },
        ("LBFGS", "plain") => new() { ["lr"] = 0.5, ["max_iter"] = 4, ["history_size"] = 3 },
        ("LBFGS", "strong_wolfe") => new() { ["lr"] = 0.5, ["max_iter"] = 4, ["history_size"] = 3, ["line_search_fn"] = "strong_wolfe" },
        _ => throw new ArgumentException($"{name} {variant}"),
    };

    /// <summary>Loss and gradient of a quartic objective (g = a·x + b·x³ - c), written into the parameters' gradients without allocating.</summary>
    private static double Evaluate(Parameter[] parameters)
    {
        double loss = 0;
        int k = 0;
        foreach (var p in parameters)
        {
            var data = p.Data;
            var grad = p.Grad;
            for (int i = 0; i < data.Length; i++, k++)
            {
                double a = 0.5 + (k * 37 % 11) / 10.0, b = (k * 17 % 5) / 20.0, c = ((k * 29 % 13) - 6) / 4.0;
                double x = data[i];
                loss += 0.5 * a * x * x + 0.25 * b * x * x * x * x - c * x;
                grad[i] = (float)(a * x + b * x * x * x - c);
            }
        }
        return loss;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Step_allocates_nothing_after_warm_up(string name, string variant)
    {
        using var data = new AlignedBuffer(128);
        using var grad = new AlignedBuffer(128);
        // Two layers' parameters in one arena, as in a generated model (weight [4, 17] takes the vector and scalar paths).
        var parameters = new[] { new Parameter("fc.weight", data, grad, 0, 4, 17), new Parameter("fc.bias", data, grad, AlignedBuffer.AlignUp(68), 4) };
        for (int k = 0, j = 0; k < parameters.Length; k++)
            for (int i = 0; i < parameters[k].Length; i++, j++)
                parameters[k].Data[i] = ((j * 53 % 19) - 9) / 7.0f;
        var optimParameters = parameters.Select(p => (OptimParameter)OptimParameter.From(p)).ToList();
        var optimizer = OptimizerFactory.Create(name, [new ParamGroup(optimParameters)], Kwargs(name, variant));
        bool sparse = variant == "sparse";
        if (sparse)
        {
            // Sparse rows are set once (setting them copies the array); ZeroGrad would clear them.
            optimParameters[0].SparseGradRows = [0, 2, 3];
            optimParameters[1].SparseGradRows = [1, 3];
        }
        Func<double> closure = () => Evaluate(parameters);
        void TrainingStep()
        {
            if (optimizer is Lbfgs)
            {
                optimizer.Step(closure);
                return;
            }
            if (!sparse)
                optimizer.ZeroGrad();
            Evaluate(parameters);
            optimizer.Step();
        }

        TrainingStep();
        TrainingStep();
        float[] before = [.. parameters[0].Data.ToArray(), .. parameters[1].Data.ToArray()];
        long nIterBefore = optimizer is Lbfgs ? (long)optimizer.State[optimParameters[0]]["n_iter"]! : 0;

        AssertAllocatesNothing(() =>
        {
            for (int s = 0; s < 5; s++)
                TrainingStep();
        });

        float[] after = [.. parameters[0].Data.ToArray(), .. parameters[1].Data.ToArray()];
        Assert.NotEqual(before, after); // the measured steps did update the parameters
        if (optimizer is Lbfgs)
            Assert.True((long)optimizer.State[optimParameters[0]]["n_iter"]! > nIterBefore + 5, "LBFGS iterated during the measured steps");
    }

    [Fact]
    public void Counters_kept_unboxed_inside_still_show_as_python_ints_and_floats()
    {
        var w = new TensorParameter<double>([1.0, -2.0, 3.0], [3]);
        var rmsprop = new RMSprop([w], lr: 0.01);
        for (int s = 0; s < 3; s++)
        {
            w.SetGrad([0.5, -0.25, 1.0]);
            rmsprop.Step();
        }
        var state = rmsprop.State[w];
        Assert.Equal(3L, Assert.IsType<long>(state["step"]));
        Assert.True(state.TryGetValue("step", out object? step) && step is 3L);
        Assert.Equal(3L, state.Single(kv => kv.Key == "step").Value);
        Assert.Contains(3L, ((IReadOnlyDictionary<string, object?>)state).Values);
        Assert.Equal(3L, Assert.IsType<long>(rmsprop.StateDict().State[0]["step"]));

        var x = new TensorParameter<double>([-1.5, 2.0], [2]);
        var lbfgs = new Lbfgs([x], maxIter: 3);
        Func<double> closure = () =>
        {
            double a = x.Data[0], b = x.Data[1];
            x.SetGrad([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)]);
            return (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a);
        };
        lbfgs.Step(closure);
        lbfgs.Step(closure);
        var st = lbfgs.State[x];
        Assert.IsType<long>(st["n_iter"]);
        Assert.IsType<long>(st["func_evals"]);
        Assert.IsType<double>(st["prev_loss"]);
        Assert.IsType<double>(st["t"]);
        var saved = lbfgs.StateDict().State[0];
        Assert.Equal(st["n_iter"], Assert.IsType<long>(saved["n_iter"]));
        Assert.IsType<double>(saved["prev_loss"]);
        Assert.IsType<double>(saved["t"]);
    }
}
