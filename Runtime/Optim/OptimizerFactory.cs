using System;
using System.Collections.Generic;
using System.Linq;

namespace DslModels.Optim;

/// <summary>
/// Creates an optimizer from its PyTorch class name and PyTorch keyword arguments (e.g. from a config file or a
/// translated PyTorch script): <c>Create("Adam", groups, new Dictionary&lt;string, object?&gt; { ["lr"] = 0.01, ["betas"] = new[] { 0.9, 0.99 } })</c>.
/// Implementation switches (<c>foreach</c>, <c>differentiable</c>, <c>capturable</c>, <c>fused</c>) are accepted and
/// ignored; any other unknown keyword is an <see cref="ArgumentException"/>.
/// </summary>
public static class OptimizerFactory
{
    /// <summary>The PyTorch class names this factory knows.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "SparseAdam", "ASGD", "Rprop", "NAdam", "RAdam", "LBFGS"];

    /// <summary>Creates <paramref name="name"/> over <paramref name="groups"/> with <paramref name="kwargs"/>.</summary>
    public static Optimizer Create(string name, IEnumerable<ParamGroup> groups, IReadOnlyDictionary<string, object?>? kwargs = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        var k = new Kwargs(kwargs);
        Optimizer o = name switch
        {
            "SGD" => new Sgd(groups, new SgdOptions(k.Double("lr", double.NaN, required: true), k.Double("momentum", 0), k.Double("dampening", 0),
                k.Double("weight_decay", 0), k.Bool("nesterov", false), k.Bool("maximize", false))),
            "Adam" => new Adam(groups, k.Double("lr", 1e-3), k.Pair("betas", (0.9, 0.999)), k.Double("eps", 1e-8), k.Double("weight_decay", 0), k.Bool("amsgrad", false), k.Bool("maximize", false)),
            "AdamW" => new AdamW(groups, k.Double("lr", 1e-3), k.Pair("betas", (0.9, 0.999)), k.Double("eps", 1e-8), k.Double("weight_decay", 1e-2), k.Bool("amsgrad", false), k.Bool("maximize", false)),
            _ => throw new ArgumentException($"unknown optimizer '{name}'; known: {string.Join(", ", Names)}", nameof(name)),
        };
        k.CheckAllUsed(name);
        return o;
    }

    private sealed class Kwargs(IReadOnlyDictionary<string, object?>? values)
    {
        private readonly IReadOnlyDictionary<string, object?> _values = values ?? new Dictionary<string, object?>();
        private readonly HashSet<string> _used = [.. Optimizer.ImplementationKeys];

        private bool TryGet(string key, out object? v)
        {
            _used.Add(key);
            return _values.TryGetValue(key, out v);
        }

        public double Double(string key, double fallback, bool required = false)
        {
            if (TryGet(key, out var v)) return ParamGroup.ToDouble(v, key);
            if (required) throw new ArgumentException($"parameter group didn't specify a value of required optimization parameter {key}");
            return fallback;
        }

        public int Int(string key, int fallback) => TryGet(key, out var v) ? checked((int)ParamGroup.ToDouble(v, key)) : fallback;

        public int? NullableInt(string key) => TryGet(key, out var v) && v is not null ? checked((int)ParamGroup.ToDouble(v, key)) : null;

        public bool Bool(string key, bool fallback) => TryGet(key, out var v) ? v as bool? ?? throw new ArgumentException($"'{key}' must be a bool") : fallback;

        public string? String(string key, string? fallback) => TryGet(key, out var v) ? v as string : fallback;

        public (double, double) Pair(string key, (double, double) fallback)
        {
            if (!TryGet(key, out var v)) return fallback;
            return ParamGroup.Normalize(key, v) is double[] { Length: 2 } a ? (a[0], a[1]) : throw new ArgumentException($"'{key}' must be a pair of numbers");
        }

        public void CheckAllUsed(string name)
        {
            var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
            if (unknown.Count > 0)
                throw new ArgumentException($"{name} got unexpected keyword argument(s): {string.Join(", ", unknown)}");
        }
    }
}
