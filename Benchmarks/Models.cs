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

/// <summary>The larger model: 784-512-512-10, ReLU, cross-entropy (SGD until the generator emits Adam).</summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Mlp512
{
    [Layer(512, Activation.ReLU)] public partial Dense Hidden1 { get; }
    [Layer(512, Activation.ReLU)] public partial Dense Hidden2 { get; }
    [Layer(10)] public partial Dense Output { get; }
}
