using System;
using System.Collections.Generic;
using System.Linq;

namespace DslModels.Tests.Models;

/// <summary>
/// An independent double-precision MLP written as plainly as possible (no vectors, no fusion), used as the
/// oracle for generated Forward/Backward. It is itself checked against central finite differences.
/// </summary>
public sealed class ReferenceMlp
{
    public sealed record Layer(int In, int Out, Activation Activation, double Slope, double[] W, double[]? B);

    public ReferenceMlp(IEnumerable<Dense> layers) =>
        Layers = layers.Select(d => new Layer(d.InFeatures, d.OutFeatures, d.Activation, d.NegativeSlope,
            d.Weight.Data.ToArray().Select(v => (double)v).ToArray(),
            d.Bias is null ? null : d.Bias.Data.ToArray().Select(v => (double)v).ToArray())).ToList();

    public List<Layer> Layers { get; }

    /// <summary>Returns the activations: [0] = input, [k] = output of layer k.</summary>
    public List<double[]> Forward(double[] input, int batch)
    {
        var acts = new List<double[]> { input };
        foreach (var l in Layers)
        {
            double[] x = acts[^1], y = new double[batch * l.Out];
            for (int n = 0; n < batch; n++)
                for (int o = 0; o < l.Out; o++)
                {
                    double s = l.B?[o] ?? 0;
                    for (int i = 0; i < l.In; i++)
                        s += x[n * l.In + i] * l.W[o * l.In + i];
                    y[n * l.Out + o] = Activate(l, s);
                }
            acts.Add(y);
        }
        return acts;
    }

    /// <summary>Mean cross-entropy of logits [batch, C] with class targets, and its gradient.</summary>
    public static (double Loss, double[] Grad) CrossEntropy(double[] logits, int[] targets, int batch, int classes)
    {
        double loss = 0;
        var grad = new double[logits.Length];
        for (int n = 0; n < batch; n++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = Math.Max(max, logits[n * classes + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(logits[n * classes + c] - max);
            double lse = max + Math.Log(sum);
            loss += lse - logits[n * classes + targets[n]];
            for (int c = 0; c < classes; c++)
                grad[n * classes + c] = (Math.Exp(logits[n * classes + c] - lse) - (c == targets[n] ? 1 : 0)) / batch;
        }
        return (loss / batch, grad);
    }

    /// <summary>Gradients of every layer's W and b for the upstream gradient <paramref name="gradOutput"/>.</summary>
    public List<(double[] W, double[]? B)> Backward(List<double[]> acts, double[] gradOutput, int batch)
    {
        var grads = new List<(double[] W, double[]? B)>();
        double[] dy = gradOutput;
        for (int k = Layers.Count - 1; k >= 0; k--)
        {
            var l = Layers[k];
            double[] x = acts[k], y = acts[k + 1];
            var dz = new double[dy.Length];
            for (int j = 0; j < dy.Length; j++)
                dz[j] = dy[j] * Derivative(l, y[j]);
            var dw = new double[l.Out * l.In];
            var db = l.B is null ? null : new double[l.Out];
            var dx = new double[batch * l.In];
            for (int n = 0; n < batch; n++)
                for (int o = 0; o < l.Out; o++)
                {
                    double g = dz[n * l.Out + o];
                    if (db is not null) db[o] += g;
                    for (int i = 0; i < l.In; i++)
                    {
                        dw[o * l.In + i] += g * x[n * l.In + i];
                        dx[n * l.In + i] += g * l.W[o * l.In + i];
                    }
                }
            grads.Insert(0, (dw, db));
            dy = dx;
        }
        return grads;
    }

    private static double Activate(Layer l, double z) => l.Activation switch
    {
        Activation.ReLU => Math.Max(z, 0),
        Activation.LeakyReLU => z > 0 ? z : l.Slope * z,
        Activation.Tanh => Math.Tanh(z),
        Activation.Sigmoid => 1 / (1 + Math.Exp(-z)),
        _ => z,
    };

    // Derivative expressed through the output y = act(z), as PyTorch's Tanh/Sigmoid backward do.
    private static double Derivative(Layer l, double y) => l.Activation switch
    {
        Activation.ReLU => y > 0 ? 1 : 0,
        Activation.LeakyReLU => y > 0 ? 1 : l.Slope,
        Activation.Tanh => 1 - y * y,
        Activation.Sigmoid => y * (1 - y),
        _ => 1,
    };
}
