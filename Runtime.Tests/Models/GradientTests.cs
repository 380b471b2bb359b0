using System;
using System.Linq;
using Xunit;
using static DslModels.Tests.Models.ModelHelpers;

namespace DslModels.Tests.Models;

/// <summary>
/// Generated Forward/Predict/Backward against the double-precision <see cref="ReferenceMlp"/>, which is itself
/// checked against central finite differences. Runs on whichever SIMD path this process has; CI repeats the
/// run with AVX-512 and then all hardware intrinsics disabled so every emitted path is checked.
/// </summary>
public class GradientTests
{
    [Theory]
    [InlineData("OddMlp")]
    [InlineData("ActZoo1")]
    [InlineData("ActZoo2")]
    public void Reference_backward_matches_finite_differences(string name)
    {
        IModel model = name switch { "OddMlp" => new OddMlp(seed: 11), "ActZoo1" => new ActZoo1(seed: 11), _ => new ActZoo2(seed: 11) };
        using (model)
        {
            ReferenceMlp reference = model switch
            {
                OddMlp m => new ReferenceMlp(Layers(m)),
                ActZoo1 m => new ReferenceMlp([m.A, m.B, m.C, m.D, m.E, m.F], [new(), new(), new(), new(Alpha: 0.5), new(), new()]),
                ActZoo2 m => new ReferenceMlp([m.A, m.B, m.C, m.D, m.E, m.F], [new(), new(Alpha: 0.7), new(Beta: 2, Threshold: 5), new(Min: -0.5, Max: 0.7), new(), new()]),
                _ => throw new InvalidOperationException(),
            };
            const int batch = 3;
            int inputs = model.InputWidth, classes = model.OutputWidth;
            double[] x = Inputs(batch * inputs, 1).Select(v => (double)v).ToArray();
            int[] y = Classes(batch, classes, 2);

            double Loss() => ReferenceMlp.CrossEntropy(reference.Forward(x, batch)[^1], y, batch, classes).Loss;

            var acts = reference.Forward(x, batch);
            var (_, gradOut) = ReferenceMlp.CrossEntropy(acts[^1], y, batch, classes);
            var grads = reference.Backward(acts, gradOut, batch);
            const double h = 1e-6;
            for (int k = 0; k < reference.Layers.Count; k++)
            {
                var layer = reference.Layers[k];
                foreach (var (values, analytic, what) in new[] { (layer.W, grads[k].W, "W"), (layer.B, grads[k].B, "b") })
                {
                    if (values is null) continue;
                    for (int i = 0; i < values.Length; i++)
                    {
                        double saved = values[i];
                        values[i] = saved + h;
                        double up = Loss();
                        values[i] = saved - h;
                        double down = Loss();
                        values[i] = saved;
                        double numeric = (up - down) / (2 * h);
                        Assert.True(Math.Abs(numeric - analytic![i]) <= 1e-7 + 1e-5 * Math.Abs(numeric),
                            $"{name} layer {k} {what}[{i}]: finite difference {numeric:R}, analytic {analytic[i]:R}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(17)]
    public void OddMlp_forward_and_backward_match_the_reference(int batch)
    {
        using var model = new OddMlp(seed: 5);
        CheckAgainstReference(model, Layers(model), batch, OddMlp.InputSize, OddMlp.OutputSize);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public void FashionMlp_forward_and_backward_match_the_reference(int batch)
    {
        using var model = new FashionMlp(seed: 1);
        CheckAgainstReference(model, Layers(model), batch, FashionMlp.InputSize, FashionMlp.OutputSize);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(70)] // a second chunk of samples: each dW tile is reloaded, and the packed strips are refilled
    public void Packed_weight_gradient_strips_match_the_reference(int batch)
    {
        using var model = new PackedStrips(seed: 3);
        CheckAgainstReference(model, [model.A, model.B], batch, PackedStrips.InputSize, PackedStrips.OutputSize);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(70)] // two chunks of samples, each with its own masks of nonzero dz
    public void Flat_region_activations_with_sparse_weight_gradients_match_the_reference(int batch)
    {
        using var model = new FlatRegions(seed: 4);
        CheckAgainstReference(model, [model.A, model.B, model.C], batch, 30, 5, [new(), new(Min: -0.5, Max: 0.5), new()]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Every_activation_backward_matches_the_reference(int batch)
    {
        using var zoo1 = new ActZoo1(seed: 2);
        CheckAgainstReference(zoo1, [zoo1.A, zoo1.B, zoo1.C, zoo1.D, zoo1.E, zoo1.F], batch, 6, 4,
            [new(), new(), new(), new(Alpha: 0.5), new(), new()]);
        using var zoo2 = new ActZoo2(seed: 3);
        CheckAgainstReference(zoo2, [zoo2.A, zoo2.B, zoo2.C, zoo2.D, zoo2.E, zoo2.F], batch, 6, 4,
            [new(), new(Alpha: 0.7), new(Beta: 2, Threshold: 5), new(Min: -0.5, Max: 0.7), new(), new()]);
    }

    [Fact]
    public void Backward_accumulates_until_ZeroGrad()
    {
        using var model = new OddMlp();
        const int batch = 4;
        float[] x = Inputs(batch * OddMlp.InputSize, 3);
        float[] output = new float[batch * OddMlp.OutputSize];
        float[] upstream = Inputs(output.Length, 4);
        model.ZeroGrad();
        model.Forward(x, output, batch);
        model.Backward(upstream, batch);
        float[][] once = model.Parameters.Select(p => p.Grad.ToArray()).ToArray();
        Assert.Contains(once, g => g.Any(v => v != 0));
        model.Backward(upstream, batch);
        // The second pass adds onto the first (FMA into the held gradient, so equal to 2x up to rounding).
        for (int k = 0; k < once.Length; k++)
            AssertClose(model.Parameters[k].Name, once[k].Select(v => 2.0 * v).ToArray(), model.Parameters[k].Grad, 1e-6, 1e-9);
        model.ZeroGrad();
        Assert.All(model.Parameters, p => Assert.True(p.Grad.ToArray().All(v => v == 0)));
    }

    [Fact]
    public void Every_sample_of_a_batch_gets_the_bits_it_gets_alone()
    {
        // The forward kernel covers a batch with 6-sample, 4-sample and single-sample register tiles (the split depends on
        // the batch); each output must be the same FMA chain and horizontal-sum tree in every tile shape.
        using var odd = new OddMlp(seed: 4);
        using var fashion = new FashionMlp(seed: 2);
        foreach (int batch in Enumerable.Range(1, 20).Append(32))
        {
            AssertSamplesAlone(odd, batch, OddMlp.InputSize, OddMlp.OutputSize);
            AssertSamplesAlone(fashion, batch, FashionMlp.InputSize, FashionMlp.OutputSize);
        }
    }

    private static void AssertSamplesAlone(IModel model, int batch, int inputs, int outputs)
    {
        float[] x = Inputs(batch * inputs, 100 + batch);
        float[] all = new float[batch * outputs], one = new float[outputs];
        model.Predict(x, all, batch);
        for (int n = 0; n < batch; n++)
        {
            model.Predict(x.AsSpan(n * inputs, inputs), one, 1);
            for (int k = 0; k < outputs; k++)
                Assert.True(BitConverter.SingleToInt32Bits(one[k]) == BitConverter.SingleToInt32Bits(all[n * outputs + k]),
                    $"batch {batch}, sample {n}, output {k}: {all[n * outputs + k]:R} in the batch, {one[k]:R} alone");
        }
    }

    [Fact]
    public void Predict_equals_Forward_and_keeps_the_training_activations()
    {
        using var model = new OddMlp();
        float[] x1 = Inputs(5 * OddMlp.InputSize, 6), x2 = Inputs(2 * OddMlp.InputSize, 7);
        float[] forward = new float[5 * OddMlp.OutputSize], predict = new float[5 * OddMlp.OutputSize];
        model.Forward(x1, forward, 5);
        model.Predict(x1, predict, 5);
        Assert.Equal(forward, predict);

        // A Predict between Forward and Backward must not disturb the activations Backward uses.
        float[] upstream = Inputs(forward.Length, 8);
        model.ZeroGrad();
        model.Backward(upstream, 5);
        float[][] expected = model.Parameters.Select(p => p.Grad.ToArray()).ToArray();
        model.ZeroGrad();
        model.Forward(x1, forward, 5);
        model.Predict(x2, new float[2 * OddMlp.OutputSize], 2);
        model.Backward(upstream, 5);
        for (int k = 0; k < expected.Length; k++)
            Assert.Equal(expected[k], model.Parameters[k].Grad.ToArray());
    }

    private static void CheckAgainstReference(IModel model, Dense[] layers, int batch, int inputs, int outputs,
        ReferenceMlp.ActivationParameters[]? parameters = null)
    {
        var reference = new ReferenceMlp(layers, parameters);
        float[] x = Inputs(batch * inputs, 10 + batch);
        int[] y = Classes(batch, outputs, 20 + batch);
        var acts = reference.Forward(x.Select(v => (double)v).ToArray(), batch);
        var (_, gradOut) = ReferenceMlp.CrossEntropy(acts[^1], y, batch, outputs);
        var grads = reference.Backward(acts, gradOut, batch);

        float[] output = new float[batch * outputs];
        model.ZeroGrad();
        model.Forward(x, output, batch);
        AssertClose("output", acts[^1], output, 1e-5, 1e-5);
        float[] predicted = new float[output.Length];
        model.Predict(x, predicted, batch);
        AssertClose("predict", acts[^1], predicted, 1e-5, 1e-5);

        model.Backward(gradOut.Select(v => (float)v).ToArray(), batch);
        for (int k = 0; k < layers.Length; k++)
        {
            AssertClose(layers[k].Weight.Name, grads[k].W, layers[k].Weight.Grad, 1e-4, 1e-6);
            if (layers[k].Bias is { } b)
                AssertClose(b.Name, grads[k].B!, b.Grad, 1e-4, 1e-6);
        }
    }
}
