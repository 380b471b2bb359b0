using System;
using System.Globalization;
using Xunit;

namespace DslModels.Tests.Init;

/// <summary>
/// erf/erfc/erfinv against 40-digit mpmath values rounded to double
/// (`import mpmath; mpmath.mp.dps = 40; float(mpmath.erfinv(mpmath.mpf(y)))`, likewise erf, erfc).
/// </summary>
public class SpecialFunctionsTests
{
    private static void AssertRelative(double expected, double actual, double rel, string what)
    {
        double err = Math.Abs(actual - expected) / Math.Abs(expected);
        Assert.True(err <= rel, $"{what}: expected {expected.ToString("R", CultureInfo.InvariantCulture)}, got {actual.ToString("R", CultureInfo.InvariantCulture)} (relative error {err:E2} > {rel:E0})");
    }

    public static TheoryData<double, double> ErfinvValues => new()
    {
        { 1e-300, 8.86226925452758e-301 },
        { 1e-10, 8.862269254527581e-11 },
        { 0.001, 0.0008862271574665521 },
        { 0.1, 0.08885599049425769 },
        { 0.5, 0.4769362762044699 },
        { 0.84375, 1.00253397062404 },
        { 0.9, 1.1630871536766743 },
        { 0.95, 1.3859038243496777 },
        { 0.999, 2.3267537655135246 },
        { 0.999999, 3.458910737275499 },
        { 0.9999999999990905, 5.05125408524939 }, // 1 - 2^-40
        { 0.9999999999999999, 5.8635847487551676 }, // 1 - 2^-53
    };

    [Theory, MemberData(nameof(ErfinvValues))]
    public void Erfinv_is_precise(double y, double expected)
    {
        AssertRelative(expected, SpecialFunctions.Erfinv(y), 1e-15, $"erfinv({y})");
        AssertRelative(-expected, SpecialFunctions.Erfinv(-y), 1e-15, $"erfinv({-y})");
    }

    public static TheoryData<double, double> ErfValues => new()
    {
        { 1e-300, 1.1283791670955126e-300 },
        { 1e-08, 1.1283791670955126e-08 },
        { 0.1, 0.1124629160182849 },
        { 0.5, 0.5204998778130465 },
        { 1.0, 0.8427007929497149 },
        { 1.2, 0.9103139782296353 },
        { 2.0, 0.9953222650189527 },
        { 2.9, 0.9999589021219005 },
        { 3.0, 0.9999779095030014 },
        { 3.5, 0.9999992569016276 },
        { 5.0, 0.9999999999984626 },
        { 6.0, 1.0 },
    };

    [Theory, MemberData(nameof(ErfValues))]
    public void Erf_is_precise(double x, double expected)
    {
        AssertRelative(expected, SpecialFunctions.Erf(x), 5e-16, $"erf({x})");
        AssertRelative(-expected, SpecialFunctions.Erf(-x), 5e-16, $"erf({-x})");
    }

    public static TheoryData<double, double> ErfcValues => new()
    {
        { -1.0, 1.8427007929497148 },
        { 0.1, 0.887537083981715 },
        { 0.5, 0.4795001221869535 },
        { 1.0, 0.15729920705028513 },
        { 1.19, 0.09239171402831498 },
        { 1.2, 0.08968602177036464 },
        { 2.0, 0.004677734981047266 },
        { 3.0, 2.209049699858544e-05 },
        { 5.0, 1.537459794428035e-12 },
        { 10.0, 2.088487583762545e-45 },
        { 26.0, 5.663192408856143e-296 },
    };

    [Theory, MemberData(nameof(ErfcValues))]
    public void Erfc_is_precise(double x, double expected) =>
        AssertRelative(expected, SpecialFunctions.Erfc(x), 2e-15, $"erfc({x})");

    [Fact]
    public void Edge_values()
    {
        Assert.Equal(double.PositiveInfinity, SpecialFunctions.Erfinv(1));
        Assert.Equal(double.NegativeInfinity, SpecialFunctions.Erfinv(-1));
        Assert.True(double.IsNaN(SpecialFunctions.Erfinv(1.0000001)));
        Assert.True(double.IsNaN(SpecialFunctions.Erfinv(double.NaN)));
        Assert.Equal(0.0, SpecialFunctions.Erfinv(0));
        Assert.Equal(1.0, SpecialFunctions.Erf(double.PositiveInfinity));
        Assert.Equal(-1.0, SpecialFunctions.Erf(double.NegativeInfinity));
        Assert.Equal(0.0, SpecialFunctions.Erfc(double.PositiveInfinity));
        Assert.Equal(2.0, SpecialFunctions.Erfc(double.NegativeInfinity));
    }

    [Fact]
    public void Erfinv_inverts_erf_over_a_grid()
    {
        // Round trip erf(erfinv(y)) == y to a few ulps of y (the inverse is well conditioned this way round).
        for (int i = -999; i <= 999; i++)
        {
            double y = i / 1000.0;
            double back = SpecialFunctions.Erf(SpecialFunctions.Erfinv(y));
            Assert.True(Math.Abs(back - y) <= 4.5e-16, $"erf(erfinv({y})) = {back.ToString("R", CultureInfo.InvariantCulture)}");
        }
    }
}
