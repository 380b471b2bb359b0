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
    public sealed record Layer(int In, int Out, Activation Activation, double Slope, double[] W, double[]? B, ActivationParameters P);

    /// <summary>ELU/CELU alpha, Softplus beta/threshold, Hardtanh bounds (PyTorch's defaults unless a test sets them).</summary>
    public sealed record ActivationParameters(double Alpha = 1, double Beta = 1, double Threshold = 20, double Min = -1, double Max = 1);

    public ReferenceMlp(IEnumerable<Dense> layers, IReadOnlyList<ActivationParameters>? parameters = null) =>
        Layers = layers.Select((d, k) => new Layer(d.InFeatures, d.OutFeatures, d.Activation, d.NegativeSlope,
            d.Weight.Data.ToArray().Select(v => (double)v).ToArray(),
            d.Bias is null ? null : d.Bias.Data.ToArray().Select(v => (double)v).ToArray(),
            parameters?[k] ?? new ActivationParameters())).ToList();

    /// <summary>Pre-activations of the last <see cref="Forward"/>: [k] = layer k's affine output.</summary>
    public List<double[]> Pre { get; } = [];

    public List<Layer> Layers { get; }

    /// <summary>Returns the activations: [0] = input, [k] = output of layer k.</summary>
    public List<double[]> Forward(double[] input, int batch)
    {
        var acts = new List<double[]> { input };
        Pre.Clear();
        foreach (var l in Layers)
        {
            double[] x = acts[^1], y = new double[batch * l.Out], z = new double[batch * l.Out];
            for (int n = 0; n < batch; n++)
                for (int o = 0; o < l.Out; o++)
                {
                    double s = l.B?[o] ?? 0;
                    for (int i = 0; i < l.In; i++)
                        s += x[n * l.In + i] * l.W[o * l.In + i];
                    z[n * l.Out + o] = s;
                    y[n * l.Out + o] = Activate(l, s);
                }
            Pre.Add(z);
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
            double[] x = acts[k], z = Pre[k];
            var dz = new double[dy.Length];
            for (int j = 0; j < dy.Length; j++)
                dz[j] = dy[j] * Derivative(l, z[j]);
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
        Activation.ELU => z > 0 ? z : l.P.Alpha * (Math.Exp(z) - 1),
        Activation.SELU => 1.0507009873554805 * (z > 0 ? z : 1.6732632423543772 * (Math.Exp(z) - 1)),
        Activation.CELU => z > 0 ? z : l.P.Alpha * (Math.Exp(z / l.P.Alpha) - 1),
        Activation.GELU => z * NormalCdf(z),
        Activation.GELUTanh => 0.5 * z * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z))),
        Activation.Softplus => l.P.Beta * z > l.P.Threshold ? z : Math.Log(1 + Math.Exp(l.P.Beta * z)) / l.P.Beta,
        Activation.SiLU => z / (1 + Math.Exp(-z)),
        Activation.Mish => z * Math.Tanh(Math.Log(1 + Math.Exp(z))),
        Activation.Hardtanh => Math.Clamp(z, l.P.Min, l.P.Max),
        Activation.Hardswish => z * Math.Clamp(z + 3, 0, 6) / 6,
        _ => z,
    };

    /// <summary>The derivative at the pre-activation z, by the textbook formula (independent of the generated code).</summary>
    private static double Derivative(Layer l, double z)
    {
        double s = 1 / (1 + Math.Exp(-z));
        return l.Activation switch
        {
            Activation.ReLU => z > 0 ? 1 : 0,
            Activation.LeakyReLU => z > 0 ? 1 : l.Slope,
            Activation.Tanh => 1 - Math.Tanh(z) * Math.Tanh(z),
            Activation.Sigmoid => s * (1 - s),
            Activation.ELU => z > 0 ? 1 : l.P.Alpha * Math.Exp(z),
            Activation.SELU => 1.0507009873554805 * (z > 0 ? 1 : 1.6732632423543772 * Math.Exp(z)),
            Activation.CELU => z > 0 ? 1 : Math.Exp(z / l.P.Alpha),
            Activation.GELU => NormalCdf(z) + z * Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI),
            Activation.GELUTanh => GeluTanhSlope(z),
            Activation.Softplus => l.P.Beta * z > l.P.Threshold ? 1 : 1 / (1 + Math.Exp(-l.P.Beta * z)),
            Activation.SiLU => s + z * s * (1 - s),
            Activation.Mish => MishSlope(z),
            Activation.Hardtanh => z > l.P.Min && z < l.P.Max ? 1 : 0,
            Activation.Hardswish => z < -3 ? 0 : z <= 3 ? (2 * z + 3) / 6 : 1,
            _ => 1,
        };
    }

    // Numerical derivative of the smooth closed forms (central difference in double: error ~1e-10).
    private static double GeluTanhSlope(double z) => Central(v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))), z);

    private static double MishSlope(double z) => Central(v => v * Math.Tanh(Math.Log(1 + Math.Exp(v))), z);

    private static double Central(Func<double, double> f, double z) => (f(z + 1e-6) - f(z - 1e-6)) / 2e-6;

    /// <summary>Φ(z) = (1 + erf(z/√2)) / 2, with erf from its Taylor series (accurate to ~1e-9 for the |z| &lt; 4 the tests use).</summary>
    private static double NormalCdf(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));

    private static double Erf(double x)
    {
        // Taylor series; beyond |x| = 6, erf is ±1 to double precision.
        if (Math.Abs(x) >= 6) return Math.Sign(x);
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++)
        {
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
