using System;
using System.Linq;
using System.Runtime.Intrinsics;
using Xunit;
using static DslModels.Tests.Models.ModelHelpers;

namespace DslModels.Tests.Models;

/// <summary>
/// Layers with ReLU, Hardtanh or Hardswish skip the samples whose dz is exactly zero in their weight gradient. A skipped term
/// dz·x is ±0, so the result must be, bit for bit, the dense kernel's: per element, one FMA chain over the samples in order from
/// +0 (plain multiply-adds in the scalar columns, on machines without SIMD, and on the Vector128 path without FMA hardware).
/// These tests compute that chain themselves.
/// </summary>
public class SparseGradientTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(15, 1)] // chunks under 16 samples take the dense tiles
    [InlineData(16, 1)] // the smallest sparse chunk
    [InlineData(64, 1)]
    [InlineData(65, 1)] // a second chunk of samples with its own masks
    [InlineData(150, 1)]
    [InlineData(150, 2)] // rows split over threads: each part builds the masks of its rows
    [InlineData(333, 3)]
    public void Relu_weight_gradient_is_the_plain_chain(int batch, int threads)
    {
        using var model = new SparseRelu { Threads = threads };
        float[] x = Inputs(batch * SparseRelu.InputSize, 50 + batch);
        AssertPlainChain(model, model.A, x, batch, 60 + batch, y => y > 0f, nearlyHalfActive: true);
    }

    [Theory]
    [InlineData(40f)]   // every output active: the chunk is dense, and takes the 4-output tiles
    [InlineData(-40f)]  // none active: every mask is empty and dW is written as zeros
    public void All_active_and_all_dead_layers_give_the_plain_chain(float bias)
    {
        using var model = new SparseRelu();
        model.A.Bias!.Data.Fill(bias);
        const int batch = 70;
        float[] x = Inputs(batch * SparseRelu.InputSize, 7);
        AssertPlainChain(model, model.A, x, batch, 8, y => y > 0f, nearlyHalfActive: false);
        Assert.True(model.A.Weight.Grad.ToArray().All(g => bias > 0 ? g != 0 : g == 0f && !float.IsNegative(g)));
    }

    [Fact]
    public void A_non_finite_input_reaches_dW_as_NaN_as_in_the_dense_sum()
    {
        // 0 · ∞ = NaN: an output whose dz is zero for that sample must still get NaN in that column, as PyTorch's dense product
        // gives; skipping the term would give a finite number. The first chunk of 64 samples holds the non-finite values,
        // the second (36 samples) is finite and takes the sparse tiles on top of the first chunk's sums.
        using var model = new SparseRelu();
        const int batch = 100;
        float[] x = Inputs(batch * SparseRelu.InputSize, 9);
        x[3 * SparseRelu.InputSize + 7] = float.PositiveInfinity;
        x[10 * SparseRelu.InputSize + 190] = float.NaN; // a scalar column on AVX-512
        x[50 * SparseRelu.InputSize + 20] = float.NegativeInfinity;
        float[] grads = AssertPlainChain(model, model.A, x, batch, 10, y => y > 0f, nearlyHalfActive: false);
        Assert.Contains(grads, float.IsNaN);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(90)]
    public void Hardtanh_weight_gradient_is_the_plain_chain(int batch)
    {
        using var model = new SparseHardtanh();
        float[] x = Inputs(batch * SparseHardtanh.InputSize, 70 + batch);
        // Hardtanh's derivative is 1 strictly inside (min, max) and 0 elsewhere; the output is the input there, and the
        // clamped bound outside it (min and max as floats lie outside the double interval), so the output decides.
        AssertPlainChain(model, model.A, x, batch, 80 + batch, y => y > -0.2 && y < 0.3, nearlyHalfActive: false);
    }

    [Fact]
    public void Backward_after_Backward_adds_the_chain_onto_the_held_gradient()
    {
        using var model = new SparseRelu();
        const int batch = 20;
        float[] x = Inputs(batch * SparseRelu.InputSize, 11), upstream = Inputs(batch * SparseRelu.OutputSize, 12);
        float[] y = new float[upstream.Length];
        model.ZeroGrad();
        model.Forward(x, y, batch);
        model.Backward(upstream, batch);
        model.Backward(upstream, batch);
        float[] dz = upstream.Select((g, k) => y[k] > 0f ? g : 0f).ToArray();
        float[] once = Chain(x, dz, batch, SparseRelu.InputSize, SparseRelu.OutputSize, start: null);
        float[] twice = Chain(x, dz, batch, SparseRelu.InputSize, SparseRelu.OutputSize, start: once);
        AssertSameBits("weight after two Backward calls", twice, model.A.Weight.Grad.ToArray());
    }

    /// <summary>Forward, then Backward of a random upstream gradient after ZeroGrad; dW and db must be the chains over dz.</summary>
    private static float[] AssertPlainChain(IModel model, Dense layer, float[] x, int batch, int seed, Func<float, bool> passes, bool nearlyHalfActive)
    {
        int inputs = layer.InFeatures, outputs = layer.OutFeatures;
        float[] y = new float[batch * outputs], upstream = Inputs(batch * outputs, seed);
        model.ZeroGrad();
        model.Forward(x, y, batch);
        model.Backward(upstream, batch);
        float[] dz = upstream.Select((g, k) => passes(y[k]) ? g : 0f).ToArray();
        if (nearlyHalfActive)
        {
            double active = dz.Count(v => v != 0f) / (double)dz.Length;
            Assert.True(active is > 0.2 and < 0.8, $"the case should exercise the sparse path: {active:P0} of dz nonzero");
        }
        float[] grads = layer.Weight.Grad.ToArray();
        AssertSameBits("weight", Chain(x, dz, batch, inputs, outputs, start: null), grads);
        float[] db = new float[outputs];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < outputs; o++)
                db[o] += dz[n * outputs + o];
        AssertSameBits("bias", db, layer.Bias!.Grad.ToArray());
        return grads;
    }

    /// <summary>dW[o, i] = start + Σ_n dz[n, o] · x[n, i] in sample order: fused where the kernel's vectors reach, plain in the scalar columns.</summary>
    private static float[] Chain(float[] x, float[] dz, int batch, int inputs, int outputs, float[]? start)
    {
        int width = Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : Vector128.IsHardwareAccelerated ? 4 : 0;
        // The Vector128 path fuses only where the hardware does (ARM64, FMA3); an x64 without AVX2 multiplies and adds.
        bool fused = width >= 8 || (width == 4 && (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported || System.Runtime.Intrinsics.X86.Fma.IsSupported));
        int fusedEnd = fused ? inputs / width * width : 0;
        float[] dw = new float[outputs * inputs];
        for (int o = 0; o < outputs; o++)
            for (int i = 0; i < inputs; i++)
            {
                float acc = start?[o * inputs + i] ?? 0f;
                for (int n = 0; n < batch; n++)
                {
                    float d = dz[n * outputs + o], v = x[n * inputs + i];
                    acc = i < fusedEnd ? MathF.FusedMultiplyAdd(d, v, acc) : acc + d * v;
                }
                dw[o * inputs + i] = acc;
            }
        return dw;
    }

    private static void AssertSameBits(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
        {
            bool same = BitConverter.SingleToInt32Bits(expected[k]) == BitConverter.SingleToInt32Bits(actual[k])
                || (float.IsNaN(expected[k]) && float.IsNaN(actual[k]));
            Assert.True(same, $"{what}[{k}]: expected {expected[k]:R}, got {actual[k]:R}");
        }
    }
}
