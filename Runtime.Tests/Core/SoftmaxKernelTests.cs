using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using Xunit;
using static DslModels.Tests.FloatUlps;

namespace DslModels.Tests.Core;

/// <summary>
/// ActivationKernels' Softmax and LogSoftmax rows and their backward passes against exact values (mpmath, 40 digits) and
/// PyTorch 1.13's float32 results (Fixtures/Softmax.json, tools/make_softmax_fixtures.py), and against a plain double-precision
/// reference for every row length 1 .. 3·16 + 1 and 1,000. CI runs these on the Vector512, Vector256, Vector128 and scalar paths.
/// </summary>
public class SoftmaxKernelTests
{
    private static readonly Lazy<JsonElement[]> Cases = new(() =>
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Softmax.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone().GetProperty("cases").EnumerateArray().ToArray();
    });

    public static TheoryData<string> Ops => new() { "softmax", "log_softmax" };

    private static double[]? Column(JsonElement c, string name)
        => c.TryGetProperty(name, out var column)
            ? column.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? double.Parse(v.GetString()!.Replace("inf", "Infinity").Replace("nan", "NaN"), System.Globalization.CultureInfo.InvariantCulture) : v.GetDouble()).ToArray()
            : null;

    private static float[] F(double[] v) => v.Select(d => (float)d).ToArray();

    private const int Guard = 19;

    /// <summary>The op on a copy of <paramref name="x"/> followed by guard values, which must come back untouched.</summary>
    private static float[] Forward(string op, float[] x)
    {
        var buffer = x.Concat(Enumerable.Repeat(-7.25f, Guard)).ToArray();
        ref float r = ref MemoryMarshal.GetArrayDataReference(buffer);
        if (op == "softmax")
            ActivationKernels.Softmax(ref r, x.Length);
        else
            ActivationKernels.LogSoftmax(ref r, x.Length);
        Assert.All(buffer.Skip(x.Length), g => Assert.Equal(-7.25f, g));
        return buffer[..x.Length];
    }

    private static float[] Backward(string op, float[] y, float[] dy)
    {
        var ys = y.Concat(Enumerable.Repeat(float.NaN, Guard)).ToArray();
        var dz = dy.Concat(Enumerable.Repeat(-7.25f, Guard)).ToArray();
        ref float yr = ref MemoryMarshal.GetArrayDataReference(ys);
        ref float dr = ref MemoryMarshal.GetArrayDataReference(dz);
        if (op == "softmax")
            ActivationKernels.SoftmaxBackward(ref yr, ref dr, y.Length);
        else
            ActivationKernels.LogSoftmaxBackward(ref yr, ref dr, y.Length);
        Assert.All(dz.Skip(y.Length), g => Assert.Equal(-7.25f, g));
        Assert.Equal(y, ys[..y.Length]);
        return dz[..y.Length];
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void Values_are_within_one_ulp_of_the_exact_ones(string op)
    {
        int compared = 0;
        foreach (var c in Cases.Value)
        {
            var exact = Column(c, op + "_exact");
            if (exact is null)
                continue;
            var x = F(Column(c, "x")!);
            var y = Forward(op, x);
            for (int i = 0; i < x.Length; i++, compared++)
                Assert.True(Ulps(y[i], (float)exact[i]) <= 1, $"{op} '{c.GetProperty("name")}' [{i}] = {y[i]:R}, exact {exact[i]:R}");
        }
        Assert.True(compared > 3900, $"only {compared} values compared");
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void Gradients_are_within_one_ulp_of_the_exact_ones(string op)
    {
        // Inputs: PyTorch's float32 outputs and dy, as a backward pass receives them. Where dy and the row's sum nearly cancel,
        // the double-precision sum's own rounding (2⁻⁵² of its terms' magnitude) is allowed instead of the ulp.
        int compared = 0;
        foreach (var c in Cases.Value)
        {
            var exact = Column(c, op + "_grad_exact");
            if (exact is null)
                continue;
            var y = F(Column(c, op)!);
            var dy = F(Column(c, "dy")!);
            var dz = Backward(op, y, dy);
            double terms = op == "softmax" ? y.Zip(dy, (a, b) => Math.Abs((double)a * b)).Sum() : dy.Sum(v => Math.Abs((double)v));
            for (int i = 0; i < y.Length; i++, compared++)
            {
                double scale = op == "softmax" ? Math.Abs(y[i]) * (Math.Abs(dy[i]) + terms) : Math.Abs(dy[i]) + Math.Exp(y[i]) * terms;
                Assert.True(Ulps(dz[i], (float)exact[i]) <= 1 || Math.Abs(dz[i] - exact[i]) <= 1e-15 * scale,
                    $"{op} backward '{c.GetProperty("name")}' [{i}] = {dz[i]:R}, exact {exact[i]:R}");
            }
        }
        Assert.True(compared > 3900, $"only {compared} gradients compared");
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void Every_row_agrees_with_PyTorch_non_finite_ones_included(string op)
    {
        // Finite results within PyTorch's float32 error (1e-6 absolute plus 1e-5 relative); NaN and ±∞ exactly where it has them.
        foreach (var c in Cases.Value)
        {
            string name = c.GetProperty("name").GetString()!;
            var x = F(Column(c, "x")!);
            var torch = Column(c, op)!;
            var torchGrad = Column(c, op + "_grad")!;
            var y = Forward(op, x);
            var dz = Backward(op, F(torch), F(Column(c, "dy")!));
            for (int i = 0; i < x.Length; i++)
            {
                Check(y[i], torch[i], $"{op} '{name}' [{i}]");
                Check(dz[i], torchGrad[i], $"{op} backward '{name}' [{i}]");
            }
        }

        static void Check(float ours, double theirs, string what)
        {
            if (double.IsNaN(theirs) || double.IsInfinity(theirs))
                Assert.True(ours.Equals((float)theirs), $"{what} = {ours:R}, PyTorch {theirs:R}");
            else
                Assert.True(Math.Abs(ours - theirs) <= 1e-6 + 1e-5 * Math.Abs(theirs), $"{what} = {ours:R}, PyTorch {theirs:R}");
        }
    }

    [Fact]
    public void A_minus_infinity_logit_gets_probability_zero_and_passes_the_gradient_through()
    {
        var x = new[] { 1f, float.NegativeInfinity, 2f, float.NegativeInfinity, 0.5f };
        var p = Forward("softmax", x);
        var lp = Forward("log_softmax", x);
        Assert.Equal(0f, p[1]);
        Assert.Equal(float.NegativeInfinity, lp[3]);
        Assert.Equal(1.0, p.Sum(v => (double)v), 6);
        var dy = new[] { 0.25f, 0f, -1.5f, 3f, 0.125f };
        var dz = Backward("log_softmax", lp, dy);
        // exp(-∞) is exactly 0: dy comes through with its bits, a zero dy as +0 (as PyTorch's dy - 0·Σdy gives).
        Assert.Equal(BitConverter.SingleToInt32Bits(0f), BitConverter.SingleToInt32Bits(dz[1]));
        Assert.Equal(3f, dz[3]);
        var ds = Backward("softmax", p, dy);
        Assert.Equal(0f, ds[1]);
        Assert.Equal(0f, ds[3]);
    }

    [Fact]
    public void The_kernels_exponential_is_within_3e_13_of_the_exact_one_over_its_whole_range()
    {
        // Every 1/64 over [-708, 708], the ends, the points where k = round(x·log₂e) changes, and x = 0 (exactly 1).
        var x = Enumerable.Range(-708 * 64, 2 * 708 * 64 + 1).Select(i => i / 64.0)
            .Concat(Enumerable.Range(-1021, 2043).SelectMany(k => new[] { (k + 0.5) * Math.Log(2), Math.BitIncrement((k + 0.5) * Math.Log(2)) }))
            .Where(v => Math.Abs(v) <= 708).Append(-708).Append(708).Append(1e-300).Append(-1e-300).ToArray();
        var e = ActivationKernels.ExpInDouble(x);
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(e[i] / Math.Exp(x[i]) - 1) <= 3e-13, $"exp({x[i]:R}) = {e[i]:R}, Math.Exp {Math.Exp(x[i]):R}");
        Assert.Equal(1.0, ActivationKernels.ExpInDouble([0.0])[0]);
        Assert.True(double.IsNaN(ActivationKernels.ExpInDouble([double.NaN])[0]));
    }

    [Fact]
    public void The_kernels_logarithm_is_within_4e_16_of_the_exact_one_and_keeps_the_special_values()
    {
        // Powers of two and their neighbours (where the exponent split changes), the √2 switch, subnormals, and a spread of
        // values from 10⁻³⁰⁰ to 10³⁰⁰; the error is measured against Math.Log in absolute terms near 1 (where log x → 0)
        // and in relative terms elsewhere.
        var random = new Random(3);
        var x = Enumerable.Range(-1074, 2098).SelectMany(k => new[] { Math.Pow(2, k), Math.BitIncrement(Math.Pow(2, k)), Math.BitDecrement(Math.Pow(2, k)) })
            .Concat(new[] { Math.Sqrt(2), Math.BitIncrement(Math.Sqrt(2)), Math.Sqrt(0.5), 1, Math.BitIncrement(1.0), Math.BitDecrement(1.0), 5e-324, double.MaxValue })
            .Concat(Enumerable.Range(0, 20000).Select(_ => Math.Pow(10, random.NextDouble() * 600 - 300)))
            .Concat(Enumerable.Range(0, 20000).Select(_ => 0.5 + random.NextDouble()))
            .Where(v => v > 0 && double.IsFinite(v)).ToArray();
        var l = ActivationKernels.LogInDouble(x);
        for (int i = 0; i < x.Length; i++)
        {
            double exact = Math.Log(x[i]);
            Assert.True(Math.Abs(l[i] - exact) <= 4e-16 * Math.Max(1, Math.Abs(exact)), $"log({x[i]:R}) = {l[i]:R}, Math.Log {exact:R}");
        }
        var special = ActivationKernels.LogInDouble([0.0, -0.0, -1.0, double.NegativeInfinity, double.PositiveInfinity, double.NaN]);
        Assert.Equal(double.NegativeInfinity, special[0]);
        Assert.Equal(double.NegativeInfinity, special[1]);
        Assert.True(double.IsNaN(special[2]) && double.IsNaN(special[3]) && double.IsNaN(special[5]));
        Assert.Equal(double.PositiveInfinity, special[4]);
    }

    [Fact]
    public void The_kernels_log1p_on_the_unit_interval_is_within_15e_16_relative()
    {
        // Reference: the alternating series below 1/4 (to t⁶⁰), Math.Log(1 + t) above (1 + t then rounds by at most 2⁻⁵³); both
        // are off by up to ~5·10⁻¹⁶ themselves (mpmath), so the bound is 1.5·10⁻¹⁵: a missing term or a wrong constant gives 10⁻¹² or more.
        static double Exact(double t)
        {
            if (t >= 0.25)
                return Math.Log(1 + t);
            double sum = 0, power = t;
            for (int k = 1; k <= 60; k++, power *= t)
                sum += (k % 2 == 1 ? power : -power) / k;
            return sum;
        }
        var random = new Random(9);
        var t = Enumerable.Range(0, 20000).Select(_ => random.NextDouble())
            .Concat(Enumerable.Range(0, 300).Select(k => Math.Pow(2, -k)))
            .Concat(new[] { 0.0, 1.0, 0.41421356237309503, Math.BitIncrement(0.41421356237309503), 5e-324 }).ToArray();
        var l = ActivationKernels.Log1pUnitInDouble(t);
        for (int i = 0; i < t.Length; i++)
            Assert.True(Math.Abs(l[i] - Exact(t[i])) <= 1.5e-15 * Exact(t[i]), $"log1p({t[i]:R}) = {l[i]:R}, exact {Exact(t[i]):R}");
        Assert.True(double.IsNaN(ActivationKernels.Log1pUnitInDouble([double.NaN])[0]));
    }

    [Fact]
    public void A_single_class_is_certain()
    {
        foreach (float v in new[] { -3e38f, -1f, 0f, 7.5f, 3e38f })
        {
            Assert.Equal(1f, Forward("softmax", new[] { v })[0]);
            Assert.Equal(0f, Forward("log_softmax", new[] { v })[0]);
        }
        Assert.Equal(0f, Backward("softmax", new[] { 1f }, new[] { 2.5f })[0]);
        Assert.Equal(0f, Backward("log_softmax", new[] { 0f }, new[] { 2.5f })[0]);
    }

    public static TheoryData<int> Lengths => new(Enumerable.Range(1, 3 * 16 + 1).Append(1000));

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Every_length_agrees_with_a_double_precision_reference(int length)
    {
        // The reference: the textbook formulas in double, summed one element after another, rounded once. It and the kernel
        // both sit within 2⁻⁵⁰ or so of the exact value, so their floats are at most 1 ulp apart.
        var random = new Random(length);
        for (int round = 0; round < 4; round++)
        {
            double spread = round switch { 0 => 1, 1 => 8, 2 => 40, _ => 300 };
            var x = Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2 - 1) * spread)).ToArray();
            var dy = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            double max = x.Max();
            double sum = x.Sum(v => Math.Exp(v - max));
            var p = x.Select(v => (float)(Math.Exp(v - max) / sum)).ToArray();
            var lp = x.Select(v => (float)(v - max - Math.Log(sum))).ToArray();
            AssertUlps(p, Forward("softmax", x), "softmax", length);
            AssertUlps(lp, Forward("log_softmax", x), "log_softmax", length);

            double sp = p.Zip(dy, (a, b) => (double)a * b).Sum();
            var gp = p.Zip(dy, (a, b) => (float)(a * (b - sp))).ToArray();
            double sl = dy.Sum(v => (double)v);
            var gl = lp.Zip(dy, (a, b) => (float)(b - Math.Exp(a) * sl)).ToArray();
            AssertUlps(gp, Backward("softmax", p, dy), "softmax backward", length);
            AssertUlps(gl, Backward("log_softmax", lp, dy), "log_softmax backward", length);
        }

        static void AssertUlps(float[] expected, float[] actual, string what, int length)
        {
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Ulps(expected[i], actual[i]) <= 1 || Math.Abs(expected[i] - actual[i]) <= 1e-12,
                    $"{what}, length {length}, [{i}]: {actual[i]:R}, reference {expected[i]:R}");
        }
    }

    [Fact]
    public void A_rows_bits_do_not_depend_on_what_lies_around_it()
    {
        // The same row at different offsets in a buffer whose other elements are NaN, ±∞ or huge: the same bits, and the
        // neighbours untouched.
        var random = new Random(5);
        foreach (int length in new[] { 1, 5, 10, 16, 17, 33, 100 })
        {
            var x = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 20 - 10)).ToArray();
            var dy = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            float[]? first = null, firstGrad = null;
            foreach (float neighbour in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 3e38f, 0f })
                foreach (int offset in new[] { 0, 1, 3, 7 })
                    foreach (string op in new[] { "softmax", "log_softmax" })
                    {
                        var buffer = Enumerable.Repeat(neighbour, offset + length + 16).ToArray();
                        var grads = Enumerable.Repeat(neighbour, offset + length + 16).ToArray();
                        x.CopyTo(buffer, offset);
                        dy.CopyTo(grads, offset);
                        ref float r = ref buffer[offset];
                        ref float g = ref grads[offset];
                        if (op == "softmax")
                        {
                            ActivationKernels.Softmax(ref r, length);
                            ActivationKernels.SoftmaxBackward(ref r, ref g, length);
                        }
                        else
                        {
                            ActivationKernels.LogSoftmax(ref r, length);
                            ActivationKernels.LogSoftmaxBackward(ref r, ref g, length);
                        }
                        Assert.All(buffer.Take(offset).Concat(buffer.Skip(offset + length)), v => Assert.Equal(neighbour, v));
                        Assert.All(grads.Take(offset).Concat(grads.Skip(offset + length)), v => Assert.Equal(neighbour, v));
                        var row = buffer.Skip(offset).Take(length).Concat(grads.Skip(offset).Take(length)).ToArray();
                        if (op == "softmax")
                        {
                            first ??= row;
                            Assert.Equal(first, row);
                        }
                        else
                        {
                            firstGrad ??= row;
                            Assert.Equal(firstGrad, row);
                        }
                    }
        }
    }
}
