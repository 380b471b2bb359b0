using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Intrinsics;
using DslModels.Optim;
using Xunit;

namespace DslModels.Tests.Optim;

/// <summary>Vector (Vector512/Vector256) vs scalar kernels, and save/load/resume.</summary>
public class OptimizerKernelTests
{
    public static TheoryData<string> Names => new() { "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "SparseAdam", "ASGD", "Rprop", "NAdam", "RAdam" };

    public static TheoryData<string> AllNames
    {
        get
        {
            var d = new TheoryData<string>();
            foreach (string n in OptimizerFactory.Names) d.Add(n);
            return d;
        }
    }

    private static Dictionary<string, object?> Kwargs(string name) => name switch
    {
        "SGD" => new() { ["lr"] = 0.05, ["momentum"] = 0.9, ["weight_decay"] = 0.01, ["nesterov"] = true },
        "Adam" or "AdamW" => new() { ["lr"] = 0.05, ["amsgrad"] = true, ["weight_decay"] = 0.1 },
        "Adagrad" => new() { ["lr"] = 0.1, ["lr_decay"] = 0.01 },
        "RMSprop" => new() { ["lr"] = 0.01, ["momentum"] = 0.5, ["centered"] = true, ["weight_decay"] = 0.1 },
        "Adadelta" => new() { ["weight_decay"] = 0.1 },
        "Adamax" => new() { ["lr"] = 0.05, ["weight_decay"] = 0.1 },
        "SparseAdam" => new() { ["lr"] = 0.05 },
        "ASGD" => new() { ["lr"] = 0.05, ["t0"] = 1.0, ["weight_decay"] = 0.1 },
        "Rprop" => new() { ["lr"] = 0.05 },
        "NAdam" => new() { ["lr"] = 0.05, ["weight_decay"] = 0.1 },
        "RAdam" => new() { ["lr"] = 0.05, ["weight_decay"] = 0.1 },
        "LBFGS" => new() { ["lr"] = 0.5, ["max_iter"] = 4, ["history_size"] = 3, ["line_search_fn"] = "strong_wolfe" },
        _ => throw new ArgumentException(name),
    };

    /// <summary>A deterministic quartic objective's gradient: g = a·x + b·x³ - c with fixed pseudo-random coefficients.</summary>
    private static double Grad(int i, double x)
    {
        double a = 0.5 + (i * 37 % 11) / 10.0, b = (i * 17 % 5) / 20.0, c = ((i * 29 % 13) - 6) / 4.0;
        return a * x + b * x * x * x - c;
    }

    private static double Init(int i) => ((i * 53 % 19) - 9) / 7.0;

    private static float[] RunFloat(string name, int length, bool scalar)
    {
        using var data = new AlignedBuffer(Math.Max(length, 1));
        using var grad = new AlignedBuffer(Math.Max(length, 1));
        var p = new Parameter("w", data, grad, 0, length);
        for (int i = 0; i < length; i++) p.Data[i] = (float)Init(i);
        var mp = OptimParameter.From(p);
        var o = OptimizerFactory.Create(name, [new ParamGroup([mp])], Kwargs(name));
        Simd.MaxLanesOverride = scalar ? 1 : 0;
        try
        {
            for (int s = 0; s < 5; s++)
            {
                for (int i = 0; i < length; i++) p.Grad[i] = (float)Grad(i, p.Data[i]);
                if (name == "SparseAdam") mp.SparseGradRows = Enumerable.Range(0, length).Where(i => (i + s) % 3 != 0).ToArray();
                o.Step();
            }
        }
        finally
        {
            Simd.MaxLanesOverride = 0;
        }
        return p.Data.ToArray();
    }

    private static double[] RunDouble(string name, int length, bool scalar)
    {
        var p = new TensorParameter<double>(Enumerable.Range(0, length).Select(Init).ToArray(), [length]);
        var o = OptimizerFactory.Create(name, [new ParamGroup([p])], Kwargs(name));
        Simd.MaxLanesOverride = scalar ? 1 : 0;
        try
        {
            for (int s = 0; s < 5; s++)
            {
                p.SetGrad(p.Data.ToArray().Select((x, i) => Grad(i, x)).ToArray());
                if (name == "SparseAdam") p.SparseGradRows = Enumerable.Range(0, length).Where(i => (i + s) % 3 != 0).ToArray();
                o.Step();
            }
        }
        finally
        {
            Simd.MaxLanesOverride = 0;
        }
        return p.Data.ToArray();
    }

    [Theory, MemberData(nameof(Names))]
    public void Vector_and_scalar_paths_are_bit_identical(string name)
    {
        int max = 3 * Vector512<float>.Count + 1;
        for (int n = 0; n <= max; n++)
        {
            float[] v = RunFloat(name, n, scalar: false), s = RunFloat(name, n, scalar: true);
            Assert.True(v.SequenceEqual(s), $"{name} float32 length {n}: vector and scalar results differ");
            double[] vd = RunDouble(name, n, scalar: false), sd = RunDouble(name, n, scalar: true);
            Assert.True(vd.SequenceEqual(sd), $"{name} float64 length {n}: vector and scalar results differ");
            if (n > 0)
                Assert.NotEqual(Init(0), vd[0]); // the update did something
        }
    }

    [Fact]
    public void Sgd_matches_the_generated_step_order_bit_for_bit()
    {
        const int n = 37;
        using var data = new AlignedBuffer(n);
        using var grad = new AlignedBuffer(n);
        var p = new Parameter("w", data, grad, 0, n);
        var reference = new float[n];
        var buf = new float[n];
        for (int i = 0; i < n; i++) p.Data[i] = reference[i] = (float)Init(i);
        var o = new Sgd([p], new SgdOptions(0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov: false, maximize: true));
        float lr = 0.05f, momentum = 0.9f, oneMinusDampening = (float)(1.0 - 0.1), wd = 0.01f;
        for (int s = 0; s < 4; s++)
        {
            for (int i = 0; i < n; i++)
            {
                float g = (float)Grad(i, reference[i]);
                p.Grad[i] = g;
                float d = -g;
                d = d + wd * reference[i];
                buf[i] = s == 0 ? d : buf[i] * momentum + oneMinusDampening * d;
                d = buf[i];
                reference[i] = reference[i] - lr * d;
            }
            o.Step();
            Assert.True(reference.SequenceEqual(p.Data.ToArray()), $"step {s}");
        }
    }

    [Theory, MemberData(nameof(AllNames))]
    public void Saving_mid_training_and_resuming_is_bit_identical(string name)
    {
        const int steps = 6, split = 3;
        float[] Uninterrupted()
        {
            var (p, data, grad) = Make(null);
            using (data) using (grad)
            {
                var o = OptimizerFactory.Create(name, [new ParamGroup([OptimParameter.From(p[0]), OptimParameter.From(p[1])])], Kwargs(name));
                for (int s = 0; s < steps; s++) StepOnce(o, p, s);
                return [.. p[0].Data.ToArray(), .. p[1].Data.ToArray()];
            }
        }

        float[] expected = Uninterrupted();

        string json;
        float[] snapshot;
        {
            var (p, data, grad) = Make(null);
            using (data) using (grad)
            {
                var o = OptimizerFactory.Create(name, [new ParamGroup([OptimParameter.From(p[0]), OptimParameter.From(p[1])])], Kwargs(name));
                for (int s = 0; s < split; s++) StepOnce(o, p, s);
                json = o.StateDict().ToJson();
                snapshot = [.. p[0].Data.ToArray(), .. p[1].Data.ToArray()];
            }
        }
        {
            var (p, data, grad) = Make(snapshot);
            using (data) using (grad)
            {
                // A fresh optimizer with other hyper-parameters: the loaded groups must replace them.
                var kw = Kwargs(name);
                kw["lr"] = 0.001;
                var o = OptimizerFactory.Create(name, [new ParamGroup([OptimParameter.From(p[0]), OptimParameter.From(p[1])])], kw);
                o.LoadStateDict(OptimizerStateDict.FromJson(json));
                for (int s = split; s < steps; s++) StepOnce(o, p, s);
                float[] resumed = [.. p[0].Data.ToArray(), .. p[1].Data.ToArray()];
                Assert.True(expected.SequenceEqual(resumed), $"{name}: resumed run differs from the uninterrupted one");
                Assert.NotEqual(snapshot, resumed);
            }
        }
    }

    private static (Parameter[] P, AlignedBuffer Data, AlignedBuffer Grad) Make(float[]? values)
    {
        var data = new AlignedBuffer(64);
        var grad = new AlignedBuffer(64);
        var p = new[] { new Parameter("a.weight", data, grad, 0, 3, 5), new Parameter("a.bias", data, grad, 16, 3) };
        for (int i = 0; i < 15; i++) p[0].Data[i] = values?[i] ?? (float)Init(i);
        for (int i = 0; i < 3; i++) p[1].Data[i] = values?[15 + i] ?? (float)Init(15 + i);
        return (p, data, grad);
    }

    private static double Evaluate(Parameter[] p, int step, Optimizer o)
    {
        double loss = 0;
        int k = 0;
        foreach (var q in p)
        {
            for (int i = 0; i < q.Length; i++, k++)
            {
                double x = q.Data[i];
                q.Grad[i] = (float)Grad(k, x);
                loss += x * x;
            }
            if (o is SparseAdam)
                OptimParameter.From(q).SparseGradRows = Enumerable.Range(0, q.Shape[0]).Where(r => (r + step) % 2 == 0).ToArray();
        }
        return loss;
    }

    private static void StepOnce(Optimizer o, Parameter[] p, int step)
    {
        if (o is Lbfgs)
        {
            o.Step(() => Evaluate(p, step, o));
            return;
        }
        o.ZeroGrad();
        Evaluate(p, step, o);
        o.Step();
    }
}
