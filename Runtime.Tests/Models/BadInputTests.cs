using System;
using Xunit;
using static DslModels.Tests.Models.ModelHelpers;

namespace DslModels.Tests.Models;

/// <summary>Bad arguments give exceptions that name the argument and the expected and actual values, and change nothing.</summary>
public class BadInputTests
{
    private const int Batch = 2;

    private static (OddMlp Model, float[][] Before) Trained()
    {
        var model = new OddMlp(seed: 4);
        model.TrainStep(Inputs(Batch * OddMlp.InputSize, 1), Classes(Batch, OddMlp.OutputSize, 2), Batch);
        return (model, Snapshot(model));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Batch_below_one_is_rejected_everywhere(int batch)
    {
        var (model, before) = Trained();
        using (model)
        {
            float[] x = new float[OddMlp.InputSize], y = new float[OddMlp.OutputSize];
            void Check(Action a)
            {
                var e = Assert.Throws<ArgumentOutOfRangeException>(a);
                Assert.Equal("batch", e.ParamName);
                Assert.Contains(">= 1", e.Message);
                Assert.Contains(batch.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
            }
            Check(() => model.Forward(x, y, batch));
            Check(() => model.Predict(x, y, batch));
            Check(() => model.Backward(y, batch));
            Check(() => model.TrainStep(x, new int[1], batch));
            Check(() => model.ComputeLoss(y, new int[1], batch));
            AssertUnchanged(before, model);
        }
    }

    [Fact]
    public void Wrong_input_length_names_the_argument_and_both_lengths()
    {
        var (model, before) = Trained();
        using (model)
        {
            var e = Assert.Throws<ArgumentException>(() => model.TrainStep(new float[Batch * OddMlp.InputSize - 1], new int[Batch], Batch));
            Assert.Equal("input", e.ParamName);
            Assert.Contains("2 * 19 = 38", e.Message);
            Assert.Contains("got 37", e.Message);
            e = Assert.Throws<ArgumentException>(() => model.Forward(new float[Batch * OddMlp.InputSize], new float[3], Batch));
            Assert.Equal("output", e.ParamName);
            Assert.Contains("= 10", e.Message);
            Assert.Contains("got 3", e.Message);
            e = Assert.Throws<ArgumentException>(() => model.Predict(new float[5], new float[Batch * OddMlp.OutputSize], Batch));
            Assert.Equal("input", e.ParamName);
            e = Assert.Throws<ArgumentException>(() => model.TrainStep(new float[Batch * OddMlp.InputSize], new int[Batch + 1], Batch));
            Assert.Equal("targets", e.ParamName);
            Assert.Contains("got 3", e.Message);
            AssertUnchanged(before, model);
        }
    }

    [Theory]
    [InlineData(5)]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public void Target_class_out_of_range_is_rejected_before_any_update(int target)
    {
        var (model, before) = Trained();
        using (model)
        {
            float[] gradsBefore = model.Parameters[0].Grad.ToArray();
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainStep(Inputs(Batch * OddMlp.InputSize, 3), [0, target], Batch));
            Assert.Equal("targets", e.ParamName);
            Assert.Contains($"targets[1] = {target}", e.Message);
            Assert.Contains("[0, 5)", e.Message);
            AssertUnchanged(before, model);
            Assert.Equal(gradsBefore, model.Parameters[0].Grad.ToArray());
        }
    }

    [Fact]
    public void Ignore_index_targets_are_accepted_and_contribute_nothing()
    {
        using var a = new OddMlp(seed: 1);
        using var b = new OddMlp(seed: 1);
        float[] x = Inputs(2 * OddMlp.InputSize, 5);
        float lossA = a.TrainStep(x, [3, -100], 2);
        float lossB = b.TrainStep(x.AsSpan(0, OddMlp.InputSize), [3], 1);
        Assert.Equal(lossB, lossA);
    }

    [Fact]
    public void Backward_without_a_matching_Forward_is_rejected()
    {
        using var model = new OddMlp();
        var e = Assert.Throws<InvalidOperationException>(() => model.Backward(new float[OddMlp.OutputSize], 1));
        Assert.Contains("Forward", e.Message);
        model.Forward(new float[3 * OddMlp.InputSize], new float[3 * OddMlp.OutputSize], 3);
        var a = Assert.Throws<ArgumentException>(() => model.Backward(new float[2 * OddMlp.OutputSize], 2));
        Assert.Equal("batch", a.ParamName);
        Assert.Contains("(3)", a.Message);
    }

    /// <summary>
    /// TrainStep's backward uses its forward's activations, as PyTorch's <c>loss.backward()</c> frees the graph: a Backward after it
    /// needs a Forward of its own, whatever the threads (a threaded TrainStep may have read its input in place) or the loss.
    /// </summary>
    [Fact]
    public void Backward_after_TrainStep_needs_its_own_Forward()
    {
        const int batch = 3;
        float[] x = Inputs(batch * OddMlp.InputSize, 9), upstream = Inputs(batch * OddMlp.OutputSize, 10);
        using var model = new OddMlp();
        model.Forward(x, new float[batch * OddMlp.OutputSize], batch);
        model.TrainStep(x, [1, 2, 3], batch);
        var e = Assert.Throws<InvalidOperationException>(() => model.Backward(upstream, batch));
        Assert.Contains("call Forward first", e.Message);
        Assert.Contains("TrainStep", e.Message);
        model.Forward(x, new float[batch * OddMlp.OutputSize], batch);
        model.Backward(upstream, batch);

        using var siamese = new PairRanking();
        float[] a = Inputs(batch * PairRanking.InputSize, 11), b = Inputs(batch * PairRanking.InputSize, 12);
        siamese.TrainStep(a, b, [1f, -1f, 1f], batch);
        Assert.Throws<InvalidOperationException>(() => siamese.Backward(new float[batch * PairRanking.OutputSize], batch));

        using var lbfgs = new LbfgsWide();
        float[] w = Inputs(batch * LbfgsWide.InputSize, 13);
        lbfgs.TrainStep(w, Classes(batch, LbfgsWide.OutputSize, 14), batch);
        Assert.Throws<InvalidOperationException>(() => lbfgs.Backward(new float[batch * LbfgsWide.OutputSize], batch));
    }

    [Fact]
    public void A_disposed_model_refuses_work()
    {
        var model = new OddMlp();
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Predict(new float[OddMlp.InputSize], new float[OddMlp.OutputSize], 1));
        model.Dispose();
    }

    [Fact]
    public void Invalid_optimizer_settings_are_rejected_and_leave_the_options_unchanged()
    {
        using var model = new OddMlp();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Optimizer.Options.LearningRate = -0.1);
        Assert.Equal("lr", e.ParamName);
        Assert.Contains("Invalid learning rate: -0.1", e.Message);
        Assert.Equal(0.1, model.Optimizer.Options.LearningRate);
        var n = Assert.Throws<ArgumentException>(() => model.Optimizer.Options.Dampening = 0.5);
        Assert.Contains("Nesterov", n.Message);
        Assert.Equal(0.0, model.Optimizer.Options.Dampening);
    }
}
