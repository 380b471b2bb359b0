using System;
using System.Linq;
using Xunit;
using static DslModels.Tests.Models.ModelHelpers;

namespace DslModels.Tests.Models;

/// <summary>Opt-in threads split the batch so that every value is computed the same way: results are bit-identical.</summary>
public class ThreadingTests
{
    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 17)]
    [InlineData(2, 1500)]
    [InlineData(3, 1537)]
    [InlineData(4, 2051)]
    public void OddMlp_trains_bit_identically_with_any_thread_count(int threads, int batch)
    {
        using var single = new OddMlp(seed: 8);
        using var multi = new OddMlp(seed: 8) { Threads = threads };
        Assert.Equal(threads, multi.Threads);
        for (int step = 0; step < 4; step++)
        {
            float[] x = Inputs(batch * OddMlp.InputSize, 30 + step);
            int[] y = Classes(batch, OddMlp.OutputSize, 40 + step);
            Assert.Equal(single.TrainStep(x, y, batch), multi.TrainStep(x, y, batch));
            AssertSameBits(single, multi, $"step {step}", data: true, grads: true);
            float[] a = new float[batch * OddMlp.OutputSize], b = new float[a.Length];
            single.Predict(x, a, batch);
            multi.Predict(x, b, batch);
            Assert.Equal(a, b);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(70)]
    [InlineData(22000)]
    public void Every_activation_and_Backward_are_bit_identical_with_threads(int batch)
    {
        using var single = new ActZoo2(seed: 4);
        using var multi = new ActZoo2(seed: 4) { Threads = 2 };
        float[] x = Inputs(batch * 6, 5), upstream = Inputs(batch * 4, 6);
        float[] a = new float[batch * 4], b = new float[batch * 4];
        single.ZeroGrad();
        multi.ZeroGrad();
        single.Forward(x, a, batch);
        multi.Forward(x, b, batch);
        Assert.Equal(a, b);
        single.Backward(upstream, batch);
        multi.Backward(upstream, batch);
        AssertSameBits(single, multi, "Backward", data: false, grads: true);
    }

    /// <summary>
    /// Batch 333: every hidden layer of WideDeep has at least 2^20 multiply-adds, so each splits by output rows (its forward, then in
    /// the backward the next layer's input gradient by columns, the activation gradient and dW); batch 70 splits only the first.
    /// </summary>
    [Theory]
    [InlineData(2, 333)]
    [InlineData(3, 333)]
    [InlineData(2, 70)]
    public void Row_split_layers_train_bit_identically(int threads, int batch)
    {
        using var single = new WideDeep();
        using var multi = new WideDeep { Threads = threads };
        AssertThreeStepsMatch(single, multi, (m, x, y) => m.TrainStep(x, y, batch), batch, WideDeep.InputSize, WideDeep.OutputSize, seed: 50);
        // Forward + Backward (accumulating) through the public API, then a Forward with another batch size in between.
        float[] input = Inputs(batch * WideDeep.InputSize, 70), upstream = Inputs(batch * WideDeep.OutputSize, 71);
        float[] a = new float[batch * WideDeep.OutputSize], b = new float[a.Length];
        single.Forward(input, a, batch);
        multi.Forward(input, b, batch);
        Assert.Equal(a, b);
        single.Backward(upstream, batch);
        multi.Backward(upstream, batch);
        AssertSameBits(single, multi, "accumulated", data: false, grads: true);
        multi.Threads = 1;
        multi.Forward(input, b, batch);
        Assert.Equal(a, b);
    }

    /// <summary>
    /// Batch 400: both of WideRegressor's layers split by rows, so a worker writes its columns of the GELU layer's output and
    /// pre-activation, of its dz and of the output layer's output into its own buffer and copies them over; the output layer's dz
    /// (the MSE gradient) stays shared.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void A_row_split_output_layer_and_kept_pre_activations_train_bit_identically(int threads)
    {
        using var single = new WideRegressor();
        using var multi = new WideRegressor { Threads = threads };
        const int batch = 400;
        for (int step = 0; step < 3; step++)
        {
            float[] x = Inputs(batch * WideRegressor.InputSize, 150 + step), y = Inputs(batch * WideRegressor.OutputSize, 160 + step);
            Assert.Equal(single.TrainStep(x, y, batch), multi.TrainStep(x, y, batch));
            AssertSameBits(single, multi, $"step {step}", data: true, grads: true);
        }
        float[] input = Inputs(batch * WideRegressor.InputSize, 170);
        float[] a = new float[batch * WideRegressor.OutputSize], b = new float[a.Length];
        single.Forward(input, a, batch);
        multi.Forward(input, b, batch);
        Assert.Equal(a, b);
    }

    /// <summary>Batch 840: NarrowWide's wide layer splits by rows (1,280 x 840 multiply-adds), its narrow first layer by samples.</summary>
    [Fact]
    public void A_row_split_layer_above_a_sample_split_one_trains_bit_identically()
    {
        using var single = new NarrowWide();
        using var multi = new NarrowWide { Threads = 2 };
        const int batch = 840;
        AssertThreeStepsMatch(single, multi, (m, x, y) => m.TrainStep(x, y, batch), batch, NarrowWide.InputSize, NarrowWide.OutputSize, seed: 120);
    }

    /// <summary>Batch 70: PackedStrips' first layer splits by rows, each thread packing its own strips of x on its own stack.</summary>
    [Fact]
    public void Packed_weight_gradient_strips_train_bit_identically()
    {
        using var single = new PackedStrips();
        using var multi = new PackedStrips { Threads = 2 };
        const int batch = 70;
        AssertThreeStepsMatch(single, multi, (m, x, y) => m.TrainStep(x, y, batch), batch, PackedStrips.InputSize, PackedStrips.OutputSize, seed: 140);
    }

    /// <summary>One threaded Adam step moves every row of every parameter: a split that skipped a thread's rows would leave them as they were.</summary>
    [Fact]
    public void Row_split_training_changes_every_row()
    {
        using var fresh = new WideDeep();
        using var multi = new WideDeep { Threads = 2 };
        const int batch = 333;
        multi.TrainStep(Inputs(batch * WideDeep.InputSize, 80), Classes(batch, WideDeep.OutputSize, 81), batch);
        foreach (var (p, q) in fresh.Parameters.Zip(multi.Parameters))
        {
            int cols = p.Shape.Count == 2 ? p.Shape[1] : 1;
            for (int row = 0; row < p.Data.Length / cols; row++)
                Assert.False(p.Data.Slice(row * cols, cols).SequenceEqual(q.Data.Slice(row * cols, cols)), $"{p.Name} row {row} unchanged");
        }
    }

    /// <summary>
    /// A threaded Forward leaves each worker a copy of its input for layer 0's weight gradient. LBFGS's closure (like the siamese
    /// passes) runs the forward from act0 instead: the workers must not read a copy of an older batch.
    /// </summary>
    [Fact]
    public void Worker_input_copies_never_outlive_their_batch()
    {
        using var single = new LbfgsWide();
        using var multi = new LbfgsWide { Threads = 2 };
        const int batch = 64;
        float[] old = Inputs(batch * LbfgsWide.InputSize, 90), output = new float[batch * LbfgsWide.OutputSize];
        multi.Forward(old, output, batch); // threaded: the worker copies `old`
        for (int step = 0; step < 2; step++)
        {
            float[] x = Inputs(batch * LbfgsWide.InputSize, 91 + step);
            int[] y = Classes(batch, LbfgsWide.OutputSize, 93 + step);
            Assert.Equal(single.TrainStep(x, y, batch), multi.TrainStep(x, y, batch));
        }
        AssertSameBits(single, multi, "after training", data: true, grads: false);
    }

    /// <summary>
    /// A threaded TrainStep reads a 64-byte-aligned input in place, with no copy per thread, and copies an unaligned one: both
    /// give one thread's bits. The inputs sit in an AlignedBuffer at offset 0 (aligned) or 1 float (not), and the buffer is
    /// overwritten with NaN after each step: nothing the model keeps may read it later. A public Forward and Backward after the
    /// steps (which copy their input) must match too.
    /// </summary>
    [Theory]
    [InlineData(2, 70, 0)]
    [InlineData(2, 70, 1)]
    [InlineData(3, 333, 0)]
    [InlineData(2, 333, 1)]
    public void An_aligned_input_is_read_in_place_with_the_same_bits(int threads, int batch, int offset)
    {
        using var single = new WideDeep();
        using var multi = new WideDeep { Threads = threads };
        AssertInPlaceStepsMatch(single, single.TrainStep, multi, multi.TrainStep, batch, offset, WideDeep.InputSize, WideDeep.OutputSize, seed: 200);
        AssertForwardBackwardMatch(single, single.Forward, single.Backward, multi, multi.Forward, multi.Backward, () => { }, batch, WideDeep.InputSize, WideDeep.OutputSize, seed: 210);
    }

    /// <summary>
    /// The same for the models whose first layer takes the sparse weight-gradient tiles with the SGD step fused on one thread
    /// (FashionMlp, 784 -> 128 -> 10 as mlp128) and packed strips of x (PackedStrips), aligned and not.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Fused_step_and_packed_strip_models_read_an_aligned_input_in_place_with_the_same_bits(int offset)
    {
        using (var single = new FashionMlp(seed: 6))
        using (var multi = new FashionMlp(seed: 6) { Threads = 2 })
            AssertInPlaceStepsMatch(single, single.TrainStep, multi, multi.TrainStep, batch: 130, offset, FashionMlp.InputSize, FashionMlp.OutputSize, seed: 220);
        using (var single = new PackedStrips())
        using (var multi = new PackedStrips { Threads = 2 })
            AssertInPlaceStepsMatch(single, single.TrainStep, multi, multi.TrainStep, batch: 70, offset, PackedStrips.InputSize, PackedStrips.OutputSize, seed: 230);
    }

    /// <summary>
    /// Three TrainSteps on distinct batches: <paramref name="single"/> gets a float[], <paramref name="multi"/> the same values in an
    /// AlignedBuffer at <paramref name="offset"/> floats (aligned at 0); the same loss and bits, and the buffer is wrecked after each step.
    /// </summary>
    private static void AssertInPlaceStepsMatch(IModel single, ClassStep singleStep, IModel multi, ClassStep multiStep, int batch, int offset, int inputs, int classes, int seed)
    {
        for (int step = 0; step < 3; step++)
        {
            float[] x = Inputs(batch * inputs, seed + step);
            int[] y = Classes(batch, classes, seed + 10 + step);
            using var buffer = new AlignedBuffer(x.Length + offset);
            var input = buffer.Span.Slice(offset, x.Length);
            x.CopyTo(input);
            Assert.Equal(offset == 0, AlignedBuffer.IsAligned(input));
            Assert.Equal(singleStep(x, y, batch), multiStep(input, y, batch));
            AssertSameBits(single, multi, $"step {step}, offset {offset}", data: true, grads: true);
            buffer.Span.Fill(float.NaN);
        }
    }

    /// <summary>
    /// Pulled layers (thread 0 copies the helpers' columns after the split forward, and a helper's backward reads its own from its
    /// private buffer), with a kept pre-activation: TrainStep, then a public Forward and Backward, and a Backward after a change of
    /// Threads between them (the private columns are gone: the shared ones are read), all bit-identical to one thread.
    /// </summary>
    [Theory]
    [InlineData(2, 100)]
    [InlineData(3, 100)]
    [InlineData(2, 200)]
    [InlineData(3, 250)]
    public void Pulled_columns_and_kept_pre_activations_train_bit_identically(int threads, int batch)
    {
        using (var single = new PulledGelu())
        using (var multi = new PulledGelu { Threads = threads })
        {
            AssertThreeStepsMatch(single, multi, (m, x, y) => m.TrainStep(x, y, batch), batch, PulledGelu.InputSize, PulledGelu.OutputSize, seed: 240);
            AssertForwardBackwardMatch(single, single.Forward, single.Backward, multi, multi.Forward, multi.Backward, () => multi.Threads = 1, batch, PulledGelu.InputSize, PulledGelu.OutputSize, seed: 250);
        }
        using (var single = new PushThenPull())
        using (var multi = new PushThenPull { Threads = threads })
        {
            AssertThreeStepsMatch(single, multi, (m, x, y) => m.TrainStep(x, y, batch), batch, PushThenPull.InputSize, PushThenPull.OutputSize, seed: 260);
            AssertForwardBackwardMatch(single, single.Forward, single.Backward, multi, multi.Forward, multi.Backward, () => multi.Threads = threads + 1, batch, PushThenPull.InputSize, PushThenPull.OutputSize, seed: 270);
        }
    }

    /// <summary>
    /// A public Forward and an accumulating Backward on both models, compared; then the same again with <paramref name="between"/>
    /// run on the threaded model between its Forward and its Backward.
    /// </summary>
    private static void AssertForwardBackwardMatch(IModel single, ForwardCall singleForward, BackwardCall singleBackward, IModel multi, ForwardCall multiForward,
        BackwardCall multiBackward, Action between, int batch, int inputs, int outputs, int seed)
    {
        for (int round = 0; round < 2; round++)
        {
            float[] x = Inputs(batch * inputs, seed + round), upstream = Inputs(batch * outputs, seed + 10 + round);
            float[] a = new float[batch * outputs], b = new float[a.Length];
            singleForward(x, a, batch);
            multiForward(x, b, batch);
            Assert.Equal(a, b);
            if (round == 1)
                between();
            singleBackward(upstream, batch);
            multiBackward(upstream, batch);
            AssertSameBits(single, multi, round == 0 ? "Forward + Backward" : "Forward, Threads changed, Backward", data: false, grads: true);
        }
    }

    private delegate void ForwardCall(ReadOnlySpan<float> input, Span<float> output, int batch);

    private delegate void BackwardCall(ReadOnlySpan<float> gradOutput, int batch);

    /// <summary>A classifier's TrainStep.</summary>
    private delegate float ClassStep(ReadOnlySpan<float> input, ReadOnlySpan<int> targets, int batch);

    [Fact]
    public void FashionMlp_threads_are_bit_identical()
    {
        using var single = new FashionMlp(seed: 2);
        using var multi = new FashionMlp(seed: 2) { Threads = 2 };
        const int batch = 130; // 130 x 100,352 multiply-adds: the first layer runs threaded
        float[] x = Inputs(batch * FashionMlp.InputSize, 7);
        int[] y = Classes(batch, FashionMlp.OutputSize, 8);
        for (int i = 0; i < 2; i++)
            Assert.Equal(single.TrainStep(x, y, batch), multi.TrainStep(x, y, batch));
        AssertSameBits(single, multi, "after training", data: true, grads: false);
        float[] a = new float[batch * FashionMlp.OutputSize], b = new float[a.Length];
        single.Predict(x, a, batch);
        multi.Predict(x, b, batch);
        Assert.Equal(a, b);
    }

    /// <summary>
    /// With threads, TrainStep, Forward and Predict allocate nothing per call on the caller's thread once warm (the workers only
    /// run kernels; their input copies are made once), counted on the caller's thread by AssertAllocatesNothing.
    /// </summary>
    [Fact]
    public void Threaded_calls_allocate_nothing_per_call_after_warm_up()
    {
        using var model = new FashionMlp(seed: 5) { Threads = 2 };
        const int batch = 96; // threaded: 96 x 100,352 multiply-adds in the first layer
        var xs = Enumerable.Range(0, 4).Select(k => Inputs(batch * FashionMlp.InputSize, 100 + k)).ToArray();
        var ys = Enumerable.Range(0, 4).Select(k => Classes(batch, FashionMlp.OutputSize, 110 + k)).ToArray();
        float[] output = new float[batch * FashionMlp.OutputSize];
        void Calls(int count)
        {
            for (int i = 0; i < count; i++)
            {
                model.TrainStep(xs[i % 4], ys[i % 4], batch);
                model.Forward(xs[(i + 1) % 4], output, batch);
                model.Predict(xs[(i + 2) % 4], output, batch);
            }
        }
        Calls(60);
        AssertAllocatesNothing(() => Calls(40));
    }

    /// <summary>After a batch of 64+, Step() splits runs of 2^16+ floats over the threads (here: SGD momentum on 101,770 floats, Adam on 75,264).</summary>
    [Fact]
    public void The_split_optimizer_step_is_bit_identical()
    {
        using var sgd1 = new FashionMlp(seed: 3);
        using var sgd2 = new FashionMlp(seed: 3) { Threads = 2 };
        using var adam1 = new ThreadedAdam();
        using var adam2 = new ThreadedAdam { Threads = 2 };
        const int batch = 68; // >= 64: the step is split only after a threaded batch
        for (int i = 0; i < 4; i++) // the first step creates the state (runtime optimizer); the next ones are fused and split
        {
            float[] x = Inputs(batch * 784, 20 + i);
            int[] y = Classes(batch, 10, 30 + i);
            Assert.Equal(sgd1.TrainStep(x, y, batch), sgd2.TrainStep(x, y, batch));
            Assert.Equal(adam1.TrainStep(x, y, batch), adam2.TrainStep(x, y, batch));
        }
        AssertSameBits(sgd1, sgd2, "SGD", data: true, grads: false);
        AssertSameBits(adam1, adam2, "Adam", data: true, grads: false);
        Assert.Equal(adam1.Optimizer.StateDict().ToJson(), adam2.Optimizer.StateDict().ToJson());
        using var untouched = new ThreadedAdam();
        Assert.False(untouched.Parameters[0].Data.SequenceEqual(adam2.Parameters[0].Data));
    }

    [Fact]
    public void Threads_out_of_range_are_rejected_and_can_be_turned_off()
    {
        using var model = new OddMlp();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Threads = 0);
        Assert.Contains("[1, 256]", e.Message);
        model.Threads = 2;
        model.Threads = 1;
        Assert.Equal(1, model.Threads);
    }

    /// <summary>Every parameter's values and/or gradients of <paramref name="a"/> and <paramref name="b"/> are the same bits.</summary>
    /// <summary>Three TrainSteps on distinct batches (inputs from seed + k, classes from seed + 10 + k): the same loss, and the same bits in every parameter and gradient.</summary>
    private static void AssertThreeStepsMatch<T>(T single, T multi, Func<T, float[], int[], float> trainStep, int batch, int inputs, int classes, int seed)
        where T : IModel
    {
        for (int step = 0; step < 3; step++)
        {
            float[] x = Inputs(batch * inputs, seed + step);
            int[] y = Classes(batch, classes, seed + 10 + step);
            Assert.Equal(trainStep(single, x, y), trainStep(multi, x, y));
            AssertSameBits(single, multi, $"step {step}", data: true, grads: true);
        }
    }

    private static void AssertSameBits(IModel a, IModel b, string when, bool data, bool grads)
    {
        for (int k = 0; k < a.Parameters.Count; k++)
        {
            if (data)
                Assert.True(a.Parameters[k].Data.SequenceEqual(b.Parameters[k].Data), $"{when}: {a.Parameters[k].Name}");
            if (grads)
                Assert.True(a.Parameters[k].Grad.SequenceEqual(b.Parameters[k].Grad), $"{when}: grad of {a.Parameters[k].Name}");
        }
    }
}
