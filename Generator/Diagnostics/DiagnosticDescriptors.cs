using Microsoft.CodeAnalysis;

namespace DslModels.Generator.Diagnostics;

/// <summary>
/// Every diagnostic DslModels reports. Ids are stable; docs/diagnostics.md explains each with an example and the fix.
/// </summary>
public static class DiagnosticDescriptors
{
    private const string Category = "DslModels";

    public const string ModelNotPartialId = "DSL0001";
    public const string UnsupportedModelShapeId = "DSL0002";
    public const string InvalidInputsId = "DSL0003";
    public const string NoLayersId = "DSL0004";
    public const string InvalidLayerPropertyId = "DSL0005";
    public const string InvalidUnitsId = "DSL0006";
    public const string InvalidActivationId = "DSL0007";
    public const string DuplicateLayerNameId = "DSL0008";
    public const string UnsupportedInitId = "DSL0009";
    public const string InvalidInitOptionId = "DSL0010";
    public const string UnsupportedLossId = "DSL0011";
    public const string LossDoesNotFitOutputId = "DSL0012";
    public const string UnsupportedOptimizerId = "DSL0013";
    public const string InvalidOptimizerOptionId = "DSL0014";
    public const string NoTrainStepId = "DSL0015";
    public const string InitGainMismatchId = "DSL0016";
    public const string LossActivationMismatchId = "DSL0017";
    public const string ModelTooLargeId = "DSL0018";
    public const string LargeLayerId = "DSL0019";
    public const string NativeAotBaselineId = "DSL0020";
    public const string DebugBuildId = "DSL0021";
    public const string GeneratorFailureId = "DSL9999";

    /// <summary>Format: The model class '{0}' must be declared partial.</summary>
    public static readonly DiagnosticDescriptor ModelNotPartial = Error(ModelNotPartialId, "Model class must be partial",
        "The model class '{0}' must be declared partial so the generator can add its members");

    /// <summary>Format: The model class '{0}' cannot be generated: {1}.</summary>
    public static readonly DiagnosticDescriptor UnsupportedModelShape = Error(UnsupportedModelShapeId, "Model class cannot be generated",
        "The model class '{0}' cannot be generated: {1}");

    /// <summary>Format: [Model(Inputs = {0})]: Inputs must be at least 1.</summary>
    public static readonly DiagnosticDescriptor InvalidInputs = Error(InvalidInputsId, "Model input width must be positive",
        "[Model(Inputs = {0})]: Inputs must be at least 1 (the width of one input sample)");

    /// <summary>Format: The model '{0}' has no [Layer] property.</summary>
    public static readonly DiagnosticDescriptor NoLayers = Error(NoLayersId, "Model has no layers",
        "The model '{0}' has no [Layer] property; declare at least one, e.g. [Layer(10)] partial Dense Output {{ get; }}");

    /// <summary>Format: The layer property '{0}' must be declared as 'partial Dense {0} {{ get; }}': {1}.</summary>
    public static readonly DiagnosticDescriptor InvalidLayerProperty = Error(InvalidLayerPropertyId, "Layer property has the wrong form",
        "The layer property '{0}' must be declared as 'partial Dense {0} {{ get; }}': {1}");

    /// <summary>Format: [Layer({0})] on '{1}': units must be at least 1.</summary>
    public static readonly DiagnosticDescriptor InvalidUnits = Error(InvalidUnitsId, "Layer width must be positive",
        "[Layer({0})] on '{1}': units must be at least 1");

    /// <summary>Format: '{0}' on '{1}': {2}.</summary>
    public static readonly DiagnosticDescriptor InvalidActivation = Error(InvalidActivationId, "Invalid activation",
        "Activation '{0}' on '{1}': {2}");

    /// <summary>Format: Layer name '{0}' is used by '{1}' and '{2}'.</summary>
    public static readonly DiagnosticDescriptor DuplicateLayerName = Error(DuplicateLayerNameId, "Duplicate layer name",
        "Layer name '{0}' is used by both '{1}' and '{2}'; parameter names must be unique");

    /// <summary>Format: {0} on '{1}' is not a known InitKind.</summary>
    public static readonly DiagnosticDescriptor UnsupportedInit = Error(UnsupportedInitId, "Unknown init method",
        "{0} on '{1}' is not a known InitKind");

    /// <summary>Format: {0} on '{1}': {2}.</summary>
    public static readonly DiagnosticDescriptor InvalidInitOption = Error(InvalidInitOptionId, "Invalid init option",
        "{0} on '{1}': {2}");

