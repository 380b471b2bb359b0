using System;

namespace DslModels;

/// <summary>
/// Marks a <c>partial</c> class as a model. The generator emits its parameters, <c>Forward</c>,
/// <c>Predict</c>, <c>Backward</c>, <c>ZeroGrad</c>, and (with <see cref="LossAttribute"/> and
/// <see cref="OptimizerAttribute"/>) <c>Step</c> and <c>TrainStep</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class ModelAttribute : Attribute
{
    /// <summary>Width of one input sample. Every other shape is inferred from the layers.</summary>
    public int Inputs { get; set; }

    /// <summary>Seed of the parameter initialisation done by the parameterless constructor (as <c>torch.manual_seed(Seed)</c>).</summary>
    public long Seed { get; set; }
}

/// <summary>
/// Declares a fully connected layer (<c>nn.Linear(in, units)</c>) on a <c>partial Dense</c> property;
/// layers run in declaration order, each taking the previous layer's output.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false, AllowMultiple = false)]
public sealed class LayerAttribute : Attribute
{
    /// <param name="units">Output width (<c>out_features</c>).</param>
    /// <param name="activation">Activation applied to the layer's output.</param>
    public LayerAttribute(int units, Activation activation = Activation.Identity)
    {
        Units = units;
        Activation = activation;
    }

    /// <summary>Output width (<c>out_features</c>).</summary>
    public int Units { get; }

    /// <summary>Activation applied to the layer's output.</summary>
    public Activation Activation { get; }

    /// <summary>Whether the layer has a bias (<c>bias=True</c>, the default).</summary>
    public bool Bias { get; set; } = true;

    /// <summary>Negative slope of <see cref="Activation.LeakyReLU"/> (PyTorch default 0.01).</summary>
    public double NegativeSlope { get; set; } = 0.01;

    /// <summary><c>alpha</c> of <see cref="Activation.ELU"/> and <see cref="Activation.CELU"/> (default 1).</summary>
    public double Alpha { get; set; } = 1.0;

    /// <summary><c>beta</c> of <see cref="Activation.Softplus"/> (default 1).</summary>
    public double Beta { get; set; } = 1.0;

    /// <summary><c>threshold</c> of <see cref="Activation.Softplus"/> (default 20).</summary>
    public double Threshold { get; set; } = 20.0;

    /// <summary><c>min_val</c> of <see cref="Activation.Hardtanh"/> (default -1).</summary>
    public double MinValue { get; set; } = -1.0;

    /// <summary><c>max_val</c> of <see cref="Activation.Hardtanh"/> (default 1).</summary>
    public double MaxValue { get; set; } = 1.0;

    /// <summary>The module name used in parameter names (<c>name.weight</c>); defaults to the property name in snake_case.</summary>
    public string? Name { get; set; }
}

/// <summary>
/// The <c>torch.nn.init</c> method for a layer's weight. Options not set take PyTorch's defaults.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false, AllowMultiple = false)]
public class InitAttribute : Attribute
{
    /// <param name="kind">The initialisation method.</param>
    public InitAttribute(InitKind kind) => Kind = kind;

    /// <summary>The initialisation method.</summary>
    public InitKind Kind { get; }

    /// <summary><c>a</c>: the negative slope for kaiming_* (default 0), or the lower bound for uniform_/trunc_normal_.</summary>
    public double A { get; set; } = double.NaN;

    /// <summary><c>b</c>: the upper bound for uniform_ (default 1) and trunc_normal_ (default 2).</summary>
    public double B { get; set; } = double.NaN;

    /// <summary><c>mode</c> of kaiming_*: <c>"fan_in"</c> (default) or <c>"fan_out"</c>.</summary>
    public string Mode { get; set; } = "fan_in";

    /// <summary><c>nonlinearity</c> of kaiming_*: a <c>calculate_gain</c> name (default <c>"leaky_relu"</c>).</summary>
    public string Nonlinearity { get; set; } = "leaky_relu";

    /// <summary><c>gain</c> of xavier_* and orthogonal_ (default 1).</summary>
    public double Gain { get; set; } = 1.0;

    /// <summary><c>mean</c> of normal_ and trunc_normal_ (default 0).</summary>
    public double Mean { get; set; }

    /// <summary><c>std</c> of normal_/trunc_normal_ (default 1) and sparse_ (default 0.01).</summary>
    public double Std { get; set; } = double.NaN;

    /// <summary><c>val</c> of constant_.</summary>
    public double Value { get; set; }

