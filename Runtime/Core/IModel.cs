using System;
using System.Collections.Generic;

namespace DslModels;

/// <summary>What every generated model offers, for code that handles models generically.</summary>
public interface IModel : IDisposable
{
    /// <summary>Width of one input sample.</summary>
    int InputWidth { get; }

    /// <summary>Width of one output sample.</summary>
    int OutputWidth { get; }

    /// <summary>The parameters in <c>state_dict</c> order.</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Training forward pass: computes <paramref name="output"/> and keeps the activations <c>Backward</c> needs.</summary>
    void Forward(ReadOnlySpan<float> input, Span<float> output, int batch);

    /// <summary>Inference: computes <paramref name="output"/> without keeping activations.</summary>
    void Predict(ReadOnlySpan<float> input, Span<float> output, int batch);

    /// <summary>Accumulates the parameter gradients for the upstream gradient of the last <c>Forward</c>'s output.</summary>
    void Backward(ReadOnlySpan<float> gradOutput, int batch);

    /// <summary>Sets every gradient to zero (<c>zero_grad(set_to_none=False)</c>).</summary>
    void ZeroGrad();

    /// <summary>Re-draws every parameter as the constructor did, from <paramref name="seed"/>.</summary>
    void ResetParameters(long seed);
}
