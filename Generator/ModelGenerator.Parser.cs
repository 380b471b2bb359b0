using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using DslModels.Generator.Diagnostics;
using DslModels.Generator.Helpers;
using DslModels.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DslModels.Generator;

/// <summary>
/// Turns a [Model] class symbol into a <see cref="ModelSpec"/> and the diagnostics of its mistakes.
/// Shared by the generator (which keeps only the spec) and <see cref="ModelAnalyzer"/> (which reports
/// the diagnostics), so the IDE and the generated code always agree on what is valid. Never throws
/// on malformed code: whatever cannot be understood yields a diagnostic and no spec.
/// </summary>
internal static class ModelParser
{
    public const string ModelAttributeName = "DslModels.ModelAttribute";
    public const string LayerAttributeName = "DslModels.LayerAttribute";
    public const string InitAttributeName = "DslModels.InitAttribute";
    public const string BiasInitAttributeName = "DslModels.BiasInitAttribute";
    public const string LossAttributeName = "DslModels.LossAttribute";
    public const string OptimizerAttributeName = "DslModels.OptimizerAttribute";
    public const string ParamGroupAttributeName = "DslModels.ParamGroupAttribute";
    public const string DenseTypeName = "DslModels.Dense";

    private static readonly HashSet<string> Nonlinearities = new(StringComparer.Ordinal)
    {
        "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
        "sigmoid", "tanh", "relu", "leaky_relu", "selu",
    };

