using Microsoft.CodeAnalysis;
using System.Linq;
using Xunit;

namespace DslModels.Generator.Tests;

/// <summary>Each analyzer diagnostic: reported for the mistake, at the right place, and absent for valid models.</summary>
public class DiagnosticTests
{
    private static void AssertReports(string id, string source, string? locatedAt = null, string? messagePart = null)
    {
        var diagnostics = GeneratorHarness.Analyze("using DslModels;\n" + source);
        var d = diagnostics.FirstOrDefault(x => x.Id == id);
        Assert.True(d is not null, $"expected {id}; got: {string.Join("; ", diagnostics.Select(x => x.ToString()))}");
        if (locatedAt is not null)
            Assert.Equal(locatedAt, d!.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan));
        if (messagePart is not null)
            Assert.Contains(messagePart, d!.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData(Sources.Fashion)]
    [InlineData(Sources.Odd)]
    public void Valid_models_have_no_diagnostics(string source) => Assert.Empty(GeneratorHarness.Analyze(source));

    [Fact]
    public void Not_partial() => AssertReports("DSL0001",
        "[Model(Inputs = 2)] public class M { [Layer(1)] public Dense A => null!; }", locatedAt: "M");

    [Fact]
    public void Nested_model() => AssertReports("DSL0002",
        "public partial class Outer { [Model(Inputs = 2)] public partial class M { [Layer(1)] public partial Dense A { get; } } }", messagePart: "nested");

    [Fact]
    public void Inputs_missing_or_zero() => AssertReports("DSL0003",
        "[Model] public partial class M { [Layer(1)] public partial Dense A { get; } }", locatedAt: "Model");

    [Fact]
    public void No_layers() => AssertReports("DSL0004", "[Model(Inputs = 3)] public partial class M { }", locatedAt: "M");

    [Fact]
    public void Layer_property_not_partial() => AssertReports("DSL0005",
        "[Model(Inputs = 3)] public partial class M { [Layer(2)] public Dense A { get; } = null!; }", locatedAt: "A", messagePart: "not partial");

    [Fact]
    public void Layer_property_wrong_type() => AssertReports("DSL0005",
        "[Model(Inputs = 3)] public partial class M { [Layer(2)] public partial int A { get; } }", messagePart: "not DslModels.Dense");

    [Fact]
    public void Zero_units() => AssertReports("DSL0006",
        "[Model(Inputs = 3)] public partial class M { [Layer(0)] public partial Dense A { get; } }", locatedAt: "Layer(0)");

    [Fact]
    public void Negative_leaky_slope() => AssertReports("DSL0007",
        "[Model(Inputs = 3)] public partial class M { [Layer(2, Activation.LeakyReLU, NegativeSlope = -1)] public partial Dense A { get; } }", messagePart: ">= 0");

    [Theory]
    [InlineData("Activation.Hardtanh, MinValue = 1, MaxValue = 0", "must be below MaxValue")]
    [InlineData("Activation.Softplus, Beta = 0", "Beta must be a finite number > 0")]
    [InlineData("Activation.CELU, Alpha = 0", "Alpha must be a finite non-zero number")]
    public void Invalid_activation_options_are_errors(string activation, string message) => AssertReports("DSL0007",
        $"[Model(Inputs = 3)] public partial class M {{ [Layer(2, {activation})] public partial Dense A {{ get; }} }}", messagePart: message);

    [Fact]
    public void Duplicate_layer_names() => AssertReports("DSL0008",
        "[Model(Inputs = 3)] public partial class M { [Layer(2, Name = \"fc\")] public partial Dense A { get; } [Layer(2, Name = \"fc\")] public partial Dense B { get; } }", locatedAt: "B");

    [Fact]
    public void Unknown_kaiming_mode() => AssertReports("DSL0010",
        "[Model(Inputs = 3)] public partial class M { [Layer(2), Init(InitKind.KaimingUniform, Mode = \"fan_avg\")] public partial Dense A { get; } }",
        locatedAt: "Init(InitKind.KaimingUniform, Mode = \"fan_avg\")", messagePart: "Mode fan_avg not supported");

    [Fact]
    public void Unknown_nonlinearity() => AssertReports("DSL0010",
        "[Model(Inputs = 3)] public partial class M { [Layer(2), Init(InitKind.KaimingNormal, Nonlinearity = \"gelu\")] public partial Dense A { get; } }", messagePart: "Unsupported nonlinearity gelu");

