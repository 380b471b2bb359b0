using DslModels;

namespace DslModels.Tests.Models;

// LBFGS driving generated models; PyTorch twins in tools/make_lbfgs_fixtures.py.

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.LBFGS, LearningRate = 0.5, MaxIter = 5, HistorySize = 4)]
public partial class LbfgsPlain { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.LBFGS, MaxIter = 6, LineSearchFn = "strong_wolfe")]
public partial class LbfgsWolfe { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

/// <summary>A loss with an extra input (the variances), which TrainStep must keep for the closure too.</summary>
[Model(Inputs = 3), Loss(LossKind.GaussianNLL), Optimizer(OptimizerKind.LBFGS, LearningRate = 0.2, MaxIter = 4)]
public partial class LbfgsGaussian { [Layer(6, Activation.Tanh)] public partial Dense Hidden { get; } [Layer(2)] public partial Dense Mean { get; } }

/// <summary>Wide enough (200 x 100 at batch 64+) for its first layer to run threaded, row by row.</summary>
[Model(Inputs = 200, Seed = 5), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.LBFGS, LearningRate = 0.5, MaxIter = 3)]
public partial class LbfgsWide { [Layer(100, Activation.ReLU)] public partial Dense Hidden { get; } [Layer(7)] public partial Dense Logits { get; } }
