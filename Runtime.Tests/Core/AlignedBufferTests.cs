using System;
using Xunit;

namespace DslModels.Tests.Core;

public class AlignedBufferTests
{
    /// <summary>
    /// A buffer starts on a 64-byte boundary; a slice of it is aligned exactly when it starts a multiple of 16 floats in. The
    /// expected answers come from the slice offsets alone, not from the address the code computes.
    /// </summary>
    [Fact]
    public void IsAligned_is_true_exactly_for_slices_starting_a_multiple_of_16_floats_in()
    {
        using var buffer = new AlignedBuffer(100);
        for (int offset = 0; offset < 64; offset++)
            Assert.Equal(offset % AlignedBuffer.FloatAlignment == 0, AlignedBuffer.IsAligned(buffer.Span.Slice(offset)));
    }
}
