using System;
using System.Collections.Generic;

namespace DslModels.Optim;

/// <summary>
/// <c>torch.optim.SGD</c>, the reference implementation over <see cref="Parameter"/>s (one group).
/// Per element, as PyTorch 1.13's single-tensor path, in float32:
/// <code>
/// d = maximize ? -g : g
/// if weight_decay != 0: d = d + weight_decay·θ
/// if momentum != 0:
///     buf = first step ? d : momentum·buf + (1 - dampening)·d
///     d = nesterov ? d + momentum·buf : buf
/// θ = θ - lr·d
/// </code>
/// A generated model's <c>Step()</c> performs the same operations in the same order, so the two agree bit for bit.
/// </summary>
public sealed class Sgd : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly AlignedBuffer?[] _momentumBuffers;

    /// <summary>Creates the optimizer over <paramref name="parameters"/>.</summary>
    public Sgd(IEnumerable<Parameter> parameters, SgdOptions options)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(options);
        _parameters = [.. parameters];
        if (_parameters.Length == 0)
            throw new ArgumentException("optimizer got an empty parameter list", nameof(parameters));
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var p in _parameters)
            if (!seen.Add(p))
                throw new ArgumentException($"parameter '{p.Name}' appears more than once in the parameter list.", nameof(parameters));
        _momentumBuffers = new AlignedBuffer?[_parameters.Length];
        Options = options;
    }

    /// <summary>The live hyper-parameters.</summary>
    public SgdOptions Options { get; }

    /// <summary>The parameters, in order.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The <c>momentum_buffer</c> of parameter <paramref name="index"/>, or empty before the first step with momentum.</summary>
    public ReadOnlySpan<float> MomentumBuffer(int index) => _momentumBuffers[index] is { } b ? b.Span : default;

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters)
            p.Grad.Clear();
    }

    /// <summary>Applies one update to every parameter.</summary>
    public void Step()
    {
        float lr = (float)Options.LearningRate;
        float momentum = (float)Options.Momentum;
        float oneMinusDampening = (float)(1.0 - Options.Dampening);
        float weightDecay = (float)Options.WeightDecay;
        bool nesterov = Options.Nesterov, maximize = Options.Maximize;
        for (int k = 0; k < _parameters.Length; k++)
        {
            Span<float> theta = _parameters[k].Data;
            Span<float> grad = _parameters[k].Grad;
            bool first = false;
            Span<float> buf = default;
            if (momentum != 0)
            {
                if (_momentumBuffers[k] is null)
                {
                    _momentumBuffers[k] = new AlignedBuffer(theta.Length);
                    first = true;
                }
                buf = _momentumBuffers[k]!.Span;
            }
            for (int i = 0; i < theta.Length; i++)
            {
                float d = maximize ? -grad[i] : grad[i];
                if (weightDecay != 0)
                    d += weightDecay * theta[i];
                if (momentum != 0)
                {
                    float b = first ? d : buf[i] * momentum + oneMinusDampening * d;
                    buf[i] = b;
                    d = nesterov ? d + momentum * b : b;
                }
                theta[i] -= lr * d;
            }
        }
    }

    /// <summary>Frees the momentum buffers.</summary>
    public void Dispose()
    {
        foreach (var b in _momentumBuffers)
            b?.Dispose();
    }
}
