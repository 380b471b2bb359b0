using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;

namespace DslModels.Benchmarks;

/// <summary>
/// <c>--warm-up [model] [batch]</c> (model: mlp128, tiny, gelu, tanh, mish, logsoftmax, cls, mlp512, tiny-adam, tiny-nadam, tiny-asgd,
/// and the float-target models mse, huber, bce, l1): how a fresh process's train steps speed up
/// while the tiered JIT recompiles the code they call. Times each of the first 4,000 TrainSteps on its own and prints the
/// median of steps 3-10, 11-100, 101-1,000 and 1,001-4,000, then the steady state (the median of 9 rounds of 200 steps after
/// 2 s of steps, each followed by a prediction, which the JIT's log then covers too). The generated kernels are compiled fully
/// optimized on their first call; the runtime code they call (losses, activations, the optimizer's bookkeeping) is marked so
/// that it is too (docs/benchmarks.md, "Session 14"); whatever is not
/// runs unoptimized until the JIT's tier-up, which on a machine with one free core can take seconds. Run it pinned to one core
/// (<c>taskset -c 0</c>) to see a one-core container.
/// </summary>
public static class WarmUp
{
    public static void Run(string[] args)
    {
        string name = args.Length > 0 ? args[0] : "mlp128";
        int batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 32;
        IRegressor? regressor = name switch
        {
            "mse" => new RegMse(),
            "huber" => new RegHuber(),
            "bce" => new RegBce(),
            "l1" => new RegL1(),
            _ => null,
        };
        if (regressor is not null)
        {
            using (regressor)
                Report(name, batch, FloatTargets(regressor, batch));
            return;
        }
        ITrainable m = name switch
        {
            "mlp128" => new Mlp128(),
            "tiny" => new Tiny(),
            "gelu" => new Mlp128Gelu(),
            "logsoftmax" => new Mlp128LogSoftmax(),
            "cls" => new Cls1000(),
            "mlp512" => new Mlp512(),
            "tanh" => new Mlp128Tanh(),
            "mish" => new Mlp128Mish(),
            "tiny-adam" => new TinyAdam(),
            "tiny-nadam" => new TinyNAdam(),
            "tiny-asgd" => new TinyAsgd(),
            _ => throw new ArgumentException($"--warm-up takes mlp128, tiny, gelu, tanh, mish, logsoftmax, cls, mlp512, tiny-adam, tiny-nadam, tiny-asgd, mse, huber, bce or l1; got '{name}'.", nameof(args)),
        };
        using var model = m;
        Report(name, batch, ClassTargets(m, batch));
    }

    /// <summary>One train step (and, for the JIT's log, a prediction) on the next batch of a pool.</summary>
    private delegate void Step(bool predict);

    private static Step ClassTargets(ITrainable m, int batch)
    {
        long parameters = 0;
        foreach (var p in m.Parameters)
            parameters += p.Length;
        // A small model gets more batches, as in --quick: 16 would be memorised, and its state would drift towards denormals.
        var pool = new BatchPool(batch, m.InputWidth, m.OutputWidth, poolSize: BatchPool.PoolSizeFor(batch, parameters));
        var output = new float[batch * m.OutputWidth];
        return predict =>
        {
            var (x, y) = pool.Next();
            m.TrainStep(x, y, batch);
            if (predict)
                m.Predict(x, output, batch);
        };
    }

    /// <summary>16 batches of inputs in [-1, 1) and targets in [0, 1) (valid for every float-target loss here).</summary>
    private static Step FloatTargets(IRegressor m, int batch)
    {
        var random = new Random(1);
        var inputs = new float[16][];
        var targets = new float[16][];
        for (int b = 0; b < 16; b++)
        {
            inputs[b] = new float[batch * m.InputWidth];
            targets[b] = new float[batch * m.OutputWidth];
            for (int i = 0; i < inputs[b].Length; i++)
                inputs[b][i] = (float)(random.NextDouble() * 2 - 1);
            for (int i = 0; i < targets[b].Length; i++)
                targets[b][i] = (float)random.NextDouble();
        }
        var output = new float[batch * m.OutputWidth];
        int next = 0;
        return predict =>
        {
            int b = next++ & 15;
            m.TrainStep(inputs[b], targets[b], batch);
            if (predict)
                m.Predict(inputs[b], output, batch);
        };
    }

    private static void Report(string name, int batch, Step step)
    {
        var times = new double[4000];
        for (int k = 0; k < times.Length; k++)
        {
            long t0 = Stopwatch.GetTimestamp();
            step(false);
            times[k] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            if (k == 1)
                AfterSecondStep();
        }
        // 2 s of steps, each with a prediction too, so that the JIT's log also covers Predict's code (check-warm-code.sh).
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 2000)
            step(true);
        var rounds = new double[9];
        for (int r = 0; r < rounds.Length; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int k = 0; k < 200; k++)
                step(false);
            rounds[r] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / 200;
        }
        Array.Sort(rounds);
        double Median(int from, int to) // steps from..to, 1-based
        {
            var part = new List<double>(times.AsSpan(from - 1, to - from + 1).ToArray());
            part.Sort();
            return part[part.Count / 2];
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"warm-up/{name}/{batch} steps 1 {times[0]:F0} us, 2 {times[1]:F0}, 3-10 {Median(3, 10):F1}, 11-100 {Median(11, 100):F1}, 101-1000 {Median(101, 1000):F1}, 1001-4000 {Median(1001, 4000):F1}, steady {rounds[rounds.Length / 2]:F1} us"));
    }

    /// <summary>
    /// Called once after the second step, so that a JIT log (<c>DOTNET_JitStdOutFile=f DOTNET_JitDisasmSummary=1</c>) shows where
    /// the steady state begins: a DslModels method recompiled at tier 1 after this line ran unoptimized code in every step until then.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void AfterSecondStep() { }
}
