using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Globalization;

namespace DslModels.Optim;

/// <summary>
/// The hyper-parameters of <c>torch.optim.SGD</c> for one parameter group. They are live: a generated
/// model's <c>Step()</c> and <see cref="Sgd.Step"/> read them at every step, so a schedule can change them.
/// Setters validate as PyTorch's constructor does and leave the value unchanged on error.
/// An <see cref="Sgd"/> built from an <see cref="SgdOptions"/> binds its parameter group to it: the group's keys
/// <c>lr</c>, <c>momentum</c>, <c>dampening</c>, <c>weight_decay</c>, <c>nesterov</c>, <c>maximize</c> read and write
/// these properties, so LR schedulers, <see cref="Optimizer.LoadStateDict"/> and the generated step all see one value.
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

    /// <summary>The PyTorch keys of SGD's hyper-parameters, in PyTorch's order.</summary>
    internal static readonly string[] Keys = ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"];

    /// <summary>A numeric SGD option without boxing (the step reads these every time).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool TryGetDouble(string key, out double value)
    {
        switch (key)
        {
            case "lr": value = _lr; return true;
            case "momentum": value = _momentum; return true;
            case "dampening": value = _dampening; return true;
            case "weight_decay": value = _weightDecay; return true;
            default: value = 0; return false;
        }
    }

    /// <summary>A boolean SGD option without boxing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool TryGetBool(string key, out bool value)
    {
        switch (key)
        {
            case "nesterov": value = _nesterov; return true;
            case "maximize": value = Maximize; return true;
            default: value = false; return false;
        }
    }

    internal bool TryGet(string key, out object? value)
    {
        switch (key)
        {
            case "lr": value = _lr; return true;
            case "momentum": value = _momentum; return true;
            case "dampening": value = _dampening; return true;
            case "weight_decay": value = _weightDecay; return true;
            case "nesterov": value = _nesterov; return true;
            case "maximize": value = Maximize; return true;
            default: value = null; return false;
        }
    }

    internal bool TrySet(string key, object? value)
    {
        switch (key)
        {
            case "lr": LearningRate = ParamGroup.ToDouble(value, key); return true;
            case "momentum": Momentum = ParamGroup.ToDouble(value, key); return true;
            case "dampening": Dampening = ParamGroup.ToDouble(value, key); return true;
            case "weight_decay": WeightDecay = ParamGroup.ToDouble(value, key); return true;
            case "nesterov": Nesterov = value is bool b ? b : throw new ArgumentException("nesterov must be a bool.", nameof(value)); return true;
            case "maximize": Maximize = value is bool m ? m : throw new ArgumentException("maximize must be a bool.", nameof(value)); return true;
            default: return false;
        }
    }

    /// <summary>Validates all SGD keys of <paramref name="options"/> together (missing keys keep their value).</summary>
    internal void Validate(IReadOnlyDictionary<string, object?> options, out double lr, out double momentum, out double dampening, out double weightDecay, out bool nesterov, out bool maximize)
    {
        lr = options.TryGetValue("lr", out var v) ? ParamGroup.ToDouble(v, "lr") : _lr;
        momentum = options.TryGetValue("momentum", out v) ? ParamGroup.ToDouble(v, "momentum") : _momentum;
        dampening = options.TryGetValue("dampening", out v) ? ParamGroup.ToDouble(v, "dampening") : _dampening;
        weightDecay = options.TryGetValue("weight_decay", out v) ? ParamGroup.ToDouble(v, "weight_decay") : _weightDecay;
        nesterov = options.TryGetValue("nesterov", out v) ? v as bool? ?? throw new ArgumentException("nesterov must be a bool.") : _nesterov;
        maximize = options.TryGetValue("maximize", out v) ? v as bool? ?? throw new ArgumentException("maximize must be a bool.") : Maximize;
        Check(lr, momentum, dampening, weightDecay, nesterov);
    }

    /// <summary>Sets all SGD keys of <paramref name="options"/> at once, validated together.</summary>
    internal void Assign(IReadOnlyDictionary<string, object?> options)
    {
        Validate(options, out double lr, out double momentum, out double dampening, out double weightDecay, out bool nesterov, out bool maximize);
        (_lr, _momentum, _dampening, _weightDecay, _nesterov, Maximize) = (lr, momentum, dampening, weightDecay, nesterov, maximize);
    }

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

    private static string Fmt(double v) => Py.Repr(v);
}
