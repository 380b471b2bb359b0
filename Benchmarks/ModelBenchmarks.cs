using BenchmarkDotNet.Attributes;

namespace DslModels.Benchmarks;

/// <summary>TrainStep and Predict of one generated model at batch 1 to 512, cycling distinct batches.</summary>
[MemoryDiagnoser]
public abstract class ModelBenchmarks<TModel> where TModel : class, ITrainable, new()
{
    private TModel _model = null!;
    private BatchPool _pool = null!;
    private float[] _output = null!;

    [Params(1, 8, 32, 128, 512)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = new TModel();
        long parameters = System.Linq.Enumerable.Sum(_model.Parameters, p => (long)p.Length);
        _pool = new BatchPool(Batch, _model.InputWidth, _model.OutputWidth, poolSize: BatchPool.PoolSizeFor(Batch, parameters));
        _output = new float[Batch * _model.OutputWidth];
    }

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    [Benchmark]
    public float TrainStep()
    {
        var (x, y) = _pool.Next();
        return _model.TrainStep(x, y, Batch);
    }

    [Benchmark]
    public void Predict()
    {
        var (x, _) = _pool.Next();
        _model.Predict(x, _output, Batch);
    }
}

/// <summary>784-128-10, SGD with momentum.</summary>
public class Mlp128Benchmarks : ModelBenchmarks<Mlp128>;

/// <summary>784-512-512-10, Adam.</summary>
public class Mlp512Benchmarks : ModelBenchmarks<Mlp512>;

/// <summary>32-64-64-4, SGD with momentum: a model trained online.</summary>
public class TinyBenchmarks : ModelBenchmarks<Tiny>;
