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

public class WorkerPoolRangeTests
{
    private static (int Start, int End)[] Ranges(WorkerPool pool, int total, int align, int slot = 0)
    {
        var ranges = new (int, int)[pool.Threads];
        pool.Run(pool.Threads, k => ranges[k] = pool.Range(total, align, k, slot));
        return ranges;
    }

    [Theory]
    [InlineData(2, 128, 16)]
    [InlineData(3, 100, 4)]
    [InlineData(4, 6, 4)]
    [InlineData(3, 0, 16)]
    public void Ranges_are_consecutive_aligned_and_cover_the_total(int threads, int total, int align)
    {
        using var pool = new WorkerPool(threads);
        var ranges = Ranges(pool, total, align);
        Assert.Equal(0, ranges[0].Start);
        Assert.Equal(total, ranges[^1].End);
        for (int k = 0; k < threads; k++)
        {
            Assert.True(ranges[k].Start <= ranges[k].End, $"part {k}: {ranges[k]}");
            if (k > 0)
                Assert.Equal(ranges[k - 1].End, ranges[k].Start);
            if (k < threads - 1)
                Assert.Equal(0, ranges[k].End % align);
            // Equal shares at first: every part within one alignment step of total / threads.
            Assert.InRange(ranges[k].End - ranges[k].Start, Math.Max(0, total / threads - align), total / threads + align);
        }
    }

    [Fact]
    public void Pinned_shares_size_the_ranges()
    {
        using var pool = new WorkerPool(2);
        pool.PinShares(new[] { 3.0, 1.0 });
        Assert.Equal(new[] { (0, 48), (48, 64) }, Ranges(pool, 64, 16));
        Assert.Equal(new[] { (0, 48), (48, 64) }, Ranges(pool, 64, 16)); // pinned: the Run above taught it nothing
        pool.PinShares(new[] { 1.0, 1.0 });
        Assert.Equal(new[] { (0, 32), (32, 64) }, Ranges(pool, 64, 16, slot: 0));
    }

    /// <summary>
    /// Thread 1 does three times the work per unit of its range (a stand-in for a slower core): the shares move until the parts take
    /// about as long, so thread 0's range grows toward three quarters. The work is counted, not timed; only the pool times it.
    /// </summary>
    [Fact]
    public void The_thread_that_finishes_its_parts_sooner_gets_more_of_the_next_split()
    {
        using var pool = new WorkerPool(2, slots: 2);
        const int total = 4096;
        var sink = new double[2];
        for (int run = 0; run < 40; run++)
        {
            pool.Run(2, k =>
            {
                var (start, end) = pool.Range(total, 16, k, slot: 1);
                double x = 1;
                for (long i = 0, n = (end - start) * 200L * (k == 1 ? 3 : 1); i < n; i++)
                    x = x * 0.999999 + 1e-9;
                sink[k] += x;
            });
        }
        double[] shares = pool.SharesOf(1);
        Assert.True(shares[0] > 0.6, $"thread 0's share after 40 runs: {shares[0]:F3} (equal work per unit would give 0.75)");
        Assert.Equal(1.0, shares[0] + shares[1], 9);
        Assert.Equal(new[] { 0.5, 0.5 }, pool.SharesOf(0)); // another slot keeps its own shares
        Assert.True(sink[0] > 0 && sink[1] > 0);
    }

    [Fact]
    public void Range_refuses_bad_arguments_by_name()
    {
        using var pool = new WorkerPool(2, slots: 3);
        Assert.Equal("total", Assert.Throws<ArgumentOutOfRangeException>(() => pool.Range(-1, 4, 0)).ParamName);
        Assert.Equal("align", Assert.Throws<ArgumentOutOfRangeException>(() => pool.Range(8, 0, 0)).ParamName);
        Assert.Equal("slot", Assert.Throws<ArgumentOutOfRangeException>(() => pool.Range(8, 4, 0, slot: 3)).ParamName);
        Assert.Equal("weight", Assert.Throws<ArgumentOutOfRangeException>(() => pool.Range(8, 4, 0, weight: -1)).ParamName);
        Assert.Equal("slots", Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(2, 0)).ParamName);
    }
}
