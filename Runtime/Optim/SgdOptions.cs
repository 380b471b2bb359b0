using System;
using System.Globalization;

namespace DslModels.Optim;

/// <summary>
/// The hyper-parameters of <c>torch.optim.SGD</c> for one parameter group. They are live: a generated
/// model's <c>Step()</c> and <see cref="Sgd.Step"/> read them at every step, so a schedule can change them.
/// Setters validate as PyTorch's constructor does and leave the value unchanged on error.
/// </summary>
public sealed class SgdOptions
{
    private double _lr;
    private double _momentum;
    private double _dampening;
    private double _weightDecay;
    private bool _nesterov;

    /// <summary>Creates options with PyTorch's defaults and the given <paramref name="lr"/>.</summary>
    public SgdOptions(double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
    {
        Check(lr, momentum, dampening, weightDecay, nesterov);
        _lr = lr;
        _momentum = momentum;
        _dampening = dampening;
        _weightDecay = weightDecay;
        _nesterov = nesterov;
        Maximize = maximize;
    }

    /// <summary><c>lr</c> (must be &gt;= 0).</summary>
    public double LearningRate
    {
        get => _lr;
        set { Check(value, _momentum, _dampening, _weightDecay, _nesterov); _lr = value; }
    }

    /// <summary><c>momentum</c> (must be &gt;= 0).</summary>
    public double Momentum
    {
        get => _momentum;
        set { Check(_lr, value, _dampening, _weightDecay, _nesterov); _momentum = value; }
    }

    /// <summary><c>dampening</c>.</summary>
    public double Dampening
    {
        get => _dampening;
        set { Check(_lr, _momentum, value, _weightDecay, _nesterov); _dampening = value; }
    }

    /// <summary><c>weight_decay</c> (must be &gt;= 0).</summary>
    public double WeightDecay
    {
        get => _weightDecay;
        set { Check(_lr, _momentum, _dampening, value, _nesterov); _weightDecay = value; }
    }

    /// <summary><c>nesterov</c> (requires momentum &gt; 0 and dampening 0).</summary>
    public bool Nesterov
    {
        get => _nesterov;
        set { Check(_lr, _momentum, _dampening, _weightDecay, value); _nesterov = value; }
    }

    /// <summary><c>maximize</c>: ascend instead of descend.</summary>
    public bool Maximize { get; set; }

    private static void Check(double lr, double momentum, double dampening, double weightDecay, bool nesterov)
    {
        if (!(lr >= 0))
            throw new ArgumentOutOfRangeException("lr", lr, $"Invalid learning rate: {Fmt(lr)}");
        if (!(momentum >= 0))
            throw new ArgumentOutOfRangeException("momentum", momentum, $"Invalid momentum value: {Fmt(momentum)}");
        if (!(weightDecay >= 0))
            throw new ArgumentOutOfRangeException("weight_decay", weightDecay, $"Invalid weight_decay value: {Fmt(weightDecay)}");
        if (double.IsNaN(dampening))
            throw new ArgumentOutOfRangeException("dampening", dampening, "Invalid dampening value: nan");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"Nesterov momentum requires a momentum and zero dampening (momentum={Fmt(momentum)}, dampening={Fmt(dampening)})", "nesterov");
    }

    private static string Fmt(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
