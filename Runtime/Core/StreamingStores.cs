using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Threading;

namespace DslModels;

/// <summary>
/// Non-temporal ("streaming") vector stores for generated kernels: the data goes to memory without first reading its cache
/// line and without evicting other lines from the caches. A generated <c>TrainStep</c> writes the gradient of a large first
/// layer this way (docs/optim.md, "TrainStep: the first layer's update inside its weight gradient"): the step reads that
/// gradient no more, and the layer's weights and optimizer state then stay cached for the next step.
/// The destination must be aligned to the vector's size; the generator only calls these where it is (every parameter
/// offset is a multiple of 64 bytes, and it checks the row length). Generated code calls them; they are not meant for
/// other callers.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class StreamingStores
{
    /// <summary>Stores <paramref name="value"/> at <paramref name="destination"/> (64-byte aligned) without caching it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector512<float> value, ref float destination) =>
        value.StoreAlignedNonTemporal((float*)Unsafe.AsPointer(ref destination));

    /// <summary>Stores <paramref name="value"/> at <paramref name="destination"/> (32-byte aligned) without caching it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector256<float> value, ref float destination) =>
        value.StoreAlignedNonTemporal((float*)Unsafe.AsPointer(ref destination));

    /// <summary>Stores <paramref name="value"/> at <paramref name="destination"/> (16-byte aligned) without caching it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector128<float> value, ref float destination) =>
        value.StoreAlignedNonTemporal((float*)Unsafe.AsPointer(ref destination));

    /// <summary>
    /// Orders the streaming stores before every later store (x86 streaming stores are weakly ordered): called once after a
    /// kernel's last one, so another thread that sees the kernel finished also sees its data.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Fence()
    {
        if (Sse.IsSupported)
            Sse.StoreFence();
        else
            Interlocked.MemoryBarrier();
    }
}
