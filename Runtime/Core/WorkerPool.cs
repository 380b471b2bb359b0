using System;
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
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    /// <summary>
    /// How many <see cref="Thread.SpinWait(int)"/>(20) rounds an idle worker spins before blocking: 1.5-1.8 ms on the development machine
    /// (measured; each round is ~0.8 us), so a worker stays awake between the operations of a step and between back-to-back steps.
    /// </summary>
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

    /// <summary>Starts <paramref name="threads"/> - 1 background threads (the caller is the first).</summary>
    public WorkerPool(int threads)
    {
        if (threads < 1 || threads > 256)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, $"threads must be in [1, 256]; got {threads}.");
        Threads = threads;
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
        Volatile.Write(ref _pending, helpers);
        Interlocked.Increment(ref _generation);
        for (int w = 0; w < helpers; w++)
            _wake[w].Set();
        try
        {
            for (int k = 0; k < parts; k += Threads)
                body(k);
        }
        finally
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) > 0)
                spin.SpinOnce(sleep1Threshold: -1);
            _body = null;
        }
        _failure?.Throw();
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
            if (worker < Math.Min(Threads, _parts))
            {
                try
                {
                    for (int k = worker; k < _parts; k += Threads)
                        _body!(k);
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
