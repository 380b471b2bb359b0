using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DslModels.Benchmarks;

/// <summary>
/// <c>--peak [mlp128] [mlp512]</c> (<c>--peak fma</c>: the peak only): the single-core FMA peak of this machine (independent accumulator chains of
/// <see cref="Vector512.FusedMultiplyAdd(Vector512{float}, Vector512{float}, Vector512{float})"/> and of Vector256),
/// the GFLOP/s the generated TrainStep and Predict achieve as a fraction of it, and where a train step's time goes
/// (ZeroGrad, Forward, Backward, Step timed on their own).
/// </summary>
/// <remarks>
/// Flop counts, with P = ParameterCount (weights and biases) and B = batch: inference = 2·P·B (one multiply-add per
/// weight per sample); train step = 6·P·B (forward 2·P·B, backward ~4·P·B: the weight gradient and the input
/// gradient, 2·P·B each). The first layer's input gradient is not needed, so the flops a train step actually
/// has to do are fewer (mlp128: ~4.03·P·B, mlp512: ~4.8·P·B); 6·P·B is the usual nominal count, so the "train"
/// rate is an upper estimate of useful work.
/// </remarks>
public static class Peak
{
    /// <summary>The best FMA rate (GFLOP/s) of one core: Vector512 when accelerated, else Vector256.</summary>
    internal static double FmaPeak()
    {
        double v512 = Vector512.IsHardwareAccelerated ? Math.Max(Best(Fma512x12, 12 * 16), Best(Fma512x8, 8 * 16)) : 0;
        double v256 = Vector256.IsHardwareAccelerated ? Math.Max(Best(Fma256x12, 12 * 8), Best(Fma256x8, 8 * 8)) : 0;
        return Math.Max(v512, v256);
    }

    /// <summary>Lines are <c>name value</c> (run-vs-pytorch.sh reads <c>peak/…</c>); comments start with '#'.</summary>
    public static void Run(string[] names)
    {
        Console.WriteLine($"# Vector512.IsHardwareAccelerated={Vector512.IsHardwareAccelerated}, Vector256.IsHardwareAccelerated={Vector256.IsHardwareAccelerated}, {Environment.ProcessorCount} logical CPUs, single thread");
        double v512 = Vector512.IsHardwareAccelerated ? Best(Fma512x12, 12 * 16) : double.NaN;
        double v512x8 = Vector512.IsHardwareAccelerated ? Best(Fma512x8, 8 * 16) : double.NaN;
        double v256 = Vector256.IsHardwareAccelerated ? Best(Fma256x12, 12 * 8) : double.NaN;
        double v256x8 = Vector256.IsHardwareAccelerated ? Best(Fma256x8, 8 * 8) : double.NaN;
        Print("peak/vector512/12chains", v512);
        Print("peak/vector512/8chains", v512x8);
        Print("peak/vector256/12chains", v256);
        Print("peak/vector256/8chains", v256x8);
        double peak = Math.Max(double.IsNaN(v512) ? 0 : Math.Max(v512, v512x8), Math.Max(v256, v256x8));
        Print("peak/gflops", peak);
        if (Array.IndexOf(names, "fma") >= 0)
            return;

        Console.WriteLine("# name us GFLOP/s fraction-of-peak   (train = 6*P*B flops, infer = 2*P*B, P = ParameterCount)");
        foreach (int batch in new[] { 1, 8, 32, 128, 512 })
        {
            if (Quick.Want(names, "mlp128"))
                Rates("mlp128", batch, Mlp128.ParameterCount, peak, () => new Mlp128(), Mlp128.InputSize, Mlp128.OutputSize);
            if (Quick.Want(names, "mlp512"))
                Rates("mlp512", batch, Mlp512.ParameterCount, peak, () => new Mlp512(), Mlp512.InputSize, Mlp512.OutputSize);
        }

        Console.WriteLine("# where a train step goes (us): zero_grad forward loss backward step, TrainStep, TrainStep - sum of parts");
        foreach (int batch in new[] { 1, 8, 32, 128, 512 })
        {
            if (Quick.Want(names, "mlp128"))
                Split("mlp128", batch, () => new Mlp128(), Mlp128.InputSize, Mlp128.OutputSize);
            if (Quick.Want(names, "mlp512"))
                Split("mlp512", batch, () => new Mlp512(), Mlp512.InputSize, Mlp512.OutputSize);
        }
    }

    private static void Rates<T>(string name, int batch, long parameters, double peak, Func<T> create, int inputs, int outputs)
        where T : IDisposable, ITrainable
    {
        using var m = create();
        var pool = new BatchPool(batch, inputs, outputs);
        var output = new float[batch * outputs];
        double train = Quick.Time(() => { var (x, y) = pool.Next(); m.TrainStep(x, y, batch); });
        double infer = Quick.Time(() => { var (x, _) = pool.Next(); m.Predict(x, output, batch); });
        Rate($"rate/{name}/train/{batch}", train, 6.0 * parameters * batch, peak);
        Rate($"rate/{name}/infer/{batch}", infer, 2.0 * parameters * batch, peak);
    }

