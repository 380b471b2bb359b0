using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;

namespace DslModels.Benchmarks;

/// <summary>
/// <c>--kernels [mlp128] [mlp512] [batch ...]</c> (default batches 32 and 512): each generated kernel of a train step timed on
/// its own, single thread, with its GFLOP/s and fraction of the FMA peak measured in the same run. It calls the model's
/// private dispatcher (DslRange, op and layer numbers as documented on the generated DslDispatch) from this project's
/// partial declarations, so it follows the generated code's internals: a diagnostic, not an API.
/// </summary>
public static class Kernels
{
    public static void Run(string[] args)
    {
        var (names, batches) = Quick.ModelsAndBatches(args, 32, 512);
        double peak = Peak.FmaPeak();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# FMA peak {peak:F1} GFLOP/s; name us GFLOP/s fraction-of-peak (best of 7 rounds)"));
        foreach (int batch in batches)
        {
            if (Quick.Want(names, "mlp128"))
            {
                using var m = new Mlp128();
                Report("mlp128", batch, peak, m.KernelParts(batch));
            }
            if (Quick.Want(names, "mlp512"))
            {
                using var m = new Mlp512();
                Report("mlp512", batch, peak, m.KernelParts(batch));
            }
        }
    }

    /// <summary>Trains three steps on one random batch (so every buffer and the optimizer state exist), then times each part.</summary>
    internal static void Warm(ITrainable model, int batch, int inputs, int classes)
    {
        var pool = new BatchPool(batch, inputs, classes, seed: 3);
        for (int k = 0; k < 3; k++)
        {
            var (x, y) = pool.Next();
            model.TrainStep(x, y, batch);
        }
    }

    private static void Report(string model, int batch, double peak, List<(string Name, double Flops, Action Run)> parts)
    {
        foreach (var (name, flops, run) in parts)
        {
            double us = Best(run);
            string rate = flops > 0 ? $" {flops / us / 1e3:F1} {100 * flops / us / 1e3 / peak:F1}%" : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"kernel/{model}/{batch}/{name} {us:F1}{rate}"));
        }
    }

    /// <summary>Prints the fraction of nonzero entries of a layer's dz after the warm-up steps (the sparse weight gradient skips the zeros).</summary>
    internal static void Density(string model, int batch, string layer, ReadOnlySpan<float> dz) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# {model}/{batch} dz/{layer}: {NonZeroPercent(dz):F1}% nonzero"));

    /// <summary>Percentage of the entries of <paramref name="dz"/> that are not zero.</summary>
    internal static double NonZeroPercent(ReadOnlySpan<float> dz)
    {
        int nonZero = 0;
        foreach (float v in dz)
            nonZero += v != 0f ? 1 : 0;
        return 100.0 * nonZero / Math.Max(1, dz.Length);
    }

    private static double Best(Action run)
    {
        var sw = Stopwatch.StartNew();
        int calls = 0;
        while (sw.ElapsedMilliseconds < 200) { run(); calls++; }
        int perRound = Math.Max(1, calls / 4);
        double best = double.MaxValue;
        for (int r = 0; r < 7; r++)
        {
            sw.Restart();
            for (int i = 0; i < perRound; i++) run();
            best = Math.Min(best, sw.Elapsed.TotalMicroseconds / perRound);
        }
        return best;
    }
}

public partial class Mlp128
{
    /// <summary>The nonzero fraction of the last backward's hidden dz (single thread: the whole of it is in gradB).</summary>
    internal string DzDensity(int b) =>
        string.Create(CultureInfo.InvariantCulture, $"hidden {Kernels.NonZeroPercent(_dslGradB!.Span[..(b * 128)]):F1}%");

    /// <summary>DslRange(op, layer, start, end, batch, accumulate: false, part: 0): 0 forward, 2 activation gradient, 3 weight gradient, 4 input gradient.</summary>
    internal List<(string, double, Action)> KernelParts(int b)
    {
        Kernels.Warm(this, b, InputSize, OutputSize);
        Kernels.Density("mlp128", b, "hidden", _dslGradB!.Span[..(b * 128)]);
        return new()
        {
            ("forward/hidden", 2.0 * b * 784 * 128, () => DslRange(0, 0, 0, 128, b, false, 0)), // a row-split layer: output rows
            ("forward/output", 2.0 * b * 128 * 10, () => DslRange(0, 1, 0, b, b, false, 0)),
            ("weightgrad/output", 2.0 * b * 128 * 10, () => DslRange(3, 1, 0, 10, b, false, 0)),
            ("inputgrad/output", 2.0 * b * 128 * 10, () => DslRange(4, 1, 0, b, b, false, 0)),
            ("actgrad/hidden", 0, () => DslRange(2, 0, 0, b, b, false, 0)),
            ("weightgrad/hidden", 2.0 * b * 784 * 128, () => DslRange(3, 0, 0, 128, b, false, 0)),
            ("step", 0, Step),
        };
    }
}

public partial class Mlp512
{
    /// <summary>As <see cref="Mlp128.DzDensity"/>: hidden2's dz is in gradB, hidden1's in gradA.</summary>
    internal string DzDensity(int b) =>
        string.Create(CultureInfo.InvariantCulture,
            $"hidden1 {Kernels.NonZeroPercent(_dslGradA!.Span[..(b * 512)]):F1}%, hidden2 {Kernels.NonZeroPercent(_dslGradB!.Span[..(b * 512)]):F1}%");

    /// <summary>As <see cref="Mlp128.KernelParts"/>.</summary>
    internal List<(string, double, Action)> KernelParts(int b)
    {
        Kernels.Warm(this, b, InputSize, OutputSize);
        Kernels.Density("mlp512", b, "hidden2", _dslGradB!.Span[..(b * 512)]);
        Kernels.Density("mlp512", b, "hidden1", _dslGradA!.Span[..(b * 512)]);
        return new()
        {
            ("forward/hidden1", 2.0 * b * 784 * 512, () => DslRange(0, 0, 0, 512, b, false, 0)),
            ("forward/hidden2", 2.0 * b * 512 * 512, () => DslRange(0, 1, 0, 512, b, false, 0)),
            ("forward/output", 2.0 * b * 512 * 10, () => DslRange(0, 2, 0, b, b, false, 0)),
            ("weightgrad/output", 2.0 * b * 512 * 10, () => DslRange(3, 2, 0, 10, b, false, 0)),
            ("inputgrad/output", 2.0 * b * 512 * 10, () => DslRange(4, 2, 0, b, b, false, 0)),
            ("actgrad/hidden2", 0, () => DslRange(2, 1, 0, b, b, false, 0)),
            ("weightgrad/hidden2", 2.0 * b * 512 * 512, () => DslRange(3, 1, 0, 512, b, false, 0)),
            ("inputgrad/hidden2", 2.0 * b * 512 * 512, () => DslRange(4, 1, 0, b, b, false, 0)),
            ("actgrad/hidden1", 0, () => DslRange(2, 0, 0, b, b, false, 0)),
            ("weightgrad/hidden1", 2.0 * b * 784 * 512, () => DslRange(3, 0, 0, 512, b, false, 0)),
            ("step", 0, Step),
        };
    }
}
