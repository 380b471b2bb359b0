using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace DslModels.Benchmarks;

/// <summary>
/// <c>--timeline [mlp128] [mlp512] [tiny] [tiny-optim] [mlp128-logsoftmax] [cls] [batch ...]</c> (default batches 128 and 512; threads from DSLMODELS_THREADS, default 1):
/// where a train step's time goes, phase by phase on the calling thread (forward, loss, backward, step) and part by part
/// on every thread of each split operation. It implements the generated models' diagnostic hooks DslOnPhase and DslOnPart
/// (partial methods, compiled away in a model that does not implement them), so it times the real TrainStep, not a copy.
/// </summary>
public static class Timeline
{
    public static void Run(string[] args)
    {
        var (names, batches) = Quick.ModelsAndBatches(args, 128, 512);
        int threads = Quick.ThreadCount;
        Console.WriteLine($"# us after a 300 ms warm-up, {threads} thread(s): the step's mean (whole calls) and median (the sum of its phases), each phase's median (mean) on the calling thread, then each split operation's parts (medians)");
        Console.WriteLine("# medians: a virtual machine's host can stop a vCPU for milliseconds, and a few such stops move the means of short parts by microseconds");
        foreach (int batch in batches)
        {
            if (Quick.Want(names, "mlp128"))
            {
                using var m = new Mlp128 { Threads = threads };
                Measure("mlp128", batch, m, m.Timeline = new TimelineCounters(threads), Mlp128.InputSize, Mlp128.OutputSize, Mlp128.ParameterCount);
            }
            if (Quick.Want(names, "mlp512"))
            {
                using var m = new Mlp512 { Threads = threads };
                Measure("mlp512", batch, m, m.Timeline = new TimelineCounters(threads), Mlp512.InputSize, Mlp512.OutputSize, Mlp512.ParameterCount);
            }
            if (Quick.Want(names, "tiny"))
            {
                using var m = new Tiny { Threads = threads };
                Measure("tiny", batch, m, m.Timeline = new TimelineCounters(threads), Tiny.InputSize, Tiny.OutputSize, Tiny.ParameterCount);
            }
            if (Array.IndexOf(names, "mlp128-logsoftmax") >= 0)
            {
                using var m = new Mlp128LogSoftmax { Threads = threads };
                Measure("mlp128-logsoftmax", batch, m, m.Timeline = new TimelineCounters(threads), Mlp128LogSoftmax.InputSize, Mlp128LogSoftmax.OutputSize, Mlp128LogSoftmax.ParameterCount);
            }
            if (Array.IndexOf(names, "cls") >= 0)
            {
                using (var m = new Cls1000 { Threads = threads })
                    Measure("cls1000", batch, m, m.Timeline = new TimelineCounters(threads), Cls1000.InputSize, Cls1000.OutputSize, Cls1000.ParameterCount);
                using (var m = new Cls1000LogSoftmax { Threads = threads })
                    Measure("cls1000-logsoftmax", batch, m, m.Timeline = new TimelineCounters(threads), Cls1000LogSoftmax.InputSize, Cls1000LogSoftmax.OutputSize, Cls1000LogSoftmax.ParameterCount);
            }
            // The tiny model's copies with Adam, NAdam and ASGD (only when named, as in --quick).
            if (Array.IndexOf(names, "tiny-optim") >= 0)
            {
                using (var m = new TinyAdam { Threads = threads })
                    Measure("tiny-adam", batch, m, m.Timeline = new TimelineCounters(threads), TinyAdam.InputSize, TinyAdam.OutputSize, TinyAdam.ParameterCount);
                using (var m = new TinyNAdam { Threads = threads })
                    Measure("tiny-nadam", batch, m, m.Timeline = new TimelineCounters(threads), TinyNAdam.InputSize, TinyNAdam.OutputSize, TinyNAdam.ParameterCount);
                using (var m = new TinyAsgd { Threads = threads })
                    Measure("tiny-asgd", batch, m, m.Timeline = new TimelineCounters(threads), TinyAsgd.InputSize, TinyAsgd.OutputSize, TinyAsgd.ParameterCount);
            }
        }
    }

    private static void Measure(string model, int batch, ITrainable m, TimelineCounters counters, int inputs, int classes, long parameters)
    {
        var pool = new BatchPool(batch, inputs, classes, poolSize: BatchPool.PoolSizeFor(batch, parameters));
        var clock = Stopwatch.StartNew();
        int calls = 0;
        while (clock.ElapsedMilliseconds < 300) { var (x, y) = pool.Next(); m.TrainStep(x, y, batch); calls++; }
        int steps = Math.Max(1, calls * 2);
        counters.Reset(steps);
        WorkerPool.RunsSplit = WorkerPool.RunsAlone = WorkerPool.RunsContended = WorkerPool.SharesTaken = 0;
        clock.Restart();
        for (int k = 0; k < steps; k++) { var (x, y) = pool.Next(); m.TrainStep(x, y, batch); }
        double total = clock.Elapsed.TotalMicroseconds / steps;
        Console.Write(counters.Report($"timeline/{model}/{batch}", total, steps));
        if (WorkerPool.RunsSplit + WorkerPool.RunsAlone > 0)
            Console.WriteLine(FormattableString.Invariant($"# worker pool over the timed steps: {WorkerPool.RunsSplit} runs split, {WorkerPool.RunsAlone} run alone, {WorkerPool.RunsContended} contended, {WorkerPool.SharesTaken} helper shares run by the caller"));
    }
}

