using System.Runtime.Intrinsics;
using Xunit;

namespace DslModels.Tests.Core;

/// <summary>
/// The streaming stores that a fused TrainStep writes a large first layer's gradient with (StreamingStores): each writes its
/// vector's floats at the aligned address, and only those, on whatever path the machine takes (the CI runs these tests on the
/// Vector512, Vector256, Vector128 and scalar paths; the software fallbacks store too).
/// </summary>
public class StreamingStoresTests
{
    [Fact]
    public void Each_width_stores_its_floats_and_nothing_around_them()
    {
        using var buffer = new AlignedBuffer(64);
        var span = buffer.Span;
        for (int i = 0; i < span.Length; i++)
            span[i] = -1;

        StreamingStores.Store(Vector512.Create(1f, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), ref span[16]);
        StreamingStores.Store(Vector256.Create(21f, 22, 23, 24, 25, 26, 27, 28), ref span[40]);
        StreamingStores.Store(Vector128.Create(31f, 32, 33, 34), ref span[52]);
        StreamingStores.Fence();

        for (int i = 0; i < span.Length; i++)
        {
            float expected = i switch
            {
                >= 16 and < 32 => i - 15,
                >= 40 and < 48 => i - 19,
                >= 52 and < 56 => i - 21,
                _ => -1,
            };
            Assert.Equal(expected, span[i]);
        }
    }
}
