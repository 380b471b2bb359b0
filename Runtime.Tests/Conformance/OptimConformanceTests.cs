using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using DslModels.Optim;
using Xunit;

namespace DslModels.Tests.Conformance;

/// <summary>Runs FORMAT.md's "optim" suite: every case is one test.</summary>
public class OptimConformanceTests
{
    public static TheoryData<string> Cases => ConformanceCases.Ids("optim");

    [Theory, MemberData(nameof(Cases))]
    public void Case(string id)
    {
        var c = ConformanceCases.Get(id);
        var json = c.Json;
        if (json.TryGetProperty("expect_error", out var err))
        {
            var ex = Record.Exception(() =>
            {
                using var run = new OptimCaseRun(c);
                run.Run(json.GetProperty("steps").GetInt32(), (_, _) => { });
            });
            ConformanceErrors.AssertMatches(err.GetString()!, ex);
            return;
        }

        using var r = new OptimCaseRun(c);
        var expected = json.GetProperty("expected");
        var expLoss = expected.GetProperty("loss").EnumerateArray().Select(CaseTensor.ParseNumber).ToArray();
        var expParams = expected.GetProperty("params").EnumerateArray().ToArray();
        JsonElement[]? expAx = expected.TryGetProperty("ax", out var ax) ? ax.EnumerateArray().ToArray() : null;
        var (rtol, atol) = CaseTolerance.For(json, r.DType);
        var (lrtol, latol) = CaseTolerance.For(json, r.DType, "loss");
        int steps = json.GetProperty("steps").GetInt32();
        Assert.Equal(steps, expLoss.Length);
        var losses = new List<double>();
        r.Run(steps, (step, loss) =>
        {
            losses.Add(loss);
            foreach (var prop in expParams[step].EnumerateObject())
            {
                var e = CaseTensor.Parse(prop.Value);
                CaseTolerance.AssertClose($"step {step} param {prop.Name}", e.Data, r.Values(prop.Name), rtol, atol);
            }
            if (expAx is not null)
                foreach (var prop in expAx[step].EnumerateObject())
                {
                    var e = CaseTensor.Parse(prop.Value);
                    var st = r.Optimizer.State[r.Param(prop.Name)];
                    CaseTolerance.AssertClose($"step {step} ax {prop.Name}", e.Data, st.Tensor("ax").ToDoubleArray(), rtol, atol);
                }
        });
        CaseTolerance.AssertClose("loss", expLoss, losses.ToArray(), lrtol, latol);
        if (expected.TryGetProperty("state_dict", out var sd))
        {
            using var mine = JsonDocument.Parse(r.Optimizer.StateDict().ToJson());
            StateDictComparer.AssertEquivalent("state_dict", sd, mine.RootElement, rtol, atol);
        }
    }
}

/// <summary>Checks that an exception corresponds to a torch error of a case.</summary>
internal static class ConformanceErrors
{
    public static void AssertMatches(string torchError, Exception? ex)
    {
        Assert.True(ex is not null, $"expected an error like \"{torchError}\", but nothing was thrown");
        int colon = torchError.IndexOf(": ", StringComparison.Ordinal);
        string kind = torchError[..colon], message = torchError[(colon + 2)..];
        switch (kind)
        {
            case "ValueError":
                Assert.True(ex is ArgumentException or InvalidOperationException, $"{torchError}: got {ex}");
                Assert.Contains(message, ex!.Message, StringComparison.Ordinal);
                break;
            case "RuntimeError":
                Assert.True(ex is InvalidOperationException or NotSupportedException, $"{torchError}: got {ex}");
                Assert.Contains(message, ex!.Message, StringComparison.Ordinal);
                break;
            default:
                Assert.True(ex is ArgumentException or InvalidOperationException, $"{torchError}: got {ex}");
                break;
        }
    }
}

/// <summary>One optim case: parameters, optimizer and objective.</summary>
internal sealed class OptimCaseRun : IDisposable
{
    private readonly Dictionary<string, OptimParameter> _params = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly Dictionary<string, (double[] A, double[] B, double[] C)> _coef = new(StringComparer.Ordinal);
    private readonly bool _rosenbrock;
    private readonly int[][]? _sparseRows;
    private readonly AlignedBuffer? _data, _grad;

