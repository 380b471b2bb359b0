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
            "Adagrad" => new Adagrad(groups, k.Double("lr", 1e-2), k.Double("lr_decay", 0), k.Double("weight_decay", 0), k.Double("initial_accumulator_value", 0), k.Double("eps", 1e-10), k.Bool("maximize", false)),
            "RMSprop" => new RMSprop(groups, k.Double("lr", 1e-2), k.Double("alpha", 0.99), k.Double("eps", 1e-8), k.Double("weight_decay", 0), k.Double("momentum", 0), k.Bool("centered", false), k.Bool("maximize", false)),
            "Adadelta" => new Adadelta(groups, k.Double("lr", 1.0), k.Double("rho", 0.9), k.Double("eps", 1e-6), k.Double("weight_decay", 0), k.Bool("maximize", false)),
            "Adamax" => new Adamax(groups, k.Double("lr", 2e-3), k.Pair("betas", (0.9, 0.999)), k.Double("eps", 1e-8), k.Double("weight_decay", 0), k.Bool("maximize", false)),
            "SparseAdam" => new SparseAdam(groups, k.Double("lr", 1e-3), k.Pair("betas", (0.9, 0.999)), k.Double("eps", 1e-8), k.Bool("maximize", false)),
            "ASGD" => new Asgd(groups, k.Double("lr", 1e-2), k.Double("lambd", 1e-4), k.Double("alpha", 0.75), k.Double("t0", 1e6), k.Double("weight_decay", 0), k.Bool("maximize", false)),
            "Rprop" => new Rprop(groups, k.Double("lr", 1e-2), k.Pair("etas", (0.5, 1.2)), k.Pair("step_sizes", (1e-6, 50)), k.Bool("maximize", false)),
            "NAdam" => new NAdam(groups, k.Double("lr", 2e-3), k.Pair("betas", (0.9, 0.999)), k.Double("eps", 1e-8), k.Double("weight_decay", 0), k.Double("momentum_decay", 4e-3)),
            "RAdam" => new RAdam(groups, k.Double("lr", 1e-3), k.Pair("betas", (0.9, 0.999)), k.Double("eps", 1e-8), k.Double("weight_decay", 0)),
            "LBFGS" => new Lbfgs(groups, k.Double("lr", 1), k.Int("max_iter", 20), k.NullableInt("max_eval"), k.Double("tolerance_grad", 1e-7), k.Double("tolerance_change", 1e-9), k.Int("history_size", 100), k.String("line_search_fn", null)),
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
