using System;
using System.IO;
using System.Linq;
using DslModels.Data;
using DslModels.Losses;
using DslModels.Optim;
using Xunit;
using static DslModels.Tests.Models.ModelHelpers;

namespace DslModels.Tests.Models;

public class TrainStepTests
{
    /// <summary>TrainStep = ZeroGrad + Forward + the runtime's CrossEntropyLoss + Backward + the runtime's Sgd, bit for bit.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public void TrainStep_equals_forward_loss_backward_and_the_runtime_sgd(int batch)
    {
        using var fused = new OddMlp(seed: 9);
        using var manual = new OddMlp(seed: 9);
        var o = manual.Optimizer.Options;
        using var sgd = new Sgd(manual.Parameters, new SgdOptions(o.LearningRate, o.Momentum, o.Dampening, o.WeightDecay, o.Nesterov, o.Maximize));
        float[] output = new float[batch * OddMlp.OutputSize], grad = new float[output.Length];
        for (int step = 0; step < 5; step++)
        {
            float[] x = Inputs(batch * OddMlp.InputSize, 100 + step);
            int[] y = Classes(batch, OddMlp.OutputSize, 200 + step);
            float lossFused = fused.TrainStep(x, y, batch);

            sgd.ZeroGrad();
            manual.Forward(x, output, batch);
            float lossManual = CrossEntropyLoss.Forward(output, y, batch, OddMlp.OutputSize, grad);
            manual.Backward(grad, batch);
            sgd.Step();

            Assert.Equal(lossManual, lossFused);
            for (int k = 0; k < manual.Parameters.Count; k++)
                Assert.True(manual.Parameters[k].Data.SequenceEqual(fused.Parameters[k].Data), $"step {step}: {manual.Parameters[k].Name} differs");
        }
    }

    [Fact]
    public void Learning_rate_changes_take_effect_at_the_next_step()
    {
        using var a = new TinyRegressor();
        using var b = new TinyRegressor();
        float[] x = Inputs(2 * TinyRegressor.InputSize, 1), t = Inputs(2 * TinyRegressor.OutputSize, 2);
        b.Optimizer.ParamGroups[0].LearningRate = 0;
        a.TrainStep(x, t, 2);
        b.TrainStep(x, t, 2);
        Assert.False(a.Parameters[0].Data.SequenceEqual(b.Parameters[0].Data));
        using var c = new TinyRegressor();
        Assert.True(c.Parameters[0].Data.SequenceEqual(b.Parameters[0].Data), "lr = 0 must leave the parameters unchanged");
    }

    [Fact]
    public void Training_the_sample_model_on_fashion_mnist_lowers_the_loss()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "data");
        var images = Idx.ReadImages(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"));
        int[] labels = Idx.ReadLabels(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
        Assert.Equal(10000, images.Count);
        Assert.Equal(FashionMlp.InputSize, images.Size);
        float[] pixels = images.ToFloats();

        using var model = new FashionMlp(seed: 0);
        const int batch = 32, steps = 300, evalCount = 1000;
        float Evaluate()
        {
            float[] logits = new float[evalCount * FashionMlp.OutputSize];
            model.Predict(pixels.AsSpan(8000 * 784, evalCount * 784), logits, evalCount);
            return model.ComputeLoss(logits, labels.AsSpan(8000, evalCount), evalCount);
        }
        float before = Evaluate();
        for (int s = 0; s < steps; s++)
        {
            int start = s * batch % 8000;
            model.TrainStep(pixels.AsSpan(start * 784, batch * 784), labels.AsSpan(start, batch), batch);
        }
        float after = Evaluate();
        Assert.True(after < 0.5 * before, $"held-out loss {before} -> {after}");
        Assert.True(after < 0.8f, $"held-out loss after {steps} steps is {after}");
    }
}
