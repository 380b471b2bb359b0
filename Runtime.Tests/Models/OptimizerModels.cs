using DslModels;

namespace DslModels.Tests.Models;

// Linear(6, 5) + Tanh, Linear(5, 4), cross-entropy: one model per optimizer; PyTorch twins in tools/make_optim_fixtures.py.

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adam, LearningRate = 0.05, Beta1 = 0.8, Beta2 = 0.99, WeightDecay = 0.01)]
public partial class OptAdam { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.AdamW, LearningRate = 0.05, Amsgrad = true)]
public partial class OptAdamW { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adagrad, LearningRate = 0.1, LrDecay = 0.01, InitialAccumulatorValue = 0.1)]
public partial class OptAdagrad { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.RMSprop, LearningRate = 0.01, Momentum = 0.9, Centered = true)]
public partial class OptRMSprop { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adadelta, Rho = 0.8)]
public partial class OptAdadelta { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adamax, LearningRate = 0.05)]
public partial class OptAdamax { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.ASGD, LearningRate = 0.1, T0 = 2)]
public partial class OptAsgd { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Rprop, LearningRate = 0.02, EtaMinus = 0.4, EtaPlus = 1.3)]
public partial class OptRprop { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.NAdam, LearningRate = 0.05)]
public partial class OptNAdam { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.RAdam, LearningRate = 0.05)]
public partial class OptRAdam { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0.9, WeightDecay = 0.05, BiasWeightDecay = 0)]
public partial class OptSgdGroups
{
    [Layer(5, Activation.Tanh)] public partial Dense First { get; }
    [Layer(4), ParamGroup(LearningRate = 0.01, Momentum = 0.5)] public partial Dense Second { get; }
}

// Flag variants for the fused Step() (FusedStepTests): each is its own specialisation of the emitted update.

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.8, Dampening = 0.1, WeightDecay = 0.02, Maximize = true)]
public partial class FusedSgdMaximize { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.05)]
public partial class FusedSgdPlain { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adam, LearningRate = 0.02, Amsgrad = true, Maximize = true, WeightDecay = 0.1)]
public partial class FusedAdamAmsgradMaximize { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.AdamW, LearningRate = 0.02, WeightDecay = 0.05, BiasWeightDecay = 0)]
public partial class FusedAdamWGroups
{
    [Layer(37, Activation.Tanh)] public partial Dense First { get; }
    [Layer(21, Activation.ReLU), ParamGroup(LearningRate = 0.005)] public partial Dense Second { get; }
    [Layer(4)] public partial Dense Third { get; }
}

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adagrad, LearningRate = 0.05, LrDecay = 0.02, WeightDecay = 0.03, InitialAccumulatorValue = 0.2, Maximize = true, BiasWeightDecay = 0)]
public partial class FusedAdagradWdMaximize { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.RMSprop, LearningRate = 0.01, Alpha = 0.9, WeightDecay = 0.02)]
public partial class FusedRmspropPlain { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.RMSprop, LearningRate = 0.01, Momentum = 0.8, Maximize = true)]
public partial class FusedRmspropGroups
{
    [Layer(37, Activation.Tanh)] public partial Dense First { get; }
    [Layer(21, Activation.ReLU), ParamGroup(LearningRate = 0.005, Momentum = 0)] public partial Dense Second { get; }
    [Layer(4)] public partial Dense Third { get; }
}

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adadelta, LearningRate = 0.5, Rho = 0.85, WeightDecay = 0.02, Maximize = true)]
public partial class FusedAdadeltaWdMaximize { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adamax, LearningRate = 0.02, Beta1 = 0.8, WeightDecay = 0.04, Maximize = true)]
public partial class FusedAdamaxWdMaximize { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.NAdam, LearningRate = 0.02, WeightDecay = 0.03, MomentumDecay = 0.01, BiasWeightDecay = 0)]
public partial class FusedNAdamGroups
{
    [Layer(37, Activation.Tanh)] public partial Dense First { get; }
    [Layer(21, Activation.ReLU), ParamGroup(LearningRate = 0.005)] public partial Dense Second { get; }
    [Layer(4)] public partial Dense Third { get; }
}

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.RAdam, LearningRate = 0.02, Beta2 = 0.9, WeightDecay = 0.03)]
public partial class FusedRAdamWd { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.ASGD, LearningRate = 0.05, Lambd = 0.01, Alpha = 0.6, T0 = 1, WeightDecay = 0.02, Maximize = true, BiasWeightDecay = 0)]
public partial class FusedAsgdGroups { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Rprop, LearningRate = 0.01, StepSizeMin = 0.001, StepSizeMax = 0.03, Maximize = true)]
public partial class FusedRpropMaximize
{
    [Layer(37, Activation.Tanh)] public partial Dense First { get; }
    [Layer(21, Activation.ReLU), ParamGroup(LearningRate = 0.005)] public partial Dense Second { get; }
    [Layer(4)] public partial Dense Third { get; }
}

