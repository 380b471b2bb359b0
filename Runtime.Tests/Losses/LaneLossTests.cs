using System;
using System.Linq;
using DslModels.Losses;
using Xunit;
using static DslModels.Tests.FloatUlps;

namespace DslModels.Tests.Losses;

/// <summary>
/// The float losses computed on double lanes (LaneLoss) against the same losses on double data, whose scalar loops use
/// Math.Exp and Math.Log: every output and gradient within one float ulp of the double result (or, where the formula cancels,
/// within 10⁻¹⁵ of its terms), for every shape of weights the lanes take and the broadcasts they leave to the scalar loop,
/// every reduction, and lengths that leave every possible partial last step. CI runs these on every vector width.
/// </summary>
public class LaneLossTests
{
    public static TheoryData<int, int, string, Reduction> Shapes()
    {
        var data = new TheoryData<int, int, string, Reduction>();
        foreach (var (rows, cols) in new[] { (1, 1), (5, 1), (3, 3), (4, 10), (2, 16), (3, 17), (7, 33), (2, 100), (32, 1000), (1, 49) })
            foreach (string weights in new[] { "none", "weight", "pos_weight", "both", "scalar", "per-element", "per-row" })
                data.Add(rows, cols, weights, rows * cols % 3 == 0 ? Reduction.Sum : rows % 2 == 0 ? Reduction.Mean : Reduction.None);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BCEWithLogits_on_floats_is_within_an_ulp_of_double_precision(int rows, int cols, string weights, Reduction reduction)
    {
        int n = rows * cols;
        var rng = new Random(rows * 1000 + cols);
        float[] x = Enumerable.Range(0, n).Select(i => (float)((rng.NextDouble() - 0.5) * (i % 7 == 0 ? 80 : 8))).ToArray();
        float[] y = Enumerable.Range(0, n).Select(i => i % 5 == 0 ? (float)rng.NextDouble() : rng.Next(2)).ToArray();
        float[] gradOut = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 3 + 0.1)).ToArray();
        (float[]? W, int[]? WShape, float[]? P, int[]? PShape) = weights switch
        {
            "weight" => (Values(cols), null, null, null),
            "pos_weight" => (null, null, Values(cols), null),
            "both" => (Values(cols), new[] { 1, cols }, Values(cols), new[] { cols }),
            "scalar" => (Values(1), new[] { 1 }, Values(1), null),
            "per-element" => (Values(n), new[] { rows, cols }, null, null),
            "per-row" => (Values(rows), new[] { rows, 1 }, null, null), // a broadcast the lanes leave to the scalar loop
            _ => ((float[]?)null, (int[]?)null, (float[]?)null, (int[]?)null),
        };
        int[] shape = [rows, cols];
        var options = new BCEWithLogitsLossOptions<float> { Reduction = reduction, Weight = W, WeightShape = WShape, PosWeight = P, PosWeightShape = PShape };
        var optionsD = new BCEWithLogitsLossOptions<double>
        {
            Reduction = reduction, Weight = W?.Select(v => (double)v).ToArray(), WeightShape = WShape,
            PosWeight = P?.Select(v => (double)v).ToArray(), PosWeightShape = PShape,
        };
        bool none = reduction == Reduction.None;
        float[] output = new float[none ? n : 0], gx = new float[n], gy = new float[n];
        double[] outputD = new double[none ? n : 0], gxD = new double[n], gyD = new double[n];
        float[] upstream = none ? gradOut : [0.75f];
        float loss = BCEWithLogitsLoss.Forward<float>(x, y, shape, options, output, gx, gy, upstream);
        double lossD = BCEWithLogitsLoss.Forward<double>(x.Select(v => (double)v).ToArray(), y.Select(v => (double)v).ToArray(), shape, optionsD,
            outputD, gxD, gyD, upstream.Select(v => (double)v).ToArray());
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double w = W is null ? 1 : W[W.Length == 1 ? 0 : WShape is [_, 1] ? i / cols : W.Length == n ? i : i % cols];
            double p = P is null ? 1 : P[P.Length == 1 ? 0 : i % cols];
            double magnitude = Math.Abs(w) * (Math.Abs(x[i]) + 1 + Math.Abs(p) * (1 + Math.Abs(x[i])));
            total += magnitude;
            if (none)
                Close(output[i], outputD[i], magnitude, $"loss[{i}]");
            Close(gx[i], gxD[i], magnitude, $"gradInput[{i}]");
            Close(gy[i], gyD[i], magnitude, $"gradTarget[{i}]");
        }
        Close(loss, lossD, total, "reduced loss");
    }

    [Fact]
    public void BCEWithLogits_keeps_NaN_and_the_limits_at_infinity()
    {
        float[] x = [float.NaN, float.PositiveInfinity, 30f, -30f, 0f];
        float[] y = [1f, 0f, 1f, 0f, 0.5f];
        var gx = new float[5];
        var loss = new float[5];
        BCEWithLogitsLoss.Forward<float>(x, y, [5], new BCEWithLogitsLossOptions<float> { Reduction = Reduction.None, PosWeight = [2f] }, loss, gx);
        Assert.True(float.IsNaN(loss[0]) && float.IsNaN(gx[0]));
        Assert.Equal(float.PositiveInfinity, loss[1]); // (1 - 0)·∞
        Assert.Equal(1f, gx[1]);                       // σ(∞) - 0
        Assert.Equal(2 * MathF.Log(1 + MathF.Exp(-30f)), loss[2], 6);
        Assert.Equal(MathF.Log(1 + MathF.Exp(-30f)), loss[3], 6);
        Assert.Equal(1.5f * MathF.Log(2f), loss[4], 6); // (1 - ½)·0 + (1 + (2 - 1)·½)·log 2
    }
}
