using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace DslModels.Generator.Tests;

/// <summary>While the user types, the model class is incomplete at every keystroke: the generator must neither throw nor emit broken code.</summary>
public class RobustnessTests
{
    [Theory]
    [InlineData(Sources.Fashion)]
    [InlineData(Sources.Odd)]
    public void Model_cut_off_at_every_token_never_breaks_the_generator(string source)
    {
        var tokens = CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions).GetRoot().DescendantTokens().ToList();
        Assert.True(tokens.Count > 50);
        foreach (var token in tokens)
        {
            string prefix = source.Substring(0, token.Span.End);
            var result = GeneratorHarness.Generate(prefix);
            Assert.True(result.Run.Results.All(r => r.Exception is null), $"generator threw on prefix ending at '{token.Text}' ({token.Span.End})");
            Assert.Empty(result.Run.Diagnostics.Where(d => d.Id == "DSL9999"));
            // Whatever the generator emitted must not add an error of its own.
            var generatedTrees = result.Sources.Select(s => s.SyntaxTree).ToHashSet();
            var inGenerated = result.Errors.Where(e => e.Location.SourceTree is { } t && generatedTrees.Contains(t)).ToList();
            Assert.True(inGenerated.Count == 0, $"prefix ending at '{token.Text}' ({token.Span.End}): {string.Join("; ", inGenerated)}");
        }
    }

    [Fact]
    public void Invalid_models_produce_no_source()
    {
        var result = GeneratorHarness.Generate("""
            using DslModels;
            [Model(Inputs = 0)]
            public partial class Broken { [Layer(3)] public partial Dense A { get; } }
            """);
        Assert.Empty(result.Sources);
        Assert.True(result.Run.Results.All(r => r.Exception is null));
    }
}
