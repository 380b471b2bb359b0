// Trains a small classifier on two noisy blobs using only the DslModels package; exits 1 unless the loss falls
// and the model separates the blobs.
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
int correct = 0;
for (int i = 0; i < n; i++)
    if ((logits[2 * i + 1] > logits[2 * i] ? 1 : 0) == y[i]) correct++;
Console.WriteLine($"consumer: loss {first:F4} -> {last:F4}, accuracy {correct}/{n}, {model.Parameters.Count} parameters ({string.Join(", ", model.Parameters)})");
return last < 0.5f * first && correct > n * 9 / 10 ? 0 : 1;

[Model(Inputs = 2, Seed = 5)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0.9)]
public partial class Blobs
{
    [Layer(8, Activation.Tanh)] public partial Dense Hidden { get; }
    [Layer(2)] public partial Dense Logits { get; }
}
