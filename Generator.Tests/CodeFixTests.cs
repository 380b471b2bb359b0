using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DslModels.CodeFixes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace DslModels.Generator.Tests;

/// <summary>The code fix for DSL0001 / DSL0005: applied in a workspace, the fixed model has no DslModels diagnostic left.</summary>
public class CodeFixTests
{
    private static async Task<string> FixAsync(string source, string id)
    {
        using var workspace = new AdhocWorkspace();
        var compilation = GeneratorHarness.Compile(source);
        var project = workspace.AddProject("Test", LanguageNames.CSharp)
            .WithCompilationOptions(compilation.Options)
            .WithParseOptions(GeneratorHarness.ParseOptions)
            .AddMetadataReferences(compilation.References);
        Document document = project.AddDocument("Model0.cs", SourceText.From(source));
        var diagnostics = GeneratorHarness.Analyze(source).Where(d => d.Id == id).ToList();
        Assert.NotEmpty(diagnostics);
        var tree = await document.GetSyntaxTreeAsync();
        var diagnostic = Diagnostic.Create(diagnostics[0].Descriptor, Location.Create(tree!, diagnostics[0].Location.SourceSpan));
        var actions = new List<CodeAction>();
        var fix = new MakePartialCodeFix();
        await fix.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (a, _) => actions.Add(a), CancellationToken.None));
        var action = Assert.Single(actions);
        var operations = await action.GetOperationsAsync(CancellationToken.None);
        var changed = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution.GetDocument(document.Id)!;
        return (await changed.GetTextAsync()).ToString();
    }

    [Fact]
    public async Task Model_class_becomes_partial()
    {
        string fixedSource = await FixAsync(
            "using DslModels;\n[Model(Inputs = 2)]\npublic class M { [Layer(1)] public partial Dense A { get; } }", MakePartialCodeFix.ModelNotPartialId);
        Assert.Contains("public partial class M", fixedSource);
        Assert.DoesNotContain(GeneratorHarness.Analyze(fixedSource), d => d.Id.StartsWith("DSL", System.StringComparison.Ordinal));
    }

    [Fact]
    public async Task Layer_property_becomes_a_partial_get_only_property()
    {
        string fixedSource = await FixAsync(
            "using DslModels;\n[Model(Inputs = 2)]\npublic partial class M { [Layer(1)] public Dense A => null!; }", MakePartialCodeFix.InvalidLayerPropertyId);
        Assert.Contains("public partial Dense A { get; }", fixedSource);
        Assert.DoesNotContain(GeneratorHarness.Analyze(fixedSource), d => d.Id.StartsWith("DSL", System.StringComparison.Ordinal));
    }
}
