using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DslModels.Generator.Tests;

/// <summary>Compiles C# against the framework and the DslModels runtime and runs the generator and the analyzer on it.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Preview);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.Ordinal))
            // A user's compilation never references the generator (it runs as an analyzer); its copy of the enums would clash.
            .Where(p => !Path.GetFileName(p).StartsWith("DslModels.Generator", StringComparison.Ordinal))
            .Append(typeof(DslModels.Dense).Assembly.Location)
            .Distinct(StringComparer.Ordinal);
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    /// <summary>A Release compilation (as users measure and deploy; <see cref="Analyze(OptimizationLevel, string[])"/> takes Debug).</summary>
    public static CSharpCompilation Compile(params string[] sources) => Compile(OptimizationLevel.Release, sources);

    public static CSharpCompilation Compile(OptimizationLevel optimization, params string[] sources) =>
        CSharpCompilation.Create("TestAssembly",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Model{i}.cs")),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
                optimizationLevel: optimization));

    public sealed record Result(GeneratorDriverRunResult Run, Compilation Output, ImmutableArray<Diagnostic> OutputDiagnostics)
    {
        public IEnumerable<GeneratedSourceResult> Sources => Run.Results.SelectMany(r => r.GeneratedSources);

        public IEnumerable<Diagnostic> Errors => OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);
    }

    public static Result Generate(params string[] sources) => Generate(OptimizationLevel.Release, sources);

    public static Result Generate(OptimizationLevel optimization, params string[] sources) => Generate(new Dictionary<string, string>(), optimization, sources);

    /// <summary>Runs the generator with MSBuild properties (as CompilerVisibleProperty passes them) on a Release compilation.</summary>
    public static Result Generate(IReadOnlyDictionary<string, string> buildProperties, params string[] sources) => Generate(buildProperties, OptimizationLevel.Release, sources);

    private static Result Generate(IReadOnlyDictionary<string, string> buildProperties, OptimizationLevel optimization, string[] sources)
    {
        CSharpCompilation compilation = Compile(optimization, sources);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            new[] { new ModelGenerator().AsSourceGenerator() }, parseOptions: ParseOptions, optionsProvider: new BuildProperties(buildProperties),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        return new Result(driver.GetRunResult(), output, output.GetDiagnostics());
    }

    public static ImmutableArray<Diagnostic> Analyze(params string[] sources) => Analyze(new Dictionary<string, string>(), sources);

    /// <summary>Analyzes a compilation of the given optimization level (a Debug or Release build).</summary>
    public static ImmutableArray<Diagnostic> Analyze(OptimizationLevel optimization, params string[] sources) =>
        Analyze(new Dictionary<string, string>(), optimization, sources);

    /// <summary>Analyzes with MSBuild properties as the build passes them (<c>build_property.Name</c> global options).</summary>
    public static ImmutableArray<Diagnostic> Analyze(IReadOnlyDictionary<string, string> buildProperties, params string[] sources) =>
        Analyze(buildProperties, OptimizationLevel.Release, sources);

    private static ImmutableArray<Diagnostic> Analyze(IReadOnlyDictionary<string, string> buildProperties, OptimizationLevel optimization, string[] sources)
    {
        // Analyze the compilation after generation, as the IDE does.
        Compilation compilation = Generate(optimization, sources).Output;
        var analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new ModelAnalyzer());
        var options = new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty, new BuildProperties(buildProperties));
        return compilation.WithAnalyzers(analyzers, options).GetAnalyzerDiagnosticsAsync(CancellationToken.None).Result;
    }

    private sealed class BuildProperties(IReadOnlyDictionary<string, string> properties) : AnalyzerConfigOptionsProvider
    {
        private readonly Options _global = new(properties.ToDictionary(p => "build_property." + p.Key, p => p.Value));

        public override AnalyzerConfigOptions GlobalOptions => _global;

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

        private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
        {
            public static readonly Options Empty = new(new Dictionary<string, string>());

            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) =>
                values.TryGetValue(key, out value);
        }
    }
}
