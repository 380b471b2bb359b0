using System;
using System.Linq;
using System.Reflection;
using DslModels.Losses;
using DslModels.Optim;
using Xunit;
using static DslModels.Tests.Models.ModelHelpers;

namespace DslModels.Tests.Models;

/// <summary>
/// TrainStep's fused kernel does not store the first layer's weight gradient it streams (nothing in the step reads it), and the
/// model computes it when something asks: Parameter.Grad (every runtime reader: optimizers, clipping, the user), Step(), a
/// training Forward, a larger batch; Predict first copies the dz it needs aside. Whatever the user does after a TrainStep, the
/// gradient must read as the reference's (ZeroGrad + Forward + the runtime loss + Backward + the runtime optimizer's Step()),
/// bit for bit, and so must every later step. Once the gradient had to be computed, the next 64 TrainSteps store it.
/// </summary>
public class DeferredGradientTests
{
    private sealed record Subject(IModel Model, Optimizer Optimizer, Func<float[], int[], int, float> TrainStep, Action Step, Action<int> SetThreads) : IDisposable
    {
        public void Dispose() => Model.Dispose();
    }

    private static Subject Create(string name) => name switch
    {
        nameof(DeferDeep) => Make(new DeferDeep(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), m => m.Step(), (m, n) => m.Threads = n),
        nameof(FuseSgdWide) => Make(new FuseSgdWide(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), m => m.Step(), (m, n) => m.Threads = n),
        nameof(FuseSgdWideTanh) => Make(new FuseSgdWideTanh(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), m => m.Step(), (m, n) => m.Threads = n),
        nameof(FashionMlp) => Make(new FashionMlp(), m => m.Optimizer, (m, x, y, b) => m.TrainStep(x, y, b), m => m.Step(), (m, n) => m.Threads = n),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    private static Subject Make<T>(T m, Func<T, Optimizer> optimizer, Func<T, float[], int[], int, float> trainStep, Action<T> step, Action<T, int> threads) where T : IModel =>
        new(m, optimizer(m), (x, y, b) => trainStep(m, x, y, b), () => step(m), n => threads(m, n));

    /// <summary>The reference step: what TrainStep stands for.</summary>
    private static void ManualStep(Subject s, float[] x, int[] y, int batch)
    {
        int classes = s.Model.OutputWidth;
        float[] output = new float[batch * classes], grad = new float[output.Length];
        s.Model.ZeroGrad();
        s.Model.Forward(x, output, batch);
        CrossEntropyLoss.Forward(output, y, batch, classes, grad);
        s.Model.Backward(grad, batch);
        s.Optimizer.Step();
    }

    /// <summary>Whether TrainStep defers the gradient here: the vector paths stream dW (512 inputs tile every vector width); the scalar path stores it.</summary>
    private static bool Defers => KernelPaths.Current != KernelPath.Scalar;

    private static bool Pending(Subject s) =>
        (bool)s.Model.GetType().GetField("_dslGradPending", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(s.Model)!;

    /// <summary>The gradient buffer as it is, without asking the model for it (what a reader would see without the hook).</summary>
    private static float[] RawGradient(Subject s, Parameter p)
    {
        var buffer = (AlignedBuffer)s.Model.GetType().GetField("_dslGradients", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(s.Model)!;
        return buffer.Span.Slice(p.Offset, p.Length).ToArray();
    }

    private static void AssertSame(Subject reference, Subject deferred, string when)
    {
        for (int k = 0; k < reference.Model.Parameters.Count; k++)
        {
            var (r, d) = (reference.Model.Parameters[k], deferred.Model.Parameters[k]);
            Assert.True(r.Data.SequenceEqual(d.Data), $"{when}: {r.Name} differs");
            Assert.True(r.Grad.SequenceEqual(d.Grad), $"{when}: {r.Name}.grad differs");
        }
        Assert.Equal(reference.Optimizer.StateDict().ToJson(), deferred.Optimizer.StateDict().ToJson());
    }

    /// <summary>
    /// A first step (it cannot fuse, and stores every gradient), then two TrainSteps whose gradient is left pending; asserts it is
    /// pending and that the buffer does not hold it, so that what follows really tests the computation on demand.
    /// </summary>
    private static (Subject Reference, Subject Deferred) Prepare(string name, int batch)
    {
        var reference = Create(name);
        var deferred = Create(name);
        int inputs = deferred.Model.InputWidth, classes = deferred.Model.OutputWidth;
        for (int step = 0; step < 3; step++)
        {
            float[] x = Inputs(batch * inputs, 700 + step);
            int[] y = Classes(batch, classes, 800 + step);
            deferred.TrainStep(x, y, batch);
            ManualStep(reference, x, y, batch);
            if (step == 0)
            {
                // The first step's gradient, stored: reading it computes nothing (and so does not hold deferring off).
                Assert.False(Pending(deferred), $"{name}, batch {batch}: the first step deferred");
                Assert.True(reference.Model.Parameters[0].Grad.SequenceEqual(deferred.Model.Parameters[0].Grad), $"{name}, batch {batch}: step {step}");
            }
        }
        Assert.True(Pending(deferred) == Defers, $"{name}, batch {batch}: pending {Pending(deferred)} on the {KernelPaths.Current} path");
        var w = deferred.Model.Parameters[0];
        if (Defers)
            Assert.False(reference.Model.Parameters[0].Grad.SequenceEqual(RawGradient(deferred, w)), $"{name}, batch {batch}: the buffer already held the gradient");
        return (reference, deferred);
    }

    public static TheoryData<string, int> Cases => new()
    {
        { nameof(DeferDeep), 1 }, { nameof(DeferDeep), 9 }, { nameof(DeferDeep), 33 }, { nameof(DeferDeep), 100 },
        { nameof(FuseSgdWide), 1 }, { nameof(FuseSgdWide), 20 },
        { nameof(FuseSgdWideTanh), 3 },
        // A batch of at most 4 takes the row-by-row twin (DslWeightGradStepRows: FuseSgdWide 1, FuseSgdWideTanh 3, FashionMlp 1 and 4), 5 the strips.
        { nameof(FashionMlp), 1 }, { nameof(FashionMlp), 4 }, { nameof(FashionMlp), 5 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_gradient_reads_as_the_reference_through_Parameter_Grad(string name, int batch)
    {
        var (reference, deferred) = Prepare(name, batch);
        using (reference)
        using (deferred)
        {
            AssertSame(reference, deferred, $"{name}, batch {batch}");
            Assert.False(Pending(deferred));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Predict_keeps_what_the_pending_gradient_needs(string name, int batch)
    {
        var (reference, deferred) = Prepare(name, batch);
        using (reference)
        using (deferred)
        {
            int inputs = deferred.Model.InputWidth, classes = deferred.Model.OutputWidth;
            // Predict at the same batch, then at one that needs larger buffers, then TrainStep-free reads.
            foreach (int b in new[] { batch, batch, 4 * batch + 7 })
            {
                float[] x = Inputs(b * inputs, 900 + b), yd = new float[b * classes], yr = new float[b * classes];
                PredictOf(deferred, x, yd, b);
                PredictOf(reference, x, yr, b);
                Assert.True(yr.SequenceEqual(yd), $"{name}, batch {batch}: Predict at {b} differs");
            }
            AssertSame(reference, deferred, $"{name}, batch {batch}, after Predict");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_training_Forward_and_Backward_add_to_the_pending_gradient(string name, int batch)
    {
        var (reference, deferred) = Prepare(name, batch);
        using (reference)
        using (deferred)
        {
            int inputs = deferred.Model.InputWidth, classes = deferred.Model.OutputWidth;
            float[] x = Inputs(batch * inputs, 950), output = new float[batch * classes], grad = new float[output.Length];
            int[] y = Classes(batch, classes, 951);
            foreach (var s in new[] { reference, deferred })
            {
                s.Model.Forward(x, output, batch);
                CrossEntropyLoss.Forward(output, y, batch, classes, grad);
                s.Model.Backward(grad, batch); // accumulates onto the last step's gradient, as PyTorch's backward() without zero_grad()
            }
            AssertSame(reference, deferred, $"{name}, batch {batch}, after Forward + Backward");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_and_the_runtime_optimizer_step_with_the_pending_gradient(string name, int batch)
    {
        var (reference, deferred) = Prepare(name, batch);
        using (reference)
        using (deferred)
        {
            deferred.Step(); // the model's emitted Step(): reads the gradient arena itself
            reference.Optimizer.Step();
            AssertSame(reference, deferred, $"{name}, batch {batch}, after Step()");
        }
        (reference, deferred) = Prepare(name, batch);
        using (reference)
        using (deferred)
        {
            deferred.Optimizer.Step(); // the runtime optimizer: reads Parameter.Grad
            reference.Optimizer.Step();
            AssertSame(reference, deferred, $"{name}, batch {batch}, after Optimizer.Step()");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TrainStep_ZeroGrad_Threads_and_the_hold_off_after_a_pending_gradient(string name, int batch)
    {
        var (reference, deferred) = Prepare(name, batch);
        using (reference)
        using (deferred)
        {
            int inputs = deferred.Model.InputWidth, classes = deferred.Model.OutputWidth;
            // Two more TrainSteps with a Predict between and no read: each drops the last one's pending gradient.
            for (int step = 0; step < 2; step++)
            {
                float[] x = Inputs(batch * inputs, 960 + step);
                int[] y = Classes(batch, classes, 970 + step);
                deferred.TrainStep(x, y, batch);
                ManualStep(reference, x, y, batch);
                float[] p = new float[batch * classes];
                PredictOf(deferred, x, p, batch);
            }
            deferred.SetThreads(2); // the thread pool changes nothing the pending gradient needs
            AssertSame(reference, deferred, $"{name}, batch {batch}, after two more steps");

            // That read computed the gradient: the next 64 TrainSteps store theirs, the 65th defers again (DslDeferHoldoff).
            deferred.SetThreads(1);
            for (int step = 0; step <= 64; step++)
            {
                float[] x2 = Inputs(batch * inputs, 980 + step);
                int[] y2 = Classes(batch, classes, 1080 + step);
                deferred.TrainStep(x2, y2, batch);
                ManualStep(reference, x2, y2, batch);
                Assert.True(Pending(deferred) == (Defers && step == 64), $"{name}, batch {batch}: pending after step {step} of the hold-off");
            }
            AssertSame(reference, deferred, $"{name}, batch {batch}, after the hold-off");
            float[] x3 = Inputs(batch * inputs, 990);
            int[] y3 = Classes(batch, classes, 991);
            for (int step = 0; step <= 64; step++)
                deferred.TrainStep(x3, y3, batch); // let the hold-off run out (nothing is read)
            Assert.True(Pending(deferred) == Defers);
            deferred.Model.ZeroGrad();
            Assert.False(Pending(deferred));
            foreach (var p in deferred.Model.Parameters)
                Assert.True(p.Grad.ToArray().All(v => v == 0f && !float.IsNegative(v)), $"{name}, batch {batch}: {p.Name}.grad after ZeroGrad");
        }
    }

    [Fact]
    public void A_disposed_model_with_a_pending_gradient_throws_as_any_disposed_model()
    {
        var (reference, deferred) = Prepare(nameof(DeferDeep), 5);
        reference.Dispose();
        var w = deferred.Model.Parameters[0];
        deferred.Dispose();
        Assert.Throws<ObjectDisposedException>(() => w.Grad.ToArray());
    }

    private static void PredictOf(Subject s, float[] x, float[] y, int batch) => s.Model.Predict(x, y, batch);
}
