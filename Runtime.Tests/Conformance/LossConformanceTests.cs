using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Text.Json;
using DslModels.Losses;
using Xunit;

namespace DslModels.Tests.Conformance;

/// <summary>
/// Runs every case of the "loss" suite (FORMAT.md) through the DslModels.Losses API: output and every listed
/// gradient within the case tolerances, and an ArgumentException (or subclass) where PyTorch raised.
/// </summary>
public class LossConformanceTests
{
    public static TheoryData<string> Cases => ConformanceCases.Ids("loss");

    [Theory, MemberData(nameof(Cases))]
    public void Case(string id)
    {
        ConformanceCase c = ConformanceCases.Get(id);
        var call = new LossCall(c.Json);
        if (c.Json.TryGetProperty("expect_error", out var error))
        {
            var ex = Record.Exception(() => call.Run());
            Assert.True(ex is ArgumentException, $"expected an ArgumentException like torch's '{error.GetString()}', got {(ex is null ? "no exception" : ex.GetType().Name + ": " + ex.Message)}");
            Assert.False(string.IsNullOrWhiteSpace(ex!.Message));
            return;
        }
        LossResult result = call.Run();
        JsonElement expected = c.Json.GetProperty("expected");
        CaseTensor output = CaseTensor.Parse(expected.GetProperty("output"));
        var (rtol, atol) = CaseTolerance.For(c.Json, call.DType, "output");
        CaseTolerance.AssertClose("output", output.Data, result.Output, rtol, atol);
        foreach (JsonProperty grad in expected.GetProperty("grad").EnumerateObject())
        {
            Assert.True(result.Grads.ContainsKey(grad.Name), $"no gradient computed for '{grad.Name}'");
            var (gr, ga) = CaseTolerance.For(c.Json, call.DType, "grad." + grad.Name);
            CaseTolerance.AssertClose("grad." + grad.Name, CaseTensor.Parse(grad.Value).Data, result.Grads[grad.Name], gr, ga);
        }
    }
}

internal sealed record LossResult(double[] Output, Dictionary<string, double[]> Grads);

/// <summary>Maps one case (op, options, inputs) to the DslModels.Losses call.</summary>
internal sealed class LossCall
{
    private readonly JsonElement _case;
    private readonly JsonElement _options;
    private readonly Dictionary<string, CaseTensor> _inputs = new(StringComparer.Ordinal);
    private readonly string _op;
    private readonly string[] _gradNames;

    public LossCall(JsonElement json)
    {
        _case = json;
        _op = json.GetProperty("op").GetString()!;
        _options = json.GetProperty("options");
        foreach (JsonProperty p in json.GetProperty("inputs").EnumerateObject())
            _inputs[p.Name] = CaseTensor.Parse(p.Value);
        DType = _inputs.Values.FirstOrDefault(t => t.IsFloat)?.DType ?? "float32";
        _gradNames = json.TryGetProperty("expected", out var e) && e.TryGetProperty("grad", out var g)
            ? g.EnumerateObject().Select(p => p.Name).ToArray()
            : [];
    }

    public string DType { get; }

    public LossResult Run() => DType == "float64" ? Run<double>() : Run<float>();

    private string ReductionText => _options.GetProperty("reduction").GetString()!;

    private Reduction Reduction => ReductionText switch
    {
        "mean" => Reduction.Mean,
        "sum" => Reduction.Sum,
        "none" => Reduction.None,
        var r => throw new InvalidOperationException("unknown reduction " + r),
    };

    private double Opt(string name, double fallback) => _options.TryGetProperty(name, out var v) ? v.GetDouble() : fallback;

    private bool OptBool(string name) => _options.TryGetProperty(name, out var v) && v.GetBoolean();

    private int OptInt(string name, int fallback) => _options.TryGetProperty(name, out var v) ? checked((int)v.GetDouble()) : fallback;

    private CaseTensor? OptTensor(string name) => _options.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? CaseTensor.Parse(v) : null;

