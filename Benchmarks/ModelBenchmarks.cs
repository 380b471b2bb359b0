using BenchmarkDotNet.Attributes;

namespace DslModels.Benchmarks;

[MemoryDiagnoser]
public class Mlp128Benchmarks
{
    private Mlp128 _model = null!;
    private BatchPool _pool = null!;
    private float[] _output = null!;

    [Params(1, 8, 32, 128, 512)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = new Mlp128();
        _pool = new BatchPool(Batch, Mlp128.InputSize, Mlp128.OutputSize);
        _output = new float[Batch * Mlp128.OutputSize];
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

[MemoryDiagnoser]
public class Mlp512Benchmarks
{
    private Mlp512 _model = null!;
    private BatchPool _pool = null!;
    private float[] _output = null!;

    [Params(1, 8, 32, 128, 512)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = new Mlp512();
        _pool = new BatchPool(Batch, Mlp512.InputSize, Mlp512.OutputSize);
        _output = new float[Batch * Mlp512.OutputSize];
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
