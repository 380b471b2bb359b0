using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace DslModels.Generator.Tests;

/// <summary>
/// TrainStep updates the first layer's weight inside its weight gradient when that weight has at least
/// DslModelsFusedStepMinWeights floats (by default: with SGD from 65,536, with other optimizers never); other models keep
/// Backward then Step(). The numbers of the fused path are checked in Runtime.Tests (TrainStepFusionTests), which sets the
/// property to 0.
/// </summary>
public class FusedStepEmissionTests
{
    private static string Generated(IReadOnlyDictionary<string, string> properties, string source)
    {
        var result = GeneratorHarness.Generate(properties, source);
        Assert.Empty(result.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        return Assert.Single(result.Sources).SourceText.ToString();
    }

    private static bool Fuses(string code) => code.Contains("&& DslPrepareFusedStep();") && code.Contains("private static void DslWeightGradStep");

    [Fact]
    public void A_first_layer_of_784_x_128_weights_is_updated_in_the_backward_pass_by_default()
    {
        string code = Generated(new Dictionary<string, string>(), Sources.Fashion);
        Assert.True(Fuses(code));
        Assert.Contains("private static void DslWeightGradStepHidden(", code);
        Assert.DoesNotContain("DslWeightGradStepOutput", code); // the output layer's W is still read by its input gradient
        Assert.Contains("DslSgdMomentum(ref p, ref g, ref momentumBuffer, 100352, 101770, _dslFuseF[0]", code); // DslStepRest: hidden.bias, output.weight and output.bias, one run
    }

    private const string Adam784 = """
        using DslModels;

        [Model(Inputs = 784)]
        [Loss(LossKind.CrossEntropy)]
        [Optimizer(OptimizerKind.Adam)]
        public partial class Wide
        {
            [Layer(512, Activation.ReLU)] partial Dense Hidden { get; }
            [Layer(10)] partial Dense Output { get; }
        }
        """;

    [Fact]
    public void Adam_keeps_backward_then_step_unless_the_property_asks() // its fused update measured slower
    {
        Assert.False(Fuses(Generated(new Dictionary<string, string>(), Adam784)));
        Assert.True(Fuses(Generated(new Dictionary<string, string> { ["DslModelsFusedStepMinWeights"] = "65536" }, Adam784)));
    }

    [Fact]
    public void A_small_first_layer_keeps_backward_then_step() =>
        Assert.False(Fuses(Generated(new Dictionary<string, string>(), Sources.Odd)));

    [Theory]
    [InlineData("0", true)]
    [InlineData("165", true)] // 5 x 33 weights
    [InlineData("166", false)]
    [InlineData("not a number", false)] // the default
    [InlineData("-1", false)]
    public void The_build_property_sets_the_threshold(string value, bool fused) =>
        Assert.Equal(fused, Fuses(Generated(new Dictionary<string, string> { ["DslModelsFusedStepMinWeights"] = value }, Sources.Odd)));

    /// <summary>
    /// Every optimizer's update written into the sparse tiles of a ReLU layer (and the calls after the dense tiles and the
    /// last columns: 40 inputs) compiles: its body's names must not clash with the kernel's.
    /// </summary>
    [Theory]
    [InlineData("Sgd, Momentum = 0.9, Nesterov = true, WeightDecay = 0.1")]
    [InlineData("Sgd, Maximize = true")]
    [InlineData("Adam, Amsgrad = true, Maximize = true")]
    [InlineData("AdamW, WeightDecay = 0.1")]
    [InlineData("Adagrad, Maximize = true")]
    [InlineData("RMSprop, Momentum = 0.5, Centered = true")]
    [InlineData("RMSprop")]
    [InlineData("Adadelta, Maximize = true")]
    [InlineData("Adamax, Maximize = true")]
    [InlineData("NAdam")]
    [InlineData("RAdam")]
    [InlineData("ASGD, Maximize = true")]
    [InlineData("Rprop, Maximize = true")]
    public void Every_optimizer_fuses_into_the_sparse_tiles_and_compiles(string optimizer)
    {
        string source = $$"""
            using DslModels;

            [Model(Inputs = 40)]
            [Loss(LossKind.CrossEntropy)]
            [Optimizer(OptimizerKind.{{optimizer}}, LearningRate = 0.01)]
            public partial class Sparse
            {
                [Layer(24, Activation.ReLU)] partial Dense First { get; }
                [Layer(3)] partial Dense Second { get; }
            }
            """;
        string code = Generated(new Dictionary<string, string> { ["DslModelsFusedStepMinWeights"] = "0" }, source);
        Assert.True(Fuses(code));
        Assert.Contains("if (n1 == batch) updated = true;", code);
    }

    /// <summary>
    /// The sparse tiles of the fused kernel stream the last chunk's dW to memory (StreamingStores) for a first layer of at least
    /// 65,536 weights, on each vector path whose vectors tile the rows exactly (aligned stores): 784 inputs on all three, 780 on
    /// Vector128 only; one fence per streaming path, which TrainStep may skip with the stores (the gradient is then computed on
    /// demand). Smaller layers and the plain kernel keep ordinary stores.
    /// </summary>
    [Theory]
    [InlineData(784, 128, 3)]
    [InlineData(512, 128, 3)] // 65,536 weights
    [InlineData(512, 127, 0)] // 65,024
    [InlineData(780, 128, 1)] // 780 = 48 x 16 + 12 = 97 x 8 + 4 = 195 x 4
    [InlineData(40, 24, 0)]
    public void A_large_first_layer_streams_its_weight_gradient_in_the_fused_kernel(int inputs, int outputs, int paths)
    {
        string source = $$"""
            using DslModels;

            [Model(Inputs = {{inputs}})]
            [Loss(LossKind.CrossEntropy)]
            [Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
            public partial class Streaming
            {
                [Layer({{outputs}}, Activation.ReLU)] partial Dense First { get; }
                [Layer(3)] partial Dense Second { get; }
            }
            """;
        string code = Generated(new Dictionary<string, string> { ["DslModelsFusedStepMinWeights"] = "0" }, source);
        Assert.True(Fuses(code));
        // Every first layer, packed strips or not, also gets the kernel's row-by-row twin for batches of at most 4 (DslWeightGradStepRows).
        Assert.Contains("private static void DslWeightGradStepRowsFirst(", code, System.StringComparison.Ordinal);
        Assert.Equal(paths, Count(code, "if (updated && !deferGrad) global::DslModels.StreamingStores.Fence();"));
        Assert.Equal(paths, Count(code, "if (!deferGrad) global::DslModels.StreamingStores.Fence();")); // the twin's
        // TrainStep may skip those stores: each streaming path reports it, and the model computes dW when asked (DslMaterializeGradients).
        Assert.Equal(paths, Count(code, "if (updated && deferGrad) gradDeferred = true;"));
        Assert.Equal(paths, Count(code, "if (deferGrad) gradDeferred = true;"));
        Assert.Contains("new global::DslModels.Parameter(\"first.weight\", _dslParameters, _dslGradients, DslFirstWeightOffset, DslMaterializeGradients, ", code);
        Assert.Equal(paths == 0, !code.Contains("StreamingStores.Store("));
        // Only in the fused kernel: Backward's dW is read by Step() right after it.
        int plain = code.IndexOf("private static void DslWeightGradFirst(", System.StringComparison.Ordinal);
        int fused = code.IndexOf("private static void DslWeightGradStepFirst(", System.StringComparison.Ordinal);
        Assert.True(plain >= 0 && fused > plain);
        Assert.DoesNotContain("StreamingStores", code.Substring(plain, fused - plain));
    }

    private static int Count(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, System.StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, System.StringComparison.Ordinal))
            count++;
        return count;
    }

    [Fact]
    public void The_package_props_file_makes_the_property_visible()
    {
        string props = System.IO.File.ReadAllText(System.IO.Path.Combine(DiagnosticTests.RepositoryRoot(), "Runtime", "build", "DslModels.props"));
        Assert.Contains("<CompilerVisibleProperty Include=\"DslModelsFusedStepMinWeights\" />", props);
    }
}
