using System;
using System.Runtime.ExceptionServices;
using System.Runtime.CompilerServices;
using System.Threading;

[assembly: InternalsVisibleTo("DslModels.Benchmarks")] // Benchmarks --timeline prints the pool's counters

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
/// microseconds, more than a small layer's work. The caller polls until its helpers are done, then backs off and yields
/// if they take much longer than its own share.
/// <para>
/// A helper that has not started its share when the caller has finished its own and waited <see cref="StealAfterMicroseconds"/>
/// more is not running (another process has its core, or it is still waking): the caller then runs that share itself, so a
/// busy machine costs about one thread's speed instead of a wait for the scheduler at every operation (mlp128, batch 128,
/// with another process spinning on the second core: 2,190 us per train step with 2 threads before, against 276 us with
/// one). A share is claimed once, by its helper or by the caller, and runs the same code on the same rows either way: the
/// results stay bit-identical.
/// </para>
/// <para>
/// A helper can also start and then be preempted, and the caller cannot take a share that has started. So the pool keeps
/// a balance of what its helpers saved against running alone (<see cref="CreditMilliseconds"/>), and when they have cost
/// more than <see cref="DebtMilliseconds"/> (<see cref="TrialDebtMilliseconds"/> while on trial) beyond what they saved,
/// it runs every part on the caller for <see cref="AloneMilliseconds"/> ms (longer if that keeps happening), then tries
/// its helpers again. The parts are the same, so are the bits.
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
        _balance = 0; // the workers were blocked; a slow first wake-up says nothing about the machine
        _alone = 0;
        _pauseMilliseconds = AloneMilliseconds;
        _paidWay = false;
    }

    /// <summary>For tests: called on a helper as it wakes for a run, before it claims its share (a helper held here is one that
    /// another process keeps from running).</summary>
    internal Action<int>? BeforeClaim { get; set; }

    /// <summary>For tests: the balance as after a spell in which the helpers saved the caller the whole credit (<see cref="CreditMilliseconds"/>).</summary>
    internal void BankCredit()
    {
        _balance = System.Diagnostics.Stopwatch.Frequency * CreditMilliseconds / 1000;
        _paidWay = true;
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
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (now < _alone)
        {
            // Contended (see the remarks): every part on this thread, in order; the same parts, so the same bits.
            RunsAlone++;
            if (!_woken && _alone - now < System.Diagnostics.Stopwatch.Frequency / 1000)
            {
                // The pause ends within a millisecond: wake the helpers now (they spin ~1.5 ms before they block again), so
                // that the trial after it does not start with helpers that take a while to wake up.
                _woken = true;
                foreach (var wake in _wake)
                    wake.Set();
            }
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
            WaitForHelpers(ownDone - started);
            _body = null;
            NoteContention(helpers, stole, ownDone - started, System.Diagnostics.Stopwatch.GetTimestamp() - ownDone);
        }
        _failure?.Throw();
    }

    /// <summary>
    /// Waits until every helper that started its share is done. It polls <c>_pending</c> with single pause instructions for as
    /// long as the caller's own share took (at least <see cref="TightWaitMicroseconds"/>), so the caller goes on within a few
    /// hundred nanoseconds of the last helper; only then does it back off and yield. <see cref="SpinWait.SpinOnce(int)"/> from
    /// the start (before session 16) yields after ten rounds and spins in ever longer rounds: on the development VM, in mlp128's
    /// train step at batch 128 with 2 threads, the caller went on a median 0.73-0.93 us (90th percentile 1.6-1.9 us) after a
    /// helper that finished after it; polling, 0.36-0.38 us (0.5 us). The helper finished last in 1 to 2 of the step's 3 split runs.
    /// </summary>
    private void WaitForHelpers(long ownTicks)
    {
        if (Volatile.Read(ref _pending) <= 0)
            return;
        long since = System.Diagnostics.Stopwatch.GetTimestamp();
        long tight = Math.Max(ownTicks, System.Diagnostics.Stopwatch.Frequency * TightWaitMicroseconds / 1_000_000);
        while (Volatile.Read(ref _pending) > 0)
        {
            Thread.SpinWait(1);
            if (System.Diagnostics.Stopwatch.GetTimestamp() - since > tight)
                break;
        }
        var wait = new SpinWait();
        while (Volatile.Read(ref _pending) > 0)
            wait.SpinOnce(sleep1Threshold: -1);
    }

    /// <summary>The shortest time the caller polls for its helpers without yielding (see <see cref="WaitForHelpers"/>).</summary>
    public const int TightWaitMicroseconds = 100;

    /// <summary>How much longer than the caller's own share the wait for the helpers may take before a run counts as contended.</summary>
    public const int ContendedRatio = 2;

    /// <summary>
    /// How much time the helpers can have saved, at most, towards later losses (see <see cref="DebtMilliseconds"/>).
    /// </summary>
    /// <remarks>
    /// A run of <c>n</c> shares whose caller spent <c>own</c> on its share and then <c>wait</c> until the helpers were done
    /// took <c>own + wait</c>; on the caller alone it would have taken about <c>n * own</c>. The pool keeps the sum of these
    /// savings (negative when a run lost time), capped at this credit. A balance, not a count of late helpers: on the
    /// development VM (2 vCPUs) the second vCPU stops for 0.5-5 ms now and then even when nothing else runs. "Three
    /// contended runs in a row" (session 14) sent the pool alone for 200 ms after such a stop, and with 2 threads mlp128's
    /// train step at batch 128 ran 40-70% of its operations on one thread. The helpers make such a stop up within a few
    /// milliseconds; another process spinning on the helper's core (it preempts the helper for ~4 ms every ~8 ms) costs more
    /// than they save. A new pool, and one trying its helpers again after a pause, starts at zero and may fall only
    /// <see cref="TrialDebtMilliseconds"/> into debt until its helpers have banked the whole credit: a core that is still
    /// taken costs a few milliseconds before the next, longer pause.
    /// </remarks>
    public const int CreditMilliseconds = 20;

    /// <summary>
    /// How far below zero the balance of the helpers' savings (see <see cref="CreditMilliseconds"/>) may fall before the pool
    /// runs every part on the caller for a while (<see cref="AloneMilliseconds"/>), once the helpers have banked the whole
    /// credit since the pool was created or last paused: a helper that has paid its way is given that long to make up for a
    /// stop of its core.
    /// </summary>
    public const int DebtMilliseconds = 20;

    /// <summary>
    /// The debt limit (see <see cref="DebtMilliseconds"/>) until the helpers have banked the whole credit: a new pool, or one
    /// trying its helpers again after a pause, finds a core that another process keeps busy at the cost of a few milliseconds.
    /// </summary>
    public const int TrialDebtMilliseconds = 6;

    /// <summary>
    /// How long the pool runs every part on the caller once its helpers fell into debt (see <see cref="DebtMilliseconds"/>),
    /// before it tries them again with a balance of zero; twice as long each time they fall into debt again before they
    /// have banked the whole credit, up to <see cref="MaxAloneMilliseconds"/>.
    /// </summary>
    public const int AloneMilliseconds = 200;

    /// <summary>The longest pause (see <see cref="AloneMilliseconds"/>).</summary>
    public const int MaxAloneMilliseconds = 800;

    // Counters of every pool in the process, for Benchmarks --timeline: plain increments by the callers of Run, so only
    // approximate when several pools run at once (diagnostics, never read by the pool itself).
    internal static long RunsSplit, RunsAlone, RunsContended, SharesTaken;

    private long _alone;
    private long _balance; // what the split runs saved (negative: lost) against running alone, capped at the credit, in ticks
    private int _pauseMilliseconds = AloneMilliseconds; // the next pause
    private bool _woken; // the helpers were woken for the end of the current pause
    private bool _paidWay; // the balance reached the credit since the pool was created or last paused

    private void NoteContention(int helpers, bool stole, long ownTicks, long waitTicks)
    {
        if (helpers == 0)
            return;
        long frequency = System.Diagnostics.Stopwatch.Frequency;
        RunsSplit++;
        if (stole)
            SharesTaken++;
        // A helper's share taken by the caller, or a wait of at least 100 us that is ContendedRatio times the caller's own
        // share: the helper ran at a fraction of a core, or was preempted in the middle of its share (counted for --timeline).
        if (stole || (waitTicks > ContendedRatio * ownTicks && waitTicks > frequency / 10_000))
            RunsContended++;
        long credit = frequency * CreditMilliseconds / 1000;
        _balance = Math.Min(_balance + helpers * ownTicks - waitTicks, credit);
        if (_balance == credit)
        {
            _paidWay = true;
            _pauseMilliseconds = AloneMilliseconds; // the next pause is a short one again
        }
        if (_balance >= -frequency * (_paidWay ? DebtMilliseconds : TrialDebtMilliseconds) / 1000)
            return;
        _alone = System.Diagnostics.Stopwatch.GetTimestamp() + frequency * _pauseMilliseconds / 1000;
        _woken = false;
        _pauseMilliseconds = Math.Min(2 * _pauseMilliseconds, MaxAloneMilliseconds);
        _balance = 0;
        _paidWay = false;
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
                    spins = 0; // woken without a run (the end of a pause is near): spin again before blocking
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
