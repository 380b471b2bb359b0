using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace DslModels.Tests.Models;

internal static class ModelHelpers
{
    public static Dense[] Layers(OddMlp m) => [m.First, m.Second, m.Third, m.Fourth, m.Logits];

    public static Dense[] Layers(FashionMlp m) => [m.Hidden, m.Output];

    /// <summary>Deterministic inputs in [-1, 1) from a seed (independent of the code under test).</summary>
    public static float[] Inputs(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    public static int[] Classes(int count, int classes, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(classes)).ToArray();
    }

    /// <summary>
    /// Asserts that <paramref name="calls"/> allocates no managed memory on this thread once warm (counted, not timed): it runs
    /// once to warm up, then in three windows, of which at least one must allocate nothing. An allocation in every call shows in
    /// every window. The runtime itself has been seen to allocate a few KB once on a test's thread in a full parallel run (a
    /// threaded test in session 2, 6,592 bytes in a loss test in session 6; tiering or diagnostics objects are candidates),
    /// which can spoil one window.
    /// </summary>
    public static void AssertAllocatesNothing(Action calls)
    {
        calls();
        long[] windows = new long[3];
        for (int w = 0; w < windows.Length; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            calls();
            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.True(Array.IndexOf(windows, 0L) >= 0, $"bytes allocated on this thread in each of three windows: {string.Join(", ", windows)}");
    }

    public static float[][] Snapshot(IModel model) => model.Parameters.Select(p => p.Data.ToArray()).ToArray();

    public static void AssertUnchanged(float[][] before, IModel model)
    {
        for (int k = 0; k < before.Length; k++)
            Assert.True(before[k].AsSpan().SequenceEqual(model.Parameters[k].Data), $"{model.Parameters[k].Name} changed");
    }

    public static void AssertClose(string what, ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double rtol, double atol)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double excess = Math.Abs(actual[i] - expected[i]) - (atol + rtol * Math.Abs(expected[i]));
            if (excess > worst || double.IsNaN(actual[i]))
            {
                worst = double.IsNaN(actual[i]) ? double.PositiveInfinity : excess;
                worstAt = i;
            }
        }
        Assert.True(worstAt < 0, worstAt < 0 ? "" : $"{what}[{worstAt}]: expected {expected[worstAt]:R}, got {actual[worstAt]:R} (rtol {rtol}, atol {atol})");
    }

    /// <summary>
    /// One step of a PyTorch trajectory record (fixture keys "loss" and "params"): the returned loss and every parameter
    /// after the step match PyTorch's.
    /// </summary>
    public static void AssertMatchesTorchStep(string what, System.Text.Json.JsonElement record, int step, float loss, IModel model)
    {
        double expectedLoss = record.GetProperty("loss")[step].GetDouble();
        Assert.True(Math.Abs(loss - expectedLoss) <= 1e-5 + 1e-5 * Math.Abs(expectedLoss), $"{what} step {step}: loss {loss} vs PyTorch {expectedLoss}");
        var expected = record.GetProperty("params")[step];
        foreach (var p in model.Parameters)
            AssertClose($"{what} step {step} {p.Name}", expected.GetProperty(p.Name).EnumerateArray().Select(v => v.GetDouble()).ToArray(), p.Data, 1e-4, 2e-6);
    }
}
