using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using DslModels.Tests.Models;

namespace DslModels.Tests;

/// <summary>
/// A digest of fixed training runs: for each model below, 20 <c>TrainStep</c>s on batches drawn from a seeded <see cref="Random"/>,
/// then a 64-bit FNV-1a hash of every parameter's values and gradient. <c>DslModels.Runtime.Tests --digest</c> prints it.
/// </summary>
/// <remarks>
/// <c>.ci/arm64-tests</c> compares the digest of x64's Vector128 path with FMA (<c>DOTNET_PreferredVectorBitWidth=128</c>) with
/// Arm64's (AdvSimd, under QEMU): the same C# kernels in IEEE single and double precision with fused multiply-adds, the same
/// order of operations, so the bits must be the same on both. The models cover the kernels' tile kinds (sparse ReLU tiles,
/// packed strips, streamed dW, odd widths), every activation, the optimizers, and losses with class and float targets.
/// </remarks>
internal static class CrossPlatformDigest
{
    private delegate float ClassStep(ReadOnlySpan<float> input, ReadOnlySpan<int> targets, int batch);

    private delegate float FloatStep(ReadOnlySpan<float> input, ReadOnlySpan<float> targets, int batch);

    public static void Print(TextWriter writer)
    {
        using (var m = new FashionMlp()) Classes(writer, nameof(FashionMlp), m, m.TrainStep, FashionMlp.InputSize, FashionMlp.OutputSize, 33);
        using (var m = new OddMlp()) Classes(writer, nameof(OddMlp), m, m.TrainStep, OddMlp.InputSize, OddMlp.OutputSize, 7);
        using (var m = new ActZoo1()) Classes(writer, nameof(ActZoo1), m, m.TrainStep, ActZoo1.InputSize, ActZoo1.OutputSize, 9);
        using (var m = new ActZoo2()) Classes(writer, nameof(ActZoo2), m, m.TrainStep, ActZoo2.InputSize, ActZoo2.OutputSize, 9);
        using (var m = new WideDeep()) Classes(writer, nameof(WideDeep), m, m.TrainStep, WideDeep.InputSize, WideDeep.OutputSize, 21);
        using (var m = new NarrowWide()) Classes(writer, nameof(NarrowWide), m, m.TrainStep, NarrowWide.InputSize, NarrowWide.OutputSize, 21);
        using (var m = new FuseSgdRelu()) Classes(writer, nameof(FuseSgdRelu), m, m.TrainStep, FuseSgdRelu.InputSize, FuseSgdRelu.OutputSize, 70);
        using (var m = new FuseAdamPackedGelu()) Classes(writer, nameof(FuseAdamPackedGelu), m, m.TrainStep, FuseAdamPackedGelu.InputSize, FuseAdamPackedGelu.OutputSize, 20);
        using (var m = new FuseSgdWideTanh()) Classes(writer, nameof(FuseSgdWideTanh), m, m.TrainStep, FuseSgdWideTanh.InputSize, FuseSgdWideTanh.OutputSize, 20);
        using (var m = new OptAdamW()) Classes(writer, nameof(OptAdamW), m, m.TrainStep, OptAdamW.InputSize, OptAdamW.OutputSize, 5);
        using (var m = new OptAdagrad()) Classes(writer, nameof(OptAdagrad), m, m.TrainStep, OptAdagrad.InputSize, OptAdagrad.OutputSize, 5);
        using (var m = new OptRMSprop()) Classes(writer, nameof(OptRMSprop), m, m.TrainStep, OptRMSprop.InputSize, OptRMSprop.OutputSize, 5);
        using (var m = new OptAdadelta()) Classes(writer, nameof(OptAdadelta), m, m.TrainStep, OptAdadelta.InputSize, OptAdadelta.OutputSize, 5);
        using (var m = new OptAdamax()) Classes(writer, nameof(OptAdamax), m, m.TrainStep, OptAdamax.InputSize, OptAdamax.OutputSize, 5);
        using (var m = new OptAsgd()) Classes(writer, nameof(OptAsgd), m, m.TrainStep, OptAsgd.InputSize, OptAsgd.OutputSize, 5);
        using (var m = new OptRprop()) Classes(writer, nameof(OptRprop), m, m.TrainStep, OptRprop.InputSize, OptRprop.OutputSize, 5);
        using (var m = new OptNAdam()) Classes(writer, nameof(OptNAdam), m, m.TrainStep, OptNAdam.InputSize, OptNAdam.OutputSize, 5);
        using (var m = new OptRAdam()) Classes(writer, nameof(OptRAdam), m, m.TrainStep, OptRAdam.InputSize, OptRAdam.OutputSize, 5);
        using (var m = new LossCeSmooth()) Classes(writer, nameof(LossCeSmooth), m, m.TrainStep, LossCeSmooth.InputSize, LossCeSmooth.OutputSize, 5);
        using (var m = new LossMultiMargin()) Classes(writer, nameof(LossMultiMargin), m, m.TrainStep, LossMultiMargin.InputSize, LossMultiMargin.OutputSize, 5);
        using (var m = new LossBceLogits()) Floats(writer, nameof(LossBceLogits), m, m.TrainStep, LossBceLogits.InputSize, LossBceLogits.OutputSize, 5);
        using (var m = new LossPoisson()) Floats(writer, nameof(LossPoisson), m, m.TrainStep, LossPoisson.InputSize, LossPoisson.OutputSize, 5);
        using (var m = new LossKl()) Floats(writer, nameof(LossKl), m, m.TrainStep, LossKl.InputSize, LossKl.OutputSize, 5);
        using (var m = new LossHuber()) Floats(writer, nameof(LossHuber), m, m.TrainStep, LossHuber.InputSize, LossHuber.OutputSize, 5);
        using (var m = new SoftmaxMse()) Floats(writer, nameof(SoftmaxMse), m, m.TrainStep, SoftmaxMse.InputSize, SoftmaxMse.OutputSize, 5);
        writer.WriteLine($"kernels {KernelPaths.Current}");
    }