    public OptimCaseRun(ConformanceCase c)
    {
        var json = c.Json;
        var tensors = json.GetProperty("params").EnumerateObject().Select(p => (p.Name, T: CaseTensor.Parse(p.Value))).ToList();
        DType = tensors[0].T.DType;
        if (DType == "float32")
        {
            // Float32 parameters live in a model-style aligned arena, viewed by DslModels.Parameter.
            int total = tensors.Sum(t => AlignedBuffer.AlignUp(t.T.Data.Length));
            _data = new AlignedBuffer(total);
            _grad = new AlignedBuffer(total);
            int offset = 0;
            foreach (var (name, t) in tensors)
            {
                var p = new Parameter(name, _data, _grad, offset, t.Shape);
                p.CopyFrom(t.ToFloat());
                _params[name] = OptimParameter.From(p);
                offset += AlignedBuffer.AlignUp(t.Data.Length);
            }
        }
        else
        {
            foreach (var (name, t) in tensors)
                _params[name] = new TensorParameter<double>(t.Data, t.Shape, name);
        }
        var objective = json.GetProperty("objective");
        _rosenbrock = objective.GetProperty("kind").GetString() == "rosenbrock";
        if (!_rosenbrock)
            foreach (var p in objective.GetProperty("coef").EnumerateObject())
                _coef[p.Name] = (Coef(p.Value, "a"), Coef(p.Value, "b"), Coef(p.Value, "c"));
        if (json.TryGetProperty("sparse_rows", out var sr))
            _sparseRows = sr.EnumerateArray().Select(s => s.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();

        var groups = new List<ParamGroup>();
        foreach (var g in json.GetProperty("param_groups").EnumerateArray())
        {
            var ps = g.GetProperty("params").EnumerateArray().Select(n => _params[n.GetString()!]).ToList();
            _order.AddRange(g.GetProperty("params").EnumerateArray().Select(n => n.GetString()!));
            var options = g.TryGetProperty("options", out var o) ? JsonValues.ToDictionary(o) : [];
            foreach (string k in new[] { "foreach", "differentiable", "capturable", "fused" })
                options.Remove(k);
            groups.Add(new ParamGroup(ps, options));
        }
        IsLbfgs = c.Op == "LBFGS";
        Optimizer = OptimizerFactory.Create(c.Op, groups, JsonValues.ToDictionary(json.GetProperty("defaults")));

        double[] Coef(JsonElement e, string k) => CaseTensor.Parse(e.GetProperty(k)).Data;
    }

    public string DType { get; }
    public bool IsLbfgs { get; }
    public Optimizer Optimizer { get; }

    public OptimParameter Param(string name) => _params[name];

    public double[] Values(string name) => _params[name] switch
    {
        OptimParameter<float> f => f.Data.ToArray().Select(x => (double)x).ToArray(),
        OptimParameter<double> d => d.Data.ToArray(),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>Zeroes the gradients, evaluates f and its gradient; returns f.</summary>
    public double Evaluate(int step)
    {
        double loss = 0;
        foreach (string name in _order)
        {
            var p = _params[name];
            double[] x = Values(name);
            var g = new double[x.Length];
            if (_rosenbrock)
            {
                for (int i = 0; i + 1 < x.Length; i++)
                {
                    double t = x[i + 1] - x[i] * x[i];
                    loss += 100 * t * t + (1 - x[i]) * (1 - x[i]);
                    g[i] += -400 * x[i] * t - 2 * (1 - x[i]);
                    g[i + 1] += 200 * t;
                }
            }
            else
            {
                var (a, b, c) = _coef[name];
                for (int i = 0; i < x.Length; i++)
                {
                    loss += a[i] * x[i] * x[i] / 2 + b[i] * x[i] * x[i] * x[i] * x[i] / 4 - c[i] * x[i];
                    g[i] = a[i] * x[i] + b[i] * x[i] * x[i] * x[i] - c[i];
                }
            }
            int[]? rows = _sparseRows is null ? null : _sparseRows[Math.Min(step, _sparseRows.Length - 1)];
            if (rows is not null)
            {
                // Only the listed rows are present; zero the others so they cannot leak into a dense update.
                int rowLen = x.Length / p.Shape[0];
                var keep = new bool[x.Length];
                foreach (int r in rows)
                    for (int j = 0; j < rowLen; j++) keep[r * rowLen + j] = true;
                for (int i = 0; i < g.Length; i++) if (!keep[i]) g[i] = 0;
            }
            switch (p)
            {
                case TensorParameter<double> d: d.SetGrad(g); break;
                case OptimParameter<float> f:
                    for (int i = 0; i < g.Length; i++) f.Grad[i] = (float)g[i];
                    break;
            }
            p.SparseGradRows = rows;
        }
        return loss;
    }

    /// <summary>Runs <paramref name="steps"/> steps, calling <paramref name="after"/>(step, loss) after each.</summary>
    public void Run(int steps, Action<int, double> after)
    {
        for (int s = 0; s < steps; s++)
        {
            double loss;
            if (IsLbfgs)
            {
                int step = s;
                loss = Optimizer.Step(() => Evaluate(step))!.Value;
            }
            else
            {
                Optimizer.ZeroGrad();
                loss = Evaluate(s);
                Optimizer.Step();
            }
            after(s, loss);
        }
    }

    public void Dispose()
    {
        _data?.Dispose();
        _grad?.Dispose();
    }
}

/// <summary>JSON values as the optimizer option types (long, double, bool, string, null, double[]).</summary>
internal static class JsonValues
{
    public static Dictionary<string, object?> ToDictionary(JsonElement o)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var p in o.EnumerateObject())
            d[p.Name] = ToValue(p.Value);
        return d;
    }

