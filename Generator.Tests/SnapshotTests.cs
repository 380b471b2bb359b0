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

    [Fact]
    public void Output_is_deterministic_and_culture_invariant()
    {
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("fi-FI");
            string fi = GeneratorHarness.Generate(Sources.Odd).Sources.Single().SourceText.ToString();
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
            string inv = GeneratorHarness.Generate(Sources.Odd).Sources.Single().SourceText.ToString();
            Assert.Equal(inv, fi);
            Assert.DoesNotContain('\u2212', fi);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }
}