    [Theory]
    [InlineData("InitKind.Sparse", "sparse_ requires Sparsity")]
    [InlineData("InitKind.Sparse, Sparsity = 1.0", "Sparsity must be in [0, 1); got 1")]
    [InlineData("InitKind.Normal, Std = -1", "normal expects std >= 0.0, but found std -1")]
    [InlineData("InitKind.TruncNormal, A = 3, B = 1", "trunc_normal_ needs a <= b")]
    [InlineData("InitKind.Uniform, A = 2, B = 1", "found from=2 > to=1")]
    [InlineData("InitKind.Dirac", "Only tensors with 3, 4, or 5 dimensions are supported")]
    public void Invalid_init_options_are_errors(string init, string message) => AssertReports("DSL0010",
        $"[Model(Inputs = 3)] public partial class M {{ [Layer(2), Init({init})] public partial Dense A {{ get; }} }}", messagePart: message);

    [Theory]
    [InlineData("InitKind.KaimingUniform", "Eye")]
    [InlineData("InitKind.XavierNormal", "Orthogonal")]
    public void Fan_based_or_matrix_inits_on_a_bias_are_errors(string weight, string bias) => AssertReports("DSL0010",
        $"[Model(Inputs = 3)] public partial class M {{ [Layer(2), Init({weight}), BiasInit(InitKind.{bias})] public partial Dense A {{ get; }} }}", messagePart: "1-D");

    [Theory]
    [InlineData("Activation.Tanh", "InitKind.KaimingUniform", "leaky_relu with a = 0")]
    [InlineData("Activation.Tanh", "InitKind.KaimingNormal, Nonlinearity = \"relu\"", "assumes relu")]
    [InlineData("Activation.Sigmoid", "InitKind.XavierUniform, Gain = 1.4142135623730951", "calculate_gain('relu')")]
    [InlineData("Activation.LeakyReLU, NegativeSlope = 0.2", "InitKind.KaimingUniform, Nonlinearity = \"leaky_relu\", A = 0.01", "A = 0.2")]
    public void Init_gain_that_does_not_match_the_activation_warns(string activation, string init, string message) => AssertReports("DSL0016",
        $"[Model(Inputs = 3)] public partial class M {{ [Layer(2, {activation}), Init({init})] public partial Dense A {{ get; }} }}", messagePart: message);

    [Theory]
    [InlineData("Activation.Tanh", "InitKind.KaimingUniform, Nonlinearity = \"tanh\"")]
    [InlineData("Activation.ReLU", "InitKind.KaimingNormal")]
    [InlineData("Activation.Tanh", "InitKind.XavierUniform, Gain = 1.6666666666666667")]
    [InlineData("Activation.Identity", "InitKind.Orthogonal")]
    [InlineData("Activation.ReLU", "InitKind.Sparse, Sparsity = 0.5")]
    [InlineData("Activation.ReLU", "InitKind.TruncNormal, Std = 0.02")]
    [InlineData("Activation.ReLU", "InitKind.Eye")]
    public void Matching_inits_have_no_diagnostics(string activation, string init) => Assert.Empty(GeneratorHarness.Analyze(
        $"using DslModels; [Model(Inputs = 3)] public partial class M {{ [Layer(2, {activation}), Init({init})] public partial Dense A {{ get; }} }}"));

    [Fact]
    public void Cross_entropy_on_one_output() => AssertReports("DSL0012",
        "[Model(Inputs = 3), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)] public partial class M { [Layer(1)] public partial Dense A { get; } }");

    private const string Layers2 = "{ [Layer(3, Activation.Tanh)] public partial Dense A { get; } [Layer(4, ACT)] public partial Dense B { get; } }";

    private static string Model(string loss, string activation = "Activation.Identity") =>
        $"[Model(Inputs = 3), Loss({loss}), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1)] public partial class M " + Layers2.Replace("ACT", activation, System.StringComparison.Ordinal);

    [Theory]
    [InlineData("LossKind.CrossEntropy", "Activation.Softmax", "softmax twice")]
    [InlineData("LossKind.CrossEntropy", "Activation.LogSoftmax", "softmax twice")]
    [InlineData("LossKind.BCEWithLogits", "Activation.Sigmoid", "sigmoid itself")]
    [InlineData("LossKind.BCE", "Activation.Identity", "end the model with Activation.Sigmoid")]
    [InlineData("LossKind.NLL", "Activation.Identity", "LogSoftmax")]
    [InlineData("LossKind.KLDiv, Reduction = Reduction.BatchMean", "Activation.Softmax", "LogSoftmax")]
    public void Last_activation_that_does_not_fit_the_loss_warns(string loss, string activation, string message) =>
        AssertReports("DSL0017", Model(loss, activation), messagePart: message);

