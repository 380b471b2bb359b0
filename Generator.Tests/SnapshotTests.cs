using System.Linq;
using Xunit;

namespace DslModels.Generator.Tests;

public class SnapshotTests
{
    [Theory]
    [InlineData("FashionClassifier", Sources.Fashion)]
    [InlineData("Regressor", Sources.Odd)]
    public void Generated_source_compiles_and_matches_the_snapshot(string name, string source)
    {
        var result = GeneratorHarness.Generate(source);
        Assert.Empty(result.Run.Diagnostics);
        Assert.True(result.Run.Results.All(r => r.Exception is null));
        Assert.Empty(result.Errors.Select(e => e.ToString()));
        var generated = Assert.Single(result.Sources);
        Snapshot.Verify(name, generated.SourceText.ToString());
    }

    [Theory]
    [InlineData(Sources.Odd)]
    [InlineData(Sources.Fashion)]
    [InlineData("using DslModels; [Model(Inputs = 3, Seed = -5)] [Loss(LossKind.NLL, IgnoreIndex = -7)] [Optimizer(OptimizerKind.Adam, LearningRate = 1e-3)] public partial class M { [Layer(2, Activation.LogSoftmax)] public partial Dense A { get; } }")]
    public void Output_is_deterministic_and_culture_invariant(string source)
    {
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("fi-FI");
            string fi = GeneratorHarness.Generate(source).Sources.Single().SourceText.ToString();
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
            string inv = GeneratorHarness.Generate(source).Sources.Single().SourceText.ToString();
            Assert.Equal(inv, fi);
            Assert.DoesNotContain('\u2212', fi);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }
}
