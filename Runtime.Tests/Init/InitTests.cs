using System;
using System.Linq;
using Xunit;
using I = DslModels.Init;

namespace DslModels.Tests.Init;

/// <summary>
/// Errors, edge cases and deterministic results of <see cref="I"/>. Expected values come from PyTorch 1.13's
/// documented behaviour (docs reference, section 1) or from torch runs quoted in the comments.
/// </summary>
public class InitTests
{
    private const float Sentinel = 777.25f;

    private static float[] Filled(int n)
    {
        var t = new float[n];
        t.AsSpan().Fill(Sentinel);
        return t;
    }

    /// <summary>Runs <paramref name="action"/>, expects <typeparamref name="T"/> naming <paramref name="param"/>, and checks the tensor is untouched.</summary>
    private static T Throws<T>(float[] tensor, string param, Action<float[]> action) where T : ArgumentException
    {
        var ex = Assert.Throws<T>(() => action(tensor));
        Assert.Equal(param, ex.ParamName);
        Assert.All(tensor, v => Assert.Equal(Sentinel, v));
        return ex;
    }

    [Fact]
    public void CalculateGain_values_and_errors()
    {
        // torch.nn.init.calculate_gain('leaky_relu', 1) == 1.0; ('tanh') == 5/3; unknown names are case-sensitive.
        Assert.Equal(1.0, I.CalculateGain("leaky_relu", 1), 15);
        Assert.Equal(5.0 / 3, I.CalculateGain("tanh"), 15);
        Assert.Equal(1.4141428569978354, I.CalculateGain("leaky_relu"), 15);
        var ex = Assert.Throws<ArgumentException>(() => I.CalculateGain("Relu"));
        Assert.Equal("nonlinearity", ex.ParamName);
        Assert.StartsWith("Unsupported nonlinearity Relu", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => I.CalculateGain("leaky_relu", double.NaN));
    }

    [Fact]
    public void Fans_follow_torch_including_conv_transpose_layout()
    {
        // ConvTranspose2d(3, 8, 3).weight has shape (3, 8, 3, 3) -> (fan_in, fan_out) = (72, 27)  [reference 1.2, verified]
        Assert.Equal((72, 27), I.CalculateFanInAndFanOut([3, 8, 3, 3]));
        Assert.Equal((3, 5), I.CalculateFanInAndFanOut([5, 3]));
        Assert.Equal(27, I.CalculateCorrectFan([3, 8, 3, 3], "FAN_OUT"));
        var ex = Assert.Throws<ArgumentException>(() => I.CalculateCorrectFan([3, 4], "Fan_Avg"));
        Assert.StartsWith("Mode fan_avg not supported, please use one of ['fan_in', 'fan_out']", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => I.CalculateFanInAndFanOut([]));
        Assert.Throws<ArgumentException>(() => I.CalculateFanInAndFanOut([3, -1]));
    }

    [Fact]
    public void Bad_arguments_throw_before_writing()
    {
        var g = new TorchGenerator(0);
        var ex = Throws<ArgumentException>(Filled(3), "a", t => I.Uniform(t, g, 2, 1));
        Assert.StartsWith("uniform_ expects to return a [from, to) range, but found from=2 > to=1", ex.Message, StringComparison.Ordinal);
        Throws<ArgumentException>(Filled(3), "a", t => I.Uniform(t, g, double.NaN, 1));
        Throws<ArgumentException>(Filled(3), "b", t => I.Uniform(t, g, -3e38, 3e38));
        var nex = Throws<ArgumentOutOfRangeException>(Filled(3), "std", t => I.Normal(t, g, 0, -1));
        Assert.StartsWith("normal expects std >= 0.0, but found std -1", nex.Message, StringComparison.Ordinal);
        Throws<ArgumentOutOfRangeException>(Filled(3), "std", t => I.TruncNormal(t, g, 0, 0));
        Throws<ArgumentException>(Filled(3), "a", t => I.TruncNormal(t, g, 0, 1, a: 1, b: -1));
        Throws<ArgumentOutOfRangeException>(Filled(3), "b", t => I.TruncNormal(t, g, 0, 1, a: 1, b: double.NaN));
        Throws<ArgumentException>(Filled(3), "shape", t => I.Eye(t, [3]));
        Throws<ArgumentException>(Filled(6), "tensor", t => I.Eye(t, [2, 2]));
        Throws<ArgumentException>(Filled(9), "shape", t => I.Dirac(t, [3, 3]));
        Throws<ArgumentOutOfRangeException>(Filled(27), "groups", t => I.Dirac(t, [3, 3, 3], groups: 0));
        Throws<ArgumentException>(Filled(27), "groups", t => I.Dirac(t, [3, 3, 3], groups: 2));
        Throws<ArgumentException>(Filled(5), "shape", t => I.Orthogonal(t, [5], g));
        Throws<ArgumentException>(Filled(60), "shape", t => I.Sparse(t, [3, 4, 5], g, 0.1));
        Throws<ArgumentOutOfRangeException>(Filled(12), "sparsity", t => I.Sparse(t, [3, 4], g, -0.1));
        Throws<ArgumentOutOfRangeException>(Filled(12), "sparsity", t => I.Sparse(t, [3, 4], g, double.NaN));
        Throws<ArgumentOutOfRangeException>(Filled(12), "std", t => I.Sparse(t, [3, 4], g, 0.5, std: -1));
        // xavier with fan_in + fan_out == 0: PyTorch raises ZeroDivisionError; we raise a clear ArgumentException.
        Throws<ArgumentException>(Filled(0), "shape", t => I.XavierUniform(t, [0, 0], g));
        Throws<ArgumentException>(Filled(0), "shape", t => I.XavierNormal(t, [3, 4, 0], g));
        Throws<ArgumentException>(Filled(12), "mode", t => I.KaimingUniform(t, [3, 4], g, mode: "fan_avg"));
        Throws<ArgumentException>(Filled(12), "nonlinearity", t => I.KaimingNormal(t, [3, 4], g, nonlinearity: "gelu"));
        Throws<ArgumentException>(Filled(5), "shape", t => I.KaimingUniform(t, [5], g));
    }

