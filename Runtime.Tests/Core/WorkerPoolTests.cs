using System;
using System.Threading;
using Xunit;

namespace DslModels.Tests.Core;

public class WorkerPoolTests
{
    [Fact]
    public void Every_part_runs_once_and_a_share_on_one_thread()
    {
        using var pool = new WorkerPool(3);
        var threadOf = new int[7];
        var runs = new int[7];
        pool.Run(7, k =>
        {
            Interlocked.Increment(ref runs[k]);
            threadOf[k] = Environment.CurrentManagedThreadId;
        });
        Assert.All(runs, r => Assert.Equal(1, r));
        for (int k = 3; k < 7; k++)
            Assert.Equal(threadOf[k % 3], threadOf[k]); // parts k, k + 3, ... form thread k % 3's share
        Assert.Equal(Environment.CurrentManagedThreadId, threadOf[0]); // the caller is thread 0
    }

    [Fact]
    public void The_helpers_run_their_shares_when_they_are_running()
    {
        // A helper that is awake (spinning after the previous run) starts within microseconds; the caller then leaves its share
        // to it. Several runs, so that a slow first wake-up cannot decide the outcome alone.
        using var pool = new WorkerPool(2);
        bool helped = HelperRunsItsShareWithin(pool, 2000);
        Assert.True(helped, "in 2 s of runs the helper never ran its own share");
    }

    [Fact]
    public void A_helper_that_does_not_start_has_its_share_run_by_the_caller_once()
    {
        using var pool = new WorkerPool(3);
        using var release = new ManualResetEventSlim(false);
        using var held = new CountdownEvent(1);
        pool.BeforeClaim = worker =>
        {
            if (worker == 2)
            {
                held.Signal();
                release.Wait(); // kept from running, as by another process on its core
            }
        };
        var runs = new int[6];
        var threadOf = new int[6];
        try
        {
            pool.Run(6, k =>
            {
                Interlocked.Increment(ref runs[k]);
                threadOf[k] = Environment.CurrentManagedThreadId;
            });
            Assert.All(runs, r => Assert.Equal(1, r));
            Assert.Equal(Environment.CurrentManagedThreadId, threadOf[2]); // helper 2's share, parts 2 and 5, ran on the caller
            Assert.Equal(Environment.CurrentManagedThreadId, threadOf[5]);
            held.Wait();
        }
        finally
        {
            // Released late, the helper must not run that share again, nor anything of the next run with the old run's body.
            pool.BeforeClaim = null;
            release.Set(); // never leave the helper held: Dispose joins it
        }
        var next = new int[6];
        pool.Run(6, k => Interlocked.Increment(ref next[k]));
        Thread.Sleep(20);
        Assert.All(runs, r => Assert.Equal(1, r));
        Assert.All(next, r => Assert.Equal(1, r));
    }

    [Fact]
    public void A_pool_whose_helpers_keep_not_starting_runs_alone_for_a_while()
    {
        using var pool = new WorkerPool(2);
        using var release = new ManualResetEventSlim(false);
        pool.BeforeClaim = _ => release.Wait(); // the helper is kept from running, as by another process on its core
        var threadOf = new int[3];
        var runs = new int[3];
        int stolen = 0;
        try
        {
            // Each run waits StealAfterMicroseconds for the helper, then runs its share: a loss, and once the losses pass
            // DebtMilliseconds, the pool stops handing parts out.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!pool.IsAlone)
            {
                Assert.True(clock.ElapsedMilliseconds < 5000, $"still not alone after {stolen} runs whose helper never started");
                pool.Run(2, k => threadOf[k] = Environment.CurrentManagedThreadId); // the helper never starts: the caller steals
                Assert.Equal(Environment.CurrentManagedThreadId, threadOf[1]);
                stolen++;
            }
            pool.Run(3, k => { runs[k]++; threadOf[k] = Environment.CurrentManagedThreadId; });
            Assert.Equal(new[] { 1, 1, 1 }, runs);
            Assert.All(threadOf, t => Assert.Equal(Environment.CurrentManagedThreadId, t));
        }
        finally
        {
            pool.BeforeClaim = null;
            release.Set(); // never leave the helper held: Dispose joins it
        }
        // Released, the helper claims nothing of the runs it missed; the pool keeps working.
        Thread.Sleep(WorkerPool.AloneMilliseconds + 20);
        Assert.False(pool.IsAlone);
        Array.Clear(runs);
        pool.Run(3, k => Interlocked.Increment(ref runs[k]));
        Assert.Equal(new[] { 1, 1, 1 }, runs);
    }

    [Fact]
    public void A_pool_whose_helpers_fail_again_right_after_a_pause_pauses_twice_as_long()
    {
        using var pool = new WorkerPool(2);
        using var release = new ManualResetEventSlim(false);
        pool.BeforeClaim = _ => release.Wait(); // the helper's core stays taken
        try
        {
            double first = PauseAfterFailing(pool), second = PauseAfterFailing(pool);
            // Lower bounds only: a loaded machine can only make the measured pauses longer.
            Assert.True(first >= WorkerPool.AloneMilliseconds - 5, $"first pause {first:F0} ms");
            Assert.True(second >= 2 * WorkerPool.AloneMilliseconds - 5, $"second pause {second:F0} ms, after a first of {first:F0} ms");
        }
        finally
        {
            pool.BeforeClaim = null;
            release.Set();
        }
    }

