using System;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DslModels.Generator.Diagnostics;

/// <summary>
/// DSL0020: NativeAOT compiles a program ahead of time for one instruction set, x86-64-v2 on x64 unless the project sets
/// <c>IlcInstructionSet</c>. Then <c>Vector512</c> and <c>Vector256</c> are not accelerated and there is no FMA, so every
/// generated kernel takes its slowest vector path. The package's build/DslModels.props makes the MSBuild properties read here
/// visible to analyzers (<c>CompilerVisibleProperty</c>).
/// </summary>
public static class NativeAotCheck
{
    /// <summary>The MSBuild properties the check reads, as the package's props file lists them.</summary>
    public static readonly string[] Properties = { "PublishAot", "IlcInstructionSet", "RuntimeIdentifier", "NETCoreSdkRuntimeIdentifier" };

    /// <summary>The runtime identifier a NativeAOT publish of this project targets at the x64 (or x86) baseline, or null when it does not.</summary>
    public static string? BaselineTarget(AnalyzerConfigOptions options)
    {
        string? Get(string name) => options.TryGetValue("build_property." + name, out string? value) ? value.Trim() : null;
        return BaselineTarget(Get("PublishAot"), Get("IlcInstructionSet"), Get("RuntimeIdentifier"), Get("NETCoreSdkRuntimeIdentifier"));
    }

    /// <summary>
    /// The runtime identifier to warn about: PublishAot is true, no IlcInstructionSet is set, and the target (RuntimeIdentifier, else the
    /// SDK's own, which a publish without <c>-r</c> takes) is x64 or x86. Arm64's baseline has AdvSimd with fused multiply-adds, the
    /// path the kernels were built for there, so it is not reported; nor is a project whose target is unknown.
    /// </summary>
    public static string? BaselineTarget(string? publishAot, string? ilcInstructionSet, string? runtimeIdentifier, string? sdkRuntimeIdentifier)
    {
        if (!string.Equals(publishAot, "true", StringComparison.OrdinalIgnoreCase) || !string.IsNullOrEmpty(ilcInstructionSet))
            return null;
        string? rid = string.IsNullOrEmpty(runtimeIdentifier) ? sdkRuntimeIdentifier : runtimeIdentifier;
        if (string.IsNullOrEmpty(rid))
            return null;
        string architecture = rid!.Substring(rid.LastIndexOf('-') + 1);
        return architecture.Equals("x64", StringComparison.OrdinalIgnoreCase) || architecture.Equals("x86", StringComparison.OrdinalIgnoreCase) ? rid : null;
    }
}