/// <summary>
/// Timestamps from the generated hooks, summed per phase and per (operation, layer, part). Each part's slots are written only
/// by the thread that runs it (part k always runs on thread k), so the hooks need no locks and allocate nothing.
/// </summary>
public sealed class TimelineCounters
{
    private const int Ops = 10, Layers = 8; // op -1 (a split Step) is kept at index Ops - 1
    private readonly int _threads;
    private readonly long[] _phaseTicks = new long[4];
    private readonly long[][] _phaseSamples = new long[4][];
    private readonly int[] _phaseCount = new int[4];
    private readonly long[]?[] _partSamples, _lateSamples; // per slot; only for the slots the warm-up used
    private readonly int[] _partCount;
    private long _phaseStart;
    private int _phase = -1;
    private readonly long[] _partStart, _partCalls;

    public TimelineCounters(int threads)
    {
        _threads = threads;
        _partStart = new long[Ops * Layers * threads];
        _partCalls = new long[Ops * Layers * threads];
        _partSamples = new long[]?[_partCalls.Length];
        _lateSamples = new long[]?[_partCalls.Length];
        _partCount = new int[_partCalls.Length];
    }

    /// <summary>
    /// Clears the counters and makes room for <paramref name="steps"/> steps' samples: each phase, and up to 4 calls a step of
    /// every split operation the warm-up ran (calls beyond the room are left out of the medians).
    /// </summary>
    public void Reset(int steps)
    {
        for (int p = 0; p < 4; p++)
        {
            if (_phaseSamples[p] is null || _phaseSamples[p].Length < steps)
                _phaseSamples[p] = new long[steps];
        }
        for (int k = 0; k < _partCalls.Length; k++)
        {
            if (_partCalls[k] > 0 && (_partSamples[k] is null || _partSamples[k]!.Length < 4 * steps))
            {
                _partSamples[k] = new long[4 * steps];
                _lateSamples[k] = new long[4 * steps];
            }
        }
        Array.Clear(_phaseCount);
        Array.Clear(_partCount);
        Array.Clear(_phaseTicks);
        Array.Clear(_partCalls);
        _phase = -1;
    }

    public void Phase(int phase)
    {
        long now = Stopwatch.GetTimestamp();
        if (_phase >= 0 && _phase < _phaseTicks.Length)
        {
            _phaseTicks[_phase] += now - _phaseStart;
            if (_phaseSamples[_phase] is { } samples && _phaseCount[_phase] < samples.Length)
                samples[_phaseCount[_phase]++] = now - _phaseStart;
        }
        _phase = phase;
        _phaseStart = now;
    }

    public void Part(int op, int layer, int part, bool done)
    {
        int slot = ((op < 0 ? Ops - 1 : op) * Layers + layer) * _threads + part;
        if (!done)
        {
            _partStart[slot] = Stopwatch.GetTimestamp();
            return;
        }
        long end = Stopwatch.GetTimestamp();
        _partCalls[slot]++;
        int first = slot - part;
        if (_partSamples[slot] is { } samples && _partCount[slot] < samples.Length) // no room during the warm-up
        {
            samples[_partCount[slot]] = end - _partStart[slot];
            // How long after the caller's part this one started.
            _lateSamples[slot]![_partCount[slot]++] = part > 0 ? _partStart[slot] - _partStart[first] : 0;
        }

    }

