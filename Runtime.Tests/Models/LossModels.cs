using DslModels;

namespace DslModels.Tests.Models;

// Linear(6, 5) + Tanh, Linear(5, 4) (+ final activation), SGD(lr = 0.1): one model per loss; their PyTorch
// twins are in tools/make_loss_fixtures.py.

[Model(Inputs = 6), Loss(LossKind.L1), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossL1 { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.SmoothL1, Beta = 0.5, Reduction = Reduction.Sum), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossSmoothL1 { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.Huber, Delta = 0.7), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossHuber { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.NLL, Weight = new[] { 1.0, 2.0, 0.5, 1.5 }, IgnoreIndex = 2), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossNll { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4, Activation.LogSoftmax)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CrossEntropy, Weight = new[] { 1.0, 2.0, 0.5, 1.5 }, LabelSmoothing = 0.1), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossCeSmooth { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.BCE, Weight = new[] { 1.0, 2.0, 0.5, 1.5 }), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossBce { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4, Activation.Sigmoid)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.BCEWithLogits, Weight = new[] { 1.0, 2.0, 0.5, 1.5 }, PosWeight = new[] { 2.0, 0.5, 1.0, 3.0 }), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossBceLogits { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.KLDiv, Reduction = Reduction.BatchMean), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossKl { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4, Activation.LogSoftmax)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.PoissonNLL, Full = true), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossPoisson { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.SoftMargin), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossSoftMargin { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.MultiLabelSoftMargin, Weight = new[] { 1.0, 2.0, 0.5, 1.5 }), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossMlsm { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.MultiMargin, P = 2, Margin = 0.5, Weight = new[] { 1.0, 2.0, 0.5, 1.5 }), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossMultiMargin { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.MultiLabelMargin), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossMlm { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.HingeEmbedding, Margin = 1.5), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossHinge { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.MSE), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class SoftmaxMse { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4, Activation.Softmax)] public partial Dense Second { get; } }

// Siamese models: one network, two or three inputs per sample (PyTorch twins in tools/make_loss_fixtures.py).

[Model(Inputs = 6), Loss(LossKind.MarginRanking, Margin = 0.2), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class PairRanking { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(1)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.CosineEmbedding, Margin = 0.1), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class PairCosine { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.TripletMargin, Margin = 0.5, P = 2, Swap = true), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class TripletNet { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.TripletMarginWithDistance, Margin = 0.7), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class TripletDistanceNet { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }

[Model(Inputs = 6), Loss(LossKind.GaussianNLL, Full = true), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)]
public partial class LossGaussian { [Layer(5, Activation.Tanh)] public partial Dense First { get; } [Layer(4)] public partial Dense Second { get; } }