    /// <summary><c>sparsity</c> of sparse_ (required there): the fraction of each column set to zero, in [0, 1).</summary>
    public double Sparsity { get; set; } = double.NaN;

    /// <summary><c>groups</c> of dirac_ (default 1).</summary>
    public int Groups { get; set; } = 1;
}

/// <summary>The <c>torch.nn.init</c> method for a layer's bias (default: PyTorch's default for the layer).</summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false, AllowMultiple = false)]
public sealed class BiasInitAttribute : InitAttribute
{
    /// <param name="kind">The initialisation method.</param>
    public BiasInitAttribute(InitKind kind) : base(kind) { }
}

/// <summary>The loss the model trains with (a <c>torch.nn</c> loss and its options).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class LossAttribute : Attribute
{
    /// <param name="kind">The loss.</param>
    public LossAttribute(LossKind kind) => Kind = kind;

    /// <summary>The loss.</summary>
    public LossKind Kind { get; }

    /// <summary><c>reduction</c>: <see cref="Reduction.Mean"/> (default), <see cref="Reduction.Sum"/>, or <see cref="Reduction.BatchMean"/> for KLDiv.</summary>
    public Reduction Reduction { get; set; } = Reduction.Mean;

    /// <summary><c>ignore_index</c> of CrossEntropyLoss and NLLLoss (default -100).</summary>
    public int IgnoreIndex { get; set; } = -100;

    /// <summary><c>weight</c>: one weight per class (CrossEntropy, NLL, MultiMargin) or per output (BCE, BCEWithLogits, MultiLabelSoftMargin).</summary>
    public double[]? Weight { get; set; }

    /// <summary><c>pos_weight</c> of BCEWithLogitsLoss, one per output.</summary>
    public double[]? PosWeight { get; set; }

    /// <summary><c>label_smoothing</c> of CrossEntropyLoss, in [0, 1] (default 0).</summary>
    public double LabelSmoothing { get; set; }

    /// <summary><c>beta</c> of SmoothL1Loss (default 1, must be &gt;= 0).</summary>
    public double Beta { get; set; } = 1.0;

    /// <summary><c>delta</c> of HuberLoss (default 1, must be &gt; 0).</summary>
    public double Delta { get; set; } = 1.0;

    /// <summary><c>margin</c>: the loss's PyTorch default when not set (MultiMargin, HingeEmbedding, TripletMargin 1; MarginRanking, CosineEmbedding 0).</summary>
    public double Margin { get; set; } = double.NaN;

    /// <summary><c>p</c>: MultiMarginLoss 1 (default) or 2; TripletMarginLoss's norm degree (default 2).</summary>
    public int P { get; set; }

    /// <summary><c>swap</c> of TripletMarginLoss (default false): use the distance swap.</summary>
    public bool Swap { get; set; }

    /// <summary><c>log_input</c> of PoissonNLLLoss (default true).</summary>
    public bool LogInput { get; set; } = true;

    /// <summary><c>full</c> of PoissonNLLLoss (Stirling term) and GaussianNLLLoss (the constant term); default false.</summary>
    public bool Full { get; set; }

    /// <summary><c>eps</c> of PoissonNLLLoss (default 1e-8), GaussianNLLLoss and TripletMarginLoss (default 1e-6).</summary>
    public double Eps { get; set; } = double.NaN;

    /// <summary><c>log_target</c> of KLDivLoss (default false).</summary>
    public bool LogTarget { get; set; }
}

