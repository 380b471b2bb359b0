// Trains a 784-128-10 MLP on the Fashion-MNIST test split bundled in data/ (8,000 images to train,
// 2,000 held out), printing per-epoch loss, held-out accuracy and throughput.
//
//   dotnet run --project Samples/FashionMnist -c Release [-- --epochs 5 --batch 32]
using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using DslModels;
using DslModels.Data;

int epochs = Option(args, "--epochs", 5);
int batch = Option(args, "--batch", 32);
string dataDir = Path.Combine(AppContext.BaseDirectory, "data");

var images = Idx.ReadImages(Path.Combine(dataDir, "t10k-images-idx3-ubyte.gz"));
int[] labels = Idx.ReadLabels(Path.Combine(dataDir, "t10k-labels-idx1-ubyte.gz"));
float[] pixels = images.ToFloats();
const int trainCount = 8000;
int heldOutCount = images.Count - trainCount;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Fashion-MNIST: {trainCount} training and {heldOutCount} held-out images of {images.Rows}x{images.Columns}; batch {batch}, {epochs} epochs"));

using var model = new FashionClassifier();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Model: {model.Hidden} -> {model.Output}; {FashionClassifier.ParameterCount:N0} parameters; kernels: {KernelPaths.Current}"));
#if DEBUG
Console.WriteLine("Debug build: the JIT compiles the model's kernels unoptimized, 10-20x slower. Run with -c Release to see its speed (DSL0021).");
#endif

// Shuffled copies of each batch, so every step reads contiguous memory.
var order = new int[trainCount];
for (int i = 0; i < trainCount; i++) order[i] = i;
var rng = new Random(42);
float[] batchInputs = new float[batch * FashionClassifier.InputSize];
int[] batchTargets = new int[batch];
float[] heldOutLogits = new float[heldOutCount * FashionClassifier.OutputSize];

for (int epoch = 1; epoch <= epochs; epoch++)
{
    rng.Shuffle(order);
    double lossSum = 0;
    int steps = 0;
    var clock = Stopwatch.StartNew();
    for (int start = 0; start + batch <= trainCount; start += batch)
    {
        for (int b = 0; b < batch; b++)
        {
            int index = order[start + b];
            pixels.AsSpan(index * FashionClassifier.InputSize, FashionClassifier.InputSize)
                  .CopyTo(batchInputs.AsSpan(b * FashionClassifier.InputSize));
            batchTargets[b] = labels[index];
        }
        lossSum += model.TrainStep(batchInputs, batchTargets, batch);
        steps++;
    }
    double seconds = clock.Elapsed.TotalSeconds;

    model.Predict(pixels.AsSpan(trainCount * FashionClassifier.InputSize), heldOutLogits, heldOutCount);
    float heldOutLoss = model.ComputeLoss(heldOutLogits, labels.AsSpan(trainCount), heldOutCount);
    int correct = 0;
    for (int n = 0; n < heldOutCount; n++)
    {
        var row = heldOutLogits.AsSpan(n * FashionClassifier.OutputSize, FashionClassifier.OutputSize);
        int best = 0;
        for (int c = 1; c < row.Length; c++)
            if (row[c] > row[best]) best = c;
        if (best == labels[trainCount + n]) correct++;
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"epoch {epoch}: train loss {lossSum / steps:F4}  held-out loss {heldOutLoss:F4}  held-out accuracy {100.0 * correct / heldOutCount:F2}%  {steps * batch / seconds:N0} samples/s"));
}

static int Option(string[] args, string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>The model: two Linear layers, ReLU between them, cross-entropy loss, SGD with momentum.</summary>
[Model(Inputs = 784)]
[Loss(LossKind.CrossEntropy)]
[Optimizer(OptimizerKind.Sgd, LearningRate = 0.01, Momentum = 0.9)]
public partial class FashionClassifier
{
    [Layer(128, Activation.ReLU), Init(InitKind.KaimingUniform)] public partial Dense Hidden { get; }
    [Layer(10)] public partial Dense Output { get; }
}
