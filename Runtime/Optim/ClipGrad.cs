using System;
using System.Collections.Generic;
using System.Linq;

namespace DslModels.Optim;

/// <summary>Gradient clipping (PyTorch's <c>torch.nn.utils.clip_grad_norm_</c> and <c>clip_grad_value_</c>).</summary>
public static class ClipGrad
{
    /// <summary>
    /// Scales the gradients so that their total <paramref name="normType"/>-norm (the norm of the per-parameter norms;
    /// <see cref="double.PositiveInfinity"/> = max |g|) is at most <paramref name="maxNorm"/>:
    /// <c>g *= min(1, max_norm/(total_norm + 1e-6))</c>. Parameters without a gradient are ignored. Returns the total
    /// norm before clipping (0 when no parameter has a gradient). Norms are accumulated in double and rounded to the
    /// gradients' type, as PyTorch's per-tensor norms are in the tensor's dtype. With
    /// <paramref name="errorIfNonfinite"/>, a NaN/infinite total norm throws instead of clipping.
    /// </summary>
    public static double ClipGradNorm(IEnumerable<OptimParameter> parameters, double maxNorm, double normType = 2.0, bool errorIfNonfinite = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var ps = parameters.Where(p => p.HasGrad).ToList();
        if (ps.Count == 0)
            return 0;
        bool f32 = ps.All(p => p.DType == ScalarType.Float32);
        double Round(double v) => f32 ? (float)v : v;
        var norms = ps.Select(p => Round(Norm(Values(p), normType))).ToList();
        double total = Round(Norm(norms, normType));
        if (errorIfNonfinite && !double.IsFinite(total))
            throw new InvalidOperationException($"The total norm of order {Py.Repr(normType)} for gradients from `parameters` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`");
        double coef = Round(maxNorm / Round(total + 1e-6));
        coef = Math.Min(coef, 1.0);
        foreach (var p in ps)
        {
            switch (p)
            {
                case OptimParameter<float> f:
                {
                    float c = (float)coef;
                    var g = f.Grad;
                    for (int i = 0; i < g.Length; i++) g[i] *= c;
                    break;
                }
                case OptimParameter<double> d:
                {
                    var g = d.Grad;
                    for (int i = 0; i < g.Length; i++) g[i] *= coef;
                    break;
                }
            }
        }
        return total;
    }

    /// <summary>Model-parameter overload of <see cref="ClipGradNorm(IEnumerable{OptimParameter}, double, double, bool)"/>.</summary>
    public static double ClipGradNorm(IEnumerable<Parameter> parameters, double maxNorm, double normType = 2.0, bool errorIfNonfinite = false) =>
        ClipGradNorm((parameters ?? throw new ArgumentNullException(nameof(parameters))).Select(p => (OptimParameter)OptimParameter.From(p)), maxNorm, normType, errorIfNonfinite);

    /// <summary>Clamps every gradient element to [-<paramref name="clipValue"/>, <paramref name="clipValue"/>].</summary>
    public static void ClipGradValue(IEnumerable<OptimParameter> parameters, double clipValue)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var p in parameters.Where(p => p.HasGrad))
        {
            switch (p)
            {
                case OptimParameter<float> f:
                {
                    float c = (float)clipValue;
                    var g = f.Grad;
                    for (int i = 0; i < g.Length; i++) g[i] = Math.Min(Math.Max(g[i], -c), c);
                    break;
                }
                case OptimParameter<double> d:
                {
                    var g = d.Grad;
                    for (int i = 0; i < g.Length; i++) g[i] = Math.Min(Math.Max(g[i], -clipValue), clipValue);
                    break;
                }
            }
        }
    }

    /// <summary>Model-parameter overload of <see cref="ClipGradValue(IEnumerable{OptimParameter}, double)"/>.</summary>
    public static void ClipGradValue(IEnumerable<Parameter> parameters, double clipValue) =>
        ClipGradValue((parameters ?? throw new ArgumentNullException(nameof(parameters))).Select(p => (OptimParameter)OptimParameter.From(p)), clipValue);

    private static IEnumerable<double> Values(OptimParameter p) => p switch
    {
        OptimParameter<float> f => f.Grad.ToArray().Select(x => (double)x),
        OptimParameter<double> d => d.Grad.ToArray(),
        _ => throw new NotSupportedException(),
    };

    /// <summary>torch.norm(v, p): p = inf → max |v|, -inf → min |v|, 0 → count of non-zeros, else (Σ|v|^p)^(1/p).</summary>
    internal static double Norm(IEnumerable<double> values, double p)
    {
        if (double.IsPositiveInfinity(p)) return values.Select(Math.Abs).DefaultIfEmpty(0).Max();
        if (double.IsNegativeInfinity(p)) return values.Select(Math.Abs).DefaultIfEmpty(double.PositiveInfinity).Min();
        if (p == 0) return values.Count(v => v != 0);
        if (p == 1) return values.Sum(Math.Abs);
        if (p == 2) return Math.Sqrt(values.Sum(v => v * v));
        return Math.Pow(values.Sum(v => Math.Pow(Math.Abs(v), p)), 1 / p);
    }
}
