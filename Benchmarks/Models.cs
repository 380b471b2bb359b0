namespace DslModels.Benchmarks;

/// <summary>The small model: 784-128-10, ReLU, cross-entropy, SGD with momentum.</summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Mlp128
{
    [Layer(128, Activation.ReLU)] public partial Dense Hidden { get; }
    [Layer(10)] public partial Dense Output { get; }
}

/// <summary>The larger model: 784-512-512-10, ReLU, cross-entropy, Adam(lr=1e-3).</summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Adam, LearningRate = 1e-3)]
public partial class Mlp512
{
    [Layer(512, Activation.ReLU)] public partial Dense Hidden1 { get; }
    [Layer(512, Activation.ReLU)] public partial Dense Hidden2 { get; }
    [Layer(10)] public partial Dense Output { get; }
}

/// <summary>The generated training members beyond <see cref="IModel"/> that the benchmarks use (the generated classes implement them).</summary>
public interface ITrainable : IModel
{
    float TrainStep(System.ReadOnlySpan<float> input, System.ReadOnlySpan<int> targets, int batch);
    float ComputeLoss(System.ReadOnlySpan<float> output, System.ReadOnlySpan<int> targets, int batch);
    void Step();
}

public partial class Mlp128 : ITrainable;

public partial class Mlp512 : ITrainable;
