using System.Diagnostics;
using DslModels.Generator.Helpers;

namespace DslModels.Generator.Model;

// Every spec here is an immutable record with structural equality and holds only strings, numbers,
// enums and EquatableArrays: never an ISymbol, SyntaxNode, Location or Compilation. The incremental
// pipeline compares specs to decide whether to re-emit; a reference-typed member would break caching
// (and keep old compilations alive). A test walks these types to enforce it.

/// <summary>One [Model] class: everything the emitter needs.</summary>
[DebuggerDisplay("{ClassName}: {Layers.Count} layers")]
internal sealed record ModelSpec(
    string Namespace,
    string ClassName,
    string HintName,
    int Inputs,
    long Seed,
    EquatableArray<LayerSpec> Layers,
    LossSpec? Loss,
    OptimizerSpec? Optimizer)
{
    public int Outputs => Layers[Layers.Count - 1].Out;

    /// <summary>
    /// The smallest first-layer weight (in floats) whose optimizer update TrainStep runs inside the weight gradient, from the
    /// DslModelsFusedStepMinWeights MSBuild property; null (not set) for the default: <see cref="DefaultFusedStepMinWeights"/>,
    /// at every batch with SGD and at batches of at most 4 with the other optimizers. Not from the declaration.
    /// </summary>
    public int? FusedStepMinWeights { get; init; }

    /// <summary>
    /// 65,536 floats (256 KB): from there W, its gradient and the momentum no longer fit in L2 together, and updating W while
    /// its gradient is in registers saves a pass over them (784 -> 128, batch 32: ~77 -> ~73 us). Below, the separate pass
    /// runs from cache and the fused one only adds work (32 -> 64: 9.4 -> 10.2 us). The other optimizers' updates divide and
    /// take square roots; fused into the weight gradient's tiles they measured slower (Adam, 784 -> 512, batch 128: 2.13 -> 2.32 ms),
    /// so by default they fuse only in the twin for batches of at most 4, where the pass saved is the gain.
    /// </summary>
    public const int DefaultFusedStepMinWeights = 1 << 16;
}

/// <summary>One [Layer] property: a Linear layer and its activation.</summary>
[DebuggerDisplay("{Name}: {In} -> {Out} {Activation}")]
internal sealed record LayerSpec(
    string PropertyName,
    string PropertyModifiers,
    string Name,
    int In,
    int Out,
    Activation Activation,
    double NegativeSlope,
    ActivationOptions Options,
    bool HasBias,
    InitSpec WeightInit,
    InitSpec BiasInit,
    GroupSpec? Group)
{
    /// <summary>Activations whose derivative needs the pre-activation (not recoverable from the output).</summary>
    public bool KeepsPreActivation => Activation >= Activation.ELU;
}

/// <summary>The parameters of ELU/CELU (Alpha), Softplus (Beta, Threshold) and Hardtanh (MinValue, MaxValue).</summary>
internal sealed record ActivationOptions(double Alpha, double Beta, double Threshold, double MinValue, double MaxValue)
{
    public static readonly ActivationOptions Default = new(1.0, 1.0, 20.0, -1.0, 1.0);
}

/// <summary>A torch.nn.init call with its options as written (NaN or "" = not given: PyTorch's default for the method).</summary>
internal sealed record InitSpec(
    InitKind Kind,
    double A,
    double B,
    string Mode,
    string Nonlinearity,
    double Gain,
    double Mean,
    double Std,
    double Value,
    double Sparsity,
    int Groups)
{
    public static readonly InitSpec Default = new(InitKind.Default, double.NaN, double.NaN, "", "", double.NaN, 0.0, double.NaN, 0.0, double.NaN, 1);

    /// <summary><c>mode</c> with PyTorch's default.</summary>
    public string ModeOrDefault => Mode.Length == 0 ? "fan_in" : Mode;

    /// <summary><c>nonlinearity</c> with PyTorch's default.</summary>
    public string NonlinearityOrDefault => Nonlinearity.Length == 0 ? "leaky_relu" : Nonlinearity;
}

