// This file is compiled into the runtime and linked into the generator, so both read the same values.
namespace DslModels;

/// <summary>Element-wise activation applied after a layer (PyTorch's <c>torch.nn</c> activation modules).</summary>
public enum Activation
{
    /// <summary>No activation (<c>nn.Identity</c>).</summary>
    Identity = 0,
    /// <summary><c>nn.ReLU</c>: max(0, x).</summary>
    ReLU = 1,
    /// <summary><c>nn.LeakyReLU(negative_slope)</c>: x if x &gt; 0 else negative_slope * x (default slope 0.01).</summary>
    LeakyReLU = 2,
    /// <summary><c>nn.Tanh</c>.</summary>
    Tanh = 3,
    /// <summary><c>nn.Sigmoid</c>: 1 / (1 + exp(-x)).</summary>
    Sigmoid = 4,
    /// <summary><c>nn.Softmax(dim=1)</c> over each sample's outputs (last layer only).</summary>
    Softmax = 5,
    /// <summary><c>nn.LogSoftmax(dim=1)</c> over each sample's outputs (last layer only).</summary>
    LogSoftmax = 6,
    /// <summary><c>nn.ELU(alpha)</c>: x if x &gt; 0 else alpha·(exp(x) - 1) (alpha default 1).</summary>
    ELU = 7,
    /// <summary><c>nn.SELU</c>: scale·(x if x &gt; 0 else alpha·(exp(x) - 1)) with PyTorch's constants.</summary>
    SELU = 8,
    /// <summary><c>nn.CELU(alpha)</c>: max(0, x) + min(0, alpha·(exp(x/alpha) - 1)) (alpha default 1).</summary>
    CELU = 9,
    /// <summary><c>nn.GELU()</c>: x·Φ(x) with the exact normal CDF.</summary>
    GELU = 10,
    /// <summary><c>nn.GELU(approximate='tanh')</c>.</summary>
    GELUTanh = 11,
    /// <summary><c>nn.Softplus(beta, threshold)</c>: log(1 + exp(beta·x))/beta, linear above the threshold (defaults 1, 20).</summary>
    Softplus = 12,
    /// <summary><c>nn.SiLU</c> (swish): x·sigmoid(x).</summary>
    SiLU = 13,
    /// <summary><c>nn.Mish</c>: x·tanh(softplus(x)).</summary>
    Mish = 14,
    /// <summary><c>nn.Hardtanh(min_val, max_val)</c>: clamp(x, min, max) (defaults -1, 1).</summary>
    Hardtanh = 15,
    /// <summary><c>nn.Hardswish</c>: x·relu6(x + 3)/6.</summary>
    Hardswish = 16,
}

/// <summary>The <c>torch.nn.init</c> method used for a parameter.</summary>
public enum InitKind
{
    /// <summary>PyTorch's default for the layer type (for <c>nn.Linear</c>: kaiming_uniform_ with a = sqrt(5); bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))).</summary>
    Default = 0,
    /// <summary><c>uniform_(a, b)</c>.</summary>
    Uniform,
    /// <summary><c>normal_(mean, std)</c>.</summary>
    Normal,
    /// <summary><c>trunc_normal_(mean, std, a, b)</c>.</summary>
    TruncNormal,
    /// <summary><c>constant_(val)</c>.</summary>
    Constant,
    /// <summary><c>ones_</c>.</summary>
    Ones,
    /// <summary><c>zeros_</c>.</summary>
    Zeros,
    /// <summary><c>eye_</c>.</summary>
    Eye,
    /// <summary><c>dirac_(groups)</c>.</summary>
    Dirac,
    /// <summary><c>xavier_uniform_(gain)</c>.</summary>
    XavierUniform,
    /// <summary><c>xavier_normal_(gain)</c>.</summary>
    XavierNormal,
    /// <summary><c>kaiming_uniform_(a, mode, nonlinearity)</c>.</summary>
    KaimingUniform,
    /// <summary><c>kaiming_normal_(a, mode, nonlinearity)</c>.</summary>
    KaimingNormal,
    /// <summary><c>orthogonal_(gain)</c>.</summary>
    Orthogonal,
    /// <summary><c>sparse_(sparsity, std)</c>.</summary>
    Sparse,
}

/// <summary>How a loss reduces its per-element values (PyTorch's <c>reduction=</c>).</summary>
public enum Reduction
{
    /// <summary><c>'mean'</c> (PyTorch's default).</summary>
    Mean = 0,
    /// <summary><c>'sum'</c>.</summary>
    Sum = 1,
    /// <summary><c>'none'</c>: one value per element or sample.</summary>
    None = 2,
    /// <summary><c>'batchmean'</c>: the sum divided by the batch size (KLDivLoss only).</summary>
    BatchMean = 3,
}