    public string Report(string name, double stepMicroseconds, int steps)
    {
        double us = 1e6 / Stopwatch.Frequency / steps;
        var text = new System.Text.StringBuilder();
        double tick = 1e6 / Stopwatch.Frequency;
        string Phase(int p) => $"{Us(Median(_phaseSamples[p], _phaseCount[p]) * tick)} ({Us(_phaseTicks[p] * us)})";
        int counted = _phaseCount.Min();
        var stepTotals = new long[counted];
        for (int k = 0; k < counted; k++)
            stepTotals[k] = _phaseSamples[0][k] + _phaseSamples[1][k] + _phaseSamples[2][k] + _phaseSamples[3][k];
        text.Append(CultureInfo.InvariantCulture,
            $"{name} step {Us(stepMicroseconds)} median {Us(Median(stepTotals, counted) * tick)} forward {Phase(0)} loss {Phase(1)} backward {Phase(2)} optimizer {Phase(3)}\n");
        for (int op = 0; op < Ops; op++)
        {
            for (int layer = 0; layer < Layers; layer++)
            {
                int first = (op * Layers + layer) * _threads;
                if (_partCalls[first] == 0)
                    continue;
                string what = op == Ops - 1 ? $"step/run{layer}" : $"op{op}/layer{layer}";
                text.Append(CultureInfo.InvariantCulture, $"{name} part {what} calls/step {(double)_partCalls[first] / steps:F1}");
                // Medians of the calls, times the calls per step (a part called twice a step shows twice its median call).
                double perStep = (double)_partCalls[first] / steps;
                for (int part = 0; part < _threads; part++)
                    text.Append(CultureInfo.InvariantCulture, $" part{part} {Us(Median(_partSamples[first + part], _partCount[first + part]) * tick * perStep)}");
                for (int part = 1; part < _threads; part++)
                    text.Append(CultureInfo.InvariantCulture, $" (part{part} starts {Us(Median(_lateSamples[first + part], _partCount[first + part]) * tick)} later)");
                text.Append('\n');
            }
        }
        return text.ToString();
    }

    /// <summary>The median of the first <paramref name="count"/> samples (0 when there are none); sorts a copy.</summary>
    private static double Median(long[]? samples, int count)
    {
        if (samples is null || count == 0)
            return 0;
        var sorted = samples.AsSpan(0, count).ToArray();
        Array.Sort(sorted);
        return count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0;
    }

    /// <summary>Microseconds with one decimal, two under 10 us (the tiny model's phases take a fraction of one).</summary>
    private static string Us(double value) => value.ToString(value < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);
}

public partial class Mlp128
{
    /// <summary>Set by <see cref="Timeline"/>; null (the default) leaves the hooks doing nothing.</summary>
    internal TimelineCounters? Timeline { get; set; }

    partial void DslOnPhase(int phase) => Timeline?.Phase(phase);

    partial void DslOnPart(int op, int layer, int part, bool done) => Timeline?.Part(op, layer, part, done);
}

public partial class Mlp512
{
    /// <summary>As <see cref="Mlp128.Timeline"/>.</summary>
    internal TimelineCounters? Timeline { get; set; }

    partial void DslOnPhase(int phase) => Timeline?.Phase(phase);

    partial void DslOnPart(int op, int layer, int part, bool done) => Timeline?.Part(op, layer, part, done);
}

public partial class Tiny
{
    /// <summary>As <see cref="Mlp128.Timeline"/>.</summary>
    internal TimelineCounters? Timeline { get; set; }

    partial void DslOnPhase(int phase) => Timeline?.Phase(phase);

    partial void DslOnPart(int op, int layer, int part, bool done) => Timeline?.Part(op, layer, part, done);
}

public partial class TinyAdam
{
    /// <summary>As <see cref="Mlp128.Timeline"/>.</summary>
    internal TimelineCounters? Timeline { get; set; }

    partial void DslOnPhase(int phase) => Timeline?.Phase(phase);

    partial void DslOnPart(int op, int layer, int part, bool done) => Timeline?.Part(op, layer, part, done);
}

public partial class TinyNAdam
{
    /// <summary>As <see cref="Mlp128.Timeline"/>.</summary>
    internal TimelineCounters? Timeline { get; set; }

    partial void DslOnPhase(int phase) => Timeline?.Phase(phase);

    partial void DslOnPart(int op, int layer, int part, bool done) => Timeline?.Part(op, layer, part, done);
}

public partial class TinyAsgd
{
    /// <summary>As <see cref="Mlp128.Timeline"/>.</summary>
    internal TimelineCounters? Timeline { get; set; }

    partial void DslOnPhase(int phase) => Timeline?.Phase(phase);

    partial void DslOnPart(int op, int layer, int part, bool done) => Timeline?.Part(op, layer, part, done);
}

public partial class Mlp128LogSoftmax
{
    /// <summary>As <see cref="Mlp128.Timeline"/>.</summary>
    internal TimelineCounters? Timeline { get; set; }

    partial void DslOnPhase(int phase) => Timeline?.Phase(phase);

    partial void DslOnPart(int op, int layer, int part, bool done) => Timeline?.Part(op, layer, part, done);
}

public partial class Cls1000
{
    /// <summary>As <see cref="Mlp128.Timeline"/>.</summary>
    internal TimelineCounters? Timeline { get; set; }

    partial void DslOnPhase(int phase) => Timeline?.Phase(phase);

    partial void DslOnPart(int op, int layer, int part, bool done) => Timeline?.Part(op, layer, part, done);
}

public partial class Cls1000LogSoftmax
{
    /// <summary>As <see cref="Mlp128.Timeline"/>.</summary>
    internal TimelineCounters? Timeline { get; set; }

    partial void DslOnPhase(int phase) => Timeline?.Phase(phase);

    partial void DslOnPart(int op, int layer, int part, bool done) => Timeline?.Part(op, layer, part, done);
}