    public static (ModelSpec? Spec, ImmutableArray<Diagnostic> Diagnostics) Parse(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        bool ok = true;
        Location typeLocation = type.Locations.FirstOrDefault() ?? Location.None;

        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration &&
                !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ModelNotPartial, declaration.Identifier.GetLocation(), type.Name));
                ok = false;
            }
        }
        string? shapeProblem =
            type.TypeKind != TypeKind.Class ? "only classes can be models" :
            type.ContainingType is not null ? "nested model classes are not supported yet; declare it at namespace level" :
            type.IsGenericType ? "generic model classes are not supported" :
            type.IsStatic ? "a model cannot be static" :
            type.IsAbstract ? "a model cannot be abstract" : null;
        if (shapeProblem is not null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnsupportedModelShape, typeLocation, type.Name, shapeProblem));
            ok = false;
        }

        AttributeData? modelAttribute = FindAttribute(type, ModelAttributeName);
        int inputs = 0;
        long seed = 0;
        if (modelAttribute is not null)
        {
            inputs = Named(modelAttribute, "Inputs", 0);
            seed = Named(modelAttribute, "Seed", 0L);
        }
        if (inputs < 1)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidInputs, AttributeLocation(modelAttribute, typeLocation), inputs));
            ok = false;
        }

        // Layers, in declaration order (file path, then position, so partial declarations are deterministic).
        var layerProperties = type.GetMembers()
            .OfType<IPropertySymbol>()
            .Where(p => FindAttribute(p, LayerAttributeName) is not null)
            .OrderBy(p => p.Locations.FirstOrDefault()?.SourceTree?.FilePath ?? string.Empty, StringComparer.Ordinal)
            .ThenBy(p => p.Locations.FirstOrDefault()?.SourceSpan.Start ?? 0)
            .ToList();
        if (layerProperties.Count == 0)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.NoLayers, typeLocation, type.Name));
            ok = false;
        }

        var layers = new List<LayerSpec>();
        var layerLocations = new List<Location>();
        var namesSeen = new Dictionary<string, string>(StringComparer.Ordinal);
        int width = Math.Max(inputs, 1);
        foreach (IPropertySymbol property in layerProperties)
        {
            cancellationToken.ThrowIfCancellationRequested();
            LayerSpec? layer = ParseLayer(property, width, diagnostics, namesSeen, cancellationToken);
            if (layer is null)
            {
                ok = false;
                continue;
            }
            if (layer.Activation is Activation.Softmax or Activation.LogSoftmax && !SymbolEqualityComparer.Default.Equals(property, layerProperties[layerProperties.Count - 1]))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidActivation, property.Locations.FirstOrDefault() ?? typeLocation, layer.Activation, property.Name,
                    "Softmax and LogSoftmax normalise the model's output and are allowed on the last layer only"));
                ok = false;
            }
            layers.Add(layer);
            layerLocations.Add(property.Locations.FirstOrDefault() ?? typeLocation);
            width = layer.Out;
        }

        // Sizes: the arena is int-indexed (spans, offsets in the emitted code), so the whole parameter buffer must fit.
        long arena = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            long weights = (long)l.In * l.Out;
            arena += AlignUp(weights) + (l.HasBias ? AlignUp(l.Out) : 0);
            if (weights >= LargeLayerWeights)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.LargeLayer, layerLocations[i], l.PropertyName,
                    weights.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                    (weights * 4 / (1024 * 1024)).ToString("N0", System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
        if (arena > MaxArenaFloats)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ModelTooLarge, typeLocation, type.Name,
                arena.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), MaxArenaFloats.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)));
            ok = false;
        }

        LossSpec? loss = null;
        AttributeData? lossAttribute = FindAttribute(type, LossAttributeName);
        if (lossAttribute is not null)
        {
            loss = ParseLoss(lossAttribute, layers, typeLocation, diagnostics);
            ok &= loss is not null;
        }

        OptimizerSpec? optimizer = null;
        AttributeData? optimizerAttribute = FindAttribute(type, OptimizerAttributeName);
        if (optimizerAttribute is not null)
        {
            optimizer = ParseOptimizer(optimizerAttribute, layers, typeLocation, diagnostics);
            ok &= optimizer is not null;
            if (optimizer is { Kind: OptimizerKind.LBFGS } && loss is { Inputs: > 1 })
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnsupportedOptimizer, AttributeLocation(optimizerAttribute, typeLocation), "LBFGS",
                    $"a generated model runs LBFGS with single-input losses; with {loss.Kind} use DslModels.Optim.Lbfgs with a closure over Forward and Backward"));
                ok = false;
            }
        }
        if (optimizerAttribute is null && layers.FirstOrDefault(l => l.Group is not null) is { } grouped)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidOptimizerOption, typeLocation,
                $"[ParamGroup] on {grouped.PropertyName} needs an [Optimizer] on the model"));
            ok = false;
        }
        if ((lossAttribute is null) != (optimizerAttribute is null))
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.NoTrainStep, typeLocation, type.Name,
                lossAttribute is null ? "[Optimizer]" : "[Loss]", lossAttribute is null ? "[Loss]" : "[Optimizer]"));
        }

        if (!ok)
            return (null, diagnostics.ToImmutable());

        string ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : string.Empty;
        string hint = (ns.Length == 0 ? type.Name : ns + "." + type.Name) + ".g.cs";
        var spec = new ModelSpec(ns, type.Name, hint, inputs, seed, new EquatableArray<LayerSpec>(layers.ToArray()), loss, optimizer);
        return (spec, diagnostics.ToImmutable());
    }

    /// <summary>The largest parameter buffer: int-indexed, a multiple of 16 floats.</summary>
    internal const long MaxArenaFloats = int.MaxValue / 16 * 16;

    /// <summary>From this many weights (64 MiB) a layer gets the DSL0019 note.</summary>
    internal const long LargeLayerWeights = 1L << 24;

    private static long AlignUp(long n) => (n + 15) / 16 * 16;

    private static LayerSpec? ParseLayer(IPropertySymbol property, int inWidth, ImmutableArray<Diagnostic>.Builder diagnostics,
        Dictionary<string, string> namesSeen, CancellationToken cancellationToken)
    {
        Location location = property.Locations.FirstOrDefault() ?? Location.None;
        AttributeData attribute = FindAttribute(property, LayerAttributeName)!;
        bool ok = true;

        var declaration = property.DeclaringSyntaxReferences
            .Select(r => r.GetSyntax(cancellationToken))
            .OfType<PropertyDeclarationSyntax>()
            .FirstOrDefault(p => p.AccessorList is not null && p.AccessorList.Accessors.All(a => a.Body is null && a.ExpressionBody is null));
        string? formProblem =
            declaration is null ? "it needs a 'get;' accessor without a body" :
            !declaration.Modifiers.Any(SyntaxKind.PartialKeyword) ? "it is not partial" :
            property.IsStatic ? "it must not be static" :
            property.SetMethod is not null || property.GetMethod is null ? "it must have exactly one accessor, 'get;'" :
            property.Type.ToDisplayString() != DenseTypeName ? $"its type is '{property.Type.ToDisplayString()}', not DslModels.Dense" :
            null;
        if (formProblem is not null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidLayerProperty, location, property.Name, formProblem));
            ok = false;
        }

        int units = attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is int u ? u : 0;
        if (units < 1)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidUnits, AttributeLocation(attribute, location), units, property.Name));
            ok = false;
        }

        int activationValue = attribute.ConstructorArguments.Length > 1 && attribute.ConstructorArguments[1].Value is int a ? a : 0;
        var activation = (Activation)activationValue;
        if (!Enum.IsDefined(typeof(Activation), activation))
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidActivation, AttributeLocation(attribute, location), activationValue, property.Name, "not a known Activation value"));
            ok = false;
        }
        double slope = Named(attribute, "NegativeSlope", 0.01);
        if (activation == Activation.LeakyReLU && !(slope >= 0 && !double.IsInfinity(slope)))
        {
            // The backward pass recovers the sign of the pre-activation from the output, which needs a slope >= 0.
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidActivation, AttributeLocation(attribute, location), "LeakyReLU", property.Name,
                $"NegativeSlope must be a finite number >= 0 (got {Literals.Py(slope)})"));
            ok = false;
        }

        var options = new ActivationOptions(Named(attribute, "Alpha", 1.0), Named(attribute, "Beta", 1.0), Named(attribute, "Threshold", 20.0),
            Named(attribute, "MinValue", -1.0), Named(attribute, "MaxValue", 1.0));
        string? optionProblem =
            activation is Activation.ELU or Activation.CELU && !(options.Alpha != 0 && !double.IsInfinity(options.Alpha) && !double.IsNaN(options.Alpha)) ? $"Alpha must be a finite non-zero number (got {Literals.Py(options.Alpha)})" :
            activation == Activation.Softplus && !(options.Beta > 0 && !double.IsInfinity(options.Beta)) ? $"Beta must be a finite number > 0 (got {Literals.Py(options.Beta)})" :
            activation == Activation.Softplus && double.IsNaN(options.Threshold) ? "Threshold must be a number" :
            activation == Activation.Hardtanh && !(options.MinValue < options.MaxValue) ? $"MinValue ({Literals.Py(options.MinValue)}) must be below MaxValue ({Literals.Py(options.MaxValue)})" :
            null;
        if (optionProblem is not null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidActivation, AttributeLocation(attribute, location), activation, property.Name, optionProblem));
            ok = false;
        }

        string name = Named<string?>(attribute, "Name", null) ?? ToSnakeCase(property.Name);
        if (namesSeen.TryGetValue(name, out string? other))
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateLayerName, location, name, other, property.Name));
            ok = false;
        }
        else
        {
            namesSeen[name] = property.Name;
        }

        InitSpec weightInit = ParseInit(FindAttribute(property, InitAttributeName), property.Name, "[Init]", location, activation, slope, diagnostics, ref ok);
        InitSpec biasInit = ParseInit(FindAttribute(property, BiasInitAttributeName), property.Name, "[BiasInit]", location, activation, slope, diagnostics, ref ok);

        if (!ok)
            return null;
        GroupSpec? group = FindAttribute(property, ParamGroupAttributeName) is { } g
            ? new GroupSpec(Named(g, "LearningRate", double.NaN), Named(g, "WeightDecay", double.NaN), Named(g, "Momentum", double.NaN))
            : null;
        string modifiers = string.Join(" ", declaration!.Modifiers.Select(m => m.Text));
        return new LayerSpec(property.Name, modifiers, name, inWidth, units, activation, slope, options, Named(attribute, "Bias", true), weightInit, biasInit, group);
    }

    private static InitSpec ParseInit(AttributeData? attribute, string property, string attributeText, Location fallback, Activation activation,
        double negativeSlope, ImmutableArray<Diagnostic>.Builder diagnostics, ref bool ok)
    {
        if (attribute is null)
            return InitSpec.Default;
        Location location = AttributeLocation(attribute, fallback);
        var kind = attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is int k ? (InitKind)k : InitKind.Default;
        var spec = new InitSpec(
            kind,
            Named(attribute, "A", double.NaN),
            Named(attribute, "B", double.NaN),
            Named<string?>(attribute, "Mode", null) ?? string.Empty,
            Named<string?>(attribute, "Nonlinearity", null) ?? string.Empty,
            Named(attribute, "Gain", double.NaN),
            Named(attribute, "Mean", 0.0),
            Named(attribute, "Std", double.NaN),
            Named(attribute, "Value", 0.0),
            Named(attribute, "Sparsity", double.NaN),
            Named(attribute, "Groups", 1));
        bool isBias = attributeText == "[BiasInit]";
        string call = attributeText + "(" + (Enum.IsDefined(typeof(InitKind), kind) ? kind.ToString() : ((int)kind).ToString(System.Globalization.CultureInfo.InvariantCulture)) + ")";

        bool valid = true;
        void Error(string message)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidInitOption, location, call, property, message));
            valid = false;
        }

        if (!Enum.IsDefined(typeof(InitKind), kind))
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnsupportedInit, location, call, property));
            ok = false;
            return spec;
        }
        if (kind == InitKind.Dirac)
            Error($"dirac_ needs a 3-, 4- or 5-D (convolution) weight; a Linear {(isBias ? "bias is 1-D" : "weight is 2-D")} (PyTorch: Only tensors with 3, 4, or 5 dimensions are supported)");
        if (isBias && kind is InitKind.XavierUniform or InitKind.XavierNormal or InitKind.KaimingUniform or InitKind.KaimingNormal)
            Error("fan in and fan out can not be computed for the 1-D bias (PyTorch: Fan in and fan out can not be computed for tensor with fewer than 2 dimensions)");
        if (isBias && kind is InitKind.Eye or InitKind.Sparse)
            Error("the bias is 1-D (PyTorch: Only tensors with 2 dimensions are supported)");
        if (isBias && kind == InitKind.Orthogonal)
            Error("the bias is 1-D (PyTorch: Only tensors with 2 or more dimensions are supported)");
        if (kind is InitKind.KaimingUniform or InitKind.KaimingNormal)
        {
            string mode = spec.ModeOrDefault.ToLowerInvariant();
            if (mode != "fan_in" && mode != "fan_out")
                Error($"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']");
            if (!Nonlinearities.Contains(spec.NonlinearityOrDefault))
                Error($"Unsupported nonlinearity {spec.NonlinearityOrDefault}");
        }
        if (kind is InitKind.Normal or InitKind.TruncNormal or InitKind.Sparse && spec.Std < 0)
            Error($"normal expects std >= 0.0, but found std {Literals.Py(spec.Std)}");
        if (kind == InitKind.Uniform && Or(spec.A, 0) > Or(spec.B, 1))
            Error($"uniform_ expects to return a [from, to) range, but found from={Literals.Py(Or(spec.A, 0))} > to={Literals.Py(Or(spec.B, 1))}");
        if (kind == InitKind.TruncNormal && Or(spec.A, -2) > Or(spec.B, 2))
            Error($"trunc_normal_ needs a <= b; got a={Literals.Py(Or(spec.A, -2))} > b={Literals.Py(Or(spec.B, 2))}");
        if (kind == InitKind.Sparse && !(spec.Sparsity >= 0 && spec.Sparsity < 1))
            Error(double.IsNaN(spec.Sparsity) ? "sparse_ requires Sparsity, the fraction of each column set to zero, in [0, 1)" : $"Sparsity must be in [0, 1); got {Literals.Py(spec.Sparsity)}");
        if (kind is InitKind.XavierUniform or InitKind.XavierNormal or InitKind.Orthogonal && double.IsInfinity(spec.Gain))
            Error("Gain must be finite");

        if (valid && !isBias)
            WarnOnGainMismatch(spec, call, property, location, activation, negativeSlope, diagnostics);
        ok &= valid;
        return spec;
    }

    /// <summary>
    /// Warns when the gain an initializer assumes is not the gain of the layer's own activation: kaiming's
    /// nonlinearity (given, or its default leaky_relu with a = 0, i.e. relu) on a tanh or sigmoid layer, a
    /// leaky_relu slope that differs from the layer's, or an explicit xavier/orthogonal gain of another activation.
    /// </summary>
    private static void WarnOnGainMismatch(InitSpec spec, string call, string property, Location location, Activation activation,
        double negativeSlope, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        // calculate_gain has no entry for the smooth ReLU variants (GELU, SiLU, ...); PyTorch users pick relu's gain or
        // linear for them, so there is no single right answer to warn about.
        if (activation is not (Activation.Identity or Activation.ReLU or Activation.LeakyReLU or Activation.Tanh or Activation.Sigmoid))
            return;
        string expected = activation switch
        {
            Activation.ReLU => "relu",
            Activation.LeakyReLU => "leaky_relu",
            Activation.Tanh => "tanh",
            Activation.Sigmoid => "sigmoid",
            _ => "linear",
        };
        if (spec.Kind is InitKind.KaimingUniform or InitKind.KaimingNormal)
        {
            string given = spec.NonlinearityOrDefault;
            double a = Or(spec.A, 0);
            bool matches = activation switch
            {
                Activation.ReLU => given == "relu" || (given == "leaky_relu" && a == 0),
                Activation.LeakyReLU => (given == "leaky_relu" && a == negativeSlope) || (given == "relu" && negativeSlope == 0),
                Activation.Identity => given is "linear" || spec.Nonlinearity.Length == 0,
                _ => given == expected,
            };
            if (!matches)
            {
                string what = given == "leaky_relu" ? $"leaky_relu with a = {Literals.Py(a)}" : given;
                string want = activation == Activation.LeakyReLU ? $"Nonlinearity = \"leaky_relu\", A = {Literals.Py(negativeSlope)}" : $"Nonlinearity = \"{expected}\"";
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InitGainMismatch, location, call, property, what, activation, want));
            }
        }
        else if (spec.Kind is InitKind.XavierUniform or InitKind.XavierNormal or InitKind.Orthogonal && !double.IsNaN(spec.Gain))
        {
            double gain = GainOf(expected, negativeSlope);
            foreach (string other in new[] { "relu", "tanh", "selu", "linear" })
            {
                double otherGain = GainOf(other, 0.01);
                if (Math.Abs(spec.Gain - otherGain) < 1e-6 && Math.Abs(otherGain - gain) > 1e-6)
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InitGainMismatch, location, call, property,
                        $"Gain = calculate_gain('{other}')", activation, $"Gain = {Literals.Py(gain)} (calculate_gain('{expected}'))"));
                    break;
                }
            }
        }
    }

    private static double GainOf(string nonlinearity, double slope) => nonlinearity switch
    {
        "tanh" => 5.0 / 3,
        "relu" => Math.Sqrt(2.0),
        "leaky_relu" => Math.Sqrt(2.0 / (1 + slope * slope)),
        "selu" => 3.0 / 4,
        _ => 1.0,
    };

    private static double Or(double value, double fallback) => double.IsNaN(value) ? fallback : value;

    private static LossSpec? ParseLoss(AttributeData attribute, IReadOnlyList<LayerSpec> layers, Location fallback, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        Location location = AttributeLocation(attribute, fallback);
        var kind = attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is int k ? (LossKind)k : LossKind.CrossEntropy;
        var spec = new LossSpec(
            kind,
            (Reduction)Named(attribute, "Reduction", 0),
            Named(attribute, "IgnoreIndex", -100),
            NamedDoubles(attribute, "Weight"),
            NamedDoubles(attribute, "PosWeight"),
            Named(attribute, "LabelSmoothing", 0.0),
            Named(attribute, "Beta", 1.0),
            Named(attribute, "Delta", 1.0),
            Named(attribute, "Margin", double.NaN),
            Named(attribute, "P", 0),
            Named(attribute, "LogInput", true),
            Named(attribute, "Full", false),
            Named(attribute, "Eps", double.NaN),
            Named(attribute, "LogTarget", false),
            Named(attribute, "Swap", false));
        string name = Enum.IsDefined(typeof(LossKind), kind) ? kind + "Loss" : ((int)kind).ToString(System.Globalization.CultureInfo.InvariantCulture);
        int outputs = layers.Count > 0 ? layers[layers.Count - 1].Out : 0;
        Activation last = layers.Count > 0 ? layers[layers.Count - 1].Activation : Activation.Identity;

        string? unsupported =
            !Enum.IsDefined(typeof(LossKind), kind) ? "not a known LossKind value" :
            kind == LossKind.CTC ? "CTCLoss needs per-time-step outputs, which Dense layers do not produce yet; use DslModels.Losses.CTCLoss with Forward/Backward" :
            null;
        if (unsupported is not null)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnsupportedLoss, location, name, unsupported));
            return null;
        }

        bool ok = true;
        void Invalid(string message)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnsupportedLoss, location, name, message));
            ok = false;
        }
        void DoesNotFit(string message)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.LossDoesNotFitOutput, location, name, outputs, message));
            ok = false;
        }

        if (spec.Reduction == Reduction.BatchMean ? kind != LossKind.KLDiv : spec.Reduction is not (Reduction.Mean or Reduction.Sum))
            Invalid(spec.Reduction == Reduction.BatchMean ? "Reduction.BatchMean is only valid for KLDivLoss" : "training needs a scalar loss: use Reduction.Mean or Reduction.Sum");
        if (kind == LossKind.CrossEntropy && !(spec.LabelSmoothing >= 0 && spec.LabelSmoothing <= 1))
            Invalid($"label_smoothing must be between 0.0 and 1.0. Got: {Literals.Py(spec.LabelSmoothing)}");
        if (kind == LossKind.SmoothL1 && !(spec.Beta >= 0))
            Invalid("smooth_l1_loss does not support negative values for beta.");
        if (kind == LossKind.Huber && !(spec.Delta > 0))
            Invalid("huber_loss does not support non-positive values for delta.");
        if (kind == LossKind.MultiMargin && spec.POrDefault is not (1 or 2))
            Invalid($"only p == 1 and p == 2 supported (got P = {spec.P})");
        if (kind is LossKind.TripletMargin && spec.POrDefault < 1)
            Invalid($"p must be at least 1 (got P = {spec.P})");
        if (spec.P != 0 && kind is not (LossKind.MultiMargin or LossKind.TripletMargin))
            Invalid("only MultiMarginLoss and TripletMarginLoss take P");
        if (spec.Swap && kind is not (LossKind.TripletMargin or LossKind.TripletMarginWithDistance))
            Invalid("only the triplet losses take Swap");
        if (!double.IsNaN(spec.Margin) && kind is not (LossKind.MultiMargin or LossKind.HingeEmbedding or LossKind.MarginRanking or LossKind.CosineEmbedding or LossKind.TripletMargin or LossKind.TripletMarginWithDistance))
            Invalid("this loss takes no Margin");
        if (kind == LossKind.TripletMarginWithDistance && !(spec.MarginOrDefault > 0))
            Invalid($"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {Literals.Py(spec.MarginOrDefault)} instead");
        if (kind == LossKind.CosineEmbedding && !(spec.MarginOrDefault >= -1 && spec.MarginOrDefault <= 1))
            Invalid($"CosineEmbeddingLoss margin should be in [-1, 1] (cosine similarities); got {Literals.Py(spec.MarginOrDefault)}");
        if (!double.IsNaN(spec.Eps) && kind is not (LossKind.PoissonNLL or LossKind.GaussianNLL or LossKind.TripletMargin))
            Invalid("only PoissonNLLLoss, GaussianNLLLoss and TripletMarginLoss take Eps");
        if (spec.Full && kind is not (LossKind.PoissonNLL or LossKind.GaussianNLL))
            Invalid("only PoissonNLLLoss and GaussianNLLLoss take Full");
        if (kind is LossKind.PoissonNLL or LossKind.GaussianNLL or LossKind.TripletMargin && !(spec.EpsOrDefault >= 0))
            Invalid($"eps must be >= 0; got {Literals.Py(spec.EpsOrDefault)}");
        if (kind == LossKind.MarginRanking && outputs != 1)
            DoesNotFit("MarginRankingLoss ranks one score per input; give the last layer 1 output");
        if ((kind is LossKind.CrossEntropy or LossKind.NLL or LossKind.MultiMargin) && outputs == 1)
            DoesNotFit("with one class the loss is constant; use one output per class");
        bool weighted = kind is LossKind.CrossEntropy or LossKind.NLL or LossKind.MultiMargin or LossKind.BCE or LossKind.BCEWithLogits or LossKind.MultiLabelSoftMargin;
        if (spec.Weight.Count > 0 && !weighted)
            Invalid("this loss takes no Weight");
        else if (spec.Weight.Count > 0 && spec.Weight.Count != outputs)
            DoesNotFit($"Weight has {spec.Weight.Count} values; it needs one per output ({outputs})");
        if (spec.PosWeight.Count > 0 && kind != LossKind.BCEWithLogits)
            Invalid("only BCEWithLogitsLoss takes PosWeight");
        else if (spec.PosWeight.Count > 0 && spec.PosWeight.Count != outputs)
            DoesNotFit($"PosWeight has {spec.PosWeight.Count} values; it needs one per output ({outputs})");

        // The last activation and the loss must agree (warnings: the model trains, but not as intended).
        string? mismatch = kind switch
        {
            LossKind.CrossEntropy when last is Activation.Softmax or Activation.LogSoftmax =>
                $"CrossEntropyLoss applies log_softmax itself, so a final {last} computes softmax twice; end the model without an activation (logits)",
            LossKind.BCEWithLogits when last == Activation.Sigmoid =>
                "BCEWithLogitsLoss applies the sigmoid itself, so a final Sigmoid applies it twice; end the model without an activation (logits)",
            LossKind.BCE when last != Activation.Sigmoid =>
                "BCELoss expects probabilities in [0, 1]; end the model with Activation.Sigmoid, or use BCEWithLogitsLoss on logits (more stable)",
            LossKind.NLL when last != Activation.LogSoftmax =>
                "NLLLoss expects log-probabilities; end the model with Activation.LogSoftmax (or use CrossEntropyLoss on logits)",
            LossKind.KLDiv when last != Activation.LogSoftmax =>
                "KLDivLoss expects log-probabilities as input; end the model with Activation.LogSoftmax",
            _ => null,
        };
        if (mismatch is not null)
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.LossActivationMismatch, location, name, mismatch));
        return ok ? spec : null;
    }

    private static EquatableArray<double> NamedDoubles(AttributeData attribute, string name)
    {
        foreach (var pair in attribute.NamedArguments)
            if (pair.Key == name && pair.Value.Kind == TypedConstantKind.Array && !pair.Value.IsNull)
                return new EquatableArray<double>(pair.Value.Values.Select(v => v.Value is double d ? d : Convert.ToDouble(v.Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        return new EquatableArray<double>(Array.Empty<double>());
    }

    /// <summary>The [Optimizer] options each optimizer takes (PyTorch's constructor keywords).</summary>
    private static readonly Dictionary<OptimizerKind, string[]> OptimizerOptions = new()
    {
        [OptimizerKind.Sgd] = new[] { "Momentum", "Dampening", "WeightDecay", "Nesterov", "Maximize" },
        [OptimizerKind.Adam] = new[] { "Beta1", "Beta2", "Eps", "WeightDecay", "Amsgrad", "Maximize" },
        [OptimizerKind.AdamW] = new[] { "Beta1", "Beta2", "Eps", "WeightDecay", "Amsgrad", "Maximize" },
        [OptimizerKind.Adagrad] = new[] { "LrDecay", "WeightDecay", "InitialAccumulatorValue", "Eps", "Maximize" },
        [OptimizerKind.RMSprop] = new[] { "Alpha", "Eps", "WeightDecay", "Momentum", "Centered", "Maximize" },
        [OptimizerKind.Adadelta] = new[] { "Rho", "Eps", "WeightDecay", "Maximize" },
        [OptimizerKind.Adamax] = new[] { "Beta1", "Beta2", "Eps", "WeightDecay", "Maximize" },
        [OptimizerKind.ASGD] = new[] { "Lambd", "Alpha", "T0", "WeightDecay", "Maximize" },
        [OptimizerKind.Rprop] = new[] { "EtaMinus", "EtaPlus", "StepSizeMin", "StepSizeMax", "Maximize" },
        [OptimizerKind.NAdam] = new[] { "Beta1", "Beta2", "Eps", "WeightDecay", "MomentumDecay" },
        [OptimizerKind.RAdam] = new[] { "Beta1", "Beta2", "Eps", "WeightDecay" },
        [OptimizerKind.LBFGS] = new[] { "MaxIter", "MaxEval", "ToleranceGrad", "ToleranceChange", "HistorySize", "LineSearchFn" },
    };

    private static OptimizerSpec? ParseOptimizer(AttributeData attribute, IReadOnlyList<LayerSpec> layers, Location fallback, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        Location location = AttributeLocation(attribute, fallback);
        var kind = attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is int k ? (OptimizerKind)k : OptimizerKind.Sgd;
        if (!OptimizerOptions.TryGetValue(kind, out string[]? allowed))
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UnsupportedOptimizer, location,
                Enum.IsDefined(typeof(OptimizerKind), kind) ? kind.ToString() : ((int)kind).ToString(System.Globalization.CultureInfo.InvariantCulture),
                kind switch
                {
                    OptimizerKind.SparseAdam => "SparseAdam needs sparse gradients, which Dense layers do not produce (PyTorch: SparseAdam does not support dense gradients, please consider Adam instead)",
                    _ => "not a known OptimizerKind value",
                }));
            return null;
        }
        var spec = new OptimizerSpec(kind,
            Named(attribute, "LearningRate", double.NaN), Named(attribute, "Momentum", double.NaN), Named(attribute, "Dampening", double.NaN),
            Named(attribute, "WeightDecay", double.NaN), Named(attribute, "BiasWeightDecay", double.NaN),
            Named(attribute, "Nesterov", false), Named(attribute, "Maximize", false),
            Named(attribute, "Beta1", double.NaN), Named(attribute, "Beta2", double.NaN), Named(attribute, "Eps", double.NaN), Named(attribute, "Amsgrad", false),
            Named(attribute, "LrDecay", double.NaN), Named(attribute, "InitialAccumulatorValue", double.NaN), Named(attribute, "Alpha", double.NaN),
            Named(attribute, "Centered", false), Named(attribute, "Rho", double.NaN), Named(attribute, "Lambd", double.NaN), Named(attribute, "T0", double.NaN),
            Named(attribute, "EtaMinus", double.NaN), Named(attribute, "EtaPlus", double.NaN), Named(attribute, "StepSizeMin", double.NaN),
            Named(attribute, "StepSizeMax", double.NaN), Named(attribute, "MomentumDecay", double.NaN),
            Named(attribute, "MaxIter", 0), Named(attribute, "MaxEval", 0), Named(attribute, "ToleranceGrad", double.NaN),
            Named(attribute, "ToleranceChange", double.NaN), Named(attribute, "HistorySize", 0), Named<string?>(attribute, "LineSearchFn", null));

        var problems = new List<string>();
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Key is "LearningRate" or "BiasWeightDecay")
                continue;
            if (Array.IndexOf(allowed, pair.Key) < 0)
                problems.Add($"{kind} has no option {pair.Key} (PyTorch: __init__() got an unexpected keyword argument '{PyName(pair.Key)}')");
        }
        if (spec.BiasWeightDecay is var bwd && !double.IsNaN(bwd) && Array.IndexOf(allowed, "WeightDecay") < 0)
            problems.Add($"{kind} has no weight_decay, so BiasWeightDecay does not apply");
        double lr = spec.LearningRate;
        if (kind == OptimizerKind.Sgd && double.IsNaN(lr))
            problems.Add("SGD requires LearningRate (PyTorch: parameter group didn't specify a value of required optimization parameter lr)");
        void Check(bool bad, string message)
        {
            if (bad) problems.Add(message);
        }
        Check(lr < 0, $"Invalid learning rate: {Literals.Py(lr)}");
        Check(spec.Eps < 0, $"Invalid epsilon value: {Literals.Py(spec.Eps)}");
        Check(spec.Momentum < 0, $"Invalid momentum value: {Literals.Py(spec.Momentum)}");
        Check(spec.WeightDecay < 0, $"Invalid weight_decay value: {Literals.Py(spec.WeightDecay)}");
        Check(spec.BiasWeightDecay < 0, $"Invalid weight_decay value: {Literals.Py(spec.BiasWeightDecay)} (BiasWeightDecay)");
        Check(spec.Beta1 < 0 || spec.Beta1 >= 1, $"Invalid beta parameter at index 0: {Literals.Py(spec.Beta1)}");
        Check(spec.Beta2 < 0 || spec.Beta2 >= 1, $"Invalid beta parameter at index 1: {Literals.Py(spec.Beta2)}");
        Check(spec.LrDecay < 0, $"Invalid lr_decay value: {Literals.Py(spec.LrDecay)}");
        Check(spec.InitialAccumulatorValue < 0, $"Invalid initial_accumulator_value value: {Literals.Py(spec.InitialAccumulatorValue)}");
        Check(spec.Alpha < 0, $"Invalid alpha value: {Literals.Py(spec.Alpha)}");
        Check(spec.Rho < 0 || spec.Rho > 1, $"Invalid rho value: {Literals.Py(spec.Rho)}");
        Check(spec.MomentumDecay < 0, $"Invalid momentum_decay value: {Literals.Py(spec.MomentumDecay)}");
        double etaMinus = Or(spec.EtaMinus, 0.5), etaPlus = Or(spec.EtaPlus, 1.2);
        Check(kind == OptimizerKind.Rprop && !(0 < etaMinus && etaMinus < 1 && 1 < etaPlus), $"Invalid eta values: {Literals.Py(etaMinus)}, {Literals.Py(etaPlus)}");
        if (kind == OptimizerKind.LBFGS)
        {
            Check(NamedGiven(attribute, "MaxIter") && spec.MaxIter < 1, $"max_iter must be >= 1; got {spec.MaxIter}");
            Check(NamedGiven(attribute, "MaxEval") && spec.MaxEval < 1, $"max_eval must be >= 1; got {spec.MaxEval}");
            Check(NamedGiven(attribute, "HistorySize") && spec.HistorySize < 1, $"history_size must be >= 1; got {spec.HistorySize}");
            Check(spec.ToleranceGrad < 0, $"tolerance_grad must be >= 0; got {Literals.Py(spec.ToleranceGrad)}");
            Check(spec.ToleranceChange < 0, $"tolerance_change must be >= 0; got {Literals.Py(spec.ToleranceChange)}");
            Check(spec.LineSearchFn is not null && spec.LineSearchFn != "strong_wolfe", $"only 'strong_wolfe' is supported as LineSearchFn (PyTorch: raise RuntimeError(\"only 'strong_wolfe' is supported\")); got '{spec.LineSearchFn}'");
            Check(layers.Any(l => l.Group is not null) || !double.IsNaN(spec.BiasWeightDecay), "LBFGS doesn't support per-parameter options (parameter groups): remove [ParamGroup] and BiasWeightDecay");
        }
        Check(kind == OptimizerKind.Sgd && spec.Nesterov && (!(Or(spec.Momentum, 0) > 0) || Or(spec.Dampening, 0) != 0), "Nesterov momentum requires a momentum and zero dampening");
        foreach (var layer in layers)
        {
            if (layer.Group is not { } g)
                continue;
            Check(g.LearningRate < 0, $"[ParamGroup] on {layer.PropertyName}: Invalid learning rate: {Literals.Py(g.LearningRate)}");
            Check(g.WeightDecay < 0, $"[ParamGroup] on {layer.PropertyName}: Invalid weight_decay value: {Literals.Py(g.WeightDecay)}");
            Check(g.Momentum < 0, $"[ParamGroup] on {layer.PropertyName}: Invalid momentum value: {Literals.Py(g.Momentum)}");
            Check(!double.IsNaN(g.Momentum) && Array.IndexOf(allowed, "Momentum") < 0, $"[ParamGroup] on {layer.PropertyName}: {kind} has no momentum");
            Check(!double.IsNaN(g.WeightDecay) && Array.IndexOf(allowed, "WeightDecay") < 0, $"[ParamGroup] on {layer.PropertyName}: {kind} has no weight_decay");
        }
        foreach (string problem in problems)
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidOptimizerOption, location, problem));
        return problems.Count == 0 ? spec : null;
    }

    /// <summary>PyTorch's keyword for an attribute option name.</summary>
    internal static string PyName(string option) => option switch
    {
        "LearningRate" => "lr",
        "Beta1" or "Beta2" => "betas",
        "EtaMinus" or "EtaPlus" => "etas",
        "StepSizeMin" or "StepSizeMax" => "step_sizes",
        "Lambd" => "lambd",
        "T0" => "t0",
        _ => ToSnakeCase(option),
    };

    internal static string ToSnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool previousLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                bool acronymEnd = i > 0 && char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (previousLowerOrDigit || acronymEnd)
                    sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    private static AttributeData? FindAttribute(ISymbol symbol, string metadataName)
    {
        foreach (AttributeData attribute in symbol.GetAttributes())
            if (attribute.AttributeClass?.ToDisplayString() == metadataName)
                return attribute;
        return null;
    }

    private static Location AttributeLocation(AttributeData? attribute, Location fallback) =>
        attribute?.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? fallback;

    private static bool NamedGiven(AttributeData attribute, string name)
    {
        foreach (var pair in attribute.NamedArguments)
            if (pair.Key == name)
                return true;
        return false;
    }

    private static T Named<T>(AttributeData attribute, string name, T fallback)
    {
        foreach (var pair in attribute.NamedArguments)
            if (pair.Key == name && pair.Value.Value is T value)
                return value;
        return fallback;
    }
}