    [Theory]
    [InlineData("LossKind.CrossEntropy, LabelSmoothing = 1.5", "label_smoothing must be between 0.0 and 1.0. Got: 1.5")]
    [InlineData("LossKind.MultiMargin, P = 3", "only p == 1 and p == 2 supported")]
    [InlineData("LossKind.SmoothL1, Beta = -1", "negative values for beta")]
    [InlineData("LossKind.Huber, Delta = 0", "non-positive values for delta")]
    [InlineData("LossKind.MSE, Reduction = Reduction.BatchMean", "only valid for KLDivLoss")]
    [InlineData("LossKind.MSE, Reduction = Reduction.None", "scalar loss")]
    [InlineData("LossKind.L1, Weight = new[] { 1.0, 2.0, 3.0, 4.0 }", "takes no Weight")]
    [InlineData("LossKind.CTC", "CTCLoss needs per-time-step outputs")]
    [InlineData("LossKind.TripletMargin, P = 0, Swap = true, Margin = 0.5, Eps = -1", "eps must be >= 0")]
    [InlineData("LossKind.MSE, Swap = true", "only the triplet losses take Swap")]
    [InlineData("LossKind.L1, Margin = 1", "takes no Margin")]
    [InlineData("LossKind.TripletMarginWithDistance, Margin = 0", "expected margin to be greater than 0")]
    [InlineData("LossKind.MSE, Full = true", "take Full")]
    public void Invalid_or_unsupported_losses_are_errors(string loss, string message) =>
        AssertReports("DSL0011", Model(loss), messagePart: message);

    [Theory]
    [InlineData("LossKind.CrossEntropy, Weight = new[] { 1.0, 2.0 }", "one per output (4)")]
    [InlineData("LossKind.BCEWithLogits, PosWeight = new[] { 1.0 }", "PosWeight has 1 values")]
    [InlineData("LossKind.MarginRanking", "give the last layer 1 output")]
    public void Weights_must_have_one_value_per_output(string loss, string message) =>
        AssertReports("DSL0012", Model(loss), messagePart: message);

    [Fact]
    public void Softmax_before_the_last_layer_is_an_error() => AssertReports("DSL0007",
        "[Model(Inputs = 3)] public partial class M { [Layer(3, Activation.Softmax)] public partial Dense A { get; } [Layer(2)] public partial Dense B { get; } }",
        locatedAt: "A", messagePart: "last layer only");

    [Theory]
    [InlineData("LossKind.NLL", "Activation.LogSoftmax")]
    [InlineData("LossKind.BCE, Weight = new[] { 1.0, 2.0, 3.0, 4.0 }", "Activation.Sigmoid")]
    [InlineData("LossKind.KLDiv, Reduction = Reduction.BatchMean, LogTarget = true", "Activation.LogSoftmax")]
    [InlineData("LossKind.MultiLabelMargin", "Activation.Identity")]
    [InlineData("LossKind.PoissonNLL, LogInput = false, Full = true, Eps = 1e-6", "Activation.Softmax")]
    public void Fitting_losses_have_no_diagnostics(string loss, string activation) =>
        Assert.Empty(GeneratorHarness.Analyze("using DslModels;\n" + Model(loss, activation)));

    [Fact]
    public void Sgd_without_learning_rate() => AssertReports("DSL0014",
        "[Model(Inputs = 3), Loss(LossKind.MSE), Optimizer(OptimizerKind.Sgd)] public partial class M { [Layer(1)] public partial Dense A { get; } }", messagePart: "lr");

    [Fact]
    public void Nesterov_without_momentum() => AssertReports("DSL0014",
        "[Model(Inputs = 3), Loss(LossKind.MSE), Optimizer(OptimizerKind.Sgd, LearningRate = 0.1, Nesterov = true)] public partial class M { [Layer(1)] public partial Dense A { get; } }",
        messagePart: "Nesterov momentum requires a momentum and zero dampening");

    [Fact]
    public void Negative_learning_rate() => AssertReports("DSL0014",
        "[Model(Inputs = 3), Loss(LossKind.MSE), Optimizer(OptimizerKind.Sgd, LearningRate = -1)] public partial class M { [Layer(1)] public partial Dense A { get; } }",
        messagePart: "Invalid learning rate: -1");