    [Fact]
    public void LinearDefault_checks_the_bias_before_drawing_the_weight()
    {
        var w = Filled(6);
        var b = Filled(3);
        var ex = Assert.Throws<ArgumentException>(() => I.LinearDefault(w, [2, 3], b, new TorchGenerator(0)));
        Assert.Equal("bias", ex.ParamName);
        Assert.All(w, v => Assert.Equal(Sentinel, v));
        Assert.All(b, v => Assert.Equal(Sentinel, v));
    }

    [Fact]
    public void Kaiming_on_a_zero_element_tensor_is_a_no_op_that_draws_nothing()
    {
        var g = new TorchGenerator(3);
        I.KaimingUniform(Span<float>.Empty, [0, 4], g, mode: "not even checked");
        I.KaimingNormal(Span<float>.Empty, [4, 0], g);
        Assert.Equal(new TorchGenerator(3).Random32(), g.Random32());
    }

    [Fact]
    public void Kaiming_mode_is_case_insensitive()
    {
        var a = new float[20];
        var b = new float[20];
        I.KaimingUniform(a, [4, 5], new TorchGenerator(1), mode: "FAN_OUT");
        I.KaimingUniform(b, [4, 5], new TorchGenerator(1), mode: "fan_out");
        Assert.Equal(a, b);
        float bound = (float)(Math.Sqrt(2.0) * Math.Sqrt(3.0 / 4)); // relu-like gain sqrt(2), fan_out 4
        Assert.All(a, v => Assert.InRange(v, -bound, bound));
        // Same draws with fan_in (5): every value scales by bound_in / bound_out = sqrt(4/5).
        I.KaimingUniform(b, [4, 5], new TorchGenerator(1), mode: "Fan_In");
        for (int i = 0; i < a.Length; i++)
            Assert.Equal(Math.Sqrt(4.0 / 5), b[i] / (double)a[i], 5);
    }

    [Fact]
    public void Eye_is_rectangular_identity()
    {
        var t = Filled(6);
        I.Eye(t, [3, 2]);
        Assert.Equal(new float[] { 1, 0, 0, 1, 0, 0 }, t);
    }

    [Fact]
    public void Dirac_groups_put_the_centre_tap_per_group()
    {
        // torch: w = torch.empty(4, 1, 3); nn.init.dirac_(w, groups=2)
        // -> w[0,0,1] = 1 and w[2,0,1] = 1 (out_per_group 2, min_dim = min(2, in=1) = 1), all else 0
        var t = Filled(12);
        I.Dirac(t, [4, 1, 3], groups: 2);
        var expected = new float[12];
        expected[0 * 3 + 1] = 1;
        expected[2 * 3 + 1] = 1;
        Assert.Equal(expected, t);

        // 4-D with even kernel: centre index k//2 = 1 for k = 2. w = torch.empty(2, 2, 2, 3); dirac_(w)
        var u = Filled(24);
        I.Dirac(u, [2, 2, 2, 3]);
        var e2 = new float[24];
        e2[0 * 12 + 0 * 6 + 1 * 3 + 1] = 1;
        e2[1 * 12 + 1 * 6 + 1 * 3 + 1] = 1;
        Assert.Equal(e2, u);
    }

