using System;
using Xunit;

namespace DslModels.Tests;

/// <summary>Float comparisons shared by the kernel and loss tests.</summary>
internal static class FloatUlps
{
    /// <summary>Distance in floats between <paramref name="a"/> and <paramref name="b"/>: 0 for +0 and -0 and for two NaNs, the most for a NaN against a number.</summary>
    public static long Ulps(float a, float b)
    {
        if (float.IsNaN(a) || float.IsNaN(b))
            return float.IsNaN(a) && float.IsNaN(b) ? 0 : long.MaxValue;
        static long Ordered(float f)
        {
            int bits = BitConverter.SingleToInt32Bits(f);
            return bits < 0 ? -(long)(bits & int.MaxValue) : bits;
        }
        return Math.Abs(Ordered(a) - Ordered(b));
    }

    /// <summary>
    /// <paramref name="actual"/> within one float ulp of the double-precision <paramref name="expected"/>, or, where the formula
    /// cancels, within 10⁻¹⁵ of <paramref name="magnitude"/> (the size of the terms that cancel).
    /// </summary>
    public static void Close(float actual, double expected, double magnitude, string what)
        => Assert.True(Ulps(actual, (float)expected) <= 1 || Math.Abs(actual - expected) <= 1e-15 * magnitude,
            $"{what}: {actual:R}, double precision {expected:R}");
}