    [Theory]
    [InlineData("OptimizerKind.Adam, Momentum = 0.9", "Adam has no option Momentum")]
    [InlineData("OptimizerKind.Adam, Beta1 = 1.0", "Invalid beta parameter at index 0: 1")]
    [InlineData("OptimizerKind.AdamW, Beta2 = -0.1", "Invalid beta parameter at index 1: -0.1")]
    [InlineData("OptimizerKind.RMSprop, Alpha = -1", "Invalid alpha value: -1")]
    [InlineData("OptimizerKind.Adadelta, Rho = 1.5", "Invalid rho value: 1.5")]
    [InlineData("OptimizerKind.Rprop, EtaMinus = 1.5", "Invalid eta values: 1.5, 1.2")]
    [InlineData("OptimizerKind.Adagrad, LrDecay = -1", "Invalid lr_decay value: -1")]
    [InlineData("OptimizerKind.NAdam, Eps = -1", "Invalid epsilon value: -1")]
    [InlineData("OptimizerKind.RAdam, Amsgrad = true", "RAdam has no option Amsgrad")]
    [InlineData("OptimizerKind.Rprop, BiasWeightDecay = 0", "Rprop has no weight_decay")]
    [InlineData("OptimizerKind.LBFGS, MaxIter = 0", "max_iter must be >= 1; got 0")]
    [InlineData("OptimizerKind.LBFGS, HistorySize = -2", "history_size must be >= 1; got -2")]
    [InlineData("OptimizerKind.LBFGS, LineSearchFn = \"backtracking\"", "only 'strong_wolfe' is supported")]
    [InlineData("OptimizerKind.LBFGS, BiasWeightDecay = 0", "LBFGS has no weight_decay")]
    [InlineData("OptimizerKind.LBFGS, Momentum = 0.9", "LBFGS has no option Momentum")]
    public void Invalid_optimizer_options_are_errors(string optimizer, string message) => AssertReports("DSL0014",
        $"[Model(Inputs = 3), Loss(LossKind.MSE), Optimizer({optimizer})] public partial class M {{ [Layer(1)] public partial Dense A {{ get; }} }}", messagePart: message);

    [Fact]
    public void SparseAdam_cannot_drive_a_dense_model() => AssertReports("DSL0013",
        "[Model(Inputs = 3), Loss(LossKind.MSE), Optimizer(OptimizerKind.SparseAdam)] public partial class M { [Layer(1)] public partial Dense A { get; } }",
        messagePart: "SparseAdam does not support dense gradients, please consider Adam instead");

    [Fact]
    public void LBFGS_takes_no_param_groups() => AssertReports("DSL0014",
        "[Model(Inputs = 3), Loss(LossKind.MSE), Optimizer(OptimizerKind.LBFGS)] public partial class M { [Layer(2)] public partial Dense A { get; } [Layer(1), ParamGroup(LearningRate = 0.1)] public partial Dense B { get; } }",
        messagePart: "LBFGS doesn't support per-parameter options (parameter groups)");

    [Fact]
    public void LBFGS_with_a_pairwise_loss_is_an_error() => AssertReports("DSL0013",
        "[Model(Inputs = 3), Loss(LossKind.CosineEmbedding), Optimizer(OptimizerKind.LBFGS)] public partial class M { [Layer(2)] public partial Dense A { get; } }",
        messagePart: "single-input losses");

    [Theory]
    [InlineData("OptimizerKind.LBFGS")]
    [InlineData("OptimizerKind.LBFGS, LearningRate = 0.5, MaxIter = 4, MaxEval = 9, ToleranceGrad = 1e-5, ToleranceChange = 1e-8, HistorySize = 3, LineSearchFn = \"strong_wolfe\"")]
    public void LBFGS_drives_a_model(string optimizer) => Assert.Empty(GeneratorHarness.Analyze(
        $"using DslModels; [Model(Inputs = 3), Loss(LossKind.MSE), Optimizer({optimizer})] public partial class M {{ [Layer(2)] public partial Dense A {{ get; }} [Layer(1)] public partial Dense B {{ get; }} }}"));

    [Fact]
    public void Param_group_options_are_checked() => AssertReports("DSL0014",
        "[Model(Inputs = 3), Loss(LossKind.MSE), Optimizer(OptimizerKind.Adam)] public partial class M { [Layer(1), ParamGroup(Momentum = 0.5)] public partial Dense A { get; } }",
        messagePart: "Adam has no momentum");

