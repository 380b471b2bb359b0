using System;
using System.Runtime.CompilerServices;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Linq;

namespace DslModels.Optim;

/// <summary>
/// A parameter group (PyTorch: one dict of <c>optimizer.param_groups</c>): its parameters and its hyper-parameters
/// under PyTorch's key names (<c>lr</c>, <c>momentum</c>, <c>betas</c>, …). Options not given are filled from the
/// optimizer's defaults when the group is added. Values are live: every <c>Step()</c> reads them, schedulers write
/// <c>lr</c> (and <c>momentum</c>/<c>betas</c>, <c>initial_lr</c>, …). As in PyTorch, values written to a group are
/// not validated (only constructor arguments are), except for an <see cref="Sgd"/> group bound to an
/// <see cref="SgdOptions"/>, whose SGD keys are that object's validated properties.
/// Values are stored as <see cref="double"/>, <see cref="long"/>, <see cref="bool"/>, <see cref="string"/>,
/// <c>null</c> or <see cref="double"/>[] (PyTorch tuples such as <c>betas</c>).
/// </summary>
public sealed class ParamGroup : IEnumerable<KeyValuePair<string, object?>>
{
    private readonly List<OptimParameter> _params;
    private readonly ReadOnlyCollection<OptimParameter> _paramsView; // a view, so a cast cannot change the group's parameters
    private readonly Dictionary<string, object?> _options = new(StringComparer.Ordinal);

