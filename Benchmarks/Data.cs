using System;

namespace DslModels.Benchmarks;

/// <summary>
/// A pool of distinct random batches cycled through, so no implementation trains on one repeated sample
/// (which drives optimizer state into denormals and slows everything 2-4x).
/// </summary>
public sealed class BatchPool
{
    public const int PoolSize = 16;
    private readonly float[][] _inputs;
    private readonly int[][] _targets;
    private int _next;

    public BatchPool(int batch, int inputs, int classes, int seed = 1)
    {
        var rng = new Random(seed);
        _inputs = new float[PoolSize][];
        _targets = new int[PoolSize][];
        for (int k = 0; k < PoolSize; k++)
        {
            _inputs[k] = new float[batch * inputs];
            for (int i = 0; i < _inputs[k].Length; i++)
                _inputs[k][i] = (float)rng.NextDouble();
            _targets[k] = new int[batch];
            for (int i = 0; i < batch; i++)
                _targets[k][i] = rng.Next(classes);
        }
    }

    public (float[] Input, int[] Targets) Next()
    {
        int k = _next;
        _next = (_next + 1) % PoolSize;
        return (_inputs[k], _targets[k]);
    }
}
