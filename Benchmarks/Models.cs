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

/// <summary>
/// A small network of the kind a game, a trading signal or a control loop trains online, one sample at a time: 32-64-64-4,
/// ReLU, cross-entropy, SGD(lr=0.01, momentum=0.9); 6,532 parameters. At this size the per-call costs (argument checks,
/// the optimizer's bookkeeping, PyTorch's dispatch) weigh as much as the arithmetic. SGD rather than Adam because the
/// Debian build of PyTorch's Adam step alone costs ~100 us here at this size (docs/benchmarks.md), which would swamp the rest.
/// </summary>
[Model(Inputs = 32, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Tiny
{
    [Layer(64, Activation.ReLU)] public partial Dense Hidden1 { get; }
    [Layer(64, Activation.ReLU)] public partial Dense Hidden2 { get; }
    [Layer(4)] public partial Dense Output { get; }
}

/// <summary>
/// <see cref="Tiny"/> with Adam(lr=1e-3), NAdam(lr=2e-3) and ASGD(lr=0.01): the per-call costs of the other fused steps
/// (<c>--quick tiny-optim</c>, DslModels only: this Debian PyTorch's Adam step alone costs ~100 us at this size).
/// </summary>
[Model(Inputs = 32, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Adam, LearningRate = 1e-3)]
public partial class TinyAdam
{
    [Layer(64, Activation.ReLU)] public partial Dense Hidden1 { get; }
    [Layer(64, Activation.ReLU)] public partial Dense Hidden2 { get; }
    [Layer(4)] public partial Dense Output { get; }
}

/// <summary>As <see cref="TinyAdam"/>, with NAdam.</summary>
[Model(Inputs = 32, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.NAdam, LearningRate = 2e-3)]
public partial class TinyNAdam
{
    [Layer(64, Activation.ReLU)] public partial Dense Hidden1 { get; }
    [Layer(64, Activation.ReLU)] public partial Dense Hidden2 { get; }
    [Layer(4)] public partial Dense Output { get; }
}

/// <summary>As <see cref="TinyAdam"/>, with ASGD.</summary>
[Model(Inputs = 32, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.ASGD, LearningRate = 0.01)]
public partial class TinyAsgd
{
    [Layer(64, Activation.ReLU)] public partial Dense Hidden1 { get; }
    [Layer(64, Activation.ReLU)] public partial Dense Hidden2 { get; }
    [Layer(4)] public partial Dense Output { get; }
}

/// <summary>
/// <see cref="Mlp128"/> with other hidden activations (<c>--quick act</c>, named explicitly): what a layer whose activation
/// is not ReLU costs. ReLU's weight gradient skips the zeros of dz; these have none, so their backward is the dense GEMM.
/// </summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Mlp128Tanh
{
    [Layer(128, Activation.Tanh)] public partial Dense Hidden { get; }
    [Layer(10)] public partial Dense Output { get; }
}

/// <summary>As <see cref="Mlp128Tanh"/>, with Sigmoid.</summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Mlp128Sigmoid
{
    [Layer(128, Activation.Sigmoid)] public partial Dense Hidden { get; }
    [Layer(10)] public partial Dense Output { get; }
}

/// <summary>As <see cref="Mlp128Tanh"/>, with GELU.</summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Mlp128Gelu
{
    [Layer(128, Activation.GELU)] public partial Dense Hidden { get; }
    [Layer(10)] public partial Dense Output { get; }
}

/// <summary>As <see cref="Mlp128Tanh"/>, with GELUTanh.</summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Mlp128GeluTanh
{
    [Layer(128, Activation.GELUTanh)] public partial Dense Hidden { get; }
    [Layer(10)] public partial Dense Output { get; }
}

/// <summary>As <see cref="Mlp128Tanh"/>, with SiLU.</summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Mlp128Silu
{
    [Layer(128, Activation.SiLU)] public partial Dense Hidden { get; }
    [Layer(10)] public partial Dense Output { get; }
}

/// <summary>As <see cref="Mlp128Tanh"/>, with ELU.</summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Mlp128Elu
{
    [Layer(128, Activation.ELU)] public partial Dense Hidden { get; }
    [Layer(10)] public partial Dense Output { get; }
}

/// <summary>As <see cref="Mlp128Tanh"/>, with Mish.</summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Mlp128Mish
{
    [Layer(128, Activation.Mish)] public partial Dense Hidden { get; }
    [Layer(10)] public partial Dense Output { get; }
}

/// <summary>As <see cref="Mlp128Tanh"/>, with LeakyReLU.</summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Mlp128LeakyRelu
{
    [Layer(128, Activation.LeakyReLU)] public partial Dense Hidden { get; }
    [Layer(10)] public partial Dense Output { get; }
}

/// <summary>As <see cref="Mlp128"/>, ending in LogSoftmax with NLLLoss (PyTorch's other classifier idiom).</summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.NLL)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Mlp128LogSoftmax
{
    [Layer(128, Activation.ReLU)] public partial Dense Hidden { get; }
    [Layer(10, Activation.LogSoftmax)] public partial Dense Output { get; }
}

/// <summary>
/// Tabular data: 13 features (not a multiple of any vector width), 100-100-3, ReLU, cross-entropy, SGD momentum
/// (<c>--quick tab</c>, with <see cref="Tab16"/>, its twin with 16 features and 96-wide layers, about the same parameter count).
/// </summary>
[Model(Inputs = 13, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Tab13
{
    [Layer(100, Activation.ReLU)] public partial Dense Hidden1 { get; }
    [Layer(100, Activation.ReLU)] public partial Dense Hidden2 { get; }
    [Layer(3)] public partial Dense Output { get; }
}

/// <summary>As <see cref="Tab13"/> with 16 features and 96-wide layers: every width a multiple of the vectors.</summary>
[Model(Inputs = 16, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Tab16
{
    [Layer(96, Activation.ReLU)] public partial Dense Hidden1 { get; }
    [Layer(96, Activation.ReLU)] public partial Dense Hidden2 { get; }
    [Layer(3)] public partial Dense Output { get; }
}

/// <summary>
/// A classifier over 1,000 classes: 256 inputs, 512 ReLU, 1,000 logits, cross-entropy, SGD momentum (<c>--quick cls</c>, with
/// <see cref="Cls1000LogSoftmax"/>, the same ending in LogSoftmax with NLLLoss): where the final layer's row-wise work is
/// no longer small beside the GEMMs.
/// </summary>
[Model(Inputs = 256, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Cls1000
{
    [Layer(512, Activation.ReLU)] public partial Dense Hidden { get; }
    [Layer(1000)] public partial Dense Output { get; }
}

/// <summary>As <see cref="Cls1000"/>, ending in LogSoftmax with NLLLoss.</summary>
[Model(Inputs = 256, Seed = 0)]
[Loss(LossKind.NLL)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class Cls1000LogSoftmax
{
    [Layer(512, Activation.ReLU)] public partial Dense Hidden { get; }
    [Layer(1000, Activation.LogSoftmax)] public partial Dense Output { get; }
}

/// <summary>The generated training members beyond <see cref="IModel"/> that the benchmarks use (the generated classes implement them).</summary>
public interface ITrainable : IModel
{
    float TrainStep(System.ReadOnlySpan<float> input, System.ReadOnlySpan<int> targets, int batch);
    float ComputeLoss(System.ReadOnlySpan<float> output, System.ReadOnlySpan<int> targets, int batch);
    void Step();
    int Threads { get; set; }
}

public partial class Mlp128 : ITrainable;

public partial class Mlp512 : ITrainable;

public partial class Tiny : ITrainable;

public partial class TinyAdam : ITrainable;

public partial class TinyNAdam : ITrainable;

public partial class TinyAsgd : ITrainable;

public partial class Mlp128Tanh : ITrainable;

public partial class Mlp128Sigmoid : ITrainable;

public partial class Mlp128Gelu : ITrainable;

public partial class Mlp128GeluTanh : ITrainable;

public partial class Mlp128Silu : ITrainable;

public partial class Mlp128Elu : ITrainable;

public partial class Mlp128Mish : ITrainable;

public partial class Mlp128LeakyRelu : ITrainable;

public partial class Mlp128LogSoftmax : ITrainable;

public partial class Tab13 : ITrainable;

public partial class Tab16 : ITrainable;

public partial class Cls1000 : ITrainable;

public partial class Cls1000LogSoftmax : ITrainable;

/// <summary>A model whose TrainStep takes float targets [batch, outputs] (regression and multi-label losses).</summary>
public interface IRegressor : IModel
{
    float TrainStep(System.ReadOnlySpan<float> input, System.ReadOnlySpan<float> targets, int batch);
}

// Small regression and multi-label models for --warm-up and check-warm-code.sh (session 14): the losses other than
// cross-entropy and NLL go through the runtime's generic loss code, which must run optimized from the first call too.

/// <summary>16-64-4, Tanh, MSE, Adam.</summary>
[Model(Inputs = 16, Seed = 0)]
[Loss(LossKind.MSE)]
[Optimizer(OptimizerKind.Adam, LearningRate = 1e-3)]
public partial class RegMse : IRegressor
{
    [Layer(64, Activation.Tanh)] public partial Dense Hidden { get; }
    [Layer(4)] public partial Dense Output { get; }
}

/// <summary>16-64-4, ReLU, Huber(delta 1), SGD with momentum.</summary>
[Model(Inputs = 16, Seed = 0)]
[Loss(LossKind.Huber)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class RegHuber : IRegressor
{
    [Layer(64, Activation.ReLU)] public partial Dense Hidden { get; }
    [Layer(4)] public partial Dense Output { get; }
}

/// <summary>16-64-4, SiLU, BCE with logits (multi-label targets in [0, 1]), AdamW.</summary>
[Model(Inputs = 16, Seed = 0)]
[Loss(LossKind.BCEWithLogits)]
[Optimizer(OptimizerKind.AdamW, LearningRate = 1e-3)]
public partial class RegBce : IRegressor
{
    [Layer(64, Activation.SiLU)] public partial Dense Hidden { get; }
    [Layer(4)] public partial Dense Output { get; }
}

/// <summary>16-64-4, ELU, L1, RMSprop.</summary>
[Model(Inputs = 16, Seed = 0)]
[Loss(LossKind.L1)]
[Optimizer(OptimizerKind.RMSprop, LearningRate = 1e-3)]
public partial class RegL1 : IRegressor
{
    [Layer(64, Activation.ELU)] public partial Dense Hidden { get; }
    [Layer(4)] public partial Dense Output { get; }
}
