using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Xunit;

namespace DslModels.Generator.Tests;

/// <summary>
/// A plain weight-gradient kernel of a layer whose inputs are a multiple of 256 (rows a multiple of 1 KB apart) takes a chunk of
/// fewer than 16 samples row group by row group (each group's rows written whole), not strip by strip; other layers, and the
/// fused kernel (whose small last chunk takes the 1-row tiles), keep their order. The bits are checked in Runtime.Tests
/// (TrainStepFusionTests: the fused kernel's 1-row tiles against Backward's tiles on packed layers at batch 1, 3 and 9).
/// </summary>
public class WeightGradEmissionTests
{
    private const string ByRow = "the tiles go row group by row group";

    private static string Generated(string source)
    {
        var result = GeneratorHarness.Generate(new Dictionary<string, string>(), source);
        Assert.Empty(result.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        return Assert.Single(result.Sources).SourceText.ToString();
    }

    /// <summary>The text of the generated method <paramref name="name"/>, up to the next member's summary or signature.</summary>
    private static string Method(string code, string name)
    {
        int start = code.IndexOf($"private static void {name}(", System.StringComparison.Ordinal);
        Assert.True(start >= 0, $"{name} is not generated");
        var next = new Regex(@"\n    (private|public|internal|///)").Match(code, start + 1);
        return next.Success ? code.Substring(start, next.Index - start) : code.Substring(start);
    }

    private static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;

    private static string Model(string optimizer) => $$"""
        using DslModels;

        [Model(Inputs = 256)]
        [Loss(LossKind.CrossEntropy)]
        [Optimizer(OptimizerKind.{{optimizer}})]
        public partial class Packed
        {
            [Layer(512, Activation.ReLU)] partial Dense A { get; }  // 256 inputs: the sparse kernel's dense chunks
            [Layer(300, Activation.Tanh)] partial Dense B { get; }  // 512 inputs: the dense kernel
            [Layer(10)] partial Dense C { get; }                    // 300 inputs: rows 1,200 bytes apart
        }
        """;

    [Fact]
    public void Layers_with_inputs_a_multiple_of_256_take_small_chunks_row_group_by_row_group()
    {
        string code = Generated(Model("Adam"));
        // One per vector path (Vector512, Vector256, Vector128); the scalar path has no tiles.
        Assert.Equal(3, Count(Method(code, "DslWeightGradA"), ByRow));
        Assert.Equal(3, Count(Method(code, "DslWeightGradB"), ByRow));
        Assert.Equal(0, Count(Method(code, "DslWeightGradC"), ByRow));
        Assert.Contains("if (n1 - n0 < 16)", Method(code, "DslWeightGradA")); // any small chunk, the last one of a larger batch too
        Assert.Contains("if (batch < 16)", Method(code, "DslWeightGradB"));
    }

    [Fact]
    public void The_fused_kernel_keeps_its_1_row_tiles_for_small_chunks()
    {
        string code = Generated(Model("Sgd, LearningRate = 0.05, Momentum = 0.9")); // 256 x 512 weights with SGD: TrainStep's fused kernel
        Assert.Equal(0, Count(Method(code, "DslWeightGradStepA"), ByRow));
        Assert.Equal(3, Count(Method(code, "DslWeightGradA"), ByRow)); // Backward's plain kernel
    }
}
