namespace DslModels.Generator.Tests;

internal static class Sources
{
    public const string Fashion = """
        using DslModels;

        namespace Samples;

        [Model(Inputs = 784)]
        [Loss(LossKind.CrossEntropy)]
        [Optimizer(OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.9)]
        public partial class FashionClassifier
        {
            [Layer(128, Activation.ReLU), Init(InitKind.KaimingUniform)] partial Dense Hidden { get; }
            [Layer(10)]                                                  partial Dense Output { get; }
        }
        """;

    public const string Odd = """
        using DslModels;

        [Model(Inputs = 5, Seed = 7)]
        [Loss(LossKind.MSE, Reduction = Reduction.Sum)]
        [Optimizer(OptimizerKind.Sgd, LearningRate = 1e-3, WeightDecay = 0.5, Maximize = true)]
        internal partial class Regressor
        {
            [Layer(33, Activation.Tanh), Init(InitKind.XavierNormal, Gain = 1.6666666666666667), BiasInit(InitKind.Zeros)]
            public partial Dense InputLayer { get; }
            [Layer(3, Activation.LeakyReLU, NegativeSlope = 0.2, Name = "fc2"), Init(InitKind.Normal, Std = 0.02)]
            internal partial Dense Second { get; }
            [Layer(2, Activation.Sigmoid, Bias = false)]
            private partial Dense Head { get; }
        }
        """;
}