    [Fact]
    public void Param_group_needs_an_optimizer() => AssertReports("DSL0014",
        "[Model(Inputs = 3)] public partial class M { [Layer(1), ParamGroup(LearningRate = 0.1)] public partial Dense A { get; } }", messagePart: "needs an [Optimizer]");

    [Theory]
    [InlineData("OptimizerKind.Adam, LearningRate = 0.01, Beta1 = 0.8, Amsgrad = true, WeightDecay = 0.1, BiasWeightDecay = 0")]
    [InlineData("OptimizerKind.Rprop, EtaMinus = 0.3, EtaPlus = 1.5, StepSizeMin = 1e-5, StepSizeMax = 10")]
    [InlineData("OptimizerKind.ASGD, Lambd = 1e-3, Alpha = 0.5, T0 = 100")]
    [InlineData("OptimizerKind.RMSprop, Momentum = 0.9, Centered = true, Alpha = 0.9")]
    public void Valid_optimizers_have_no_diagnostics(string optimizer) => Assert.Empty(GeneratorHarness.Analyze(
        $"using DslModels; [Model(Inputs = 3), Loss(LossKind.MSE), Optimizer({optimizer})] public partial class M {{ [Layer(2)] public partial Dense A {{ get; }} [Layer(1), ParamGroup(LearningRate = 0.1)] public partial Dense B {{ get; }} }}"));

    [Fact]
    public void A_parameter_buffer_beyond_int_range_is_an_error() => AssertReports("DSL0018",
        "[Model(Inputs = 100000)] public partial class M { [Layer(30000)] public partial Dense A { get; } }",
        messagePart: "need 3,000,030,000 floats");

