// Trains a small classifier on two noisy blobs using only the DslModels package; exits 1 unless the loss falls, the model
// separates the blobs, and training and inference allocate nothing after the first calls. CI runs it under the JIT and as a
// NativeAOT executable, and compares the kernel paths the two print.
using System;
using DslModels;

const int n = 256;
var rng = new Random(1);
float[] x = new float[n * Blobs.InputSize];
int[] y = new int[n];
for (int i = 0; i < n; i++)
{
    y[i] = i % 2;
    x[2 * i] = (float)(rng.NextDouble() - 0.5 + (y[i] == 0 ? -1.5 : 1.5));
    x[2 * i + 1] = (float)(rng.NextDouble() - 0.5);
}

using var model = new Blobs();
float first = model.TrainStep(x, y, n), last = first;
for (int step = 0; step < 200; step++)
    last = model.TrainStep(x, y, n);

float[] logits = new float[n * Blobs.OutputSize];
model.Predict(x, logits, n);
long before = GC.GetAllocatedBytesForCurrentThread();
for (int step = 0; step < 20; step++)
{
    model.TrainStep(x, y, n);
    model.Predict(x, logits, n);
}
long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
int correct = 0;
for (int i = 0; i < n; i++)
    if ((logits[2 * i + 1] > logits[2 * i] ? 1 : 0) == y[i]) correct++;
Console.WriteLine($"consumer: loss {first:F4} -> {last:F4}, accuracy {correct}/{n}, {model.Parameters.Count} parameters ({string.Join(", ", model.Parameters)}), {allocated} bytes allocated by 20 train steps and predictions");
Console.WriteLine($"consumer: kernels {KernelPaths.Current}, {(System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported ? "JIT" : "NativeAOT")}");
return last < 0.5f * first && correct > n * 9 / 10 && allocated == 0 ? 0 : 1;

[Model(Inputs = 2, Seed = 5)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0.9)]
public partial class Blobs
{
    [Layer(8, Activation.Tanh)] public partial Dense Hidden { get; }
    [Layer(2)] public partial Dense Logits { get; }
}