/// <summary>The [Loss] of the model and its options (PyTorch's defaults where not given).</summary>
internal sealed record LossSpec(
    LossKind Kind,
    Reduction Reduction,
    int IgnoreIndex,
    EquatableArray<double> Weight,
    EquatableArray<double> PosWeight,
    double LabelSmoothing,
    double Beta,
    double Delta,
    double Margin,
    int P,
    bool LogInput,
    bool Full,
    double Eps,
    bool LogTarget,
    bool Swap)
{
    /// <summary>How many inputs one sample of the loss needs: 1, or 2 (pairs) / 3 (triplets) run through the model as one stacked batch.</summary>
    public int Inputs => Kind switch
    {
        LossKind.MarginRanking or LossKind.CosineEmbedding => 2,
        LossKind.TripletMargin or LossKind.TripletMarginWithDistance => 3,
        _ => 1,
    };

    /// <summary>margin with the loss's PyTorch default.</summary>
    public double MarginOrDefault => !double.IsNaN(Margin) ? Margin : Kind is LossKind.MarginRanking or LossKind.CosineEmbedding ? 0.0 : 1.0;

    /// <summary>p with the loss's PyTorch default.</summary>
    public int POrDefault => P != 0 ? P : Kind is LossKind.TripletMargin or LossKind.TripletMarginWithDistance ? 2 : 1;

    /// <summary>eps with the loss's PyTorch default.</summary>
    public double EpsOrDefault => !double.IsNaN(Eps) ? Eps : Kind == LossKind.PoissonNLL ? 1e-8 : 1e-6;

    /// <summary>What the generated TrainStep takes as targets.</summary>
    public TargetKind Target => Kind switch
    {
        LossKind.CrossEntropy or LossKind.NLL or LossKind.MultiMargin => TargetKind.ClassIndex,
        LossKind.MultiLabelMargin => TargetKind.LabelList,
        LossKind.MarginRanking or LossKind.CosineEmbedding => TargetKind.PerSample,
        LossKind.TripletMargin or LossKind.TripletMarginWithDistance => TargetKind.None,
        _ => TargetKind.Dense,
    };
}

/// <summary>The shape of a loss's targets.</summary>
internal enum TargetKind
{
    /// <summary>One class index per sample: int [batch].</summary>
    ClassIndex,
    /// <summary>Label indices per sample padded with -1: int [batch, outputs].</summary>
    LabelList,
    /// <summary>One float per output: float [batch, outputs].</summary>
    Dense,
    /// <summary>One float per sample (±1): float [batch].</summary>
    PerSample,
    /// <summary>No targets (triplets).</summary>
    None,
}

/// <summary>The [Optimizer] of the model: every option as written (NaN = the optimizer's PyTorch default).</summary>
internal sealed record OptimizerSpec(
    OptimizerKind Kind,
    double LearningRate,
    double Momentum,
    double Dampening,
    double WeightDecay,
    double BiasWeightDecay,
    bool Nesterov,
    bool Maximize,
    double Beta1,
    double Beta2,
    double Eps,
    bool Amsgrad,
    double LrDecay,
    double InitialAccumulatorValue,
    double Alpha,
    bool Centered,
    double Rho,
    double Lambd,
    double T0,
    double EtaMinus,
    double EtaPlus,
    double StepSizeMin,
    double StepSizeMax,
    double MomentumDecay,
    int MaxIter,
    int MaxEval,
    double ToleranceGrad,
    double ToleranceChange,
    int HistorySize,
    string? LineSearchFn);

/// <summary>A layer's own optimizer parameter group ([ParamGroup]); NaN = the optimizer's value.</summary>
internal sealed record GroupSpec(double LearningRate, double WeightDecay, double Momentum);
