// Trains the same 784-64-10 MLP on the bundled Fashion-MNIST images with several torch.optim optimizers and LR
// schedulers, prints the loss and held-out accuracy of each, and plots the loss curves side by side to a PNG.
//
//   dotnet run --project Samples/OptimizerComparison -c Release [-- output.png]
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using DslModels;
using DslModels.Data;
using DslModels.Optim;
using DslModels.Optim.Schedulers;
using DslModels.Samples.Plotting;

const int Train = 6000, HeldOut = 2000, Batch = 32, Epochs = 3, Window = 25;
string png = args.Length > 0 ? args[0] : Path.Combine(Environment.CurrentDirectory, "optimizers.png");
string dataDir = Path.Combine(AppContext.BaseDirectory, "data");
float[] pixels = Idx.ReadImages(Path.Combine(dataDir, "t10k-images-idx3-ubyte.gz")).ToFloats();
int[] labels = Idx.ReadLabels(Path.Combine(dataDir, "t10k-labels-idx1-ubyte.gz"));
int stepsPerEpoch = Train / Batch, totalSteps = stepsPerEpoch * Epochs;

// Each run: a name, the model (its [Optimizer] is in the declaration below), and an optional scheduler stepped per batch.
var runs = new (string Name, Func<IModel> Create, Func<IModel, Action?> Schedule)[]
{
    ("SGD lr=0.05", () => new SgdNet(), _ => null),
    ("SGD momentum + StepLR", () => new MomentumNet(), m => Stepper(new StepLR(((MomentumNet)m).Optimizer, stepSize: stepsPerEpoch, gamma: 0.3))),
    ("Adam", () => new AdamNet(), _ => null),
    ("AdamW + OneCycleLR", () => new AdamWNet(), m => Stepper(new OneCycleLR(((AdamWNet)m).Optimizer, maxLr: 3e-3, totalSteps: totalSteps))),
    ("RMSprop", () => new RmspropNet(), _ => null),
    ("Adagrad", () => new AdagradNet(), _ => null),
    ("NAdam + CosineAnnealingLR", () => new NAdamNet(), m => Stepper(new CosineAnnealingLR(((NAdamNet)m).Optimizer, tMax: totalSteps))),
};

var curves = new List<(string Name, double[] Loss)>();
float[] batchX = new float[Batch * 784];
int[] batchY = new int[Batch];
float[] logits = new float[HeldOut * 10];
Console.WriteLine($"{"optimizer",-28}{"final train loss",18}{"held-out acc",14}");
foreach (var (name, create, schedule) in runs)
{
    using IModel model = create();
    Action? stepScheduler = schedule(model);
    var order = Enumerable.Range(0, Train).ToArray();
    var rng = new Random(42);
    var losses = new List<double>();
    for (int epoch = 0; epoch < Epochs; epoch++)
    {
        rng.Shuffle(order);
        for (int s = 0; s < stepsPerEpoch; s++)
        {
            for (int b = 0; b < Batch; b++)
            {
                int i = order[s * Batch + b];
                pixels.AsSpan(i * 784, 784).CopyTo(batchX.AsSpan(b * 784));
                batchY[b] = labels[i];
            }
            losses.Add(TrainStep(model, batchX, batchY));
            stepScheduler?.Invoke();
        }
    }
    model.Predict(pixels.AsSpan(Train * 784, HeldOut * 784), logits, HeldOut);
    int correct = Enumerable.Range(0, HeldOut).Count(n => ArgMax(logits.AsSpan(n * 10, 10)) == labels[Train + n]);
    double[] smoothed = Enumerable.Range(0, losses.Count / Window).Select(k => losses.Skip(k * Window).Take(Window).Average()).ToArray();
    curves.Add((name, smoothed));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-28}{smoothed[^1],18:F4}{100.0 * correct / HeldOut,13:F2}%"));
}
Plot(png, curves, Window);
Console.WriteLine($"loss curves written to {png}");

static Action Stepper(LRScheduler scheduler) => () => scheduler.Step();

static float TrainStep(IModel model, float[] x, int[] y) => model switch
{
    SgdNet m => m.TrainStep(x, y, y.Length),
    MomentumNet m => m.TrainStep(x, y, y.Length),
    AdamNet m => m.TrainStep(x, y, y.Length),
    AdamWNet m => m.TrainStep(x, y, y.Length),
    RmspropNet m => m.TrainStep(x, y, y.Length),
    AdagradNet m => m.TrainStep(x, y, y.Length),
    NAdamNet m => m.TrainStep(x, y, y.Length),
    _ => throw new ArgumentException("unknown model", nameof(model)),
};