    private static double PauseAfterFailing(WorkerPool pool)
    {
        // Timed from before the run that starts the pause, so that a test thread descheduled after that run (a loaded CI
        // machine) cannot make the measured pause shorter than the real one.
        var limit = System.Diagnostics.Stopwatch.StartNew();
        long start = 0;
        while (!pool.IsAlone)
        {
            Assert.True(limit.ElapsedMilliseconds < 5000, "the pool kept handing parts to a helper that never starts");
            start = System.Diagnostics.Stopwatch.GetTimestamp();
            pool.Run(2, _ => { });
        }
        while (pool.IsAlone)
            Thread.Sleep(2);
        return System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    [Fact]
    public void A_helper_that_misses_a_few_runs_keeps_its_share_afterwards()
    {
        // A vCPU that stops for a few milliseconds (as this project's development VM's second one does, idle) makes a few
        // operations in a row late; the pool must not give up its helpers for that.
        using var pool = new WorkerPool(2);
        pool.BankCredit(); // as after a spell of runs in which the helper saved the caller time, as it does between such stops
        using var release = new ManualResetEventSlim(false);
        pool.BeforeClaim = _ => release.Wait();
        try
        {
            for (int run = 0; run < 5; run++)
            {
                int thread1 = 0;
                pool.Run(2, k => { if (k == 1) thread1 = Environment.CurrentManagedThreadId; });
                Assert.Equal(Environment.CurrentManagedThreadId, thread1);
            }
        }
        finally
        {
            pool.BeforeClaim = null;
            release.Set();
        }
        Assert.False(pool.IsAlone);
        bool helped = HelperRunsItsShareWithin(pool, 2000);
        Assert.True(helped, "after 5 late runs, the helper never ran its share again in 2 s");
    }

    /// <summary>
    /// Runs 2-part runs whose caller part takes long enough for an awake helper to start, until the helper runs part 1 or the
    /// time is up. A VM can stop the helper's core for milliseconds, and slow first wake-ups can look like a busy machine:
    /// when the pool is alone, the loop waits until it tries its helper again.
    /// </summary>
    private static bool HelperRunsItsShareWithin(WorkerPool pool, int milliseconds)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < milliseconds)
        {
            if (pool.IsAlone)
                Thread.Sleep(WorkerPool.AloneMilliseconds + 20);
            int caller = Environment.CurrentManagedThreadId, thread1 = 0;
            pool.Run(2, k =>
            {
                if (k == 1)
                    thread1 = Environment.CurrentManagedThreadId;
                else
                    Thread.SpinWait(20_000);
            });
            if (thread1 != caller)
                return true;
        }
        return false;
    }

    [Fact]
    public void Many_runs_in_a_row_run_every_part_exactly_once()
    {
        using var pool = new WorkerPool(3);
        var counts = new int[5];
        for (int run = 0; run < 2000; run++)
        {
            Array.Clear(counts);
            int parts = 2 + run % 4;
            pool.Run(parts, k =>
            {
                Interlocked.Increment(ref counts[k]);
                if ((run + k) % 7 == 0)
                    Thread.SpinWait(200);
            });
            for (int k = 0; k < counts.Length; k++)
                Assert.Equal(k < parts ? 1 : 0, counts[k]);
        }
    }

    [Fact]
    public void The_pinned_input_is_readable_by_every_part_during_Run_only()
    {
        using var pool = new WorkerPool(2);
        float[] input = { 1f, 2f, 3f, 4f, 5f };
        var sums = new float[2];
        var lengths = new int[2];
        pool.Run(2, k =>
        {
            ReadOnlySpan<float> seen = pool.Input;
            lengths[k] = seen.Length;
            foreach (float v in seen)
                sums[k] += v;
        }, input.AsSpan(1, 3));
        Assert.Equal(new[] { 3, 3 }, lengths);
        Assert.Equal(new[] { 9f, 9f }, sums);
        Assert.True(pool.Input.IsEmpty);
    }

    [Fact]
    public void A_failing_part_is_rethrown_on_the_caller_and_the_pool_stays_usable()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<InvalidOperationException>(() => pool.Run(2, k =>
        {
            if (k == 1)
                throw new InvalidOperationException("part 1 failed");
        }, new float[] { 1f }));
        Assert.Equal("part 1 failed", e.Message);
        Assert.True(pool.Input.IsEmpty);
        int done = 0;
        pool.Run(2, _ => Interlocked.Increment(ref done));
        Assert.Equal(2, done);
    }

    [Fact]
    public void Thread_counts_outside_1_to_256_are_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0));
        Assert.Equal("threads", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(257));
    }
}
