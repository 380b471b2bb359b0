using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace DslModels;

/// <summary>
/// A fixed set of worker threads that run the parts of one operation and wait for the next, for a generated
/// model's opt-in multi-threading (<c>model.Threads = 2</c>). Part <c>k</c> runs on thread <c>k % Threads</c>
/// (the caller's thread is number 0) unless that thread is not running (see the remarks: the caller then runs it), and a model splits its work so that every output
/// value is computed by the same code in the same order whatever the split: results are bit-identical for any
/// thread count. <see cref="Run(int, Action{int})"/> creates no objects of its own. Not for concurrent use from several threads.
/// </summary>
/// <remarks>
/// A training step runs several operations in a row, so a worker that finished one spins for a short while
/// (<see cref="SpinIterations"/>) waiting for the next before it blocks: waking a blocked thread costs tens of
/// microseconds, more than a small layer's work. The caller spins (yielding) until its helpers are done.
/// <para>
/// A helper that has not started its share when the caller has finished its own and waited <see cref="StealAfterMicroseconds"/>
/// more is not running (another process has its core, or it is still waking): the caller then runs that share itself, so a
/// busy machine costs about one thread's speed instead of a wait for the scheduler at every operation (mlp128, batch 128,
/// with another process spinning on the second core: 2,190 us per train step with 2 threads before, against 276 us with
/// one). A share is claimed once, by its helper or by the caller, and runs the same code on the same rows either way: the
/// results stay bit-identical.
/// </para>
/// <para>
/// A helper can also start and then be preempted, and the caller cannot take a share that has started. So after
/// <see cref="ContendedRuns"/> runs in a row in which a helper did not start in time or kept the caller waiting more than
/// <see cref="ContendedRatio"/> times its own share's time (and at least 100 us), the pool runs every part on the caller
/// for <see cref="AloneMilliseconds"/> ms, then tries its helpers again. The parts are the same, so are the bits.
/// </para>
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    /// <summary>
    /// How many <see cref="Thread.SpinWait(int)"/>(20) rounds an idle worker spins before blocking: 1.5-1.8 ms on the development machine
    /// (measured; each round is ~0.8 us), so a worker stays awake between the operations of a step and between back-to-back steps.
    /// </summary>
    public const int SpinIterations = 2000;

    /// <summary>
    /// How long the caller, done with its own parts, waits for a helper to start its share before running it itself. A helper
    /// that spins between operations starts within a microsecond or two; one woken from blocking within tens.
    /// </summary>
    public const int StealAfterMicroseconds = 50;

    // A helper's share of run g: Posted(g) when the caller hands it out; Started(g) when the helper claims it, or Taken(g) when
    // the caller does. A claim is a compare-exchange from Posted(g) with g the claimer's generation, so a helper that wakes
    // late for an earlier run cannot claim (or run with this run's body) a share of a later one.
    private static long Posted(int generation) => (long)generation << 2;

    private static long Started(int generation) => ((long)generation << 2) | 1;

    private static long Taken(int generation) => ((long)generation << 2) | 2;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _wake;
    private readonly long[] _share;
    private Action<int>? _body;
    private int _parts;
    private int _generation;
    private int _pending;
    private volatile bool _stopping;
    private ExceptionDispatchInfo? _failure;
    private unsafe float* _input;
    private int _inputLength;

    /// <summary>Starts <paramref name="threads"/> - 1 background threads (the caller is the first).</summary>
    public WorkerPool(int threads)
    {
        if (threads < 1 || threads > 256)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, $"threads must be in [1, 256]; got {threads}.");
        Threads = threads;
        _threads = new Thread[threads - 1];
        _wake = new ManualResetEventSlim[threads - 1];
        _share = new long[threads - 1];
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
        _contended = 0; // the workers were blocked; a slow first wake-up says nothing about the machine
        _alone = 0;
    }

    /// <summary>For tests: called on a helper as it wakes for a run, before it claims its share (a helper held here is one that
    /// another process keeps from running).</summary>
    internal Action<int>? BeforeClaim { get; set; }

    /// <summary>Number of threads, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="body"/>(0 .. parts - 1) across the threads and returns when all parts are done.</summary>
    public void Run(int parts, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (parts <= 0)
            return;
        if (System.Diagnostics.Stopwatch.GetTimestamp() < _alone)
        {
            // Contended (see the remarks): every part on this thread, in order; the same parts, so the same bits.
            for (int k = 0; k < parts; k++)
                body(k);
            return;
        }
        int helpers = Math.Min(Threads, parts) - 1;
        _body = body;
        _parts = parts;
        _failure = null;
        Volatile.Write(ref _pending, helpers);
        int generation = _generation + 1;
        for (int w = 0; w < helpers; w++)
            Volatile.Write(ref _share[w], Posted(generation));
        Interlocked.Exchange(ref _generation, generation); // a full fence: the shares, body and parts are visible first
        for (int w = 0; w < helpers; w++)
            _wake[w].Set();
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        bool stole = false;
        try
        {
            RunShare(0);
        }
        finally
        {
            long ownDone = System.Diagnostics.Stopwatch.GetTimestamp();
            // Shares not started by now are run here (see the remarks); then wait for the helpers that did start.
            long waitedSince = 0;
            for (int w = 0; w < helpers; w++)
            {
                var spin = new SpinWait();
                while (Volatile.Read(ref _share[w]) == Posted(generation))
                {
                    if (waitedSince == 0)
                        waitedSince = System.Diagnostics.Stopwatch.GetTimestamp();
                    if (System.Diagnostics.Stopwatch.GetElapsedTime(waitedSince).TotalMicroseconds >= StealAfterMicroseconds)
                    {
                        if (Interlocked.CompareExchange(ref _share[w], Taken(generation), Posted(generation)) == Posted(generation))
                        {
                            stole = true;
                            RunHelperShare(w + 1);
                        }
                        break;
                    }
                    spin.SpinOnce(sleep1Threshold: -1);
                }
            }
            var wait = new SpinWait();
            while (Volatile.Read(ref _pending) > 0)
                wait.SpinOnce(sleep1Threshold: -1);
            _body = null;
            NoteContention(stole, ownDone - started, System.Diagnostics.Stopwatch.GetTimestamp() - ownDone);
        }
        _failure?.Throw();
    }

    /// <summary>
    /// Runs in a row in which a helper did not start in time, or finished more than <see cref="ContendedRatio"/> times later
    /// than the caller took for its own share, after which the pool runs everything on the caller for <see cref="AloneMilliseconds"/>.
    /// </summary>
    public const int ContendedRuns = 3;

    /// <summary>How much longer than the caller's own share the wait for the helpers may take before a run counts as contended.</summary>
    public const int ContendedRatio = 2;

    /// <summary>How long the pool runs every part on the caller once it found the helpers' cores taken, before it tries them again.</summary>
    public const int AloneMilliseconds = 200;

    private int _contended;
    private long _alone;

    private void NoteContention(bool stole, long ownTicks, long waitTicks)
    {
        // A wait for the helpers of at least 100 us that is ContendedRatio times the caller's own share: the helper ran at a
        // fraction of a core, or was preempted in the middle of its share.
        bool contended = stole || (waitTicks > ContendedRatio * ownTicks && waitTicks > System.Diagnostics.Stopwatch.Frequency / 10_000);
        _contended = contended ? _contended + 1 : 0;
        if (_contended >= ContendedRuns)
        {
            _contended = 0;
            _alone = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency * AloneMilliseconds / 1000;
        }
    }

    /// <summary>Whether the pool is running every part on the caller for now (see the remarks).</summary>
    public bool IsAlone => System.Diagnostics.Stopwatch.GetTimestamp() < _alone;

    /// <summary>Parts worker, worker + Threads, ... of the current run.</summary>
    private void RunShare(int worker)
    {
        for (int k = worker; k < _parts; k += Threads)
            _body!(k);
    }

    /// <summary>A helper's share (on the helper or, taken, on the caller); counts it done whatever happens.</summary>
    private void RunHelperShare(int worker)
    {
        try
        {
            RunShare(worker);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
        }
        Interlocked.Decrement(ref _pending);
    }

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
            BeforeClaim?.Invoke(worker);
            // Only a share still posted for this generation: the caller may have taken it, or a later run may have begun.
            if (Interlocked.CompareExchange(ref _share[worker - 1], Started(seen), Posted(seen)) == Posted(seen))
                RunHelperShare(worker);
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
