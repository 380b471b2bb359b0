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
    private readonly AlignedBuffer[] _inputs;
    private readonly int[][] _targets;
    private readonly int _length;
    private int _next;

    /// <summary>
    /// Whether the batches start at a 64-byte boundary, as PyTorch's tensors and DslModels' <see cref="AlignedBuffer"/> do: true
    /// unless <c>DSLMODELS_BENCH_UNALIGNED=1</c>, which starts them 4 bytes past one, as a float[]'s data usually is. (A threaded
    /// TrainStep reads an aligned input in place and copies an unaligned one for each thread: docs/benchmarks.md, "Session 19".)
    /// </summary>
    public static readonly bool Aligned = Environment.GetEnvironmentVariable("DSLMODELS_BENCH_UNALIGNED") != "1";

    private readonly int _offset;

    /// <param name="aligned">Whether the batches start at a 64-byte boundary (default: <see cref="Aligned"/>).</param>
    public BatchPool(int batch, int inputs, int classes, int seed = 1, int poolSize = PoolSize, bool? aligned = null)
    {
        _offset = aligned ?? Aligned ? 0 : 1;
        var rng = new Random(seed);
        _length = batch * inputs;
        _inputs = new AlignedBuffer[poolSize];
        _targets = new int[poolSize][];
        for (int k = 0; k < poolSize; k++)
        {
            _inputs[k] = new AlignedBuffer(_length + _offset);
            var input = _inputs[k].Span.Slice(_offset);
            for (int i = 0; i < input.Length; i++)
                input[i] = (float)(2 * rng.NextDouble() - 1);
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

    /// <summary>The next batch, as <c>var (input, targets) = pool.Next();</c>: inputs [batch, inputs], targets [batch].</summary>
    public Batch Next()
    {
        int k = _next;
        _next = (_next + 1) % _inputs.Length;
        return new Batch(_inputs[k], _offset, _length, _targets[k]);
    }

    /// <summary>One batch of the pool (its buffers live as long as the pool).</summary>
    public readonly struct Batch(AlignedBuffer input, int offset, int length, int[] targets)
    {
        public void Deconstruct(out ReadOnlySpan<float> x, out int[] y)
        {
            x = input.Span.Slice(offset, length);
            y = targets;
        }
    }
}
