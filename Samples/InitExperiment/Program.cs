using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Threading.Tasks;
using DslModels;
using DslModels.Samples.Plotting;

namespace InitExperiment;

/// <summary>
/// Why initialisation matters: a 100-layer MLP (width 256, no bias) run forward on 256 N(0,1) samples with tanh and
/// with relu, initialised with normal_(0, 1), xavier_uniform_ and kaiming_normal_ (nonlinearity matching the
/// activation). Prints the std of the activations every 10th layer and plots log10(std) per layer to a PNG.
/// Usage: dotnet run -c Release [output.png]
/// </summary>
internal static class Program
{
    private const int Layers = 100, Width = 256, Batch = 256;
    private const long Seed = 0;

    private sealed record Scheme(string Name, (byte R, byte G, byte B) Colour, Action<float[], int[], TorchGenerator, string> Init);

    private static int Main(string[] args)
    {
        string output = args.Length > 0 ? args[0] : "init-experiment.png";
        Scheme[] schemes =
        [
            new("normal(0,1)", (220, 50, 47), (w, s, g, _) => DslModels.Init.Normal(w, g, 0, 1)),
            new("xavier_uniform", (38, 139, 210), (w, s, g, _) => DslModels.Init.XavierUniform(w, s, g)),
            new("kaiming_normal", (60, 160, 60), (w, s, g, nl) => DslModels.Init.KaimingNormal(w, s, g, nonlinearity: nl)),
        ];
        string[] activations = ["tanh", "relu"];
        var results = new Dictionary<(string, string), double[]>();
        foreach (string act in activations)
        {
            foreach (var scheme in schemes)
            {
                double[] stds = Run(act, scheme);
                results[(act, scheme.Name)] = stds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{act,-5} {scheme.Name,-15} ") +
                    string.Join(" ", Enumerable.Range(0, 11).Select(i => i == 0 ? 0 : i * 10 - 1)
                        .Select(l => string.Create(CultureInfo.InvariantCulture, $"L{l + 1}={stds[l]:G3}"))));
            }
        }
        Plot(output, activations, schemes, results);
        Console.WriteLine($"wrote {Path.GetFullPath(output)}");
        return 0;
    }

    /// <summary>Std of each layer's output (after the activation), layers 1..100.</summary>
    private static double[] Run(string activation, Scheme scheme)
    {
        var g = new TorchGenerator(Seed);
        var h = new float[Batch * Width];
        DslModels.Init.Normal(h, g); // the input batch
        var next = new float[Batch * Width];
        var w = new float[Width * Width];
        var stds = new double[Layers];
        for (int layer = 0; layer < Layers; layer++)
        {
            scheme.Init(w, [Width, Width], g, activation);
            Parallel.For(0, Batch, b =>
            {
                var x = h.AsSpan(b * Width, Width);
                var y = next.AsSpan(b * Width, Width);
                for (int o = 0; o < Width; o++)
                {
                    float v = Dot(w.AsSpan(o * Width, Width), x);
                    y[o] = activation == "tanh" ? MathF.Tanh(v) : MathF.Max(v, 0f);
                }
            });
            (h, next) = (next, h);
            stds[layer] = Std(h);
        }
        return stds;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var acc = Vector<float>.Zero;
        int i = 0, n = Vector<float>.Count;
        for (; i <= a.Length - n; i += n)
            acc += new Vector<float>(a.Slice(i, n)) * new Vector<float>(b.Slice(i, n));
        float s = Vector.Sum(acc);
        for (; i < a.Length; i++)
            s += a[i] * b[i];
        return s;
    }

    private static double Std(float[] v)
    {
        double mean = 0;
        foreach (float f in v) mean += f;
        mean /= v.Length;
        double ss = 0;
        foreach (float f in v) ss += (f - mean) * (f - mean);
        return Math.Sqrt(ss / (v.Length - 1));
    }

    private static void Plot(string path, string[] activations, Scheme[] schemes, Dictionary<(string, string), double[]> results)
    {
        const int PanelW = 520, PanelH = 420, Left = 70, Top = 50, PlotW = 420, PlotH = 300;
        (byte, byte, byte) white = (255, 255, 255), black = (0, 0, 0), grid = (225, 225, 225), grey = (120, 120, 120);
        var canvas = new Canvas(PanelW * activations.Length, PanelH, white);
        for (int p = 0; p < activations.Length; p++)
        {
            string act = activations[p];
            int ox = p * PanelW + Left, oy = Top;
            // y range: log10(std) over the finite, positive values, widened to whole numbers.
            var logs = schemes.SelectMany(s => results[(act, s.Name)]).Where(v => double.IsFinite(v) && v > 0).Select(Math.Log10).ToList();
            double lo = Math.Floor(logs.Min()), hi = Math.Ceiling(logs.Max());
            double step = new[] { 0.5, 1, 2, 5, 10, 20 }.First(st => (hi - lo) / st <= 10);
            lo = Math.Floor(lo / step) * step;
            hi = Math.Ceiling(hi / step) * step;
            double Y(double log10) => oy + PlotH - (log10 - lo) / (hi - lo) * PlotH;
            double X(int layer) => ox + (layer - 1) / (double)(Layers - 1) * PlotW;

            canvas.Text(ox + PlotW / 2 - Canvas.TextWidth(act.ToUpperInvariant(), 3) / 2, 12, act.ToUpperInvariant(), black, 3);
            for (double t = lo; t <= hi + 1e-9; t += step)
            {
                canvas.Line(ox, Y(t), ox + PlotW, Y(t), grid);
                string label = t.ToString("0.#", CultureInfo.InvariantCulture);
                canvas.Text(ox - 8 - Canvas.TextWidth(label), (int)Y(t) - 5, label, grey);
            }
            for (int l = 10; l <= Layers; l += 10)
            {
                canvas.Line(X(l), oy, X(l), oy + PlotH, grid);
                string label = l.ToString(CultureInfo.InvariantCulture);
                canvas.Text((int)X(l) - Canvas.TextWidth(label) / 2, oy + PlotH + 8, label, grey);
            }
            canvas.Line(ox, oy, ox, oy + PlotH, black);
            canvas.Line(ox, oy + PlotH, ox + PlotW, oy + PlotH, black);
            canvas.Text(ox + PlotW / 2 - Canvas.TextWidth("LAYER") / 2, oy + PlotH + 24, "LAYER", black);
            canvas.Text(ox - 62, oy - 16, "LOG10 STD", black);

            for (int s = 0; s < schemes.Length; s++)
            {
                double[] stds = results[(act, schemes[s].Name)];
                for (int l = 1; l < Layers; l++)
                {
                    double a = stds[l - 1], b = stds[l];
                    if (!(double.IsFinite(a) && a > 0 && double.IsFinite(b) && b > 0))
                        continue; // overflowed to inf/NaN (normal(0,1) with relu): the curve stops
                    canvas.Line(X(l), Y(Math.Log10(a)), X(l + 1), Y(Math.Log10(b)), schemes[s].Colour, 3);
                }
                int ly = oy + PlotH + 44 + 0;
                int lx = ox + s * 145;
                canvas.FillRect(lx, ly, 14, 10, schemes[s].Colour);
                canvas.Text(lx + 20, ly, schemes[s].Name.ToUpperInvariant(), black);
            }
        }
        Png.Write(path, canvas.Width, canvas.Height, canvas.Pixels);
    }
}
