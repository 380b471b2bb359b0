using System;

namespace DslModels;

/// <summary>
/// A fully connected layer of a generated model (<c>nn.Linear(InFeatures, OutFeatures)</c>
/// followed by <see cref="Activation"/>): <c>y = act(x · Wᵀ + b)</c> with <c>W</c> of shape [out, in].
/// </summary>
public sealed class Dense
{
    /// <summary>Creates the layer handle over parameters the model owns.</summary>
    public Dense(string name, int inFeatures, int outFeatures, Activation activation, Parameter weight, Parameter? bias, double negativeSlope = 0.01)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(weight);
        Name = name;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Activation = activation;
        Weight = weight;
        Bias = bias;
        NegativeSlope = negativeSlope;
    }

    /// <summary>The negative slope of <see cref="Activation.LeakyReLU"/> (unused by other activations).</summary>
    public double NegativeSlope { get; }

    /// <summary>The module name (prefix of the parameter names).</summary>
    public string Name { get; }

    /// <summary><c>in_features</c>.</summary>
    public int InFeatures { get; }

    /// <summary><c>out_features</c>.</summary>
    public int OutFeatures { get; }

    /// <summary>The activation applied after the affine map.</summary>
    public Activation Activation { get; }

    /// <summary><c>weight</c>, shape [out_features, in_features].</summary>
    public Parameter Weight { get; }

    /// <summary><c>bias</c>, shape [out_features], or null when the layer has none.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: Linear(in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias is null ? "False" : "True")}) + {Activation}";
}
