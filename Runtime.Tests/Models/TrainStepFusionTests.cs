using System;
using System.Linq;
using System.Reflection;
using DslModels.Losses;
using DslModels.Optim;
using Xunit;
using static DslModels.Tests.Models.ModelHelpers;

namespace DslModels.Tests.Models;

/// <summary>
/// TrainStep updates the first layer's weight inside its weight-gradient kernel, each strip as soon as its gradient is final,
/// and runs Step()'s passes on the other parameters only. It must give the bits of ZeroGrad + Forward + the runtime loss +
/// Backward + the runtime optimizer's Step() (the reference, checked against PyTorch), for every optimizer, every tile of the
/// kernel (whole vectors, last columns, packed strips, sparse tiles, several chunks of samples; and two threads, which do not fuse),
/// and leave the same gradients and optimizer state behind.
/// </summary>
public class TrainStepFusionTests
{
    private sealed record Subject(IModel Model, Optimizer Optimizer, Func<float[], int[], int, float> TrainStep, Action<int> SetThreads) : IDisposable
    {
        public void Dispose() => Model.Dispose();
    }

    private static Subject S<T>(T m, Func<T, Optimizer> optimizer, Func<T, float[], int[], int, float> trainStep, Action<T, int> threads) where T : IModel =>
        new(m, optimizer(m), (x, y, b) => trainStep(m, x, y, b), n => threads(m, n));