static int ArgMax(ReadOnlySpan<float> row)
{
    int best = 0;
    for (int c = 1; c < row.Length; c++)
        if (row[c] > row[best]) best = c;
    return best;
}

static void Plot(string path, List<(string Name, double[] Loss)> curves, int window)
{
    const int W = 1000, H = 560, Left = 80, Top = 40, PlotW = 640, PlotH = 440;
    (byte, byte, byte) white = (255, 255, 255), black = (0, 0, 0), grid = (225, 225, 225), grey = (120, 120, 120);
    (byte, byte, byte)[] colours = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194)];
    var canvas = new Canvas(W, H, white);
    int points = curves.Max(c => c.Loss.Length);
    double hi = Math.Ceiling(curves.Max(c => c.Loss.Max()) * 4) / 4, lo = 0;
    double X(int k) => Left + k / (double)(points - 1) * PlotW;
    double Y(double v) => Top + PlotH - (v - lo) / (hi - lo) * PlotH;
    for (double t = lo; t <= hi + 1e-9; t += 0.25)
    {
        canvas.Line(Left, Y(t), Left + PlotW, Y(t), grid);
        string label = t.ToString("0.00", CultureInfo.InvariantCulture);
        canvas.Text(Left - 8 - Canvas.TextWidth(label), (int)Y(t) - 5, label, grey);
    }
    canvas.Line(Left, Top, Left, Top + PlotH, black);
    canvas.Line(Left, Top + PlotH, Left + PlotW, Top + PlotH, black);
    string xLabel = $"STEP (MEAN OF {window})";
    canvas.Text(Left + PlotW / 2 - Canvas.TextWidth(xLabel) / 2, Top + PlotH + 14, xLabel, black);
    canvas.Text(Left - 70, Top - 24, "TRAIN LOSS", black);
    for (int c = 0; c < curves.Count; c++)
    {
        double[] l = curves[c].Loss;
        for (int k = 1; k < l.Length; k++)
            canvas.Line(X(k - 1), Y(l[k - 1]), X(k), Y(l[k]), colours[c % colours.Length], 2);
        int ly = Top + 10 + c * 22;
        canvas.FillRect(Left + PlotW + 20, ly, 14, 10, colours[c % colours.Length]);
        canvas.Text(Left + PlotW + 40, ly, curves[c].Name.ToUpperInvariant(), black);
    }
    Png.Write(path, canvas.Width, canvas.Height, canvas.Pixels);
}

[Model(Inputs = 784, Seed = 1), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.05)]
public partial class SgdNet { [Layer(64, Activation.ReLU)] public partial Dense Hidden { get; } [Layer(10)] public partial Dense Output { get; } }

[Model(Inputs = 784, Seed = 1), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Sgd, LearningRate = 0.02, Momentum = 0.9, Nesterov = true)]
public partial class MomentumNet { [Layer(64, Activation.ReLU)] public partial Dense Hidden { get; } [Layer(10)] public partial Dense Output { get; } }

[Model(Inputs = 784, Seed = 1), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adam, LearningRate = 1e-3)]
public partial class AdamNet { [Layer(64, Activation.ReLU)] public partial Dense Hidden { get; } [Layer(10)] public partial Dense Output { get; } }

[Model(Inputs = 784, Seed = 1), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.AdamW, LearningRate = 1e-3, WeightDecay = 0.01, BiasWeightDecay = 0)]
public partial class AdamWNet { [Layer(64, Activation.ReLU)] public partial Dense Hidden { get; } [Layer(10)] public partial Dense Output { get; } }

[Model(Inputs = 784, Seed = 1), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.RMSprop, LearningRate = 5e-4)]
public partial class RmspropNet { [Layer(64, Activation.ReLU)] public partial Dense Hidden { get; } [Layer(10)] public partial Dense Output { get; } }

[Model(Inputs = 784, Seed = 1), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adagrad, LearningRate = 0.02)]
public partial class AdagradNet { [Layer(64, Activation.ReLU)] public partial Dense Hidden { get; } [Layer(10)] public partial Dense Output { get; } }

[Model(Inputs = 784, Seed = 1), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.NAdam, LearningRate = 1e-3)]
public partial class NAdamNet { [Layer(64, Activation.ReLU)] public partial Dense Hidden { get; } [Layer(10)] public partial Dense Output { get; } }