    private static void Classes(TextWriter writer, string name, IModel model, ClassStep step, int inputs, int classes, int batch)
    {
        var rng = new Random(name.Length * 7919 + batch);
        var x = new float[batch * inputs];
        var y = new int[batch];
        float loss = 0;
        for (int s = 0; s < 20; s++)
        {
            Fill(rng, x);
            for (int i = 0; i < batch; i++) y[i] = rng.Next(classes);
            loss = step(x, y, batch);
        }
        Write(writer, name, model, loss);
    }

    private static void Floats(TextWriter writer, string name, IModel model, FloatStep step, int inputs, int outputs, int batch)
    {
        var rng = new Random(name.Length * 7919 + batch);
        var x = new float[batch * inputs];
        var y = new float[batch * outputs];
        float loss = 0;
        for (int s = 0; s < 20; s++)
        {
            Fill(rng, x);
            for (int i = 0; i < y.Length; i++) y[i] = (float)rng.NextDouble(); // [0, 1): a valid target for every float loss here
            loss = step(x, y, batch);
        }
        Write(writer, name, model, loss);
    }

    private static void Fill(Random rng, float[] x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = (float)(2 * rng.NextDouble() - 1);
    }

    private static void Write(TextWriter writer, string name, IModel model, float loss)
    {
        ulong hash = 14695981039346656037UL;
        foreach (var p in model.Parameters)
        {
            foreach (byte b in MemoryMarshal.AsBytes(p.Data)) hash = (hash ^ b) * 1099511628211UL;
            foreach (byte b in MemoryMarshal.AsBytes(p.Grad)) hash = (hash ^ b) * 1099511628211UL;
        }
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: last loss 0x{BitConverter.SingleToInt32Bits(loss):X8}, parameters and gradients 0x{hash:X16}"));
    }
}
