using System;

namespace DslModels;

/// <summary>Activation derivatives too long to inline in generated code; PyTorch's formulas, in double.</summary>
public static class ActivationFunctions
{
    /// <summary>d/dz of <c>GELU(approximate='tanh')</c>, as PyTorch's <c>gelu_backward</c>.</summary>
    public static double GeluTanhDerivative(double z)
    {
        const double Beta = 0.79788456080286536; // sqrt(2 / pi)
        const double Kappa = 0.044715;
        double inner = Beta * (z + Kappa * z * z * z);
        double t = Math.Tanh(inner);
        double left = 0.5 * z, right = 1.0 + t;
        double rightDerivative = (1.0 - t * t) * Beta * (1.0 + 3.0 * Kappa * z * z);
        return 0.5 * right + left * rightDerivative;
    }

    /// <summary>d/dz of <c>Mish</c>: tanh(softplus(z)) + z·sech²(softplus(z))·sigmoid(z).</summary>
    public static double MishDerivative(double z)
    {
        double softplus = z > 20 ? z : Math.Log(1.0 + Math.Exp(z));
        double t = Math.Tanh(softplus);
        double sigmoid = 1.0 / (1.0 + Math.Exp(-z));
        return t + z * (1.0 - t * t) * sigmoid;
    }
}
