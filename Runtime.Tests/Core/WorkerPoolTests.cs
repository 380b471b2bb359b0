using System;
using System.Threading;
using Xunit;

namespace DslModels.Tests.Core;

public class WorkerPoolTests
{
    [Fact]
    public void Every_part_runs_once_on_its_thread()
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
            Assert.Equal(threadOf[k % 3], threadOf[k]); // part k on thread k % Threads
        Assert.Equal(Environment.CurrentManagedThreadId, threadOf[0]); // the caller is thread 0
        Assert.NotEqual(threadOf[0], threadOf[1]);
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