    private static Subject Create(string name) => name switch
    {
        nameof(FuseSgdRelu) => S(new FuseSgdRelu(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FuseAdamPacked) => S(new FuseAdamPacked(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FuseGroupedFirst) => S(new FuseGroupedFirst(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FuseRmspropRelu) => S(new FuseRmspropRelu(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FuseRpropRelu) => S(new FuseRpropRelu(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FuseAsgdRelu) => S(new FuseAsgdRelu(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FuseSgdWide) => S(new FuseSgdWide(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FuseSgdTanh) => S(new FuseSgdTanh(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FuseAdamPackedGelu) => S(new FuseAdamPackedGelu(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FuseSgdWideTanh) => S(new FuseSgdWideTanh(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(ThreadedAdam) => S(new ThreadedAdam(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(OddMlp) => S(new OddMlp(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(OptSgdGroups) => S(new OptSgdGroups(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedSgdMaximize) => S(new FusedSgdMaximize(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedSgdPlain) => S(new FusedSgdPlain(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(OptAdam) => S(new OptAdam(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(OptAdamW) => S(new OptAdamW(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedAdamAmsgradMaximize) => S(new FusedAdamAmsgradMaximize(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedAdamWGroups) => S(new FusedAdamWGroups(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(OptAdagrad) => S(new OptAdagrad(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedAdagradWdMaximize) => S(new FusedAdagradWdMaximize(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(OptRMSprop) => S(new OptRMSprop(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedRmspropPlain) => S(new FusedRmspropPlain(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedRmspropGroups) => S(new FusedRmspropGroups(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(OptAdadelta) => S(new OptAdadelta(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedAdadeltaWdMaximize) => S(new FusedAdadeltaWdMaximize(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(OptAdamax) => S(new OptAdamax(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedAdamaxWdMaximize) => S(new FusedAdamaxWdMaximize(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(OptNAdam) => S(new OptNAdam(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedNAdamGroups) => S(new FusedNAdamGroups(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(OptRAdam) => S(new OptRAdam(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedRAdamWd) => S(new FusedRAdamWd(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(OptAsgd) => S(new OptAsgd(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedAsgdGroups) => S(new FusedAsgdGroups(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(OptRprop) => S(new OptRprop(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        nameof(FusedRpropMaximize) => S(new FusedRpropMaximize(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), (m, n) => m.Threads = n),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Every optimizer (6 inputs: the first layer is all last columns, updated by a call after them) at batch 3.</summary>
    public static TheoryData<string> Optimizers => new(
        nameof(OddMlp), nameof(OptSgdGroups), nameof(FusedSgdMaximize), nameof(FusedSgdPlain), nameof(OptAdam), nameof(OptAdamW),
        nameof(FusedAdamAmsgradMaximize), nameof(FusedAdamWGroups), nameof(OptAdagrad), nameof(FusedAdagradWdMaximize), nameof(OptRMSprop),
        nameof(FusedRmspropPlain), nameof(FusedRmspropGroups), nameof(OptAdadelta), nameof(FusedAdadeltaWdMaximize), nameof(OptAdamax),
        nameof(FusedAdamaxWdMaximize), nameof(OptNAdam), nameof(FusedNAdamGroups), nameof(OptRAdam), nameof(FusedRAdamWd), nameof(OptAsgd),
        nameof(FusedAsgdGroups), nameof(OptRprop), nameof(FusedRpropMaximize));

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Every_optimizer_gets_the_runtime_optimizers_bits(string name) => AssertSameTraining(name, batch: 3, threads: 1, steps: 8).Dispose();

    /// <summary>
    /// The kernel's tiles: batch 1 and 5 a small last chunk (under 16 samples: the 1-row tiles that update W, where the plain
    /// Backward takes the dense ones), 20 sparse, 70 a sparse chunk and a small one, 130 three chunks; for the large first
    /// layers, the streamed dW (a sparse last chunk: at 20 alone, at 90 after a chunk of ordinary stores; a small last chunk: at
    /// 3 and 5 alone, at 70 after a chunk of ordinary stores; at 130 the last chunk is dense and nothing is streamed).
    /// </summary>
    [Theory]
    [InlineData(nameof(FuseSgdRelu), 1)]
    [InlineData(nameof(FuseSgdRelu), 5)]
    [InlineData(nameof(FuseSgdRelu), 20)]
    [InlineData(nameof(FuseSgdRelu), 70)]
    [InlineData(nameof(FuseSgdRelu), 130)]
    [InlineData(nameof(FuseAdamPacked), 1)]
    [InlineData(nameof(FuseAdamPacked), 20)]
    [InlineData(nameof(FuseAdamPacked), 70)]
    [InlineData(nameof(FuseGroupedFirst), 4)]
    [InlineData(nameof(FuseGroupedFirst), 33)]
    [InlineData(nameof(ThreadedAdam), 17)] // 75,264 and 65,536 weights: the sparse tiles stream the last chunk's dW
    [InlineData(nameof(ThreadedAdam), 90)]
    [InlineData(nameof(ThreadedAdam), 3)]
    [InlineData(nameof(FuseSgdWide), 5)]
    [InlineData(nameof(FuseSgdWide), 70)]
    [InlineData(nameof(FuseSgdWide), 20)]
    [InlineData(nameof(FuseSgdWide), 90)]
    [InlineData(nameof(FuseSgdWide), 130)]
    [InlineData(nameof(FuseSgdTanh), 1)] // no zeros in dz: 1-row tiles under 16 samples, 4-row tiles from 16
    [InlineData(nameof(FuseSgdTanh), 15)]
    [InlineData(nameof(FuseSgdTanh), 16)]
    [InlineData(nameof(FuseSgdTanh), 70)]
    [InlineData(nameof(FuseAdamPackedGelu), 1)]
    [InlineData(nameof(FuseAdamPackedGelu), 9)]
    [InlineData(nameof(FuseAdamPackedGelu), 20)]
    [InlineData(nameof(FuseSgdWideTanh), 3)]
    [InlineData(nameof(FuseSgdWideTanh), 20)]
    [InlineData(nameof(FuseRmspropRelu), 20)] // other optimizers' bodies in the sparse tiles
    [InlineData(nameof(FuseRpropRelu), 20)]
    [InlineData(nameof(FuseAsgdRelu), 20)]
    public void Every_tile_of_the_kernel_gets_the_runtime_optimizers_bits(string name, int batch) => AssertSameTraining(name, batch, threads: 1, steps: 5).Dispose();

    /// <summary>
    /// A non-finite input in a small last chunk: its 1-row tiles take every sample's term (0 · ∞ = NaN must reach dW, as in the
    /// dense sum and in PyTorch) instead of skipping the zeros of dz. The input turns non-finite in the last step only, so the
    /// steps before it compare finite updates; that step's gradient must hold NaN where a skipped term would have left a number.
    /// Batches of at most 4 take the row-by-row twin, which chooses each row's samples itself: the update of W there must take
    /// the NaN too (the gradient read afterwards comes from the plain kernel when the step deferred it).
    /// </summary>
    [Theory]
    [InlineData(nameof(FuseSgdRelu), 1)] // the twin, last columns on every vector path (40 inputs)
    [InlineData(nameof(FuseSgdRelu), 3)]
    [InlineData(nameof(ThreadedAdam), 3)] // the twin with Adam's body and dW streamed or deferred
    [InlineData(nameof(FuseSgdTanh), 2)] // the twin without zeros to skip
    [InlineData(nameof(FuseSgdRelu), 5)]
    [InlineData(nameof(FuseSgdRelu), 70)]
    [InlineData(nameof(FuseAdamPacked), 1)]
    [InlineData(nameof(FuseSgdWide), 5)]
    [InlineData(nameof(FuseSgdTanh), 5)]
    public void A_non_finite_input_in_a_small_last_chunk_gets_the_dense_sums(string name, int batch)
    {
        // The last sample's first input (a column of the vector tiles on every path) is +∞.
        using var fused = AssertSameTraining(name, batch, threads: 1, steps: 3, lastInput: (x, inputs) => x[x.Length - inputs] = float.PositiveInfinity);
        // Its logits are not finite, so its dz is NaN on the live outputs and 0 on the dead ones: 0 · ∞ = NaN puts NaN into every
        // row of dW's first column. Skipping the zeros of dz would leave the dead rows' column finite.
        var grad = fused.Model.Parameters[0].Grad;
        int inputs = fused.Model.InputWidth, column = 0, rows = grad.Length / inputs;
        int nanRows = 0;
        for (int r = 0; r < rows; r++) nanRows += float.IsNaN(grad[r * inputs + column]) ? 1 : 0;
        Assert.True(nanRows == rows, $"{name}, batch {batch}: {nanRows} of {rows} rows of dW have NaN in the infinite input's column");
    }

    /// <summary>
    /// Two threads: the first layer's weight gradient is split, so TrainStep keeps Backward then Step() (the split parts measured
    /// slower fused), and its bits stay the runtime optimizer's.
    /// </summary>
    [Theory]
    [InlineData(nameof(ThreadedAdam), 70)]
    [InlineData(nameof(ThreadedAdam), 128)]
    public void A_split_over_two_threads_gets_the_runtime_optimizers_bits(string name, int batch) => AssertSameTraining(name, batch, threads: 2, steps: 4).Dispose();

    /// <summary>
    /// Trains two instances of <paramref name="name"/> side by side, one with TrainStep and one with the reference steps, and
    /// asserts the same bits after every step; <paramref name="lastInput"/> may change the last step's input. Returns the fused
    /// instance (the caller disposes it).
    /// </summary>
    private static Subject AssertSameTraining(string name, int batch, int threads, int steps, Action<float[], int>? lastInput = null)
    {
        var fused = Create(name);
        try
        {
            Train(fused, name, batch, threads, steps, lastInput);
            return fused;
        }
        catch
        {
            fused.Dispose();
            throw;
        }
    }

    private static void Train(Subject fused, string name, int batch, int threads, int steps, Action<float[], int>? lastInput)
    {
        using var manual = Create(name);
        fused.SetThreads(threads);
        manual.SetThreads(threads);
        int inputs = fused.Model.InputWidth, classes = fused.Model.OutputWidth;
        float[] output = new float[batch * classes], grad = new float[output.Length];
        for (int step = 0; step < steps; step++)
        {
            float[] x = Inputs(batch * inputs, 300 + step);
            if (step == steps - 1) lastInput?.Invoke(x, inputs);
            int[] y = Classes(batch, classes, 400 + step);
            float lossFused = fused.TrainStep(x, y, batch);

            manual.Model.ZeroGrad();
            manual.Model.Forward(x, output, batch);
            float lossManual = CrossEntropyLoss.Forward(output, y, batch, classes, grad);
            manual.Model.Backward(grad, batch);
            manual.Optimizer.Step();

            string when = $"{name}, batch {batch}, {threads} thread(s), step {step}";
            Assert.Equal(lossManual, lossFused);
            for (int k = 0; k < manual.Model.Parameters.Count; k++)
            {
                var (m, f) = (manual.Model.Parameters[k], fused.Model.Parameters[k]);
                Assert.True(m.Data.SequenceEqual(f.Data), $"{when}: {m.Name} differs");
                Assert.True(m.Grad.SequenceEqual(f.Grad), $"{when}: {m.Name}.grad differs");
            }
            Assert.Equal(manual.Optimizer.StateDict().ToJson(), fused.Optimizer.StateDict().ToJson());
            // From the second step on (the first creates the state), the fused step applies (TrainStep takes it on one thread).
            bool fuses = (bool)fused.Model.GetType().GetMethod("DslCanFuseStep", BindingFlags.NonPublic | BindingFlags.Instance)!.Invoke(fused.Model, null)!;
            Assert.True(fuses, $"{when}: the fused step does not apply");
        }
        // The weights really moved, so the comparison above compared updates.
        using var untouched = Create(name);
        Assert.False(untouched.Model.Parameters[0].Data.SequenceEqual(fused.Model.Parameters[0].Data), $"{name}: the first weight did not move");
    }
}