/// <summary>Adam with a parameter run of 75,264 floats: long enough for Step() to split it over the threads (ThreadingTests).</summary>
[Model(Inputs = 784, Seed = 5), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adam, LearningRate = 0.01, WeightDecay = 0.01)]
public partial class ThreadedAdam { [Layer(96, Activation.ReLU)] public partial Dense Hidden { get; } [Layer(10)] public partial Dense Output { get; } }

// TrainStep runs the update of the first layer's weight inside its weight-gradient kernel (TrainStepFusionTests). These first
// layers reach every kind of tile: 40 inputs are whole vectors and then 8 last columns (Vector512: 2 + 8, Vector256: 5,
// Vector128: 10); 256 inputs take the packed strips; ReLU takes the sparse tiles from 16 samples.

[Model(Inputs = 40, Seed = 3), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.9, WeightDecay = 0.01, Nesterov = true)]
public partial class FuseSgdRelu { [Layer(24, Activation.ReLU)] public partial Dense First { get; } [Layer(3)] public partial Dense Second { get; } }

[Model(Inputs = 256, Seed = 4), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adam, LearningRate = 0.01, Amsgrad = true, WeightDecay = 0.02)]
public partial class FuseAdamPacked { [Layer(32, Activation.ReLU)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

/// <summary>The first layer in a group of its own (the third: main, biases, first), with its own learning rate and momentum.</summary>
[Model(Inputs = 40, Seed = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.9, WeightDecay = 0.01, BiasWeightDecay = 0)]
public partial class FuseGroupedFirst
{
    [Layer(24, Activation.Hardtanh), ParamGroup(LearningRate = 0.01, Momentum = 0.5)] public partial Dense First { get; }
    [Layer(3)] public partial Dense Second { get; }
}

[Model(Inputs = 40, Seed = 7), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.RMSprop, LearningRate = 0.01, Momentum = 0.5, Centered = true, WeightDecay = 0.01)]
public partial class FuseRmspropRelu { [Layer(24, Activation.ReLU)] public partial Dense First { get; } [Layer(3)] public partial Dense Second { get; } }

[Model(Inputs = 40, Seed = 8), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Rprop, LearningRate = 0.01, Maximize = true)]
public partial class FuseRpropRelu { [Layer(24, Activation.ReLU)] public partial Dense First { get; } [Layer(3)] public partial Dense Second { get; } }

/// <summary>A first layer without zeros in dz (Tanh): the 4-row dense tiles, and under 16 samples the 1-row tiles that update W.</summary>
[Model(Inputs = 40, Seed = 11), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.9, WeightDecay = 0.01, Nesterov = true)]
public partial class FuseSgdTanh { [Layer(24, Activation.Tanh)] public partial Dense First { get; } [Layer(3)] public partial Dense Second { get; } }

/// <summary>As <see cref="FuseSgdTanh"/> with GELU, 256 inputs (packed strips) and Adam.</summary>
[Model(Inputs = 256, Seed = 12), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adam, LearningRate = 0.01, Amsgrad = true, WeightDecay = 0.02)]
public partial class FuseAdamPackedGelu { [Layer(32, Activation.GELU)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

/// <summary>As <see cref="FuseSgdWide"/> with Tanh: a small batch's 1-row tiles stream dW.</summary>
[Model(Inputs = 512, Seed = 13), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.02, Momentum = 0.9, WeightDecay = 0.001)]
public partial class FuseSgdWideTanh { [Layer(128, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

/// <summary>65,536 first-layer weights in whole vectors: the sparse tiles stream the last chunk's dW to memory (StreamingStores).</summary>
[Model(Inputs = 512, Seed = 10), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.02, Momentum = 0.9, WeightDecay = 0.001)]
public partial class FuseSgdWide { [Layer(128, Activation.ReLU)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 40, Seed = 9), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.ASGD, LearningRate = 0.01, WeightDecay = 0.01, T0 = 2)]
public partial class FuseAsgdRelu { [Layer(24, Activation.ReLU)] public partial Dense First { get; } [Layer(3)] public partial Dense Second { get; } }

/// <summary>
/// Three layers, 65,536 streamed first-layer weights: TrainStep leaves that weight's gradient unstored (DeferredGradientTests),
/// and its dz sits in the scratch buffer that Predict's first layer writes (with two layers Predict would not touch it).
/// </summary>
[Model(Inputs = 512, Seed = 21), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.02, Momentum = 0.9, WeightDecay = 0.001)]
public partial class DeferDeep { [Layer(128, Activation.ReLU)] public partial Dense First { get; } [Layer(32, Activation.Tanh)] public partial Dense Second { get; } [Layer(4)] public partial Dense Third { get; } }
