using System;
using System.Numerics;
using System.Runtime.Intrinsics;
using DslModels.Losses;
using Xunit;

namespace DslModels.Tests.Losses;

/// <summary>
/// Each SIMD kernel (Vector512, Vector256, Vector128, scalar) against an independent double-precision reference, over
/// every length 0..3·Vector512&lt;float&gt;.Count+1 so that every main-loop/tail split is exercised. Paths the hardware
/// cannot accelerate fall back, which the CI runs with DOTNET_EnableAVX512=0 / DOTNET_EnableHWIntrinsic=0 cover too.
/// </summary>
public class PointwiseKernelTests
{
    public enum Kind { L1, Mse, Huber, SmoothL1, BceWithLogits }

    private static readonly int MaxLength = 3 * Vector512<float>.Count + 1;

    public static TheoryData<Kind, int> Combinations()
    {
        var data = new TheoryData<Kind, int>();
        foreach (Kind k in Enum.GetValues<Kind>())
            foreach (int bits in new[] { 512, 256, 128, 0 })
                data.Add(k, bits);
        return data;
    }

    /// <summary>(loss, dl/dx, dl/dy) in double, written from the PyTorch formulas (not from the kernels).</summary>
    private static (double L, double Dx, double Dy) Reference(Kind kind, double x, double y)
    {
        double d = x - y;
        switch (kind)
        {
            case Kind.L1:
                return (Math.Abs(d), Math.Sign(d), -Math.Sign(d));
            case Kind.Mse:
                return (d * d, 2 * d, -2 * d);
            case Kind.Huber:
            {
                const double delta = 0.5;
                double g = d <= -delta ? -delta : d >= delta ? delta : d;
                return (Math.Abs(d) < delta ? 0.5 * d * d : delta * (Math.Abs(d) - 0.5 * delta), g, -g);
            }
            case Kind.SmoothL1:
            {
                const double beta = 0.5;
                double g = d <= -beta ? -1 : d >= beta ? 1 : d / beta;
                return (Math.Abs(d) < beta ? 0.5 * d * d / beta : Math.Abs(d) - 0.5 * beta, g, -g);
            }
            default:
            {
                // -[y log σ(x) + (1-y) log(1-σ(x))] = y·softplus(-x) + (1-y)·softplus(x)
                static double Softplus(double z) => z > 0 ? z + Math.Log(1 + Math.Exp(-z)) : Math.Log(1 + Math.Exp(z));
                double sigma = 1 / (1 + Math.Exp(-x));
                return (y * Softplus(-x) + (1 - y) * Softplus(x), sigma - y, Softplus(-x) - Softplus(x));
            }
        }
    }

    private static double Run<T>(Kind kind, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> l, Span<T> gx, Span<T> gy, T scale, ReadOnlySpan<T> up, int bits)
        where T : struct, IFloatingPointIeee754<T>
        => kind switch
        {
            Kind.L1 => PointwiseKernel.Run(new L1Op<T>(), x, y, l, gx, gy, scale, up, bits),
            Kind.Mse => PointwiseKernel.Run(new MseOp<T>(), x, y, l, gx, gy, scale, up, bits),
            Kind.Huber => PointwiseKernel.Run(new HuberOp<T>(T.CreateTruncating(0.5), T.One), x, y, l, gx, gy, scale, up, bits),
            Kind.SmoothL1 => PointwiseKernel.Run(new HuberOp<T>(T.CreateTruncating(0.5), T.CreateTruncating(2.0)), x, y, l, gx, gy, scale, up, bits),
            _ => PointwiseKernel.Run(new BceWithLogitsOp<T>(), x, y, l, gx, gy, scale, up, bits),
        };

    [Theory, MemberData(nameof(Combinations))]
    public void Float_kernel_matches_reference_at_every_length(Kind kind, int bits) => Check<float>(kind, bits, kind == Kind.BceWithLogits ? 1e-5 : 1e-6);

    [Theory, MemberData(nameof(Combinations))]
    public void Double_kernel_matches_reference_at_every_length(Kind kind, int bits) => Check<double>(kind, bits, 1e-13);