    private static void Split<T>(string name, int batch, Func<T> create, int inputs, int outputs)
        where T : IDisposable, ITrainable
    {
        using var m = create();
        // DSLMODELS_THREADS applies here too (as in --quick), so the split shows where threads help.
        m.Threads = Quick.ThreadCount;
        var pool = new BatchPool(batch, inputs, outputs);
        var output = new float[batch * outputs];
        var grad = new float[batch * outputs];
        var rng = new Random(2);
        for (int i = 0; i < grad.Length; i++)
            grad[i] = (float)(rng.NextDouble() - 0.5) / batch;
        double train = Quick.Time(() => { var (x, y) = pool.Next(); m.TrainStep(x, y, batch); });
        double zero = Quick.Time(m.ZeroGrad);
        double forward = Quick.Time(() => { var (x, _) = pool.Next(); m.Forward(x, output, batch); });
        double loss = Quick.Time(() => { var (_, y) = pool.Next(); m.ComputeLoss(output, y, batch); });
        m.ZeroGrad();
        double backward = Quick.Time(() => m.Backward(grad, batch)); // accumulates: values grow linearly, no denormals
        m.ZeroGrad();
        double step = Quick.Time(m.Step);
        double rest = train - (zero + forward + loss + backward + step);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"split/{name}/{batch} zero_grad={zero:F2} forward={forward:F2} loss={loss:F2} backward={backward:F2} step={step:F2} trainstep={train:F2} rest={rest:F2}"));
    }

    private static void Rate(string name, double us, double flops, double peak)
    {
        double gflops = flops / (us * 1e3);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} {us:F2} {gflops:F2} {gflops / peak:P1}"));
    }

    private static void Print(string name, double value) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} {value:F1}"));

    /// <summary>Best GFLOP/s over 7 rounds of ~20 ms (after a warm-up): the peak is what the core does when undisturbed.</summary>
    private static double Best(Func<long, float> kernel, int lanesPerIteration)
    {
        const long Iterations = 2_000_000;
        float sink = 0;
        for (int i = 0; i < 3; i++)
            sink += kernel(Iterations / 10);
        double best = 0;
        var sw = new Stopwatch();
        for (int r = 0; r < 7; r++)
        {
            sw.Restart();
            sink += kernel(Iterations);
            double seconds = sw.Elapsed.TotalSeconds;
            best = Math.Max(best, 2.0 * lanesPerIteration * Iterations / seconds / 1e9);
        }
        if (float.IsNaN(sink))
            Console.WriteLine("# (NaN)");
        return best;
    }

    // acc = acc * a + b with a just below 1: every chain converges to b / (1 - a), never denormal or overflowing.

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Fma512x12(long n)
    {
        var a = Vector512.Create(0.9999f);
        var b = Vector512.Create(1e-4f);
        Vector512<float> c0 = Vector512.Create(0.0f), c1 = Vector512.Create(0.1f), c2 = Vector512.Create(0.2f), c3 = Vector512.Create(0.3f);
        Vector512<float> c4 = Vector512.Create(0.4f), c5 = Vector512.Create(0.5f), c6 = Vector512.Create(0.6f), c7 = Vector512.Create(0.7f);
        Vector512<float> c8 = Vector512.Create(0.8f), c9 = Vector512.Create(0.9f), c10 = Vector512.Create(1.0f), c11 = Vector512.Create(1.1f);
        for (long i = 0; i < n; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b);
            c2 = Vector512.FusedMultiplyAdd(c2, a, b); c3 = Vector512.FusedMultiplyAdd(c3, a, b);
            c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b);
            c8 = Vector512.FusedMultiplyAdd(c8, a, b); c9 = Vector512.FusedMultiplyAdd(c9, a, b);
            c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Fma512x8(long n)
    {
        var a = Vector512.Create(0.9999f);
        var b = Vector512.Create(1e-4f);
        Vector512<float> c0 = Vector512.Create(0.0f), c1 = Vector512.Create(0.1f), c2 = Vector512.Create(0.2f), c3 = Vector512.Create(0.3f);
        Vector512<float> c4 = Vector512.Create(0.4f), c5 = Vector512.Create(0.5f), c6 = Vector512.Create(0.6f), c7 = Vector512.Create(0.7f);
        for (long i = 0; i < n; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b);
            c2 = Vector512.FusedMultiplyAdd(c2, a, b); c3 = Vector512.FusedMultiplyAdd(c3, a, b);
            c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Fma256x12(long n)
    {
        var a = Vector256.Create(0.9999f);
        var b = Vector256.Create(1e-4f);
        Vector256<float> c0 = Vector256.Create(0.0f), c1 = Vector256.Create(0.1f), c2 = Vector256.Create(0.2f), c3 = Vector256.Create(0.3f);
        Vector256<float> c4 = Vector256.Create(0.4f), c5 = Vector256.Create(0.5f), c6 = Vector256.Create(0.6f), c7 = Vector256.Create(0.7f);
        Vector256<float> c8 = Vector256.Create(0.8f), c9 = Vector256.Create(0.9f), c10 = Vector256.Create(1.0f), c11 = Vector256.Create(1.1f);
        for (long i = 0; i < n; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b);
            c2 = Vector256.FusedMultiplyAdd(c2, a, b); c3 = Vector256.FusedMultiplyAdd(c3, a, b);
            c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b);
            c8 = Vector256.FusedMultiplyAdd(c8, a, b); c9 = Vector256.FusedMultiplyAdd(c9, a, b);
            c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Fma256x8(long n)
    {
        var a = Vector256.Create(0.9999f);
        var b = Vector256.Create(1e-4f);
        Vector256<float> c0 = Vector256.Create(0.0f), c1 = Vector256.Create(0.1f), c2 = Vector256.Create(0.2f), c3 = Vector256.Create(0.3f);
        Vector256<float> c4 = Vector256.Create(0.4f), c5 = Vector256.Create(0.5f), c6 = Vector256.Create(0.6f), c7 = Vector256.Create(0.7f);
        for (long i = 0; i < n; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b);
            c2 = Vector256.FusedMultiplyAdd(c2, a, b); c3 = Vector256.FusedMultiplyAdd(c3, a, b);
            c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7);
    }
}
