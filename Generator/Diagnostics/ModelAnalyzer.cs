using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DslModels.Generator;

/// <summary>
/// Reports the mistakes in a [Model] class while the user types, with real source locations (so
/// <c>#pragma warning disable</c> works). It runs the generator's own parser, so a model the analyzer
/// accepts is exactly a model the generator emits.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ModelAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Diagnostics.DiagnosticDescriptors.ModelNotPartial,
        Diagnostics.DiagnosticDescriptors.UnsupportedModelShape,
        Diagnostics.DiagnosticDescriptors.InvalidInputs,
        Diagnostics.DiagnosticDescriptors.NoLayers,
        Diagnostics.DiagnosticDescriptors.InvalidLayerProperty,
        Diagnostics.DiagnosticDescriptors.InvalidUnits,
        Diagnostics.DiagnosticDescriptors.InvalidActivation,
        Diagnostics.DiagnosticDescriptors.DuplicateLayerName,
        Diagnostics.DiagnosticDescriptors.UnsupportedInit,
        Diagnostics.DiagnosticDescriptors.InvalidInitOption,
        Diagnostics.DiagnosticDescriptors.UnsupportedLoss,
        Diagnostics.DiagnosticDescriptors.LossDoesNotFitOutput,
        Diagnostics.DiagnosticDescriptors.UnsupportedOptimizer,
        Diagnostics.DiagnosticDescriptors.InvalidOptimizerOption,
        Diagnostics.DiagnosticDescriptors.NoTrainStep,
        Diagnostics.DiagnosticDescriptors.InitGainMismatch,
        Diagnostics.DiagnosticDescriptors.LossActivationMismatch,
        Diagnostics.DiagnosticDescriptors.ModelTooLarge,
        Diagnostics.DiagnosticDescriptors.LargeLayer,
        Diagnostics.DiagnosticDescriptors.NativeAotBaseline,
        Diagnostics.DiagnosticDescriptors.DebugBuild);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            INamedTypeSymbol? modelAttribute = start.Compilation.GetTypeByMetadataName(ModelParser.ModelAttributeName);
            if (modelAttribute is null)
                return;
            string? aotBaseline = Diagnostics.NativeAotCheck.BaselineTarget(start.Options.AnalyzerConfigOptionsProvider.GlobalOptions);
            bool debug = start.Compilation.Options.OptimizationLevel == OptimizationLevel.Debug;
            start.RegisterSymbolAction(symbolContext =>
            {
                var type = (INamedTypeSymbol)symbolContext.Symbol;
                AttributeData? model = null;
                foreach (AttributeData attribute in type.GetAttributes())
                    if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, modelAttribute))
                        model = attribute;
                if (model is null)
                    return;
                foreach (Diagnostic diagnostic in ModelParser.Parse(type, symbolContext.CancellationToken).Diagnostics)
                    symbolContext.ReportDiagnostic(diagnostic);
                if (aotBaseline is null && !debug)
                    return;
                Location location = model.ApplicationSyntaxReference?.GetSyntax(symbolContext.CancellationToken).GetLocation() ?? type.Locations[0];
                if (aotBaseline is not null)
                    symbolContext.ReportDiagnostic(Diagnostic.Create(Diagnostics.DiagnosticDescriptors.NativeAotBaseline, location, type.Name, aotBaseline));
                if (debug)
                    symbolContext.ReportDiagnostic(Diagnostic.Create(Diagnostics.DiagnosticDescriptors.DebugBuild, location, type.Name));
            }, SymbolKind.NamedType);
        });
    }
}
