using System;

namespace DslModels;

/// <summary>
/// A seeded random generator that reproduces PyTorch's CPU generator (<c>torch.manual_seed</c>):
/// a 32-bit Mersenne Twister (MT19937) seeded with the low 32 bits of the seed, with PyTorch's
/// mappings to uniform and normal floats. The same seed gives the same numbers on every machine, in
/// every run, for any thread count (nothing here depends on the hardware or on vectorisation), and
/// for float32 uniform draws the same bits as <c>torch.manual_seed(seed); t.uniform_(a, b)</c>.
/// </summary>
/// <remarks>
/// Algorithm (PyTorch 1.13, <c>aten/src/ATen/core/MT19937RNGEngine.h</c> and the CPU distribution kernels):
/// <list type="bullet">
/// <item><c>Random32</c>: the next tempered MT19937 output. <c>Random64</c>: two outputs, first in the high half.</item>
/// <item>float32 U[from, to): <c>(Random32() &amp; 0xFFFFFF) · 2⁻²⁴ · (to - from) + from</c> in double, from/to first rounded to float32.</item>
/// <item>Normal, 16 or more elements: fill with U[0,1) floats, then Box–Muller on blocks of 16 (element j with j + 8)
/// in float32 arithmetic as PyTorch; a partial last block is redrawn over the last 16 positions. Within ~3 ulps of torch. Fewer than 16: Box–Muller from two 53-bit doubles,
/// caching the second value.</item>
/// <item><c>RandPerm</c>: Fisher–Yates with <c>Random32() mod (n - i)</c>, as torch 1.13's CPU <c>randperm</c>.</item>
/// </list>
/// Not thread-safe: use one generator per thread.
/// </remarks>
public sealed class TorchGenerator
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] _state = new uint[N];
    private int _index;
    private double? _cachedNormal;

    /// <summary>Creates a generator seeded as <c>torch.manual_seed(seed)</c>.</summary>
    public TorchGenerator(long seed) => ManualSeed(seed);

    /// <summary>Re-seeds as <c>torch.manual_seed(seed)</c> (only the low 32 bits are used, as in PyTorch).</summary>
    public void ManualSeed(long seed)
    {
        uint s = (uint)((ulong)seed & 0xFFFFFFFFUL);
        _state[0] = s;
        for (int i = 1; i < N; i++)
            _state[i] = 1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30)) + (uint)i;
        _index = N;
        _cachedNormal = null;
    }

    /// <summary>The next 32 random bits.</summary>
    public uint Random32()
    {
        if (_index >= N)
            Twist();
        uint y = _state[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680u;
        y ^= (y << 15) & 0xEFC60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>The next 64 random bits (two 32-bit outputs, the first in the high half).</summary>
    public ulong Random64()
    {
        ulong hi = Random32();
        ulong lo = Random32();
        return (hi << 32) | lo;
    }

    /// <summary>A float32 from U[from, to), as PyTorch's <c>uniform_</c> on a float32 tensor.</summary>
    public float NextUniformFloat(double from, double to)
    {
        double f = (float)from, t = (float)to;
        double x = (Random32() & 0xFFFFFF) * (1.0 / (1 << 24));
        return (float)(x * (t - f) + f);
    }

    /// <summary>A double from U[0, 1) with 53 random bits.</summary>
    public double NextDouble() => (Random64() & ((1UL << 53) - 1)) * (1.0 / (1UL << 53));

    /// <summary>Fills <paramref name="values"/> from U[from, to) in order (PyTorch's <c>uniform_</c>).</summary>
    public void FillUniform(Span<float> values, double from, double to)
    {
        for (int i = 0; i < values.Length; i++)
            values[i] = NextUniformFloat(from, to);
    }

    /// <summary>Fills <paramref name="values"/> from N(mean, std²) the way PyTorch's <c>normal_</c> does.</summary>
    public void FillNormal(Span<float> values, double mean, double std)
    {
        int n = values.Length;
        if (n >= 16)
        {
            for (int i = 0; i < n; i++)
                values[i] = NextUniformFloat(0, 1);
            for (int start = 0; start + 16 <= n; start += 16)
                BoxMullerBlock(values.Slice(start, 16), mean, std);
            if (n % 16 != 0)
            {
                Span<float> last = values.Slice(n - 16, 16);
                for (int i = 0; i < 16; i++)
                    last[i] = NextUniformFloat(0, 1);
                BoxMullerBlock(last, mean, std);
            }
        }
        else
        {
            for (int i = 0; i < n; i++)
                values[i] = (float)(NextNormal() * std + mean);
        }
    }

    /// <summary>
    /// Fills <paramref name="permutation"/> with a random permutation of 0..n-1 (n = its length), as torch 1.13's CPU
    /// <c>torch.randperm(n)</c>: start from the identity and for i = 0..n-2 swap element i with element
    /// i + (Random32() mod (n - i)). Verified against torch 1.13.1 (later releases may draw differently).
    /// </summary>
    public void RandPerm(Span<int> permutation)
    {
        int n = permutation.Length;
        for (int i = 0; i < n; i++)
            permutation[i] = i;
        for (int i = 0; i < n - 1; i++)
        {
            int z = (int)(Random32() % (uint)(n - i));
            (permutation[i], permutation[i + z]) = (permutation[i + z], permutation[i]);
        }
    }

    /// <summary>One standard normal double (Box–Muller with a cached second value, PyTorch's scalar path).</summary>
    public double NextNormal()
    {
        if (_cachedNormal is double cached)
        {
            _cachedNormal = null;
            return cached;
        }
        double u1 = NextDouble();
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(1.0 - u2));
        double theta = 2.0 * Math.PI * u1;
        _cachedNormal = r * Math.Sin(theta);
        return r * Math.Cos(theta);
    }

    private static void BoxMullerBlock(Span<float> d, double mean, double std)
    {
        // PyTorch transforms float32 blocks in float arithmetic (normal_fill_16 with scalar_t = float, or its AVX2
        // twin): float u1, u2, radius, theta = float(2π)·u2, float products. Mirroring those roundings keeps the
        // result within ~3 ulps of torch (exact for most elements); log/cos/sin are evaluated in double and rounded
        // (torch uses float approximations of them, which is the remaining difference). Doing the transform in
        // double instead differs from torch by up to ~1e-6 absolute, because theta's float rounding is lost.
        const float TwoPi = (float)(2.0 * Math.PI);
        float fStd = (float)std, fMean = (float)mean;
        for (int j = 0; j < 8; j++)
        {
            float u1 = 1f - d[j];
            float u2 = d[j + 8];
            float radius = MathF.Sqrt(-2f * (float)Math.Log(u1));
            float theta = TwoPi * u2;
            float c = (float)Math.Cos(theta), s = (float)Math.Sin(theta);
            d[j] = radius * c * fStd + fMean;
            d[j + 8] = radius * s * fStd + fMean;
        }
    }

    private void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_state[i] & 0x80000000u) | (_state[(i + 1) % N] & 0x7FFFFFFFu);
            uint next = _state[(i + M) % N] ^ (y >> 1);
            if ((y & 1) != 0)
                next ^= 0x9908B0DFu;
            _state[i] = next;
        }
        _index = 0;
    }
}
