using System;
using System.Threading;
using DslModels.Generator.Diagnostics;
using DslModels.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace DslModels.Generator;

/// <summary>
/// The DslModels source generator: for every <c>[Model]</c> class, parse it into a <see cref="ModelSpec"/>
/// and emit the model's members. Mistakes are reported by <see cref="ModelAnalyzer"/>, which runs the same
/// parser; the generator itself stays silent on invalid models (it emits nothing for them) and never throws.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class ModelGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (for incrementality tests).</summary>
    public static class StepNames
    {
        public const string Spec = "DslModels.Spec";
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParseOutcome> specs = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ModelParser.ModelAttributeName,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax,
                transform: static (ctx, ct) => Parse(ctx, ct))
            .WithTrackingName(StepNames.Spec);

        // The one build property the emitted code depends on (see ModelSpec.FusedStepMinWeights); a change re-emits every model.
        IncrementalValueProvider<int?> fusedStepMinWeights = context.AnalyzerConfigOptionsProvider.Select(static (options, _) =>
            options.GlobalOptions.TryGetValue("build_property.DslModelsFusedStepMinWeights", out string? text)
            && int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int value) && value >= 0
                ? value
                : (int?)null);

        context.RegisterSourceOutput(specs.Combine(fusedStepMinWeights), static (spc, pair) =>
        {
            var (outcome, minWeights) = pair;
            if (outcome.Failure is not null)
            {
                spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.GeneratorFailure, Location.None, outcome.ClassName, outcome.Failure));
                return;
            }
            if (outcome.Spec is null)
                return;
            string source;
            try
            {
                source = Emitter.Emit(outcome.Spec with { FusedStepMinWeights = minWeights }, spc.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (Exception ex)
            {
                spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.GeneratorFailure, Location.None, outcome.ClassName, ex.GetType().Name + ": " + ex.Message));
                return;
            }
            spc.AddSource(outcome.Spec.HintName, SourceText.From(source, System.Text.Encoding.UTF8));
        });
    }

    private static ParseOutcome Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type)
            return new ParseOutcome(string.Empty, null, null);
        try
        {
            return new ParseOutcome(type.Name, ModelParser.Parse(type, cancellationToken).Spec, null);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex)
        {
            return new ParseOutcome(type.Name, null, ex.GetType().Name + ": " + ex.Message);
        }
    }

    /// <summary>What the pipeline carries per model: the spec, or why there is none. Value-equatable.</summary>
    internal sealed record ParseOutcome(string ClassName, ModelSpec? Spec, string? Failure);
}