    private LossResult Run<T>() where T : struct, IFloatingPointIeee754<T>
    {
        static T[] Arr(CaseTensor t) => t.Data.Select(T.CreateTruncating).ToArray();
        T[] In(string name) => Arr(_inputs[name]);
        int[] Ints(string name) => _inputs[name].ToInt();
        int[] ShapeOf(string name) => _inputs[name].Shape;
        T[]? OptArr(string name) => OptTensor(name) is { } t ? Arr(t) : null;
        int[]? OptShape(string name) => OptTensor(name)?.Shape;

        // Gradient buffers for the inputs the case checks; NaN-filled so unwritten values fail.
        var grads = new Dictionary<string, T[]>(StringComparer.Ordinal);
        foreach (string name in _gradNames)
            grads[name] = Enumerable.Repeat(T.NaN, _inputs[name].Data.Length).ToArray();
        Span<T> G(string name) => grads.TryGetValue(name, out var g) ? g : default;
        T[] gradOutput = _case.TryGetProperty("grad_output", out var go) ? Arr(CaseTensor.Parse(go)) : [];
        int outCount = _case.TryGetProperty("expected", out var e) ? CaseTensor.Parse(e.GetProperty("output")).Data.Length : 0;
        T[] output = ReductionText == "none" ? new T[outCount] : [];
        var r = Reduction.Mean;
        if (_op != "KLDivLoss")
            r = Reduction;

        T loss = _op switch
        {
            "L1Loss" => L1Loss.Forward<T>(In("input"), In("target"), new L1LossOptions { Reduction = r }, output, G("input"), G("target"), gradOutput),
            "MSELoss" => MSELoss.Forward<T>(In("input"), In("target"), new MSELossOptions { Reduction = r }, output, G("input"), G("target"), gradOutput),
            "SmoothL1Loss" => SmoothL1Loss.Forward<T>(In("input"), In("target"), new SmoothL1LossOptions { Reduction = r, Beta = Opt("beta", 1.0) },
                output, G("input"), G("target"), gradOutput),
            "HuberLoss" => HuberLoss.Forward<T>(In("input"), In("target"), new HuberLossOptions { Reduction = r, Delta = Opt("delta", 1.0) },
                output, G("input"), G("target"), gradOutput),
            "PoissonNLLLoss" => PoissonNLLLoss.Forward<T>(In("input"), In("target"),
                new PoissonNLLLossOptions { Reduction = r, LogInput = !_options.TryGetProperty("log_input", out var li) || li.GetBoolean(), Full = OptBool("full"), Eps = Opt("eps", 1e-8) },
                output, G("input"), G("target"), gradOutput),
            "GaussianNLLLoss" => GaussianNLLLoss.Forward<T>(In("input"), In("target"), In("var"), ShapeOf("input"), ShapeOf("var"),
                new GaussianNLLLossOptions { Reduction = r, Full = OptBool("full"), Eps = Opt("eps", 1e-6) },
                output, G("input"), G("target"), G("var"), gradOutput),
            "KLDivLoss" => KLDivLoss.Forward<T>(In("input"), In("target"), ShapeOf("input"),
                new KLDivLossOptions
                {
                    Reduction = ReductionText switch { "mean" => KLDivReduction.Mean, "sum" => KLDivReduction.Sum, "none" => KLDivReduction.None, _ => KLDivReduction.BatchMean },
                    LogTarget = OptBool("log_target"),
                },
                output, G("input"), G("target"), gradOutput),
            "BCELoss" => BCELoss.Forward<T>(In("input"), In("target"), ShapeOf("input"),
                new BCELossOptions<T> { Reduction = r, Weight = OptArr("weight"), WeightShape = OptShape("weight") },
                output, G("input"), G("target"), gradOutput),
            "BCEWithLogitsLoss" => BCEWithLogitsLoss.Forward<T>(In("input"), In("target"), ShapeOf("input"),
                new BCEWithLogitsLossOptions<T> { Reduction = r, Weight = OptArr("weight"), WeightShape = OptShape("weight"), PosWeight = OptArr("pos_weight"), PosWeightShape = OptShape("pos_weight") },
                output, G("input"), G("target"), gradOutput),
            "MarginRankingLoss" => MarginRankingLoss.Forward<T>(In("input1"), ShapeOf("input1"), In("input2"), ShapeOf("input2"), In("target"), ShapeOf("target"),
                new MarginRankingLossOptions { Reduction = r, Margin = Opt("margin", 0) },
                output, G("input1"), G("input2"), G("target"), gradOutput),
            "HingeEmbeddingLoss" => HingeEmbeddingLoss.Forward<T>(In("input"), In("target"), new HingeEmbeddingLossOptions { Reduction = r, Margin = Opt("margin", 1.0) },
                output, G("input"), gradOutput),
            "SoftMarginLoss" => SoftMarginLoss.Forward<T>(In("input"), In("target"), new SoftMarginLossOptions { Reduction = r }, output, G("input"), gradOutput),
            "MultiLabelSoftMarginLoss" => MultiLabelSoftMarginLoss.Forward<T>(In("input"), In("target"), ShapeOf("input"),
                new MultiLabelSoftMarginLossOptions<T> { Reduction = r, Weight = OptArr("weight"), WeightShape = OptShape("weight") },
                output, G("input"), G("target"), gradOutput),
            "CosineEmbeddingLoss" => CosineEmbeddingLoss.Forward<T>(In("input1"), In("input2"), ShapeOf("input1"), In("target"),
                new CosineEmbeddingLossOptions { Reduction = r, Margin = Opt("margin", 0) },
                output, G("input1"), G("input2"), gradOutput),
            "MultiMarginLoss" => MultiMarginLoss.Forward<T>(In("input"), ShapeOf("input"), Ints("target"),
                new MultiMarginLossOptions<T> { Reduction = r, P = OptInt("p", 1), Margin = Opt("margin", 1.0), Weight = OptArr("weight") },
                output, G("input"), gradOutput),
            "MultiLabelMarginLoss" => MultiLabelMarginLoss.Forward<T>(In("input"), ShapeOf("input"), Ints("target"),
                new MultiLabelMarginLossOptions { Reduction = r }, output, G("input"), gradOutput),
            "NLLLoss" => NLLLoss.Forward<T>(In("input"), ShapeOf("input"), Ints("target"), ShapeOf("target"),
                new NLLLossOptions<T> { Reduction = r, Weight = OptArr("weight"), IgnoreIndex = OptInt("ignore_index", -100) },
                output, G("input"), gradOutput),
            "CrossEntropyLoss" when _inputs["target"].IsFloat => CrossEntropyLoss.ForwardProbabilities<T>(In("input"), In("target"), ShapeOf("input"),
                new CrossEntropyLossOptions<T> { Reduction = r, Weight = OptArr("weight"), IgnoreIndex = OptInt("ignore_index", -100), LabelSmoothing = Opt("label_smoothing", 0) },
                output, G("input"), G("target"), gradOutput),
            "CrossEntropyLoss" => CrossEntropyLoss.Forward<T>(In("input"), ShapeOf("input"), Ints("target"), ShapeOf("target"),
                new CrossEntropyLossOptions<T> { Reduction = r, Weight = OptArr("weight"), IgnoreIndex = OptInt("ignore_index", -100), LabelSmoothing = Opt("label_smoothing", 0) },
                output, G("input"), gradOutput),
            "TripletMarginLoss" => TripletMarginLoss.Forward<T>(In("anchor"), ShapeOf("anchor"), In("positive"), ShapeOf("positive"), In("negative"), ShapeOf("negative"),
                new TripletMarginLossOptions { Reduction = r, Margin = Opt("margin", 1.0), P = Opt("p", 2.0), Eps = Opt("eps", 1e-6), Swap = OptBool("swap") },
                output, G("anchor"), G("positive"), G("negative"), gradOutput),
            "CTCLoss" => CTCLoss.Forward<T>(In("log_probs"), ShapeOf("log_probs"), Ints("targets"), ShapeOf("targets"), Ints("input_lengths"), Ints("target_lengths"),
                // Some cases use the blank as a target label, which torch silently accepts; our default rejects it.
                new CTCLossOptions { Reduction = r, Blank = OptInt("blank", 0), ZeroInfinity = OptBool("zero_infinity"), AllowBlankInTargets = true },
                output, G("log_probs"), gradOutput),
            _ => throw new InvalidOperationException($"No mapping for op '{_op}'."),
        };

        double[] outputValues = ReductionText == "none"
            ? output.Select(v => double.CreateTruncating(v)).ToArray()
            : [double.CreateTruncating(loss)];
        return new LossResult(outputValues, grads.ToDictionary(kv => kv.Key, kv => kv.Value.Select(v => double.CreateTruncating(v)).ToArray()));
    }
}
