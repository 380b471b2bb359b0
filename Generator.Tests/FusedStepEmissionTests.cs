using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace DslModels.Generator.Tests;

/// <summary>
/// TrainStep updates the first layer's weight inside its weight gradient when that weight has at least
/// DslModelsFusedStepMinWeights floats (by default 65,536: with SGD at every batch, with other optimizers at batches of at
/// most 4, in the row-by-row twin); other models keep Backward then Step(). The numbers of the fused path are checked in Runtime.Tests (TrainStepFusionTests), which sets the
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

    /// <summary>
    /// Adam's update in the strip-by-strip tiles measured slower than Step()'s pass, in the row-by-row twin faster: by default
    /// only batches of at most 4 fuse (and warm the kernel); with the property set, every batch, as SGD does by default.
    /// </summary>
    [Fact]
    public void Adam_fuses_only_small_batches_unless_the_property_asks()
    {
        string byDefault = Generated(new Dictionary<string, string>(), Adam784);
        Assert.True(Fuses(byDefault));
        Assert.Contains("bool fused = batch <= 4 && DslParts(3, 0, batch, 512) == 1 && DslPrepareFusedStep();", byDefault);
        Assert.Contains("if (!_dslFusedKernelWarm && batch <= 4) DslWarmFusedKernel(batch);", byDefault);
        foreach (string value in new[] { "65536", "0" })
        {
            string asked = Generated(new Dictionary<string, string> { ["DslModelsFusedStepMinWeights"] = value }, Adam784);
            Assert.Contains("bool fused = DslParts(3, 0, batch, 512) == 1 && DslPrepareFusedStep();", asked);
            Assert.Contains("if (!_dslFusedKernelWarm) DslWarmFusedKernel(batch);", asked);
        }
        Assert.False(Fuses(Generated(new Dictionary<string, string> { ["DslModelsFusedStepMinWeights"] = "401409" }, Adam784))); // 784 x 512 + 1
        // SGD fuses every batch by default.
        Assert.Contains("bool fused = DslParts(3, 0, batch, 128) == 1 && DslPrepareFusedStep();", Generated(new Dictionary<string, string>(), Sources.Fashion));
    }

    /// <summary>
    /// The default with Adam, run: a model trained on batches of 1, 3, 32, 2, 20, 1 and 4 (Step() at the first, then fused,
    /// Step(), fused, Step(), fused, fused) keeps the bits of ZeroGrad + Forward + the runtime loss + Backward + the runtime
    /// optimizer's Step() on a second instance after every step, parameters and (read at the end, so the steps defer it)
    /// gradients. Runtime.Tests builds with the property set, so this is where the default runs.
    /// </summary>
    [Fact]
    public void Adams_small_batch_fusion_keeps_the_reference_bits_as_the_batch_changes()
    {
        string code = TrainsLikeTheReference("""
            [Model(Inputs = 784, Seed = 4)]
            [Loss(LossKind.CrossEntropy)]
            [Optimizer(OptimizerKind.Adam, LearningRate = 0.01, WeightDecay = 0.01)]
            public partial class Mixed
            {
                [Layer(96, Activation.ReLU)] partial Dense Hidden { get; }
                [Layer(10)] partial Dense Output { get; }
            }
            """, "Mixed", 784, 10);
        Assert.Contains("bool fused = batch <= 4 && DslParts(3, 0, batch, 96) == 1 && DslPrepareFusedStep();", code);
        Assert.DoesNotContain("_dslFuseRows", code); // 96 x 10 weights: the output layer does not fuse
    }

    /// <summary>
    /// A later layer with as many weights as the first layer needs to fuse (65,536 by default) is updated in its own row-by-row
    /// twin at batches of at most 4, which also writes its input gradient (from each row of W before its update), and not in DslStepRest;
    /// larger batches keep Step()'s pass for it. Run as above, with Adam and with SGD (whose first layer fuses at every batch),
    /// on 256-wide layers and on 260-wide ones (4 columns past the last vector on AVX-512 and AVX2), and with Tanh (no zeros
    /// to skip): the reference's bits at every step.
    /// </summary>
    [Theory]
    [InlineData("Adam, LearningRate = 0.01", 256, "ReLU")]
    [InlineData("Sgd, LearningRate = 0.05, Momentum = 0.9", 256, "ReLU")]
    [InlineData("AdamW, LearningRate = 0.01, WeightDecay = 0.1", 260, "Tanh")]
    public void A_later_layer_of_65536_weights_fuses_in_its_twin_at_small_batches(string optimizer, int width, string activation)
    {
        string code = TrainsLikeTheReference($$"""
            [Model(Inputs = 300, Seed = 5)]
            [Loss(LossKind.CrossEntropy)]
            [Optimizer(OptimizerKind.{{optimizer}})]
            public partial class Deep
            {
                [Layer({{width}}, Activation.{{activation}})] partial Dense First { get; }
                [Layer({{width}}, Activation.{{activation}})] partial Dense Second { get; }
                [Layer(10)] partial Dense Output { get; }
            }
            """, "Deep", 300, 10);
        Assert.Contains("bool rows = fused && batch <= 4;", code);
        Assert.Contains("if (!_dslFuseRows) DslDispatch(4, 1, batch, batch, accumulate);", code); // the twin writes dx instead
        Assert.Contains("private static void DslWeightGradStepRowsSecond(ref float x, ref float dz, ref float dx, ", code);
        Assert.DoesNotContain("private static void DslWeightGradStepSecond(", code); // the twin alone
        Assert.DoesNotContain("DslWeightGradStepRowsOutput", code); // 2,600 or 2,560 weights
        Assert.Contains("if (fused) DslStepRest(rows);", code);
    }

    /// <summary>
    /// Compiles <paramref name="model"/> (a [Model] class named <paramref name="name"/>, cross-entropy over <paramref name="classes"/>
    /// classes) with the default properties, loads it, trains one instance with TrainStep and another with ZeroGrad + Forward + the
    /// runtime loss + Backward + the runtime optimizer's Step() on batches of 1, 3, 32, 2, 20, 1 and 4, and asserts the same loss and
    /// parameters after every step and the same gradients at the end, bit for bit. Returns the generated code.
    /// </summary>
    private static string TrainsLikeTheReference(string model, string name, int inputs, int classes)
    {
        string source = $$"""
            using System;
            using DslModels;
            using DslModels.Losses;

            {{model}}

            public static class Probe
            {
                public static string Run()
                {
                    var rng = new Random(7);
                    using var fused = new {{name}}();
                    using var reference = new {{name}}();
                    int[] batches = { 1, 3, 32, 2, 20, 1, 4 };
                    for (int step = 0; step < batches.Length; step++)
                    {
                        int batch = batches[step];
                        var x = new float[batch * {{inputs}}];
                        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
                        var y = new int[batch];
                        for (int i = 0; i < batch; i++) y[i] = rng.Next({{classes}});
                        float loss = fused.TrainStep(x, y, batch);
                        reference.ZeroGrad();
                        var output = new float[batch * {{classes}}];
                        reference.Forward(x, output, batch);
                        var grad = new float[batch * {{classes}}];
                        float expected = CrossEntropyLoss.Forward(output, y, batch, {{classes}}, grad, Reduction.Mean, -100);
                        reference.Backward(grad, batch);
                        reference.Optimizer.Step();
                        if (BitConverter.SingleToInt32Bits(loss) != BitConverter.SingleToInt32Bits(expected)) return $"step {step} (batch {batch}): loss {loss} against {expected}";
                        for (int p = 0; p < fused.Parameters.Count; p++)
                            if (!fused.Parameters[p].Data.SequenceEqual(reference.Parameters[p].Data)) return $"step {step} (batch {batch}): {fused.Parameters[p].Name} differs";
                    }
                    for (int p = 0; p < fused.Parameters.Count; p++)
                        if (!fused.Parameters[p].Grad.SequenceEqual(reference.Parameters[p].Grad)) return $"{fused.Parameters[p].Name}'s gradient differs";
                    return "same";
                }
            }
            """;
        var result = GeneratorHarness.Generate(source);
        Assert.Empty(result.Errors);
        using var image = new System.IO.MemoryStream();
        var emitted = result.Output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        var probe = System.Reflection.Assembly.Load(image.ToArray()).GetType("Probe")!;
        Assert.Equal("same", (string)probe.GetMethod("Run")!.Invoke(null, null)!);
        return Assert.Single(result.Sources).SourceText.ToString();
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
