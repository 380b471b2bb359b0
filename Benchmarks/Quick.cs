using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace DslModels.Benchmarks;

/// <summary>
/// A fast, repeatable timing mode (median of repeated timed loops) used by run-vs-pytorch.sh, which runs
/// it alternately with the PyTorch script in one session and prints the ratios. BenchmarkDotNet (the default
/// mode) gives the full statistics and allocations.
/// </summary>
public static class Quick
{
    /// <summary>
    /// DSLMODELS_BENCH_FLUSH_SUBNORMALS=N: mlp512's train cases call <c>Optimizer.FlushSubnormalState()</c> every N steps
    /// (run-vs-pytorch.sh --flush-subnormals N; PyTorch then runs with <c>torch.set_flush_denormal(True)</c>). 0: never.
    /// </summary>
    private static readonly long FlushSubnormalsEvery =
        long.TryParse(Environment.GetEnvironmentVariable("DSLMODELS_BENCH_FLUSH_SUBNORMALS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) && n > 0 ? n : 0;

    public static void Run(string[] args)
    {
        // Numbers among the arguments replace every model's default batch sizes (e.g. `--quick mlp128 2 3 5 7`).
        var (names, batches) = ModelsAndBatches(args);
        int[] Batches(params int[] defaults) => batches.Length > 0 ? batches : defaults;
        var results = new List<(string Name, double Microseconds)>();
        var densities = new List<string>();
        foreach (int batch in Batches(1, 8, 32, 128, 512))
        {
            if (Want(names, "mlp128"))
            {
                using var m = new Mlp128 { Threads = ThreadCount };
                var pool = new BatchPool(batch, Mlp128.InputSize, Mlp128.OutputSize);
                var output = new float[batch * Mlp128.OutputSize];
                results.Add(($"mlp128/train/{batch}", Time(() => { var (x, y) = pool.Next(); m.TrainStep(x, y, batch); })));
                if (batch >= 16 && m.Threads == 1)
                    densities.Add($"mlp128/train/{batch}: {m.DzDensity(batch)}");
                results.Add(($"mlp128/infer/{batch}", Time(() => { var (x, _) = pool.Next(); m.Predict(x, output, batch); })));
            }
            if (Want(names, "mlp512"))
            {
                using var m = new Mlp512 { Threads = ThreadCount };
                var pool = new BatchPool(batch, Mlp512.InputSize, Mlp512.OutputSize);
                var output = new float[batch * Mlp512.OutputSize];
                long steps = 0;
                results.Add(($"mlp512/train/{batch}", Time(() =>
                {
                    var (x, y) = pool.Next();
                    m.TrainStep(x, y, batch);
                    if (FlushSubnormalsEvery > 0 && ++steps % FlushSubnormalsEvery == 0)
                        m.Optimizer.FlushSubnormalState(); // opt-in, not PyTorch's numbers (docs/optim.md)
                })));
                if (batch >= 16 && m.Threads == 1)
                    densities.Add($"mlp512/train/{batch}: {m.DzDensity(batch)}");
                results.Add(($"mlp512/infer/{batch}", Time(() => { var (x, _) = pool.Next(); m.Predict(x, output, batch); })));
            }
        }
        if (Want(names, "tiny"))
        {
            foreach (int batch in Batches(1, 8, 32))
            {
                using var m = new Tiny { Threads = ThreadCount };
                var pool = new BatchPool(batch, Tiny.InputSize, Tiny.OutputSize, poolSize: BatchPool.PoolSizeFor(batch, Tiny.ParameterCount));
                var output = new float[batch * Tiny.OutputSize];
                results.Add(($"tiny/train/{batch}", Time(() => { var (x, y) = pool.Next(); m.TrainStep(x, y, batch); })));
                results.Add(($"tiny/infer/{batch}", Time(() => { var (x, _) = pool.Next(); m.Predict(x, output, batch); })));
            }
        }
        if (names.Contains("tiny-optim")) // only when named: it has no PyTorch peer in run-vs-pytorch.sh
        {
            foreach (var (name, make) in new (string, Func<ITrainable>)[] { ("tiny", () => new Tiny()), ("tiny-adam", () => new TinyAdam()), ("tiny-nadam", () => new TinyNAdam()), ("tiny-asgd", () => new TinyAsgd()) })
            {
                foreach (int batch in Batches(1, 8))
                {
                    using var m = make();
                    var pool = new BatchPool(batch, Tiny.InputSize, Tiny.OutputSize, poolSize: BatchPool.PoolSizeFor(batch, Tiny.ParameterCount));
                    results.Add(($"{name}/train/{batch}", Time(() => { var (x, y) = pool.Next(); m.TrainStep(x, y, batch); })));
                }
            }
        }
        if (names.Contains("act")) // only when named: mlp128 with each other hidden activation
        {
            foreach (var (name, make) in new (string, Func<ITrainable>)[]
            {
                ("mlp128-tanh", () => new Mlp128Tanh()), ("mlp128-sigmoid", () => new Mlp128Sigmoid()), ("mlp128-gelu", () => new Mlp128Gelu()),
                ("mlp128-gelu-tanh", () => new Mlp128GeluTanh()), ("mlp128-silu", () => new Mlp128Silu()), ("mlp128-elu", () => new Mlp128Elu()),
                ("mlp128-mish", () => new Mlp128Mish()), ("mlp128-leaky-relu", () => new Mlp128LeakyRelu()),
                ("mlp128-logsoftmax", () => new Mlp128LogSoftmax()),
            })
            {
                foreach (int batch in Batches(1, 32))
                {
                    using var m = make();
                    var pool = new BatchPool(batch, Mlp128.InputSize, Mlp128.OutputSize);
                    var output = new float[batch * Mlp128.OutputSize];
                    results.Add(($"{name}/train/{batch}", Time(() => { var (x, y) = pool.Next(); m.TrainStep(x, y, batch); })));
                    results.Add(($"{name}/infer/{batch}", Time(() => { var (x, _) = pool.Next(); m.Predict(x, output, batch); })));
                }
            }
        }
        if (names.Contains("tab")) // only when named: tabular data, 13 features, and its 16-feature twin
        {
            foreach (var (name, make, inputs) in new (string, Func<ITrainable>, int)[] { ("tab13", () => new Tab13(), 13), ("tab16", () => new Tab16(), 16) })
            {
                foreach (int batch in Batches(1, 32, 128))
                {
                    using var m = make();
                    var pool = new BatchPool(batch, inputs, 3, poolSize: BatchPool.PoolSizeFor(batch, Tab13.ParameterCount));
                    var output = new float[batch * 3];
                    results.Add(($"{name}/train/{batch}", Time(() => { var (x, y) = pool.Next(); m.TrainStep(x, y, batch); })));
                    results.Add(($"{name}/infer/{batch}", Time(() => { var (x, _) = pool.Next(); m.Predict(x, output, batch); })));
                }
            }
        }
        if (names.Contains("cls")) // only when named: 1,000 classes, logits with cross-entropy and LogSoftmax with NLLLoss
        {
            foreach (var (name, make) in new (string, Func<ITrainable>)[] { ("cls1000", () => new Cls1000()), ("cls1000-logsoftmax", () => new Cls1000LogSoftmax()) })
            {
                foreach (int batch in Batches(1, 32))
                {
                    using var m = make();
                    var pool = new BatchPool(batch, Cls1000.InputSize, Cls1000.OutputSize);
                    var output = new float[batch * Cls1000.OutputSize];
                    results.Add(($"{name}/train/{batch}", Time(() => { var (x, y) = pool.Next(); m.TrainStep(x, y, batch); })));
                    results.Add(($"{name}/infer/{batch}", Time(() => { var (x, _) = pool.Next(); m.Predict(x, output, batch); })));
                }
            }
        }
        foreach (var (name, us) in results)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} {us:F2}"));
        // The weight gradient of a ReLU layer skips the zeros of dz, so its speed depends on how many ReLUs are active:
        // the fraction after the last timed step shows that the run measured a realistic one (about half), not dead units.
        foreach (string d in densities)
            Console.WriteLine($"# dz nonzero after {d}");
        Console.WriteLine($"# kernels: {KernelPaths.Current}, {ThreadCount} thread(s)");
    }

    /// <summary>Threads per model (environment variable DSLMODELS_THREADS, default 1).</summary>
    internal static int ThreadCount =>
        int.TryParse(Environment.GetEnvironmentVariable("DSLMODELS_THREADS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int t) && t > 0 ? t : 1;

    internal static bool Want(string[] names, string model) => names.Length == 0 || names.Contains(model);

    /// <summary>Splits the arguments of <c>--quick</c>, <c>--kernels</c> and <c>--timeline</c>: positive integers are batch sizes (default <paramref name="defaultBatches"/>), the rest model names.</summary>
    internal static (string[] Names, int[] Batches) ModelsAndBatches(string[] args, params int[] defaultBatches)
    {
        var batches = new List<int>();
        var names = new List<string>();
        foreach (string a in args)
        {
            if (int.TryParse(a, NumberStyles.Integer, CultureInfo.InvariantCulture, out int b) && b > 0)
                batches.Add(b);
            else
                names.Add(a);
        }
        return (names.ToArray(), batches.Count > 0 ? batches.ToArray() : defaultBatches);
    }

    /// <summary>Median over 7 rounds of the mean time per call, each round at least 100 ms, after a warm-up.</summary>
    internal static double Time(Action action)
    {
        var sw = Stopwatch.StartNew();
        int calls = 0;
        while (sw.ElapsedMilliseconds < 300) { action(); calls++; }
        int perRound = Math.Max(1, calls / 3);
        var rounds = new double[7];
        for (int r = 0; r < rounds.Length; r++)
        {
            sw.Restart();
            for (int i = 0; i < perRound; i++) action();
            rounds[r] = sw.Elapsed.TotalMicroseconds / perRound;
        }
        Array.Sort(rounds);
        return rounds[rounds.Length / 2];
    }
}
