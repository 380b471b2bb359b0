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
}

/// <summary>The <c>torch.nn</c> loss a model trains with.</summary>
public enum LossKind
{
    /// <summary><c>nn.CrossEntropyLoss</c> on logits with class-index targets.</summary>
    CrossEntropy = 0,
    /// <summary><c>nn.MSELoss</c> with float targets shaped like the output.</summary>
    MSE = 1,
}

/// <summary>The <c>torch.optim</c> optimizer a model trains with.</summary>
public enum OptimizerKind
{
    /// <summary><c>torch.optim.SGD</c> (momentum, dampening, nesterov, weight_decay, maximize).</summary>
    Sgd = 0,
}
