using System;
using System.Globalization;

namespace DslModels.Benchmarks;

/// <summary>
/// <c>--input-alignment [mlp128] [mlp512] [batch ...]</c> (default mlp128 at 128 and 512, with <c>DSLMODELS_THREADS</c> threads,
/// 2 if unset): TrainStep on batches that start on a 64-byte boundary, which a threaded step reads in place, against the same
/// values one float past it, which each thread copies; two models of one build in one process, timed in turn for 8 rounds
/// (the order swapped every round), so the host's slow spells fall on both. Same bits either way (Runtime.Tests: ThreadingTests).
/// </summary>
public static class InputAlignment
{
    public static void Run(string[] args)
    {
        var (names, batches) = Quick.ModelsAndBatches(args, 128, 512);
        int threads = Environment.GetEnvironmentVariable("DSLMODELS_THREADS") is null ? 2 : Quick.ThreadCount; // threads are the point here
        Console.WriteLine($"# TrainStep us, {threads} thread(s): min / median of 8 rounds, aligned (read in place) against unaligned (copied per thread)");
        foreach (string name in names.Length > 0 ? names : ["mlp128"])
        {
            foreach (int batch in batches)
            {
                bool big = name == "mlp512";
                ITrainable Make() => big ? new Mlp512 { Threads = threads } : new Mlp128 { Threads = threads };
                using var aligned = Make();
                using var unaligned = Make();
                int inputs = big ? Mlp512.InputSize : Mlp128.InputSize, classes = big ? Mlp512.OutputSize : Mlp128.OutputSize;
                var alignedPool = new BatchPool(batch, inputs, classes, aligned: true);
                var unalignedPool = new BatchPool(batch, inputs, classes, aligned: false);
                var a = new double[8];
                var u = new double[8];
                for (int r = 0; r < a.Length; r++)
                {
                    double A() => Quick.Time(() => { var (x, y) = alignedPool.Next(); aligned.TrainStep(x, y, batch); });
                    double U() => Quick.Time(() => { var (x, y) = unalignedPool.Next(); unaligned.TrainStep(x, y, batch); });
                    if (r % 2 == 0) { a[r] = A(); u[r] = U(); }
                    else { u[r] = U(); a[r] = A(); }
                }
                Array.Sort(a);
                Array.Sort(u);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"input-alignment/{(big ? "mlp512" : "mlp128")}/{batch} aligned {a[0]:F1} / {a[4]:F1} unaligned {u[0]:F1} / {u[4]:F1} ratio {a[4] / u[4]:F3}"));
            }
        }
    }
}
