using System;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DslModels.Generator.Diagnostics;

/// <summary>
/// DSL0020: NativeAOT compiles a program ahead of time for one instruction set, x86-64-v2 on x64 unless the project sets
/// <c>IlcInstructionSet</c>. Then <c>Vector512</c> and <c>Vector256</c> are not accelerated and there is no FMA, so every
/// generated kernel takes its slowest vector path. The package's build/DslModels.props makes the MSBuild properties read here
/// visible to analyzers (<c>CompilerVisibleProperty</c>); a property the project does not define arrives as an empty string.
/// </summary>
public static class NativeAotCheck
{
    /// <summary>The MSBuild properties the check reads, as the package's props file lists them.</summary>
    public static readonly string[] Properties =
        { "PublishAot", "IlcInstructionSet", "OutputType", "RuntimeIdentifier", "PublishRuntimeIdentifier", "NETCoreSdkPortableRuntimeIdentifier" };

    /// <summary>The runtime identifier a NativeAOT publish of this project targets at the x64 (or x86) baseline, or null when it does not.</summary>
    public static string? BaselineTarget(AnalyzerConfigOptions options)
    {
        string? Get(string name) => options.TryGetValue("build_property." + name, out string? value) ? value.Trim() : null;
        return BaselineTarget(Get("PublishAot"), Get("IlcInstructionSet"), Get("OutputType"), Get("RuntimeIdentifier"), Get("PublishRuntimeIdentifier"),
            Get("NETCoreSdkPortableRuntimeIdentifier"));
    }

    /// <summary>
    /// The runtime identifier to warn about, or null: PublishAot is true, no IlcInstructionSet is set, the project is not a library
    /// (a library's models are compiled into the application, whose own setting counts), and the publish targets x64 or x86. The
    /// target is the one the SDK's publish takes: RuntimeIdentifier, else PublishRuntimeIdentifier, else the SDK's portable
    /// identifier (linux-x64 rather than a distribution's ubuntu.22.04-x64). Arm64's baseline has AdvSimd with fused
    /// multiply-adds, the path the kernels were built for there, so it is not reported; nor is a project whose target is unknown.
    /// </summary>
    public static string? BaselineTarget(string? publishAot, string? ilcInstructionSet, string? outputType, string? runtimeIdentifier,
        string? publishRuntimeIdentifier, string? sdkPortableRuntimeIdentifier)
    {
        if (!string.Equals(publishAot?.Trim(), "true", StringComparison.OrdinalIgnoreCase) || !string.IsNullOrWhiteSpace(ilcInstructionSet))
            return null;
        if (string.Equals(outputType?.Trim(), "Library", StringComparison.OrdinalIgnoreCase))
            return null;
        string? rid = !string.IsNullOrWhiteSpace(runtimeIdentifier) ? runtimeIdentifier
            : !string.IsNullOrWhiteSpace(publishRuntimeIdentifier) ? publishRuntimeIdentifier
            : sdkPortableRuntimeIdentifier;
        if (string.IsNullOrWhiteSpace(rid))
            return null;
        rid = rid!.Trim();
        string architecture = rid.Substring(rid.LastIndexOf('-') + 1);
        return architecture.Equals("x64", StringComparison.OrdinalIgnoreCase) || architecture.Equals("x86", StringComparison.OrdinalIgnoreCase) ? rid : null;
    }
}
