using DslModels;

namespace DslModels.Tests.Models;

/// <summary>The sample's model: 784-128-10, ReLU, cross-entropy, SGD with momentum.</summary>
[Model(Inputs = 784, Seed = 0)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.9)]
public partial class FashionMlp
{
    [Layer(128, Activation.ReLU), Init(InitKind.KaimingUniform)] public partial Dense Hidden { get; }
    [Layer(10)] public partial Dense Output { get; }
}

/// <summary>A small model with odd widths (remainders everywhere) and every activation.</summary>
[Model(Inputs = 19, Seed = 3)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0.9, WeightDecay = 0.01, Nesterov = true)]
public partial class OddMlp
{
    [Layer(37, Activation.Tanh)] public partial Dense First { get; }
    [Layer(21, Activation.ReLU)] public partial Dense Second { get; }
    [Layer(13, Activation.Sigmoid), Init(InitKind.XavierUniform, Gain = 1.0)] public partial Dense Third { get; }
    [Layer(9, Activation.LeakyReLU, NegativeSlope = 0.1), Init(InitKind.KaimingNormal, A = 0.1, Nonlinearity = "leaky_relu")] public partial Dense Fourth { get; }
    [Layer(5, Bias = false)] public partial Dense Logits { get; }
}

/// <summary>Regression with MSE and plain SGD (with dampening and maximize off).</summary>
[Model(Inputs = 3)]
[Loss(LossKind.MSE, Reduction = Reduction.Sum)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.5, Dampening = 0.25)]
public partial class TinyRegressor
{
    [Layer(2)] internal partial Dense Out { get; }
}

/// <summary>A model without loss or optimizer: inference and Backward only.</summary>
[Model(Inputs = 4)]
#pragma warning disable DSL0015
public partial class InferenceOnly
#pragma warning restore DSL0015
{
    [Layer(3, Activation.ReLU)] public partial Dense A { get; }
    [Layer(2)] public partial Dense B { get; }
}

/// <summary>Every init kind a Linear layer can take beyond its default, for comparison with PyTorch.</summary>
[Model(Inputs = 6, Seed = 21)]
public partial class InitZoo
{
    [Layer(8, Activation.ReLU), Init(InitKind.TruncNormal, Std = 0.5, A = -0.6, B = 0.9), BiasInit(InitKind.Constant, Value = 0.1)] public partial Dense A { get; }
    [Layer(8, Activation.Tanh), Init(InitKind.Eye), BiasInit(InitKind.Normal, Std = 0.2)] public partial Dense B { get; }
    [Layer(5), Init(InitKind.Orthogonal, Gain = 2.0)] public partial Dense C { get; }
    [Layer(4, Activation.Sigmoid), Init(InitKind.Sparse, Sparsity = 0.4, Std = 0.3), BiasInit(InitKind.Uniform, A = -0.5, B = 0.5)] public partial Dense D { get; }
}

/// <summary>GELU, SiLU, Mish, ELU(0.5), Hardswish (PyTorch twin in tools/make_model_fixtures.py).</summary>
[Model(Inputs = 6, Seed = 5), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0.9)]
public partial class ActZoo1
{
    [Layer(8, Activation.GELU, Name = "l0")] public partial Dense A { get; }
    [Layer(8, Activation.SiLU, Name = "l1")] public partial Dense B { get; }
    [Layer(8, Activation.Mish, Name = "l2")] public partial Dense C { get; }
    [Layer(8, Activation.ELU, Alpha = 0.5, Name = "l3")] public partial Dense D { get; }
    [Layer(8, Activation.Hardswish, Name = "l4")] public partial Dense E { get; }
    [Layer(4, Name = "l5")] public partial Dense F { get; }
}

/// <summary>SELU, CELU(0.7), Softplus(2, 5), Hardtanh(-0.5, 0.7), GELU(tanh).</summary>
[Model(Inputs = 6, Seed = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0.9)]
public partial class ActZoo2
{
    [Layer(8, Activation.SELU, Name = "l0")] public partial Dense A { get; }
    [Layer(8, Activation.CELU, Alpha = 0.7, Name = "l1")] public partial Dense B { get; }
    [Layer(8, Activation.Softplus, Beta = 2.0, Threshold = 5.0, Name = "l2")] public partial Dense C { get; }
    [Layer(8, Activation.Hardtanh, MinValue = -0.5, MaxValue = 0.7, Name = "l3")] public partial Dense D { get; }
    [Layer(8, Activation.GELUTanh, Name = "l4")] public partial Dense E { get; }
    [Layer(4, Name = "l5")] public partial Dense F { get; }
}