    /// <summary>A group of <paramref name="parameters"/> with no options of its own (all from the defaults).</summary>
    public ParamGroup(IEnumerable<OptimParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters is ISet<OptimParameter>)
            throw new ArgumentException("optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets will change between runs. Please use a list instead.", nameof(parameters));
        _params = [];
        foreach (var p in parameters)
            _params.Add(p ?? throw new ArgumentException("optimizer can only optimize Tensors, but one of the params is null", nameof(parameters)));
        _paramsView = _params.AsReadOnly();
    }

    /// <summary>A group of model parameters.</summary>
    public ParamGroup(IEnumerable<Parameter> parameters)
        : this((parameters ?? throw new ArgumentNullException(nameof(parameters))).Select(p => (OptimParameter)OptimParameter.From(p)).ToList()) { }

    /// <summary>A group with its own <paramref name="options"/> (PyTorch: <c>{'params': ..., 'lr': 0.01}</c>).</summary>
    public ParamGroup(IEnumerable<OptimParameter> parameters, IEnumerable<KeyValuePair<string, object?>> options) : this(parameters)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (k, v) in options)
            this[k] = v;
    }

    /// <summary>The parameters, in order.</summary>
    public IReadOnlyList<OptimParameter> Params => _paramsView;

    /// <summary>The parameters as the concrete list, so optimizer steps iterate without allocating an enumerator.</summary>
    internal List<OptimParameter> ParamList => _params;

    /// <summary>The SGD options this group reads and writes its SGD keys through, if any.</summary>
    internal SgdOptions? BoundSgdOptions { [MethodImpl(MethodImplOptions.AggressiveInlining)] get; set; }

    /// <summary>The option <paramref name="key"/> (<see cref="KeyNotFoundException"/> when absent).</summary>
    public object? this[string key]
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        get
        {
            if (BoundSgdOptions is { } o && o.TryGet(key, out object? v))
                return v;
            return _options.TryGetValue(key, out object? value) ? value : throw new KeyNotFoundException($"param group has no option '{key}'.");
        }
        set
        {
            ArgumentNullException.ThrowIfNull(key);
            if (key == "params")
                throw new ArgumentException("'params' is not an option; pass the parameters to the constructor.", nameof(key));
            object? normalized = Normalize(key, value);
            if (BoundSgdOptions is { } o && o.TrySet(key, normalized))
                return;
            _options[key] = normalized;
        }
    }

    /// <summary>Whether option <paramref name="key"/> is set.</summary>
    public bool ContainsKey(string key) => (BoundSgdOptions is { } o && o.TryGet(key, out _)) || _options.ContainsKey(key);

    /// <summary>The option keys, in insertion order.</summary>
    public IEnumerable<string> Keys => _options.Keys;

    /// <summary><c>lr</c>.</summary>
    public double LearningRate
    {
        get => GetDouble("lr");
        set => this["lr"] = value;
    }

    /// <summary>A numeric option as a double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double GetDouble(string key) =>
        BoundSgdOptions is { } o && o.TryGetDouble(key, out double bound) ? bound : ToDouble(this[key], key);

    /// <summary>An integer option.</summary>
    public long GetInt64(string key) => this[key] switch
    {
        long l => l,
        double d when d == Math.Floor(d) && Math.Abs(d) < 9e15 => (long)d,
        var v => throw new InvalidOperationException($"option '{key}' is not an integer: {v}."),
    };

    /// <summary>A bool option.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool GetBool(string key) => BoundSgdOptions is { } o && o.TryGetBool(key, out bool bound) ? bound : this[key] switch
    {
        bool b => b,
        var v => throw new InvalidOperationException($"option '{key}' is not a bool: {v}."),
    };

    /// <summary>A string option (or null).</summary>
    public string? GetString(string key) => this[key] switch
    {
        null => null,
        string s => s,
        var v => throw new InvalidOperationException($"option '{key}' is not a string: {v}."),
    };

    /// <summary>A pair option (<c>betas</c>, <c>etas</c>, <c>step_sizes</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (double First, double Second) GetPair(string key) => this[key] switch
    {
        double[] { Length: 2 } a => (a[0], a[1]),
        var v => throw new InvalidOperationException($"option '{key}' is not a pair of numbers: {v}."),
    };

    internal void SetDefault(string key, object? value)
    {
        if (!ContainsKey(key))
            this[key] = value;
    }

    internal Dictionary<string, object?> SnapshotOptions()
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (BoundSgdOptions is { } o)
            foreach (string k in SgdOptions.Keys)
                d[k] = o.TryGet(k, out object? v) ? v : null;
        foreach (var (k, v) in _options)
            d[k] = v is double[] a ? (double[])a.Clone() : v;
        return d;
    }

    internal void ReplaceOptions(Dictionary<string, object?> options)
    {
        _options.Clear();
        if (BoundSgdOptions is { } o)
            o.Assign(options);
        foreach (var (k, v) in options)
            if (BoundSgdOptions is null || !SgdOptions.Keys.Contains(k))
                _options[k] = v;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double ToDouble(object? v, string key) => v switch
    {
        double d => d,
        long l => l,
        int i => i,
        float f => f,
        bool b => b ? 1 : 0,
        _ => throw new InvalidOperationException($"option '{key}' is not a number: {v ?? "None"}."),
    };

    internal static object? Normalize(string key, object? value) => value switch
    {
        null or double or long or bool or string => value,
        int i => (long)i,
        float f => (double)f,
        double[] a => (double[])a.Clone(),
        ValueTuple<double, double> t => new[] { t.Item1, t.Item2 },
        IEnumerable<double> e => e.ToArray(),
        IEnumerable<object?> e => e.Select(x => ToDouble(x, key)).ToArray(),
        _ => throw new ArgumentException($"option '{key}': unsupported value type {value.GetType().Name}.", nameof(value)),
    };

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => SnapshotOptions().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() =>
        "{" + string.Join(", ", SnapshotOptions().Select(kv => $"'{kv.Key}': {Py.Repr(kv.Value)}")) + $", params: {_params.Count}}}";
}

/// <summary>Python-style formatting of values for PyTorch's error messages.</summary>
internal static class Py
{
    public static string Repr(object? v) => v switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        double d => Repr(d),
        long l => l.ToString(CultureInfo.InvariantCulture),
        string s => "'" + s + "'",
        double[] a => "(" + string.Join(", ", a.Select(Repr)) + ")",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };

    public static string Repr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        string s = d.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
        if (!s.Contains('.') && !s.Contains('e')) s += ".0";
        int e = s.IndexOf('e');
        if (e >= 0)
        {
            // Python writes at least two exponent digits: 1e-05.
            string mant = s[..e], exp = s[(e + 1)..];
            string sign = exp.StartsWith('-') ? "-" : "+";
            exp = exp.TrimStart('+', '-');
            if (exp.Length < 2) exp = "0" + exp;
            s = mant + "e" + sign + exp;
        }
        return s;
    }
}