    public static object? ToValue(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.GetRawText().IndexOfAny(['.', 'e', 'E']) < 0 ? e.GetInt64() : e.GetDouble(),
        JsonValueKind.Array => e.EnumerateArray().Select(x => x.GetDouble()).ToArray(),
        _ => throw new InvalidOperationException($"unsupported option value {e}"),
    };
}

/// <summary>
/// Compares a state dict (ours, serialized by <see cref="OptimizerStateDict.ToJson"/>) with torch's: same keys, same
/// JSON kinds, tensors with equal shape and dtype and values within tolerance. PyTorch's implementation switches
/// (foreach, differentiable, capturable, fused) are not options of DslModels and are ignored in param groups.
/// </summary>
internal static class StateDictComparer
{
    private static readonly HashSet<string> Ignored = ["foreach", "differentiable", "capturable", "fused"];

    public static void AssertEquivalent(string path, JsonElement expected, JsonElement actual, double rtol, double atol)
    {
        if (expected.ValueKind == JsonValueKind.Object && expected.TryGetProperty("dtype", out var dtype))
        {
            Assert.True(actual.ValueKind == JsonValueKind.Object, $"{path}: expected a tensor, got {actual}");
            var e = CaseTensor.Parse(expected);
            var a = CaseTensor.Parse(actual);
            Assert.True(e.Shape.SequenceEqual(a.Shape), $"{path}: shape [{string.Join(",", e.Shape)}] expected, got [{string.Join(",", a.Shape)}]");
            Assert.True(e.DType == a.DType, $"{path}: dtype {e.DType} expected, got {a.DType}");
            CaseTolerance.AssertClose(path, e.Data, a.Data, rtol, atol);
            return;
        }
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
            {
                Assert.True(actual.ValueKind == JsonValueKind.Object, $"{path}: expected an object, got {actual}");
                bool group = path.Contains("param_groups", StringComparison.Ordinal);
                var ek = expected.EnumerateObject().Select(p => p.Name).Where(n => !(group && Ignored.Contains(n))).OrderBy(n => n, StringComparer.Ordinal).ToList();
                var ak = actual.EnumerateObject().Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal).ToList();
                Assert.True(ek.SequenceEqual(ak), $"{path}: keys [{string.Join(", ", ek)}] expected, got [{string.Join(", ", ak)}]");
                foreach (string k in ek)
                    AssertEquivalent($"{path}.{k}", expected.GetProperty(k), actual.GetProperty(k), rtol, atol);
                break;
            }
            case JsonValueKind.Array:
            {
                Assert.True(actual.ValueKind == JsonValueKind.Array, $"{path}: expected an array, got {actual}");
                var e = expected.EnumerateArray().ToList();
                var a = actual.EnumerateArray().ToList();
                Assert.True(e.Count == a.Count, $"{path}: {e.Count} items expected, got {a.Count}");
                for (int i = 0; i < e.Count; i++)
                    AssertEquivalent($"{path}[{i}]", e[i], a[i], rtol, atol);
                break;
            }
            case JsonValueKind.Number:
            {
                Assert.True(actual.ValueKind == JsonValueKind.Number, $"{path}: expected a number, got {actual}");
                CaseTolerance.AssertClose(path, [expected.GetDouble()], [actual.GetDouble()], rtol, atol);
                break;
            }
            default:
                Assert.True(expected.ValueKind == actual.ValueKind && expected.ToString() == actual.ToString(), $"{path}: {expected} expected, got {actual}");
                break;
        }
    }
}
