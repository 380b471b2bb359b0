using System.Runtime.Intrinsics;

namespace DslModels;

/// <summary>Which of the generated kernels' code paths runs on this machine and runtime (see <see cref="KernelPaths.Current"/>).</summary>
public enum KernelPath
{
    /// <summary>Plain scalar loops: the runtime exposes no hardware vectors (<c>DOTNET_EnableHWIntrinsic=0</c>, or no SIMD at all).</summary>
    Scalar,

    /// <summary>128-bit vectors with a multiply and an add for each multiply-add: an x64 without AVX2 (SSE only).</summary>
    Vector128,

    /// <summary>128-bit vectors with fused multiply-adds: Arm64 (AdvSimd), or an x64 with FMA3 told to prefer 128-bit vectors.</summary>
    Vector128Fma,

    /// <summary>256-bit vectors with fused multiply-adds: x64 with AVX2 and FMA3.</summary>
    Vector256,

    /// <summary>512-bit vectors with fused multiply-adds: x64 with AVX-512.</summary>
    Vector512,
}

/// <summary>The code path the generated kernels take here: the same tests, in the same order, as their dispatch.</summary>
public static class KernelPaths
{
    /// <summary>
    /// The path every generated model's kernels take in this process: the first of Vector512, Vector256 and Vector128 that
    /// the JIT accelerates, else scalar. It depends on the CPU and on runtime settings such as <c>DOTNET_EnableAVX512=0</c>,
    /// <c>DOTNET_EnableAVX2=0</c>, <c>DOTNET_PreferredVectorBitWidth=128</c> or <c>DOTNET_EnableHWIntrinsic=0</c>. A model's results are
    /// bit-identical for any thread count and batch split, but differ in the last bits between paths (fused and unfused
    /// multiply-adds, sum trees).
    /// </summary>
    public static KernelPath Current =>
        Vector512.IsHardwareAccelerated ? KernelPath.Vector512
        : Vector256.IsHardwareAccelerated ? KernelPath.Vector256
        : !Vector128.IsHardwareAccelerated ? KernelPath.Scalar
        : System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported || System.Runtime.Intrinsics.X86.Fma.IsSupported ? KernelPath.Vector128Fma
        : KernelPath.Vector128;
}