    [Theory]
    [InlineData(new[] { 16, 8, 3, 3 }, 0.5)]
    [InlineData(new[] { 7, 7 }, 1.0)]
    [InlineData(new[] { 50, 3, 2 }, 3.0)]
    public void Orthogonal_is_orthogonal_for_any_shape(int[] shape, double gain)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var t = new float[n];
        I.Orthogonal(t, shape, new TorchGenerator(99), gain);
        int rows = shape[0], cols = n / rows;
        bool byRows = rows <= cols;
        int k = byRows ? rows : cols, len = byRows ? cols : rows;
        for (int p = 0; p < k; p++)
            for (int q = 0; q < k; q++)
            {
                double dot = 0;
                for (int e = 0; e < len; e++)
                    dot += byRows ? (double)t[p * cols + e] * t[q * cols + e] : (double)t[e * cols + p] * t[e * cols + q];
                Assert.True(Math.Abs(dot - (p == q ? gain * gain : 0)) < 1e-5 * gain * gain, FormattableString.Invariant($"<{p},{q}> = {dot}"));
            }
    }

    [Fact]
    public void Orthogonal_zero_size_draws_nothing()
    {
        var g = new TorchGenerator(5);
        I.Orthogonal(Span<float>.Empty, [0, 3], g);
        Assert.Equal(new TorchGenerator(5).Random32(), g.Random32());
    }

    [Fact]
    public void Sparse_draws_the_whole_normal_tensor_first_then_zeroes_per_column()
    {
        // sparse_ = normal_(0, std) then zeroing: with sparsity 0 it equals normal_ from the same seed.
        var s = new float[40];
        var n = new float[40];
        I.Sparse(s, [8, 5], new TorchGenerator(17), sparsity: 0, std: 0.3);
        I.Normal(n, new TorchGenerator(17), 0, 0.3);
        Assert.Equal(n, s);

        // sparsity 0.3 on 8 rows: ceil(2.4) = 3 zeros per column, the rest unchanged normal draws.
        I.Sparse(s, [8, 5], new TorchGenerator(17), sparsity: 0.3, std: 0.3);
        for (int j = 0; j < 5; j++)
        {
            int zeros = 0;
            for (int i = 0; i < 8; i++)
            {
                if (s[i * 5 + j] == 0) zeros++;
                else Assert.Equal(n[i * 5 + j], s[i * 5 + j]);
            }
            Assert.Equal(3, zeros);
        }

        // sparsity >= 1 zeroes everything (torch slices perm[:ceil(s*rows)]).
        I.Sparse(s, [8, 5], new TorchGenerator(17), sparsity: 1.5);
        Assert.All(s, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void TruncNormal_edge_cases()
    {
        // a == b: uniform_(2l-1, 2l-1) then clamp(a, a) -> every value is a.
        var t = new float[20];
        I.TruncNormal(t, new TorchGenerator(1), mean: 0, std: 1, a: 0.5, b: 0.5);
        Assert.All(t, v => Assert.Equal(0.5f, v));

        // Infinite cut-offs: a plain N(mean, std^2) by inverse CDF.
        var u = new float[20000];
        I.TruncNormal(u, new TorchGenerator(2), mean: 1, std: 2, a: double.NegativeInfinity, b: double.PositiveInfinity);
        double m = u.Average(v => (double)v);
        double s = Math.Sqrt(u.Sum(v => (v - m) * (v - m)) / (u.Length - 1));
        Assert.InRange(m, 1 - 6 * 2 / Math.Sqrt(u.Length), 1 + 6 * 2 / Math.Sqrt(u.Length));
        Assert.InRange(s, 2 - 6 * 2 / Math.Sqrt(2.0 * u.Length), 2 + 6 * 2 / Math.Sqrt(2.0 * u.Length));

        // Cut-offs far in one tail (mean more than 2 std outside [a, b]; torch only warns): values stay in [a, b].
        var w = new float[1000];
        I.TruncNormal(w, new TorchGenerator(3), mean: 0, std: 1, a: 3, b: 4);
        Assert.All(w, v => Assert.InRange(v, 3f, 4f));
    }

    [Fact]
    public void Deterministic_fills()
    {
        var t = Filled(4);
        I.Constant(t, -2.5);
        Assert.All(t, v => Assert.Equal(-2.5f, v));
        I.Ones(t);
        Assert.All(t, v => Assert.Equal(1f, v));
        I.Zeros(t);
        Assert.All(t, v => Assert.Equal(0f, v));
        // uniform_(a, a) and normal_(mean, 0) are constant.
        I.Uniform(t, new TorchGenerator(0), 0.75, 0.75);
        Assert.All(t, v => Assert.Equal(0.75f, v));
        var big = new float[33];
        I.Normal(big, new TorchGenerator(0), 1.5, 0);
        Assert.All(big, v => Assert.Equal(1.5f, v));
    }
}
