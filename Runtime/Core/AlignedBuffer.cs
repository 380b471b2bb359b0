using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DslModels;

/// <summary>
/// A zero-initialised block of native memory aligned to 64 bytes (one cache line, one Vector512),
/// freed by <see cref="Dispose"/> or, if forgotten, by the finalizer.
/// </summary>
public sealed unsafe class AlignedBuffer : IDisposable
{
    /// <summary>The alignment of every buffer, in bytes.</summary>
    public const int Alignment = 64;

    /// <summary>The alignment in floats: parameter offsets are multiples of this.</summary>
    public const int FloatAlignment = Alignment / sizeof(float);

    private float* _pointer;

    /// <summary>Allocates <paramref name="length"/> floats, all zero.</summary>
    public AlignedBuffer(int length)
    {
        if (length < 0)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"length must be >= 0; got {length}.");
        Length = length;
        nuint bytes = (nuint)Math.Max(length, 1) * sizeof(float);
        _pointer = (float*)NativeMemory.AlignedAlloc(bytes, Alignment);
        NativeMemory.Clear(_pointer, bytes);
    }

    /// <summary>Number of floats.</summary>
    public int Length { [MethodImpl(MethodImplOptions.AggressiveInlining)] get; }

    /// <summary>Whether the memory was released.</summary>
    public bool IsDisposed => _pointer == null;

    /// <summary>The first float; valid until <see cref="Dispose"/>.</summary>
    public float* Pointer
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            ObjectDisposedException.ThrowIf(_pointer == null, this);
            return _pointer;
        }
    }

    /// <summary>The whole buffer.</summary>
    public Span<float> Span
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(Pointer, Length);
    }

    /// <summary>The first index of pinned <paramref name="array"/> whose address is a multiple of <see cref="Alignment"/>.</summary>
    internal static int AlignmentOffset(float[] array)
    {
        nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (int)((Alignment - address % Alignment) % Alignment / sizeof(float));
    }

    /// <summary>
    /// Whether <paramref name="span"/> starts at a multiple of <see cref="Alignment"/> bytes: a span over an AlignedBuffer, or a slice
    /// of one that starts at a multiple of <see cref="FloatAlignment"/> floats, does. A generated model's threaded <c>TrainStep</c> reads
    /// such an input in place instead of copying it for each thread. (A managed array's address is only known while it is pinned; a
    /// moved array is still read correctly, only more slowly.)
    /// </summary>
    public static bool IsAligned(ReadOnlySpan<float> span) =>
        (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span)) % Alignment == 0;

    /// <summary>Rounds <paramref name="length"/> up to a multiple of <see cref="FloatAlignment"/>.</summary>
    public static int AlignUp(int length) => (length + FloatAlignment - 1) / FloatAlignment * FloatAlignment;

    /// <summary>Releases the memory. Safe to call more than once.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~AlignedBuffer() => Free();

    private void Free()
    {
        if (_pointer != null)
        {
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
        }
    }
}