    private static void Check<T>(Kind kind, int bits, double rtol) where T : struct, IFloatingPointIeee754<T>
    {
        var random = new Random(1234 + (int)kind);
        for (int n = 0; n <= MaxLength; n++)
        {
            var x = new T[n];
            var y = new T[n];
            var up = new T[n];
            for (int i = 0; i < n; i++)
            {
                double xv = Math.Round(random.NextDouble() * 6 - 3, 3), yv;
                if (kind == Kind.BceWithLogits)
                {
                    yv = Math.Round(random.NextDouble(), 2);
                    if (i % 7 == 3)
                        xv = i % 2 == 0 ? 1000 : -1000; // must stay finite (stable form)
                    if (i % 11 == 5)
                        xv = i % 2 == 0 ? 60 : -60;
                }
                else
                {
                    yv = Math.Round(random.NextDouble() * 2 - 1, 3);
                    if (i % 5 == 1)
                        xv = yv;                             // d == 0: L1 gradient 0
                    if (i % 9 == 2)
                        (xv, yv) = (i % 2 == 0 ? 0.5 : -0.5, 0); // |d| == delta/beta exactly
                }
                x[i] = T.CreateTruncating(xv);
                y[i] = T.CreateTruncating(yv);
                up[i] = T.CreateTruncating(Math.Round(random.NextDouble() * 2 - 1, 3));
            }
            foreach (bool perElement in new[] { false, true })
            {
                var l = new T[n];
                var gx = new T[n];
                var gy = new T[n];
                T scale = T.CreateTruncating(0.25);
                double sum = Run<T>(kind, x, y, l, gx, gy, scale, perElement ? up : default, bits);
                double expectedSum = 0;
                for (int i = 0; i < n; i++)
                {
                    var (el, edx, edy) = Reference(kind, double.CreateTruncating(x[i]), double.CreateTruncating(y[i]));
                    double g = perElement ? double.CreateTruncating(up[i]) : 0.25;
                    expectedSum += el;
                    Close($"{kind}/{bits}/n={n} loss[{i}]", el, double.CreateTruncating(l[i]), rtol);
                    Close($"{kind}/{bits}/n={n} gx[{i}]", edx * g, double.CreateTruncating(gx[i]), rtol);
                    Close($"{kind}/{bits}/n={n} gy[{i}]", edy * g, double.CreateTruncating(gy[i]), rtol);
                }
                Close($"{kind}/{bits}/n={n} sum", expectedSum, sum, rtol * 10);
            }
            // Loss only (no gradient spans) gives the same sum.
            Close($"{kind}/{bits}/n={n} sum without gradients", Run<T>(kind, x, y, default, default, default, T.One, default, 0),
                Run<T>(kind, x, y, default, default, default, T.One, default, bits), rtol * 10);
        }
    }

    private static void Close(string what, double expected, double actual, double rtol)
    {
        Assert.True(double.IsFinite(actual), $"{what}: not finite ({actual})");
        Assert.True(Math.Abs(actual - expected) <= rtol * (1 + Math.Abs(expected)), $"{what}: expected {expected:R}, got {actual:R}");
    }

    [Fact]
    public void Public_forward_uses_kernels_with_reductions()
    {
        // 37 elements: a Vector512 body plus a tail on AVX-512 hardware.
        var x = new float[37];
        var y = new float[37];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = i * 0.25f - 4;
            y[i] = (i % 3) - 1;
        }
        var gx = new float[37];
        float mean = MSELoss.Forward<float>(x, y, gradInput: gx);
        double expected = 0;
        for (int i = 0; i < x.Length; i++)
            expected += (x[i] - y[i]) * (double)(x[i] - y[i]);
        Assert.Equal(expected / 37, mean, 5);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(2.0 * (x[i] - y[i]) / 37, gx[i], 6);
        float sum = L1Loss.Forward<float>(x, y, new L1LossOptions { Reduction = Reduction.Sum }, gradOutput: [2f], gradInput: gx);
        double l1 = 0;
        for (int i = 0; i < x.Length; i++)
            l1 += Math.Abs(x[i] - y[i]);
        Assert.Equal(l1, sum, 4);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(2.0 * Math.Sign(x[i] - y[i]), gx[i]);
    }
}
