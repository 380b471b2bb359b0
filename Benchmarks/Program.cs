using System;
using BenchmarkDotNet.Running;

namespace DslModels.Benchmarks;

public static class Program
{
    /// <summary>
    /// <c>dotnet run -c Release --project Benchmarks -- --quick [mlp128] [mlp512] [tiny] [tiny-optim] [act] [tab] [cls] [batch ...]</c>: median timings (us) for
    /// run-vs-pytorch.sh. <c>-- --peak [mlp128] [mlp512]</c>: FMA peak, achieved
    /// GFLOP/s and a per-phase split of the train step (see Peak). <c>-- --kernels [mlp128] [mlp512] [batch ...]</c>:
    /// each generated kernel of a train step timed on its own (see Kernels). <c>-- --timeline [mlp128] [mlp512] [tiny] [tiny-optim] [mlp128-logsoftmax] [cls] [batch ...]</c>:
    /// a train step's phases and each thread's parts (see Timeline). <c>-- --losses [classes ...]</c>: every loss's float path
    /// at [32 x classes] (see LossTimings). <c>-- --first-call [mlp128|tiny] [batch]</c>: a fresh process's first calls, for JIT and
    /// NativeAOT builds (see FirstCall). <c>-- --input-alignment [mlp128] [mlp512] [batch ...]</c>: a threaded TrainStep on
    /// aligned (read in place) against unaligned (copied) input in one process (see InputAlignment). <c>-- --warm-up [model] [batch]</c>: how a fresh process's train steps speed up
    /// while the tiered JIT recompiles (see WarmUp). Anything else goes to BenchmarkDotNet, e.g. <c>-- --filter '*'</c>.
    /// </summary>
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--quick")
        {
            Quick.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == "--kernels")
        {
            Kernels.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == "--timeline")
        {
            Timeline.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == "--input-alignment")
        {
            InputAlignment.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == "--losses")
        {
            LossTimings.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == "--warm-up")
        {
            WarmUp.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == "--first-call")
        {
            FirstCall.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == "--peak")
        {
            Peak.Run(args[1..]);
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