    [Fact]
    public void A_very_large_layer_gets_a_note_and_still_generates()
    {
        var diagnostics = GeneratorHarness.Analyze("using DslModels; [Model(Inputs = 8192)] public partial class M { [Layer(4096)] public partial Dense Wide { get; } [Layer(10)] public partial Dense Head { get; } }");
        var note = Assert.Single(diagnostics, d => d.Id == "DSL0019");
        Assert.Equal(DiagnosticSeverity.Info, note.Severity);
        Assert.Equal("Wide", note.Location.SourceTree!.GetText().ToString(note.Location.SourceSpan));
        Assert.Contains("33,554,432 weights (128 MiB)", note.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void Loss_without_optimizer_warns() => AssertReports("DSL0015",
        "[Model(Inputs = 3), Loss(LossKind.MSE)] public partial class M { [Layer(1)] public partial Dense A { get; } }");

    [Fact]
    public void Diagnostics_can_be_suppressed_with_pragma()
    {
        var diagnostics = GeneratorHarness.Analyze("""
            using DslModels;
            #pragma warning disable DSL0015
            [Model(Inputs = 3), Loss(LossKind.MSE)] public partial class M { [Layer(1)] public partial Dense A { get; } }
            """);
        Assert.All(diagnostics.Where(d => d.Id == "DSL0015"), d => Assert.True(d.IsSuppressed));
    }

    private const string AotModel = "using DslModels; [Model(Inputs = 4)] public partial class Edge { [Layer(8, Activation.ReLU)] public partial Dense A { get; } [Layer(2)] public partial Dense B { get; } } public partial class Plain { }";

    private static System.Collections.Immutable.ImmutableArray<Microsoft.CodeAnalysis.Diagnostic> AnalyzeAot(params (string Name, string Value)[] properties) =>
        GeneratorHarness.Analyze(properties.ToDictionary(p => p.Name, p => p.Value), AotModel);

    private static System.Collections.Immutable.ImmutableArray<Microsoft.CodeAnalysis.Diagnostic> AnalyzeAot(string publishAot, string isa, string rid,
        string publishRid, string sdkRid, string outputType = "Exe") =>
        AnalyzeAot(("PublishAot", publishAot), ("IlcInstructionSet", isa), ("OutputType", outputType), ("RuntimeIdentifier", rid),
            ("PublishRuntimeIdentifier", publishRid), ("NETCoreSdkPortableRuntimeIdentifier", sdkRid));

    [Theory]
    [InlineData("true", "", "linux-x64", "", "linux-x64", "linux-x64")]
    [InlineData("True", "", "", "", "linux-x64", "linux-x64")] // no -r: the publish takes the SDK's portable identifier
    [InlineData(" true ", "  ", "", "", "linux-x64", "linux-x64")] // blanks are no value
    [InlineData("true", "", "win-x86", "", "linux-x64", "win-x86")]
    [InlineData("true", "", "linux-musl-x64", "", "osx-arm64", "linux-musl-x64")]
    [InlineData("true", "", "ubuntu.22.04-x64", "", "linux-x64", "ubuntu.22.04-x64")]
    [InlineData("true", "", "", "win-x64", "linux-arm64", "win-x64")] // PublishRuntimeIdentifier before the SDK's
    [InlineData("true", "", "", "", "x64", "x64")]
    public void NativeAot_on_x64_without_an_instruction_set_warns_at_the_model(string publishAot, string isa, string rid, string publishRid, string sdkRid,
        string reported)
    {
        var warning = Assert.Single(AnalyzeAot(publishAot, isa, rid, publishRid, sdkRid), d => d.Id == "DSL0020");
        Assert.Equal(Microsoft.CodeAnalysis.DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal("Model(Inputs = 4)", warning.Location.SourceTree!.GetText().ToString(warning.Location.SourceSpan));
        string message = warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("'Edge' is published with NativeAOT for " + reported + " without", message);
        Assert.Contains("x86-64-v3", message);
    }

    [Theory]
    [InlineData("true", "native", "linux-x64", "", "linux-x64")] // an instruction set chosen
    [InlineData("true", "x86-64-v2", "linux-x64", "", "linux-x64")] // the baseline chosen on purpose
    [InlineData("true", "", "linux-arm64", "", "linux-x64")] // Arm64's baseline has AdvSimd with FMA
    [InlineData("true", "", "", "linux-arm64", "linux-x64")] // publishes for Arm64 from an x64 machine
    [InlineData("true", "", "", "", "osx-arm64")]
    [InlineData("true", "", "", "", "")] // target unknown
    [InlineData("true", "", "browser-wasm", "", "linux-x64")]
    [InlineData("true", "", "any", "", "linux-x64")]
    [InlineData("yes", "", "linux-x64", "", "linux-x64")]
    [InlineData("false", "", "linux-x64", "", "linux-x64")]
    [InlineData("", "", "linux-x64", "", "linux-x64")] // JIT: the kernels pick the widest path at run time
    public void NativeAot_with_an_instruction_set_or_off_x64_is_silent(string publishAot, string isa, string rid, string publishRid, string sdkRid) =>
        Assert.DoesNotContain(AnalyzeAot(publishAot, isa, rid, publishRid, sdkRid), d => d.Id == "DSL0020");

    [Fact]
    public void NativeAot_in_a_library_is_silent_the_application_decides() =>
        Assert.DoesNotContain(AnalyzeAot("true", "", "linux-x64", "", "linux-x64", outputType: "Library"), d => d.Id == "DSL0020");

    [Fact]
    public void NativeAot_check_without_any_build_properties_is_silent() =>
        Assert.DoesNotContain(GeneratorHarness.Analyze(AotModel), d => d.Id == "DSL0020");

    [Fact]
    public void A_debug_build_gets_a_note_at_each_model()
    {
        var diagnostics = GeneratorHarness.Analyze(Microsoft.CodeAnalysis.OptimizationLevel.Debug, AotModel);
        var note = Assert.Single(diagnostics, d => d.Id == "DSL0021");
        Assert.Equal(Microsoft.CodeAnalysis.DiagnosticSeverity.Info, note.Severity);
        Assert.Equal("Model(Inputs = 4)", note.Location.SourceTree!.GetText().ToString(note.Location.SourceSpan));
        string message = note.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("'Edge' is compiled without optimizations", message);
        Assert.Contains("<Optimize>true</Optimize>", message);
    }

    [Fact]
    public void A_release_build_gets_no_debug_note() =>
        Assert.DoesNotContain(GeneratorHarness.Analyze(Microsoft.CodeAnalysis.OptimizationLevel.Release, AotModel), d => d.Id == "DSL0021");

    [Fact]
    public void The_package_props_file_makes_every_property_the_NativeAot_check_reads_visible()
    {
        string props = System.IO.File.ReadAllText(System.IO.Path.Combine(RepositoryRoot(), "Runtime", "build", "DslModels.props"));
        Assert.All(DslModels.Generator.Diagnostics.NativeAotCheck.Properties,
            name => Assert.Contains($"<CompilerVisibleProperty Include=\"{name}\" />", props));
    }

    internal static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string callerPath = "") =>
        System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(callerPath)!)!;
}
