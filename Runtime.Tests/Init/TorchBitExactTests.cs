using System;
using System.Globalization;
using Xunit;

namespace DslModels.Tests.Init;

/// <summary>
/// <see cref="TorchGenerator"/> and the random initialisers against numbers produced ONCE by real PyTorch
/// (torch 1.13.1, Debian's python3-torch, CPU; `/usr/bin/python3`, with `import torch, struct; from torch import nn`).
/// The Python that produced each literal is in the comment above it. float32 uniform draws must match bit for bit,
/// normal draws within a few ulps (PyTorch's 16-block Box–Muller is vectorised float math).
/// </summary>
public class TorchBitExactTests
{
    private static uint Bits(float f) => BitConverter.SingleToUInt32Bits(f);

    private static void AssertBits(uint[] expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i] == Bits(actual[i]),
                $"[{i}]: expected 0x{expected[i]:X8} ({BitConverter.UInt32BitsToSingle(expected[i]).ToString("R", CultureInfo.InvariantCulture)}), " +
                $"got 0x{Bits(actual[i]):X8} ({actual[i].ToString("R", CultureInfo.InvariantCulture)})");
    }

    /// <summary>|a − e| in units of float32 ulp(e).</summary>
    private static double Ulps(float expected, float actual)
    {
        float ae = Math.Abs(expected);
        double ulp = MathF.BitIncrement(ae) - ae;
        return Math.Abs((double)actual - expected) / ulp;
    }

    private static void AssertUlps(float[] expected, ReadOnlySpan<float> actual, double maxUlps)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double u = Ulps(expected[i], actual[i]);
            Assert.True(u <= maxUlps,
                $"[{i}]: expected {expected[i].ToString("R", CultureInfo.InvariantCulture)}, got {actual[i].ToString("R", CultureInfo.InvariantCulture)} ({u:F1} ulps > {maxUlps})");
        }
    }

    [Fact]
    public void Linear_3_2_default_init_matches_torch_bit_for_bit()
    {
        // torch.manual_seed(0); l = nn.Linear(3, 2)
        // [hex(struct.unpack('<I', struct.pack('<f', x))[0]) for x in l.weight.flatten().tolist()]  (and l.bias)
        // weight = [-0.004322517663240433, 0.3097158372402191, -0.4751853346824646, -0.4248946011066437, -0.2223689705133438, 0.15482072532176971]
        // bias   = [-0.011439144611358643, 0.45777493715286255]
        var w = new float[6];
        var b = new float[2];
        DslModels.Init.LinearDefault(w, [2, 3], b, new TorchGenerator(0));
        AssertBits([0xBB8DA3E8, 0x3E9E9313, 0xBEF34B7E, 0xBED98BC9, 0xBE63B4B1, 0x3E1E8953], w);
        AssertBits([0xBC3B6B40, 0x3EEA617A], b);
    }

    [Fact]
    public void Linear_20_3_default_init_matches_torch_bit_for_bit()
    {
        // torch.manual_seed(12); l = nn.Linear(20, 3); bits of l.weight (row-major), then l.bias
        uint[] expectedW =
        [
            0xBC7B69C0, 0xBDF4C1D3, 0xBCAD35C9, 0x3D1F9232, 0xBD2757E7, 0xBE2ABBF6, 0x3D7B7960, 0xBDEC3E71, 0x3DD3BEED, 0x3DCBBAB8,
            0xBE09BBF4, 0x3DB270DF, 0x3D180B59, 0x3D717B5E, 0x3CCCBE29, 0xBE2B2879, 0x3E5B5EA3, 0x3E1DA7C3, 0xBE2B7615, 0xBCC737AE,
            0x3D929860, 0xBE4B9C9C, 0xBE1CF0F1, 0x3E0FA51E, 0x3DCAFE67, 0xBDD11160, 0xBDB6E7CF, 0x3D4963C3, 0x3D0F8C61, 0x3D467642,
            0xBCF24C5B, 0x3E2E9ECE, 0xBDA35D35, 0xBDDB685D, 0xBDDEE95D, 0xBE0F3D0E, 0x3D825EE8, 0xBE13344D, 0xBE234357, 0x3DE4171D,
            0x3DD057DE, 0xBE19CF53, 0xBD9E2ACA, 0xBE2C3758, 0x3D507725, 0xBCAA7660, 0x3DF387C8, 0xBE128DC1, 0xBD983D53, 0x3E4F4230,
            0x3E33758C, 0x3E5E892A, 0x3D76F82E, 0x3E2E8B50, 0x3E4913CB, 0xBE2F3E20, 0xBE27823E, 0x3E49B6CA, 0x3DA5170A, 0x3CCBA981,
        ];
        var w = new float[60];
        var b = new float[3];
        DslModels.Init.LinearDefault(w, [3, 20], b, new TorchGenerator(12));
        AssertBits(expectedW, w);
        AssertBits([0x3E2A0BCC, 0xBE4127BC, 0x3E23D8A3], b);
    }

    [Fact]
    public void Uniform_matches_torch_bit_for_bit()
    {
        // torch.manual_seed(42); t = torch.empty(5).uniform_(-1, 2)
        // t.tolist() = [1.6468077898025513, 1.745011806488037, 0.1485912799835205, 1.877916932106018, 0.17134463787078857]
        var t = new float[5];
        DslModels.Init.Uniform(t, new TorchGenerator(42), -1, 2);
        AssertBits([0x3FD2CA99, 0x3FDF5C8C, 0x3E182850, 0x3FF05F95, 0x3E2F74F8], t);
    }

    [Fact]
    public void Uniform_1000_draws_cross_the_twist_boundary_bit_for_bit()
    {
        // torch.manual_seed(8); t = torch.empty(1000).uniform_()
        // bits of t[[0, 623, 624, 999]]; and FNV-1a (64-bit, offset 0xcbf29ce484222325, prime 0x100000001b3) over the
        // 1000 float32 bit patterns, xor-ing each whole uint32 in: 0x80b45b01b864de91
        var t = new float[1000];
        DslModels.Init.Uniform(t, new TorchGenerator(8));
        AssertBits([0x3F1911C3, 0x3E370A24, 0x3E02AE90, 0x3E2C40A8], new[] { t[0], t[623], t[624], t[999] });
        ulong h = 0xcbf29ce484222325UL;
        foreach (float f in t)
        {
            h ^= Bits(f);
            h *= 0x100000001b3UL;
        }
        Assert.Equal(0x80b45b01b864de91UL, h);
    }

    [Fact]
    public void Seed_uses_only_the_low_32_bits_and_negative_seeds_wrap()
    {
        // torch.manual_seed(-1); torch.rand(3)  -> same as torch.manual_seed(2**32 - 1); torch.rand(3)
        // bits: 0x3F7E69A3, 0x3F124122, 0x3F11EC0C
        var t = new float[3];
        new TorchGenerator(-1).FillUniform(t, 0, 1);
        AssertBits([0x3F7E69A3, 0x3F124122, 0x3F11EC0C], t);
        new TorchGenerator((1L << 32) - 1).FillUniform(t, 0, 1);
        AssertBits([0x3F7E69A3, 0x3F124122, 0x3F11EC0C], t);

        // torch.manual_seed(2**32 + 7) and torch.manual_seed(7), then nn.init.xavier_uniform_(torch.empty(3, 5), gain=2.0): same bits
        uint[] xavier = [0x3DF7C1DC, 0xBF858D5B, 0x3F0D30C6, 0x3F0B21C2, 0xBF6CFD5E, 0xBE84E9A0, 0xBF81E128, 0x3EE61A5F, 0xBEEEE0C2, 0x3F9BC110, 0x3F9D6232, 0x3E34ADEE, 0xBF3D0886, 0xBF82382E, 0xBE42C741];
        var w = new float[15];
        DslModels.Init.XavierUniform(w, [3, 5], new TorchGenerator(7), gain: 2.0);
        AssertBits(xavier, w);
        w.AsSpan().Clear();
        DslModels.Init.XavierUniform(w, [3, 5], new TorchGenerator((1L << 32) + 7), gain: 2.0);
        AssertBits(xavier, w);
    }

    [Fact]
    public void KaimingUniform_fan_out_leaky_relu_matches_torch_bit_for_bit()
    {
        // torch.manual_seed(5); w = torch.empty(4, 3, 2)
        // nn.init.kaiming_uniform_(w, a=0.2, mode='fan_out', nonlinearity='leaky_relu'); bits of w
        var w = new float[24];
        DslModels.Init.KaimingUniform(w, [4, 3, 2], new TorchGenerator(5), a: 0.2, mode: "fan_out", nonlinearity: "leaky_relu");
        AssertBits(
        [
            0x3F0F9777, 0xBF22909B, 0x3F312A60, 0x3F0B1A3C, 0x3F36A89B, 0xBF26AE35, 0xBF11EBB2, 0x3ECEE45C, 0xBF4AEF15, 0x3F56DE66, 0x3E391921, 0x3DE09A0E,
            0xBF39E9AB, 0x3E8A8F32, 0x3EBAF772, 0x3E09F6FA, 0x3F511AB5, 0x3E829386, 0xBF40C5E9, 0x3F36A987, 0x3E93A026, 0xBECF6B98, 0xBF47B1C7, 0x3EF7DD29,
        ], w);
    }

    [Fact]
    public void Normal_fewer_than_16_elements_uses_the_scalar_box_muller_path()
    {
        // torch.manual_seed(1); torch.empty(7).normal_(0.5, 2.0)
        var t = new float[7];
        DslModels.Init.Normal(t, new TorchGenerator(1), 0.5, 2.0);
        AssertUlps([1.8227043f, 1.0338482f, 0.6233545f, 1.7426347f, -0.40381193f, 0.16773953f, -2.545537f], t, 1);
    }

    [Fact]
    public void Normal_scalar_path_caches_the_second_value_across_calls()
    {
        // torch.manual_seed(4); a = torch.empty(3).normal_(); b = torch.empty(2).normal_()
        // a = [-1.6052763, 0.23248571, 2.23987], b = [0.8472938, 1.2006443]  (b[0] is the cached sine of a[2]'s pair)
        var g = new TorchGenerator(4);
        var a = new float[3];
        var b = new float[2];
        DslModels.Init.Normal(a, g);
        DslModels.Init.Normal(b, g);
        AssertUlps([-1.6052763f, 0.23248571f, 2.23987f], a, 1);
        AssertUlps([0.8472938f, 1.2006443f], b, 1);
        // manual_seed clears the cache: the same seed gives a again.
        g.ManualSeed(4);
        DslModels.Init.Normal(a, g);
        AssertUlps([-1.6052763f, 0.23248571f, 2.23987f], a, 1);
    }

    [Fact]
    public void Normal_exactly_16_elements_uses_the_block_path()
    {
        // torch.manual_seed(2); torch.empty(16).normal_()
        var t = new float[16];
        DslModels.Init.Normal(t, new TorchGenerator(2));
        AssertUlps(
        [
            -1.0408012f, 0.91660416f, -1.3041904f, -1.1096784f, -1.2187781f, 1.1675924f, -1.0573921f, -0.118839376f,
            -0.90783983f, 0.34522223f, -0.5713339f, -0.23510893f, 1.0076052f, -0.75288147f, -0.2249992f, -0.43268603f,
        ], t, 3);
    }

    [Fact]
    public void Normal_37_elements_redraws_the_last_partial_block()
    {
        // torch.manual_seed(3); torch.empty(37).normal_(-1, 0.5)
        var t = new float[37];
        DslModels.Init.Normal(t, new TorchGenerator(3), -1, 0.5);
        AssertUlps(
        [
            -1.0383221f, -0.82005924f, -1.3910084f, -0.96423614f, -0.6675803f, -1.1433902f, -0.18972462f, -1.798354f, -1.0258405f, -1.1529878f,
            -0.8757491f, -1.1112804f, -0.543424f, -0.8978294f, -0.7130077f, -0.79183435f, -0.8692494f, -0.5344378f, -1.257231f, -1.8258327f,
            -0.4769886f, -1.0338428f, -0.7854835f, -1.4340596f, -1.5981598f, -0.48600173f, -0.96405447f, -1.0922381f, -1.7579422f, -0.96803796f,
            -0.6705431f, -0.5902704f, -0.71920305f, -1.1240734f, -1.5399804f, -0.7041891f, -0.6378803f,
        ], t, 3);
    }

    [Fact]
    public void KaimingNormal_relu_20_elements_matches_torch()
    {
        // torch.manual_seed(6); w = torch.empty(5, 4); nn.init.kaiming_normal_(w, mode='fan_in', nonlinearity='relu')
        var w = new float[20];
        DslModels.Init.KaimingNormal(w, [5, 4], new TorchGenerator(6), mode: "fan_in", nonlinearity: "relu");
        AssertUlps(
        [
            -0.85652167f, 0.4457308f, -1.040369f, -0.9441283f, 0.102995634f, -0.5193541f, -0.6980951f, 1.3090096f, 0.7298454f, 0.5844993f,
            0.08388281f, -0.44063345f, 0.4108071f, 0.25178665f, 0.011346242f, 0.28415564f, -0.6541302f, 0.39558318f, -0.44830346f, -1.2738546f,
        ], w, 3);
    }

    [Fact]
    public void TruncNormal_matches_torch()
    {
        // torch.manual_seed(9); t = torch.empty(2, 6); nn.init.trunc_normal_(t, mean=0.5, std=2.0, a=-1.0, b=3.0)
        var t = new float[12];
        DslModels.Init.TruncNormal(t, new TorchGenerator(9), mean: 0.5, std: 2.0, a: -1.0, b: 3.0);
        AssertUlps(
        [
            1.3496048f, 0.13856578f, 0.7364998f, 1.8220228f, 2.4854102f, 2.5583375f,
            -0.004230678f, 2.6900785f, 0.40298334f, 0.5034293f, 2.6754847f, 1.039451f,
        ], t, 3);

        // torch.manual_seed(14); t = torch.empty(20); nn.init.trunc_normal_(t)
        var d = new float[20];
        DslModels.Init.TruncNormal(d, new TorchGenerator(14));
        AssertUlps(
        [
            0.16704547f, -1.9227527f, 1.3449306f, 0.56941086f, 0.89458495f, 0.693772f, -1.404815f, -0.98852944f, -0.5191039f, 0.06980625f,
            -0.9836674f, 0.8981291f, -0.3468692f, 0.7079814f, -0.045920998f, -0.7466246f, -1.5863181f, 1.8128607f, 0.34469196f, -0.13261442f,
        ], d, 3);
    }

    [Fact]
    public void Orthogonal_matches_torch_wide_and_tall()
    {
        // torch.manual_seed(10); t = torch.empty(3, 5); nn.init.orthogonal_(t, gain=1.5)
        // (same normal draws; the sign-corrected Q is unique, so only LAPACK's float32 rounding differs)
        var t = new float[15];
        DslModels.Init.Orthogonal(t, [3, 5], new TorchGenerator(10), gain: 1.5);
        float[] expectedWide =
        [
            -0.4608915f, -0.7757307f, -0.23165113f, -0.9408662f, 0.704932f, 0.4841674f, 0.4478249f, -0.77351f,
            0.36415666f, 1.0412047f, -0.37519735f, -0.39971405f, 0.874704f, 0.827535f, 0.7067775f,
        ];
        for (int i = 0; i < t.Length; i++)
            Assert.True(Math.Abs(t[i] - expectedWide[i]) <= 1e-5, $"wide [{i}]: expected {expectedWide[i]}, got {t[i]}");

        // torch.manual_seed(11); t = torch.empty(5, 3); nn.init.orthogonal_(t)
        var u = new float[15];
        DslModels.Init.Orthogonal(u, [5, 3], new TorchGenerator(11));
        float[] expectedTall =
        [
            0.40784132f, 0.6311916f, -0.5022203f, -0.72005075f, -0.036942124f, -0.3049916f, 0.13611749f, 0.14963074f,
            0.7675499f, -0.52904093f, 0.66537386f, 0.24429886f, -0.12953773f, -0.3675873f, -0.07707316f,
        ];
        for (int i = 0; i < u.Length; i++)
            Assert.True(Math.Abs(u[i] - expectedTall[i]) <= 1e-5, $"tall [{i}]: expected {expectedTall[i]}, got {u[i]}");
    }

    [Fact]
    public void RandPerm_matches_torch_1_13()
    {
        // torch.manual_seed(0); torch.randperm(10).tolist() = [4, 1, 7, 5, 3, 9, 0, 8, 6, 2]
        var p = new int[10];
        new TorchGenerator(0).RandPerm(p);
        Assert.Equal(new[] { 4, 1, 7, 5, 3, 9, 0, 8, 6, 2 }, p);
        // torch.manual_seed(0); torch.randperm(3000)[[0, 1, 1000, 2999]].tolist() = [44, 1272, 2495, 477]
        var q = new int[3000];
        new TorchGenerator(0).RandPerm(q);
        Assert.Equal(new[] { 44, 1272, 2495, 477 }, new[] { q[0], q[1], q[1000], q[2999] });
    }

    [Fact]
    public void Sparse_matches_torch_including_the_zero_positions()
    {
        // torch.manual_seed(13); t = torch.empty(6, 4); nn.init.sparse_(t, 0.3, std=0.5)
        float[] expected =
        [
            0.21857928f, 0.18503058f, 0.7907865f, -0.07781984f, 0.07554567f, -0.6747461f, -0.35447222f, -0.12169112f,
            0.0f, 0.208065f, 0.50793f, -0.10681075f, 0.0f, 0.0f, -0.015032936f, 0.0f,
            -0.8711683f, 0.0f, 0.0f, 0.0f, 0.29419738f, 0.34649903f, 0.0f, 0.31399676f,
        ];
        var t = new float[24];
        DslModels.Init.Sparse(t, [6, 4], new TorchGenerator(13), sparsity: 0.3, std: 0.5);
        for (int i = 0; i < t.Length; i++)
            Assert.True(expected[i] == 0 ? t[i] == 0 : Ulps(expected[i], t[i]) <= 3, $"[{i}]: expected {expected[i]}, got {t[i]}");
    }
}
