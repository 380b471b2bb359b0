using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using DslModels.Losses;

namespace DslModels.Benchmarks;

/// <summary>
/// <c>--losses [classes ...]</c> (default 10 and 1000): each loss a generated model can train with, on float [32 x classes]
/// outputs with its input gradient, as the model calls it; median over 7 rounds of the mean time per call after a 1.5 s
/// warm-up (tiered compilation: a shorter warm-up times tier-0 code). Prints us per call and ns per element.
/// </summary>
public static class LossTimings
{
    public static void Run(string[] args)
    {
        var widths = args.Select(a => int.Parse(a, CultureInfo.InvariantCulture)).DefaultIfEmpty(10).ToArray();
        if (args.Length == 0)
            widths = [10, 1000];
        Console.WriteLine("# loss/[batch x classes] us-per-call ns-per-element (float, with gradInput; median of 7 rounds after a 1.5 s warm-up)");
        foreach (int k in widths)
            Measure(32, k);
    }

    private static void Measure(int batch, int k)
    {
        int n = batch * k;
        var rng = new Random(1);
        float[] x = new float[n], t01 = new float[n], tpm = new float[n], p = new float[n], g = new float[n], lp = new float[n], pos = new float[n], variance = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)(rng.NextDouble() * 6 - 3);
            t01[i] = rng.Next(2);
            tpm[i] = t01[i] * 2 - 1;
            p[i] = (float)(rng.NextDouble() * 0.98 + 0.01);
            pos[i] = (float)rng.NextDouble() * 3;
            variance[i] = (float)(rng.NextDouble() + 0.1);
        }
        for (int r = 0; r < batch; r++)
        {
            double s = 0;
            for (int c = 0; c < k; c++)
                s += Math.Exp(x[r * k + c]);
            for (int c = 0; c < k; c++)
                lp[r * k + c] = (float)(x[r * k + c] - Math.Log(s));
        }
        int[] cls = Enumerable.Range(0, batch).Select(_ => rng.Next(k)).ToArray();
        float[] w = Enumerable.Range(0, k).Select(i => 0.5f + i % 3).ToArray();
        int[] shape = [batch, k];
        void T(string name, Func<float> body)
        {
            float sink = 0;
            var warm = Stopwatch.StartNew();
            while (warm.ElapsedMilliseconds < 1500)
                sink += body();
            var rounds = new double[7];
            for (int r = 0; r < rounds.Length; r++)
            {
                var clock = Stopwatch.StartNew();
                int calls = 0;
                while (clock.ElapsedMilliseconds < 50)
                {
                    sink += body();
                    calls++;
                }
                rounds[r] = clock.Elapsed.TotalNanoseconds / calls;
            }
            Array.Sort(rounds);
            double ns = rounds[3];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loss/{name}/{batch}x{k} {ns / 1000:F2} {ns / n:F2}{(float.IsNaN(sink) ? " (NaN)" : "")}"));
        }
        T("mse", () => MseLoss.Forward(x, p, g));
        T("l1", () => L1Loss.Forward<float>(x, p, null, gradInput: g));
        T("smooth-l1", () => SmoothL1Loss.Forward<float>(x, p, null, gradInput: g));
        T("huber", () => HuberLoss.Forward<float>(x, p, null, gradInput: g));
        T("bce", () => BCELoss.Forward<float>(p, t01, shape, null, gradInput: g));
        T("bce-weight", () => BCELoss.Forward<float>(p, t01, shape, new BCELossOptions<float> { Weight = w }, gradInput: g));
        T("bce-logits", () => BCEWithLogitsLoss.Forward<float>(x, t01, shape, null, gradInput: g));
        T("bce-logits-pos-weight", () => BCEWithLogitsLoss.Forward<float>(x, t01, shape, new BCEWithLogitsLossOptions<float> { PosWeight = w }, gradInput: g));
        T("kl-div", () => KLDivLoss.Forward<float>(lp, p, shape, null, gradInput: g));
        T("poisson-nll", () => PoissonNLLLoss.Forward<float>(x, pos, null, gradInput: g));
        T("gaussian-nll", () => GaussianNLLLoss.Forward<float>(x, p, variance, shape, shape, null, gradInput: g));
        T("soft-margin", () => SoftMarginLoss.Forward<float>(x, tpm, null, gradInput: g));
        T("multi-label-soft-margin", () => MultiLabelSoftMarginLoss.Forward<float>(x, t01, shape, null, gradInput: g));
        T("cross-entropy", () => CrossEntropyLoss.Forward(x, cls, batch, k, g));
        T("cross-entropy-smoothing", () => CrossEntropyLoss.Forward<float>(x, shape, cls, [batch], new CrossEntropyLossOptions<float> { LabelSmoothing = 0.1 }, gradInput: g));
        T("cross-entropy-weight", () => CrossEntropyLoss.Forward<float>(x, shape, cls, [batch], new CrossEntropyLossOptions<float> { Weight = w }, gradInput: g));
        T("nll", () => NLLLoss.Forward<float>(lp, shape, cls, [batch], null, gradInput: g));
        T("multi-margin", () => MultiMarginLoss.Forward<float>(x, shape, cls, null, gradInput: g));
    }
}
