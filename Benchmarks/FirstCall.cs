using System;
using System.Diagnostics;
using System.Globalization;

namespace DslModels.Benchmarks;

/// <summary>
/// <c>--first-call [mlp128|tiny] [batch] [once] [prewarm]</c>: what the first calls of a fresh process cost, for a JIT build and a NativeAOT
/// build of this program (docs/benchmarks.md, "NativeAOT"). Run it as the only mode of a new process: the model's constructor, its
/// first TrainStep and Predict, then the next calls and a steady-state median (not with <c>once</c>, which exits after the second
/// calls, so the process's wall time measured outside is start-up plus first calls; <c>prewarm</c> first runs a throwaway
/// instance's two train steps and a prediction, the recipe README gives for a JIT process). Under the JIT the first call compiles the model's kernels
/// (and later calls recompile the hot ones at tier 1); a NativeAOT executable has them compiled already.
/// </summary>
public static class FirstCall
{
    public static void Run(string[] args)
    {
        string model = args.Length > 0 ? args[0] : "mlp128";
        int batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 32;
        bool once = Array.IndexOf(args, "once") >= 2, prewarm = Array.IndexOf(args, "prewarm") >= 2;
        if (model is not ("mlp128" or "tiny"))
            throw new ArgumentException($"--first-call takes mlp128 or tiny; got '{model}'.", nameof(args));
        ITrainable Create() => model == "tiny" ? new Tiny() : new Mlp128();
        int inputs = model == "tiny" ? Tiny.InputSize : Mlp128.InputSize, outputs = model == "tiny" ? Tiny.OutputSize : Mlp128.OutputSize;
        double prewarmed = 0;
        if (prewarm)
        {
            // The load-time recipe for a JIT process (README, "NativeAOT"): two train steps (the first creates the optimizer's
            // state through the runtime optimizer, the second takes the fused step) and one prediction of a throwaway instance
            // compile the class's kernels and the runtime code they call; the model that matters then starts warm.
            long t0 = Stopwatch.GetTimestamp();
            using ITrainable scratch = Create();
            scratch.TrainStep(new float[batch * inputs], new int[batch], batch);
            scratch.TrainStep(new float[batch * inputs], new int[batch], batch);
            scratch.Predict(new float[batch * inputs], new float[batch * outputs], batch);
            prewarmed = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
        var clock = Stopwatch.StartNew();
        using ITrainable m = Create();
        double construct = clock.Elapsed.TotalMicroseconds;
        var pool = new BatchPool(batch, inputs, outputs);
        var output = new float[batch * outputs];

        double Once(Action call)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            return Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }

        void Train() { var (x, y) = pool.Next(); m.TrainStep(x, y, batch); }
        void Infer() { var (x, _) = pool.Next(); m.Predict(x, output, batch); }
        double train1 = Once(Train), train2 = Once(Train), infer1 = Once(Infer), infer2 = Once(Infer);
        string runtime = System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported ? "jit" : "aot";
        string first = string.Create(CultureInfo.InvariantCulture,
            $"first-call/{runtime}/{model}/{batch}{(prewarm ? $" prewarm {prewarmed:F0} us," : "")} construct {construct:F0} us, train#1 {train1:F0} us, train#2 {train2:F0} us, predict#1 {infer1:F0} us, predict#2 {infer2:F0} us");
        if (once)
        {
            Console.WriteLine(first);
            return;
        }
        // Steady state: the median of 9 rounds of 200 calls, after 1.5 s of calls (tiered JIT's recompilation done).
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 1500) { Train(); Infer(); }
        var rounds = new double[9];
        for (int r = 0; r < rounds.Length; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int k = 0; k < 200; k++) Train();
            rounds[r] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / 200;
        }
        Array.Sort(rounds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{first}, train steady {rounds[rounds.Length / 2]:F1} us ({KernelPaths.Current})"));
    }
}
