using System;
using System.Collections;
using System.Linq;
using System.Reflection;
using DslModels.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace DslModels.Generator.Tests;

public class IncrementalityTests
{
    private static (GeneratorDriver Driver, CSharpCompilation Compilation) Run(string source)
    {
        var compilation = GeneratorHarness.Compile(source);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new ModelGenerator().AsSourceGenerator() }, parseOptions: GeneratorHarness.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        return (driver.RunGenerators(compilation), compilation);
    }

    private static IncrementalStepRunReason SpecStepReason(GeneratorDriver driver) =>
        driver.GetRunResult().Results[0].TrackedSteps[ModelGenerator.StepNames.Spec].Single().Outputs.Single().Reason;

    [Fact]
    public void Adding_a_comment_keeps_the_spec_cached()
    {
        var (driver, compilation) = Run(Sources.Fashion);
        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.First(),
            CSharpSyntaxTree.ParseText(Sources.Fashion + "\n// a comment\n", GeneratorHarness.ParseOptions, path: "Model0.cs"));
        driver = driver.RunGenerators(edited);
        Assert.Equal(IncrementalStepRunReason.Unchanged, SpecStepReason(driver));
    }

    [Fact]
    public void Changing_a_width_modifies_the_spec()
    {
        var (driver, compilation) = Run(Sources.Fashion);
        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.First(),
            CSharpSyntaxTree.ParseText(Sources.Fashion.Replace("Layer(128", "Layer(64", StringComparison.Ordinal), GeneratorHarness.ParseOptions, path: "Model0.cs"));
        driver = driver.RunGenerators(edited);
        Assert.Equal(IncrementalStepRunReason.Modified, SpecStepReason(driver));
    }

    [Fact]
    public void Specs_hold_no_symbols_syntax_or_compilations()
    {
        Type[] forbidden = [typeof(ISymbol), typeof(SyntaxNode), typeof(Location), typeof(Compilation), typeof(SemanticModel)];
        var seen = new System.Collections.Generic.HashSet<Type>();
        void Walk(Type t)
        {
            if (!seen.Add(t) || t.IsPrimitive || t.IsEnum || t == typeof(string)) return;
            Assert.False(forbidden.Any(f => f.IsAssignableFrom(t)), $"{t} must not be reachable from a spec");
            Assert.False(typeof(IEnumerable).IsAssignableFrom(t) && !t.Name.StartsWith("EquatableArray", StringComparison.Ordinal),
                $"{t}: collections in specs must be EquatableArray");
            foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract"))
                Walk(p.PropertyType);
            foreach (var a in t.GetGenericArguments())
                Walk(a);
        }
        Walk(typeof(ModelGenerator.ParseOutcome));
        Assert.Contains(typeof(LayerSpec), seen);
    }

    [Fact]
    public void Equal_sources_give_equal_specs()
    {
        var a = Run(Sources.Odd).Driver.GetRunResult().Results[0].TrackedSteps[ModelGenerator.StepNames.Spec].Single().Outputs.Single().Value;
        var b = Run(Sources.Odd).Driver.GetRunResult().Results[0].TrackedSteps[ModelGenerator.StepNames.Spec].Single().Outputs.Single().Value;
        Assert.Equal(a, b);
        Assert.NotNull(((ModelGenerator.ParseOutcome)a).Spec);
    }
}
