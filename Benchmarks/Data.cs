using System;

namespace DslModels.Benchmarks;

/// <summary>
/// A pool of distinct random batches cycled through, so no implementation trains on one repeated sample
/// (which drives optimizer state into denormals and slows everything 2-4x).
/// </summary>
/// <remarks>
/// Inputs are uniform in [-1, 1): zero-mean, as normalised data is. With all-positive inputs (uniform [0, 1)) and random
/// labels, the thousands of steps of a timing run kill most ReLUs: mlp128's hidden dz went from 54% nonzero to 3% at
/// batch 128, and DslModels' weight gradient, which skips the zeros of dz, got faster than on real data. With zero-mean
/// inputs the fraction stays at 50-56% for the whole run (Quick prints it). pytorch_peer.py draws the same distribution.
/// A small model memorises 16 small batches within a timing run (the tiny model makes ~300,000 steps), and then its
/// gradients shrink towards zero and the optimizer's state towards denormals; <see cref="PoolSizeFor"/> gives it more batches.
/// </remarks>
public sealed class BatchPool
{
    public const int PoolSize = 16;
    private readonly float[][] _inputs;
    private readonly int[][] _targets;
    private int _next;

    public BatchPool(int batch, int inputs, int classes, int seed = 1, int poolSize = PoolSize)
    {
        var rng = new Random(seed);
        _inputs = new float[poolSize][];
        _targets = new int[poolSize][];
        for (int k = 0; k < poolSize; k++)
        {
            _inputs[k] = new float[batch * inputs];
            for (int i = 0; i < _inputs[k].Length; i++)
                _inputs[k][i] = (float)(2 * rng.NextDouble() - 1);
            _targets[k] = new int[batch];
            for (int i = 0; i < batch; i++)
                _targets[k][i] = rng.Next(classes);
        }
    }

    /// <summary>
    /// Batches in the pool of a model of <paramref name="parameters"/> parameters: 16, or enough for 8,192 samples when the
    /// model is small enough to memorise fewer (the tiny model; pytorch_peer.py uses the same rule).
    /// </summary>
    public static int PoolSizeFor(int batch, long parameters) => parameters < 50_000 ? Math.Max(PoolSize, 8192 / batch) : PoolSize;

    public (float[] Input, int[] Targets) Next()
    {
        int k = _next;
        _next = (_next + 1) % _inputs.Length;
        return (_inputs[k], _targets[k]);
    }
}