/// <summary>
/// Three wide hidden layers, so that with threads every layer's training forward and backward splits by output rows (widths not
/// multiples of 16, so row and column ranges end in remainders), a kept pre-activation (ELU) and the next layer's input gradient
/// computed by columns inside the row split.
/// </summary>
[Model(Inputs = 200, Seed = 11), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adam, LearningRate = 0.01)]
public partial class WideDeep
{
    [Layer(100, Activation.ELU)] public partial Dense A { get; }
    [Layer(75, Activation.Tanh)] public partial Dense B { get; }
    [Layer(45, Activation.LeakyReLU, NegativeSlope = 0.2)] public partial Dense C { get; }
    [Layer(7)] public partial Dense Logits { get; }
}

/// <summary>A narrow first layer (split by samples) under a wide one (split by rows): the input gradient between them splits by samples.</summary>
[Model(Inputs = 300, Seed = 12), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.9, Nesterov = true)]
public partial class NarrowWide
{
    [Layer(16, Activation.ReLU)] public partial Dense Narrow { get; }
    [Layer(80, Activation.Tanh)] public partial Dense Wide { get; }
    [Layer(5)] public partial Dense Logits { get; }
}

/// <summary>
/// Inputs 256 and 512 wide: rows of x a multiple of 1 KB apart, so both weight gradients copy each chunk's strip of x into a
/// contiguous buffer first (7 outputs: one 4-output tile and three single outputs read it too).
/// </summary>
[Model(Inputs = 256, Seed = 13), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.9)]
public partial class PackedStrips
{
    [Layer(512, Activation.ReLU)] public partial Dense A { get; }
    [Layer(7)] public partial Dense B { get; }
}

/// <summary>
/// One ReLU layer whose weight gradient skips the zeros of dz: 200 inputs (AVX-512: a 10-vector and a 2-vector strip, then 8
/// scalar columns; AVX2: 80-float strips and a 40-float one) and 40 outputs (two 16-row mask blocks and 8 scalar rows).
/// </summary>
[Model(Inputs = 200, Seed = 5)]
#pragma warning disable DSL0015
public partial class SparseRelu
#pragma warning restore DSL0015
{
    [Layer(40, Activation.ReLU)] public partial Dense A { get; }
}

/// <summary>One Hardtanh layer (flat on both sides): its weight gradient skips the zeros of dz too.</summary>
[Model(Inputs = 40, Seed = 6)]
#pragma warning disable DSL0015
public partial class SparseHardtanh
#pragma warning restore DSL0015
{
    [Layer(36, Activation.Hardtanh, MinValue = -0.2, MaxValue = 0.3)] public partial Dense A { get; }
}

/// <summary>Hardswish and Hardtanh layers wide enough for the sparse weight gradient, under a softmax classifier.</summary>
[Model(Inputs = 30, Seed = 7), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.05)]
public partial class FlatRegions
{
    [Layer(48, Activation.Hardswish)] public partial Dense A { get; }
    [Layer(40, Activation.Hardtanh, MinValue = -0.5, MaxValue = 0.5)] public partial Dense B { get; }
    [Layer(5)] public partial Dense C { get; }
}

/// <summary>
/// With threads, thread 0 pulls the helpers' columns of a row-split layer that no row-split layer follows (GELU keeps its
/// pre-activation, so both are pulled, and the helpers' backward reads theirs from their private buffers): layer 0 here,
/// from batch 82 (200 x 64 multiply-adds a sample).
/// </summary>
[Model(Inputs = 200, Seed = 15), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.9)]
public partial class PulledGelu
{
    [Layer(64, Activation.GELU)] public partial Dense A { get; }
    [Layer(5)] public partial Dense Logits { get; }
}

/// <summary>
/// A row-split ReLU layer whose columns each thread pushes (a row-split layer follows it), then a row-split SELU layer whose
/// columns and pre-activations thread 0 pulls (from batch 171: 96 x 64 multiply-adds a sample).
/// </summary>
[Model(Inputs = 160, Seed = 16), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adam, LearningRate = 0.01)]
public partial class PushThenPull
{
    [Layer(96, Activation.ReLU)] public partial Dense A { get; }
    [Layer(64, Activation.SELU)] public partial Dense B { get; }
    [Layer(6)] public partial Dense Logits { get; }
}

/// <summary>
/// A regressor whose every layer splits by output rows with threads (from batch 342): a GELU layer (its pre-activation kept
/// for the backward) and a wide identity output layer, whose dz is the loss gradient itself.
/// </summary>
[Model(Inputs = 200, Seed = 14), Loss(LossKind.MSE), Optimizer(OptimizerKind.Adam, LearningRate = 0.01)]
public partial class WideRegressor
{
    [Layer(64, Activation.GELU)] public partial Dense A { get; }
    [Layer(48)] public partial Dense B { get; }
}