/// <summary>
/// The optimizer the generated <c>Step()</c> applies (a <c>torch.optim</c> optimizer and its options). Options not
/// given take PyTorch's defaults for that optimizer; an option the optimizer does not have is a compile-time error.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class OptimizerAttribute : Attribute
{
    /// <param name="kind">The optimizer.</param>
    public OptimizerAttribute(OptimizerKind kind) => Kind = kind;

    /// <summary>The optimizer.</summary>
    public OptimizerKind Kind { get; }

    /// <summary><c>lr</c> (required by SGD; otherwise the optimizer's default).</summary>
    public double LearningRate { get; set; } = double.NaN;

    /// <summary><c>momentum</c> (SGD, RMSprop; default 0).</summary>
    public double Momentum { get; set; } = double.NaN;

    /// <summary><c>dampening</c> (SGD; default 0).</summary>
    public double Dampening { get; set; } = double.NaN;

    /// <summary><c>weight_decay</c> (default 0; AdamW 0.01).</summary>
    public double WeightDecay { get; set; } = double.NaN;

    /// <summary><c>weight_decay</c> for every bias (a separate parameter group, e.g. 0 for no decay on biases); default: as <see cref="WeightDecay"/>.</summary>
    public double BiasWeightDecay { get; set; } = double.NaN;

    /// <summary><c>nesterov</c> (SGD; default false).</summary>
    public bool Nesterov { get; set; }

    /// <summary><c>maximize</c> (default false).</summary>
    public bool Maximize { get; set; }

    /// <summary><c>betas[0]</c> (Adam family; default 0.9).</summary>
    public double Beta1 { get; set; } = double.NaN;

    /// <summary><c>betas[1]</c> (Adam family; default 0.999).</summary>
    public double Beta2 { get; set; } = double.NaN;

    /// <summary><c>eps</c> (the optimizer's default).</summary>
    public double Eps { get; set; } = double.NaN;

    /// <summary><c>amsgrad</c> (Adam, AdamW; default false).</summary>
    public bool Amsgrad { get; set; }

    /// <summary><c>lr_decay</c> (Adagrad; default 0).</summary>
    public double LrDecay { get; set; } = double.NaN;

    /// <summary><c>initial_accumulator_value</c> (Adagrad; default 0).</summary>
    public double InitialAccumulatorValue { get; set; } = double.NaN;

    /// <summary><c>alpha</c> (RMSprop default 0.99; ASGD default 0.75).</summary>
    public double Alpha { get; set; } = double.NaN;

    /// <summary><c>centered</c> (RMSprop; default false).</summary>
    public bool Centered { get; set; }

    /// <summary><c>rho</c> (Adadelta; default 0.9).</summary>
    public double Rho { get; set; } = double.NaN;

    /// <summary><c>lambd</c> (ASGD; default 1e-4).</summary>
    public double Lambd { get; set; } = double.NaN;

    /// <summary><c>t0</c> (ASGD; default 1e6).</summary>
    public double T0 { get; set; } = double.NaN;

    /// <summary><c>etas[0]</c> (Rprop; default 0.5).</summary>
    public double EtaMinus { get; set; } = double.NaN;

    /// <summary><c>etas[1]</c> (Rprop; default 1.2).</summary>
    public double EtaPlus { get; set; } = double.NaN;

    /// <summary><c>step_sizes[0]</c> (Rprop; default 1e-6).</summary>
    public double StepSizeMin { get; set; } = double.NaN;

    /// <summary><c>step_sizes[1]</c> (Rprop; default 50).</summary>
    public double StepSizeMax { get; set; } = double.NaN;

    /// <summary><c>momentum_decay</c> (NAdam; default 4e-3).</summary>
    public double MomentumDecay { get; set; } = double.NaN;

    /// <summary><c>max_iter</c> (LBFGS; default 20): iterations per <c>step</c>.</summary>
    public int MaxIter { get; set; }

    /// <summary><c>max_eval</c> (LBFGS; default <c>max_iter * 5 / 4</c>): function evaluations per <c>step</c>.</summary>
    public int MaxEval { get; set; }

    /// <summary><c>tolerance_grad</c> (LBFGS; default 1e-7).</summary>
    public double ToleranceGrad { get; set; } = double.NaN;

    /// <summary><c>tolerance_change</c> (LBFGS; default 1e-9).</summary>
    public double ToleranceChange { get; set; } = double.NaN;

    /// <summary><c>history_size</c> (LBFGS; default 100).</summary>
    public int HistorySize { get; set; }

    /// <summary><c>line_search_fn</c> (LBFGS; default none): <c>"strong_wolfe"</c> or null.</summary>
    public string? LineSearchFn { get; set; }
}

/// <summary>
/// Puts a layer's parameters in their own optimizer parameter group with these options (PyTorch:
/// <c>optim.SGD([{'params': other}, {'params': layer.parameters(), 'lr': 1e-4}], ...)</c>). Options not set are
/// the optimizer's.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false, AllowMultiple = false)]
public sealed class ParamGroupAttribute : Attribute
{
    /// <summary>The group's <c>lr</c>.</summary>
    public double LearningRate { get; set; } = double.NaN;

    /// <summary>The group's <c>weight_decay</c>.</summary>
    public double WeightDecay { get; set; } = double.NaN;

    /// <summary>The group's <c>momentum</c> (SGD, RMSprop).</summary>
    public double Momentum { get; set; } = double.NaN;
}