/// <summary>
/// The <c>torch.nn</c> loss a model trains with (the class name without "Loss"). The target the generated
/// <c>TrainStep</c> takes depends on the loss: class indices [batch] (CrossEntropy, NLL, MultiMargin), label lists
/// [batch, outputs] padded with -1 (MultiLabelMargin), or floats [batch, outputs] (the others).
/// </summary>
public enum LossKind
{
    /// <summary><c>nn.CrossEntropyLoss</c> on logits with class-index targets (weight, ignore_index, label_smoothing).</summary>
    CrossEntropy = 0,
    /// <summary><c>nn.MSELoss</c>.</summary>
    MSE = 1,
    /// <summary><c>nn.L1Loss</c>.</summary>
    L1 = 2,
    /// <summary><c>nn.SmoothL1Loss(beta)</c>.</summary>
    SmoothL1 = 3,
    /// <summary><c>nn.HuberLoss(delta)</c>.</summary>
    Huber = 4,
    /// <summary><c>nn.NLLLoss</c> on log-probabilities (end the model with LogSoftmax) with class-index targets.</summary>
    NLL = 5,
    /// <summary><c>nn.BCELoss</c> on probabilities (end the model with Sigmoid); weight per output.</summary>
    BCE = 6,
    /// <summary><c>nn.BCEWithLogitsLoss</c> on logits; weight and pos_weight per output.</summary>
    BCEWithLogits = 7,
    /// <summary><c>nn.KLDivLoss</c> on log-probabilities (log_target; reduction batchmean is PyTorch's recommended one).</summary>
    KLDiv = 8,
    /// <summary><c>nn.PoissonNLLLoss(log_input, full, eps)</c>.</summary>
    PoissonNLL = 9,
    /// <summary><c>nn.SoftMarginLoss</c> with targets ±1.</summary>
    SoftMargin = 10,
    /// <summary><c>nn.MultiLabelSoftMarginLoss</c> with multi-hot targets; weight per output.</summary>
    MultiLabelSoftMargin = 11,
    /// <summary><c>nn.MultiMarginLoss(p, margin, weight)</c> with class-index targets.</summary>
    MultiMargin = 12,
    /// <summary><c>nn.MultiLabelMarginLoss</c> with label lists padded with -1.</summary>
    MultiLabelMargin = 13,
    /// <summary><c>nn.HingeEmbeddingLoss(margin)</c> on distances with targets ±1.</summary>
    HingeEmbedding = 14,
    /// <summary><c>nn.GaussianNLLLoss(full, eps)</c>: TrainStep takes targets [batch, outputs] and variances [batch, outputs] or [batch].</summary>
    GaussianNLL = 15,
    /// <summary><c>nn.MarginRankingLoss(margin)</c>: siamese TrainStep(input1, input2, targets ±1, batch).</summary>
    MarginRanking = 16,
    /// <summary><c>nn.CosineEmbeddingLoss(margin)</c>: siamese TrainStep(input1, input2, targets ±1, batch).</summary>
    CosineEmbedding = 17,
    /// <summary><c>nn.TripletMarginLoss(margin, p, eps, swap)</c>: TrainStep(anchor, positive, negative, batch).</summary>
    TripletMargin = 18,
    /// <summary><c>nn.TripletMarginWithDistanceLoss(margin, swap)</c> with the default pairwise distance: TrainStep(anchor, positive, negative, batch).</summary>
    TripletMarginWithDistance = 19,
    /// <summary><c>nn.CTCLoss</c>: runtime API only (needs sequence outputs).</summary>
    CTC = 20,
}

/// <summary>The <c>torch.optim</c> optimizer a model trains with (PyTorch's class names).</summary>
public enum OptimizerKind
{
    /// <summary><c>torch.optim.SGD</c> (momentum, dampening, nesterov, weight_decay, maximize).</summary>
    Sgd = 0,
    /// <summary><c>torch.optim.Adam</c> (betas, eps, weight_decay, amsgrad, maximize).</summary>
    Adam = 1,
    /// <summary><c>torch.optim.AdamW</c> (decoupled weight decay, default 0.01).</summary>
    AdamW = 2,
    /// <summary><c>torch.optim.Adagrad</c> (lr_decay, initial_accumulator_value, eps).</summary>
    Adagrad = 3,
    /// <summary><c>torch.optim.RMSprop</c> (alpha, eps, momentum, centered).</summary>
    RMSprop = 4,
    /// <summary><c>torch.optim.Adadelta</c> (rho, eps).</summary>
    Adadelta = 5,
    /// <summary><c>torch.optim.Adamax</c> (betas, eps).</summary>
    Adamax = 6,
    /// <summary><c>torch.optim.SparseAdam</c>: runtime only (needs sparse gradients).</summary>
    SparseAdam = 7,
    /// <summary><c>torch.optim.ASGD</c> (lambd, alpha, t0).</summary>
    ASGD = 8,
    /// <summary><c>torch.optim.Rprop</c> (etas, step_sizes).</summary>
    Rprop = 9,
    /// <summary><c>torch.optim.NAdam</c> (betas, eps, momentum_decay; PyTorch 2.x's corrected momentum product).</summary>
    NAdam = 10,
    /// <summary><c>torch.optim.RAdam</c> (betas, eps).</summary>
    RAdam = 11,
    /// <summary><c>torch.optim.LBFGS</c>: runtime only (its step needs a closure).</summary>
    LBFGS = 12,
}