    /// <summary>Format: [Loss({0})]: {1} (an invalid option, or a loss generated models cannot train with yet).</summary>
    public static readonly DiagnosticDescriptor UnsupportedLoss = Error(UnsupportedLossId, "Invalid or unsupported loss",
        "[Loss({0})]: {1}");

    /// <summary>Format: {0} does not fit the model's output of width {1}: {2}.</summary>
    public static readonly DiagnosticDescriptor LossDoesNotFitOutput = Error(LossDoesNotFitOutputId, "Loss does not fit the output",
        "{0} does not fit the model's output of width {1}: {2}");

    /// <summary>Format: [Optimizer({0})] cannot drive a generated model: {1}.</summary>
    public static readonly DiagnosticDescriptor UnsupportedOptimizer = Error(UnsupportedOptimizerId, "Optimizer cannot drive a generated model",
        "[Optimizer({0})] cannot drive a generated model: {1}");

    /// <summary>Format: [Optimizer]: {0}.</summary>
    public static readonly DiagnosticDescriptor InvalidOptimizerOption = Error(InvalidOptimizerOptionId, "Invalid optimizer option",
        "[Optimizer]: {0}");

    /// <summary>Format: The model '{0}' has {1} but no {2}: no Step/TrainStep is generated.</summary>
    public static readonly DiagnosticDescriptor NoTrainStep = new(NoTrainStepId, "Model cannot train",
        "The model '{0}' has {1} but no {2}; TrainStep is generated only when both [Loss] and [Optimizer] are given",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    /// <summary>Format: {0} on '{1}' assumes {2}, but the layer's activation is {3}; use {4}.</summary>
    public static readonly DiagnosticDescriptor InitGainMismatch = new(InitGainMismatchId, "Init gain does not match the layer's activation",
        "{0} on '{1}' assumes {2}, but the layer's activation is {3}: activations will shrink or grow layer after layer; use {4}",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    /// <summary>Format: {0}: {1}.</summary>
    public static readonly DiagnosticDescriptor LossActivationMismatch = new(LossActivationMismatchId, "The last activation does not fit the loss",
        "{0}: {1}", Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    /// <summary>Format: The parameters of '{0}' need {1} floats; a model's parameter buffer holds at most {2}.</summary>
    public static readonly DiagnosticDescriptor ModelTooLarge = Error(ModelTooLargeId, "Model too large",
        "The parameters of '{0}' need {1} floats (with 64-byte alignment); a generated model's parameter buffer holds at most {2} floats (8 GiB)");

    /// <summary>Format: Layer '{0}' has {1} weights ({2} MiB): ...</summary>
    public static readonly DiagnosticDescriptor LargeLayer = new(LargeLayerId, "Very large layer",
        "Layer '{0}' has {1} weights ({2} MiB): its kernels are loops with constant trip counts (the generated code does not grow with the width), and every pass streams the weights from memory, so expect memory-bound speed at small batch",
        Category, DiagnosticSeverity.Info, isEnabledByDefault: true);

    /// <summary>Format: '{0}' is published with NativeAOT for {1} without an IlcInstructionSet: ...</summary>
    public static readonly DiagnosticDescriptor NativeAotBaseline = new(NativeAotBaselineId, "NativeAOT for x64 without an instruction set",
        "'{0}' is published with NativeAOT for {1} without <IlcInstructionSet>: the native code then targets x86-64-v2 (SSE4.2), so the model's kernels take their 128-bit path without fused multiply-adds, 2-7x slower than with AVX2 or AVX-512 (docs/benchmarks.md, NativeAOT). Set <IlcInstructionSet> to the oldest CPU you deploy to: x86-64-v3 (AVX2 and FMA), x86-64-v4 (AVX-512) or native (this machine); set it to x86-64-v2 to keep the baseline on purpose.",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    /// <summary>Format: '{0}' is compiled without optimizations (a Debug build): ...</summary>
    public static readonly DiagnosticDescriptor DebugBuild = new(DebugBuildId, "Model compiled without optimizations",
        "'{0}' is compiled without optimizations (a Debug build): the JIT then compiles its kernels unoptimized, 10-20x slower than in Release (mlp128's train step at batch 32: about 1,060 us against 78). Measure and deploy a Release build, or set <Optimize>true</Optimize> in the project that declares the model (for example a small library of models, so the rest of the application stays debuggable).",
        Category, DiagnosticSeverity.Info, isEnabledByDefault: true);

    /// <summary>Format: The DslModels generator failed on '{0}': {1}.</summary>
    public static readonly DiagnosticDescriptor GeneratorFailure = Error(GeneratorFailureId, "Generator failure",
        "The DslModels generator failed on '{0}': {1}. Please report this.");

    private static DiagnosticDescriptor Error(string id, string title, string format) =>
        new(id, title, format, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
