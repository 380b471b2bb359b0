using System;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace DslModels;

/// <summary>
/// A fixed set of worker threads that run the parts of one operation and wait for the next, for a generated
/// model's opt-in multi-threading (<c>model.Threads = 2</c>). Part <c>k</c> always runs on thread
/// <c>k % Threads</c> (the caller's thread is number 0), and a model splits its work so that every output
/// value is computed by the same code in the same order whatever the split: results are bit-identical for any
/// thread count. <see cref="Run(int, Action{int})"/> creates no objects of its own. Not for concurrent use from several threads.
/// </summary>
/// <remarks>
/// A training step runs several operations in a row, so a worker that finished one spins for a short while
/// (<see cref="SpinIterations"/>) waiting for the next before it blocks: waking a blocked thread costs tens of
/// microseconds, more than a small layer's work. The caller spins (yielding) until its helpers are done.
/// <para>
/// Cores are not equally fast (performance and efficiency cores, a busy neighbour on a VM, a thread moved to a core with
/// a cold cache), and an even split waits for the slowest. <see cref="Range"/> therefore cuts a split operation in
/// proportion to how fast each thread ran its part of the same operation before: after each <see cref="Run(int, Action{int})"/>
/// whose parts took their ranges from <see cref="Range"/>, each thread's share moves a quarter of the way toward the share
/// that would have made all parts finish together. A model computes every value the same way whatever range it falls in,
/// so this changes timings, never results.
/// </para>
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    /// <summary>How many <see cref="Thread.SpinWait(int)"/> rounds an idle worker spins before blocking (about 0.1 ms).</summary>
    public const int SpinIterations = 2000;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _wake;
    private Action<int>? _body;
    private int _parts;
    private int _generation;
    private int _pending;
    private volatile bool _stopping;
    private ExceptionDispatchInfo? _failure;
    private unsafe float* _input;
    private int _inputLength;
    // Adaptive split: per slot (one per kind of split operation), each thread's share; per part of the running Run, its time
    // and the fraction of the work Range gave it (assigned / offered, weighted).
    private readonly int _slots;
    private readonly double[] _shares;
    private readonly long[] _ticks;
    private readonly double[] _assigned, _offered;
    private int _runSlot = -1;
    private bool _pinned;

    /// <summary>Starts <paramref name="threads"/> - 1 background threads (the caller is the first), with one split slot.</summary>
    public WorkerPool(int threads) : this(threads, 1) { }

    /// <summary>
    /// Starts <paramref name="threads"/> - 1 background threads (the caller is the first). <paramref name="slots"/>: how many kinds of split
    /// operation <see cref="Range"/> keeps separate shares for (a model uses one per layer and operation).
    /// </summary>
    public WorkerPool(int threads, int slots)
    {
        if (threads < 1 || threads > 256)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, $"threads must be in [1, 256]; got {threads}.");
        if (slots < 1 || slots > 1 << 16)
            throw new ArgumentOutOfRangeException(nameof(slots), slots, $"slots must be in [1, 65536]; got {slots}.");
        Threads = threads;
        _slots = slots;
        _shares = new double[slots * threads];
        Array.Fill(_shares, 1.0 / threads);
        _ticks = new long[threads];
        _assigned = new double[threads];
        _offered = new double[threads];
        _threads = new Thread[threads - 1];
        _wake = new ManualResetEventSlim[threads - 1];
        for (int w = 0; w < _threads.Length; w++)
        {
            _wake[w] = new ManualResetEventSlim(false, spinCount: 1);
            int worker = w + 1;
            _threads[w] = new Thread(() => Work(worker)) { IsBackground = true, Name = $"DslModels worker {worker}" };
            _threads[w].Start();
        }
        // Let every worker block once now, so the events' lazily created wait objects exist before the first real Run.
        Thread.Sleep(5);
        Run(threads, static _ => { });
    }

    /// <summary>Number of threads, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="body"/>(0 .. parts - 1) across the threads and returns when all parts are done.</summary>
    public void Run(int parts, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (parts <= 0)
            return;
        int helpers = Math.Min(Threads, parts) - 1;
        _body = body;
        _parts = parts;
        _failure = null;
        _runSlot = -1;
        Array.Clear(_ticks);
        Array.Clear(_assigned);
        Array.Clear(_offered);
        Volatile.Write(ref _pending, helpers);
        Interlocked.Increment(ref _generation);
        for (int w = 0; w < helpers; w++)
            _wake[w].Set();
        try
        {
            RunParts(0);
        }
        finally
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) > 0)
                spin.SpinOnce(sleep1Threshold: -1);
            _body = null;
        }
        _failure?.Throw();
        Learn();
    }

    /// <summary>Thread <paramref name="thread"/>'s parts of the running Run, timed.</summary>
    private void RunParts(int thread)
    {
        long start = Stopwatch.GetTimestamp();
        for (int k = thread; k < _parts; k += Threads)
            _body!(k);
        _ticks[thread] = Stopwatch.GetTimestamp() - start;
    }

    /// <summary>
    /// Range [start, end) of [0, <paramref name="total"/>) for part <paramref name="part"/> of the running
    /// <see cref="Run(int, Action{int})"/>: consecutive ranges, their bounds multiples of <paramref name="align"/> (the last part ends at
    /// <paramref name="total"/>), sized by this thread's share in <paramref name="slot"/> (equal at first). Call it from the part itself; each
    /// call also records the part's work, <paramref name="weight"/> per unit, for the next share update of the slot (weight 0: the
    /// range follows the slot's shares and records nothing, for work that should land where another operation's did).
    /// </summary>
    public (int Start, int End) Range(int total, int align, int part, int slot = 0, int weight = 1)
    {
        if (total < 0)
            throw new ArgumentOutOfRangeException(nameof(total), total, $"total must be >= 0; got {total}.");
        if (align < 1)
            throw new ArgumentOutOfRangeException(nameof(align), align, $"align must be >= 1; got {align}.");
        if (weight < 0)
            throw new ArgumentOutOfRangeException(nameof(weight), weight, $"weight must be >= 0; got {weight}.");
        if ((uint)slot >= (uint)_slots)
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"slot must be in [0, {_slots}); got {slot}.");
        int parts = Math.Max(_parts, 1);
        if ((uint)part >= (uint)parts)
            return (total, total);
        int start, end;
        if (parts != Threads)
        {
            int chunk = ((total + parts - 1) / parts + align - 1) / align * align;
            start = Math.Min(part * chunk, total);
            end = Math.Min(start + chunk, total);
        }
        else
        {
            var shares = _shares.AsSpan(slot * Threads, Threads);
            double before = 0, sum = 0;
            for (int k = 0; k < Threads; k++)
            {
                if (k < part) before += shares[k];
                sum += shares[k];
            }
            start = part == 0 ? 0 : Snap(total * (before / sum), align, total);
            end = part == parts - 1 ? total : Snap(total * ((before + shares[part]) / sum), align, total);
            end = Math.Max(start, end);
            if (weight > 0)
            {
                _assigned[part] += (double)(end - start) * weight;
                _offered[part] += (double)total * weight;
                _runSlot = slot;
            }
        }
        return (start, end);
    }

    private static int Snap(double x, int align, int total) => Math.Min(total, (int)Math.Round(x / align, MidpointRounding.AwayFromZero) * align);

    /// <summary>After a Run whose parts took ranges: each share moves a quarter of the way toward fraction / time, normalised.</summary>
    private void Learn()
    {
        int slot = _runSlot;
        if (slot < 0 || _parts != Threads || Threads == 1 || _pinned)
            return;
        Span<double> speed = stackalloc double[Threads];
        double sum = 0;
        for (int k = 0; k < Threads; k++)
        {
            // A part with no work or no time tells nothing about its thread's speed.
            if (_assigned[k] <= 0 || _offered[k] <= 0 || _ticks[k] <= 0)
                return;
            speed[k] = _assigned[k] / _offered[k] / _ticks[k];
            sum += speed[k];
        }
        var shares = _shares.AsSpan(slot * Threads, Threads);
        double floor = 0.25 / Threads, total = 0;
        for (int k = 0; k < Threads; k++)
        {
            shares[k] = Math.Max(floor, 0.75 * shares[k] + 0.25 * (speed[k] / sum));
            total += shares[k];
        }
        for (int k = 0; k < Threads; k++)
            shares[k] /= total;
    }

    /// <summary>Test hook: gives every slot these shares (normalised) and keeps them there; null lets the shares adapt again.</summary>
    internal void PinShares(double[]? shares)
    {
        _pinned = shares is not null;
        if (shares is null)
            return;
        double sum = 0;
        foreach (double x in shares) sum += x;
        for (int slot = 0; slot < _slots; slot++)
            for (int k = 0; k < Threads; k++)
                _shares[slot * Threads + k] = shares[k] / sum;
    }

    /// <summary>Test hook: the current shares of <paramref name="slot"/>.</summary>
    internal double[] SharesOf(int slot) => _shares.AsSpan(slot * Threads, Threads).ToArray();

    /// <summary>
    /// <see cref="Run(int, Action{int})"/> with <paramref name="input"/> pinned for its duration and readable by every part as
    /// <see cref="Input"/>: a worker can copy the caller's batch into its own cache instead of reading the caller's copy.
    /// </summary>
    public unsafe void Run(int parts, Action<int> body, ReadOnlySpan<float> input)
    {
        fixed (float* pinned = input)
        {
            _input = pinned;
            _inputLength = input.Length;
            try
            {
                Run(parts, body);
            }
            finally
            {
                _input = null;
                _inputLength = 0;
            }
        }
    }

    /// <summary>The input of the running <see cref="Run(int, Action{int}, ReadOnlySpan{float})"/> (empty outside one).</summary>
    public unsafe ReadOnlySpan<float> Input => new(_input, _inputLength);

    private void Work(int worker)
    {
        var wake = _wake[worker - 1];
        int seen = 0;
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen && !_stopping)
            {
                if (spins++ < SpinIterations)
                {
                    Thread.SpinWait(20);
                }
                else
                {
                    wake.Wait();
                    wake.Reset();
                }
            }
            if (_stopping)
                return;
            seen = Volatile.Read(ref _generation);
            if (worker < Math.Min(Threads, _parts))
            {
                try
                {
                    RunParts(worker);
                }
                catch (Exception e)
                {
                    _failure ??= ExceptionDispatchInfo.Capture(e);
                }
                Interlocked.Decrement(ref _pending);
            }
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (_stopping)
            return;
        _stopping = true;
        foreach (var w in _wake)
            w.Set();
        foreach (var t in _threads)
            t.Join();
        foreach (var w in _wake)
            w.Dispose();
    }
}
