using System;
using System.Collections.Generic;
using System.Linq;

namespace DslModels.Optim;

/// <summary>
/// <c>torch.optim.LBFGS(params, lr=1, max_iter=20, max_eval=None (= max_iter·5/4), tolerance_grad=1e-7,
/// tolerance_change=1e-9, history_size=100, line_search_fn=None | "strong_wolfe")</c>, PyTorch 1.13's algorithm
/// (see docs/optim.md). All parameters form one flat vector; <see cref="Step"/> requires the closure (it must zero the
/// gradients, compute the loss and its gradients, and return the loss) and returns the loss of its first call.
/// One parameter group only. State (on the first parameter): <c>func_evals</c>, <c>n_iter</c>, <c>d</c>, <c>t</c>,
/// <c>old_dirs</c>, <c>old_stps</c>, <c>ro</c>, <c>H_diag</c>, <c>prev_flat_grad</c>, <c>prev_loss</c>, <c>al</c>.
/// The search directions and history are kept in float64 for every parameter type (so the state tensors are float64,
/// where PyTorch would use the parameters' dtype for float32 parameters); parameters are updated in their own precision.
/// Rounding follows PyTorch's CPU kernels: <c>add_(v, alpha=a)</c> (the two-loop recursion and the parameter update) is a
/// fused multiply-add, dot products accumulate sequentially without FMA — which keeps float64 runs within ~1e-13 of
/// PyTorch even on ill-conditioned problems where rounding differences grow quickly.
/// </summary>
public sealed class Lbfgs : Optimizer
{
    /// <summary>Creates L-BFGS over <paramref name="groups"/> (exactly one).</summary>
    public Lbfgs(IEnumerable<ParamGroup> groups, double lr = 1, int maxIter = 20, int? maxEval = null, double toleranceGrad = 1e-7,
        double toleranceChange = 1e-9, int historySize = 100, string? lineSearchFn = null)
        : base(groups, MakeDefaults(lr, maxIter, maxEval, toleranceGrad, toleranceChange, historySize, lineSearchFn))
    {
        if (ParamGroups.Count != 1)
            throw new ArgumentException("LBFGS doesn't support per-parameter options (parameter groups)");
    }

    /// <summary>Creates L-BFGS over <paramref name="parameters"/>.</summary>
    public Lbfgs(IEnumerable<OptimParameter> parameters, double lr = 1, int maxIter = 20, int? maxEval = null, double toleranceGrad = 1e-7,
        double toleranceChange = 1e-9, int historySize = 100, string? lineSearchFn = null)
        : this(OneGroup(parameters), lr, maxIter, maxEval, toleranceGrad, toleranceChange, historySize, lineSearchFn) { }

    /// <inheritdoc />
    public override string Name => "LBFGS";

    private static Dictionary<string, object?> MakeDefaults(double lr, int maxIter, int? maxEval, double tolGrad, double tolChange, int history, string? ls)
    {
        if (maxIter < 1) throw new ArgumentOutOfRangeException(nameof(maxIter), maxIter, "max_iter must be >= 1");
        if (history < 1) throw new ArgumentOutOfRangeException(nameof(history), history, "history_size must be >= 1");
        return new()
        {
            ["lr"] = lr, ["max_iter"] = (long)maxIter, ["max_eval"] = (long)(maxEval ?? maxIter * 5 / 4), ["tolerance_grad"] = tolGrad,
            ["tolerance_change"] = tolChange, ["history_size"] = (long)history, ["line_search_fn"] = ls,
        };
    }

    /// <inheritdoc />
    public override void AddParamGroup(ParamGroup group)
    {
        if (ParamGroups.Count > 0)
            throw new ArgumentException("LBFGS doesn't support per-parameter options (parameter groups)");
        base.AddParamGroup(group);
    }

    /// <summary>Not used: <see cref="Step"/> needs the closure.</summary>
    protected override void StepCore() => throw new InvalidOperationException("LBFGS requires a closure: call Step(closure).");

    private OptimParameter[] Params => [.. ParamGroups[0].Params];

    private int NumElements => Params.Sum(p => p.Length);

    private double[] GatherFlatGrad()
    {
        var flat = new double[NumElements];
        int o = 0;
        foreach (var p in Params)
        {
            if (p.HasGrad)
            {
                // A missing gradient counts as zeros; a sparse one is densified (absent rows are zero).
                bool[]? present = null;
                if (p.SparseGradRows is { } rows)
                {
                    present = new bool[p.Shape[0]];
                    foreach (int r in rows) present[r] = true;
                }
                int rowLen = p.RowLength;
                for (int i = 0; i < p.Length; i++)
                {
                    if (present is not null && !present[i / rowLen]) continue;
                    flat[o + i] = p switch
                    {
                        OptimParameter<float> f => f.Grad[i],
                        OptimParameter<double> d => d.Grad[i],
                        _ => 0,
                    };
                }
            }
            o += p.Length;
        }
        return flat;
    }

    private void AddGrad(double t, double[] d)
    {
        int o = 0;
        foreach (var p in Params)
        {
            switch (p)
            {
                case OptimParameter<float> f:
                {
                    var x = f.Data;
                    for (int i = 0; i < x.Length; i++) x[i] = (float)(x[i] + t * d[o + i]);
                    break;
                }
                case OptimParameter<double> dd:
                {
                    var x = dd.Data;
                    for (int i = 0; i < x.Length; i++) x[i] = Math.FusedMultiplyAdd(t, d[o + i], x[i]);
                    break;
                }
            }
            o += p.Length;
        }
    }

    private List<Array> CloneParams() => Params.Select(p => p switch
    {
        OptimParameter<float> f => (Array)f.Data.ToArray(),
        OptimParameter<double> d => d.Data.ToArray(),
        _ => throw new NotSupportedException(),
    }).ToList();

    private void SetParams(List<Array> x)
    {
        var ps = Params;
        for (int k = 0; k < ps.Length; k++)
        {
            switch (ps[k])
            {
                case OptimParameter<float> f: ((float[])x[k]).CopyTo(f.Data); break;
                case OptimParameter<double> d: ((double[])x[k]).CopyTo(d.Data); break;
            }
        }
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static double AbsMax(double[] a)
    {
        double m = 0;
        foreach (double x in a)
        {
            double v = Math.Abs(x);
            if (double.IsNaN(v)) return double.NaN;
            if (v > m) m = v;
        }
        return m;
    }

    /// <summary>Performs up to <c>max_iter</c> L-BFGS iterations; returns the loss of the first closure call.</summary>
    public override double? Step(Func<double>? closure = null)
    {
        if (closure is null)
            throw new InvalidOperationException("LBFGS requires a closure: call Step(closure).");
        var g = ParamGroups[0];
        double lr = g.GetDouble("lr"), tolGrad = g.GetDouble("tolerance_grad"), tolChange = g.GetDouble("tolerance_change");
        int maxIter = (int)g.GetInt64("max_iter"), maxEval = (int)g.GetInt64("max_eval"), historySize = (int)g.GetInt64("history_size");
        string? lineSearch = g.GetString("line_search_fn");

        var st = StateOf(Params[0]);
        if (!st.ContainsKey("func_evals")) st.Values["func_evals"] = 0L;
        if (!st.ContainsKey("n_iter")) st.Values["n_iter"] = 0L;

        double origLoss = closure();
        double loss = origLoss;
        int currentEvals = 1;
        st.Values["func_evals"] = st.GetInt("func_evals") + 1;
        double[] flatGrad = GatherFlatGrad();
        if (AbsMax(flatGrad) <= tolGrad)
            return origLoss;

        double[]? d = VectorOf(st, "d");
        double t = st.TryGetValue("t", out var tv) ? ScalarOf(tv) : 0;
        var oldDirs = VectorsOf(st, "old_dirs");
        var oldStps = VectorsOf(st, "old_stps");
        var ro = ScalarsOf(st, "ro");
        double hDiag = st.TryGetValue("H_diag", out var hv) ? ScalarOf(hv) : 1;
        double[]? prevFlatGrad = VectorOf(st, "prev_flat_grad");
        double prevLoss = st.TryGetValue("prev_loss", out var pl) ? ScalarOf(pl) : 0;
        var al = st.TryGetValue("al", out var alv) && alv is List<object?> alList
            ? alList.Select(x => x is null ? (double?)null : ScalarOf(x)).ToArray()
            : new double?[historySize];
        bool tIsTensor = st.TryGetValue("t", out var tObj) && tObj is StateTensor;
        bool hasAl = st.ContainsKey("al");

        int nIter = 0;
        while (nIter < maxIter)
        {
            nIter++;
            long stateIter = st.GetInt("n_iter") + 1;
            st.Values["n_iter"] = stateIter;

            if (stateIter == 1)
            {
                d = flatGrad.Select(x => -x).ToArray();
                oldDirs = [];
                oldStps = [];
                ro = [];
                hDiag = 1;
            }
            else
            {
                var y = new double[flatGrad.Length];
                var s = new double[flatGrad.Length];
                for (int i = 0; i < y.Length; i++)
                {
                    y[i] = flatGrad[i] - prevFlatGrad![i];
                    s[i] = d![i] * t;
                }
                double ys = Dot(y, s);
                if (ys > 1e-10)
                {
                    if (oldDirs.Count == historySize)
                    {
                        oldDirs.RemoveAt(0);
                        oldStps.RemoveAt(0);
                        ro.RemoveAt(0);
                    }
                    oldDirs.Add(y);
                    oldStps.Add(s);
                    ro.Add(1.0 / ys);
                    hDiag = ys / Dot(y, y);
                }
                int numOld = oldDirs.Count;
                hasAl = true;
                if (al.Length != historySize) Array.Resize(ref al, historySize);
                var q = flatGrad.Select(x => -x).ToArray();
                for (int i = numOld - 1; i >= 0; i--)
                {
                    double a = Dot(oldStps[i], q) * ro[i];
                    al[i] = a;
                    var dir = oldDirs[i];
                    for (int j = 0; j < q.Length; j++) q[j] = Math.FusedMultiplyAdd(-a, dir[j], q[j]);
                }
                var r = q.Select(x => x * hDiag).ToArray();
                for (int i = 0; i < numOld; i++)
                {
                    double be = Dot(oldDirs[i], r) * ro[i];
                    double coef = al[i]!.Value - be;
                    var stp = oldStps[i];
                    for (int j = 0; j < r.Length; j++) r[j] = Math.FusedMultiplyAdd(coef, stp[j], r[j]);
                }
                d = r;
            }

            prevFlatGrad = (double[])flatGrad.Clone();
            prevLoss = loss;

            if (stateIter == 1)
            {
                double absSum = 0;
                foreach (double x in flatGrad) absSum += Math.Abs(x);
                t = Math.Min(1.0, 1.0 / absSum) * lr;
                tIsTensor = true;
            }
            else
            {
                t = lr;
                tIsTensor = false;
            }

            double gtd = Dot(flatGrad, d);
            if (gtd > -tolChange)
                break;

            int lsFuncEvals = 0;
            bool optCond = false;
            if (lineSearch is not null)
            {
                if (lineSearch != "strong_wolfe")
                    throw new InvalidOperationException("only 'strong_wolfe' is supported");
                var x0 = CloneParams();
                double[] dd = d;
                (double, double[]) Obj(double step)
                {
                    AddGrad(step, dd);
                    double f = closure();
                    double[] fg = GatherFlatGrad();
                    SetParams(x0);
                    return (f, fg);
                }
                (loss, flatGrad, t, lsFuncEvals) = StrongWolfe(Obj, t, d, loss, flatGrad, gtd);
                tIsTensor = true;
                AddGrad(t, d);
                optCond = AbsMax(flatGrad) <= tolGrad;
            }
            else
            {
                AddGrad(t, d);
                if (nIter != maxIter)
                {
                    loss = closure();
                    flatGrad = GatherFlatGrad();
                    optCond = AbsMax(flatGrad) <= tolGrad;
                    lsFuncEvals = 1;
                }
            }
            currentEvals += lsFuncEvals;
            st.Values["func_evals"] = st.GetInt("func_evals") + lsFuncEvals;

            if (nIter == maxIter) break;
            if (currentEvals >= maxEval) break;
            if (optCond) break;
            double maxStep = 0;
            foreach (double x in d) maxStep = Math.Max(maxStep, Math.Abs(x * t));
            if (maxStep <= tolChange) break;
            if (Math.Abs(loss - prevLoss) < tolChange) break;
        }

        st.Values["d"] = Vec(d!);
        st.Values["t"] = tIsTensor ? StateTensor.Scalar(ScalarType.Float64, t) : t;
        st.Values["old_dirs"] = oldDirs.Select(v => (object?)Vec(v)).ToList();
        st.Values["old_stps"] = oldStps.Select(v => (object?)Vec(v)).ToList();
        st.Values["ro"] = ro.Select(v => (object?)StateTensor.Scalar(ScalarType.Float64, v)).ToList();
        st.Values["H_diag"] = StateTensor.Scalar(ScalarType.Float64, hDiag);
        st.Values["prev_flat_grad"] = Vec(prevFlatGrad!);
        st.Values["prev_loss"] = prevLoss;
        if (hasAl)
            st.Values["al"] = al.Select(v => v is null ? null : (object?)StateTensor.Scalar(ScalarType.Float64, v.Value)).ToList();
        return origLoss;
    }

    private static StateTensor Vec(double[] v) => new([v.Length], v);

    private static double ScalarOf(object? v) => v switch
    {
        StateTensor t => t.ToScalar(),
        double d => d,
        long l => l,
        _ => throw new InvalidOperationException($"LBFGS state: not a scalar: {v}"),
    };

    private static double[]? VectorOf(ParamState st, string key) =>
        st.TryGetValue(key, out var v) && v is StateTensor t ? t.ToDoubleArray() : null;

    private static List<double[]> VectorsOf(ParamState st, string key) =>
        st.TryGetValue(key, out var v) && v is List<object?> l ? l.Select(x => ((StateTensor)x!).ToDoubleArray()).ToList() : [];

    private static List<double> ScalarsOf(ParamState st, string key) =>
        st.TryGetValue(key, out var v) && v is List<object?> l ? l.Select(ScalarOf).ToList() : [];

    /// <inheritdoc />
    protected override StateTensor ConvertLoadedTensor(OptimParameter p, string key, StateTensor t) => t.To(ScalarType.Float64);

    /// <inheritdoc />
    protected override void ValidateLoadedState(OptimParameter p, ParamState state)
    {
        int n = NumElements;
        foreach (string key in new[] { "d", "prev_flat_grad" })
            if (state.TryGetValue(key, out var v) && v is StateTensor t && t.Length != n)
                throw new ArgumentException($"loaded LBFGS state '{key}' has {t.Length} elements, but the parameters have {n}");
        foreach (string key in new[] { "old_dirs", "old_stps" })
            if (state.TryGetValue(key, out var v) && v is List<object?> l && l.Any(x => x is not StateTensor { } t || t.Length != n))
                throw new ArgumentException($"loaded LBFGS state '{key}' holds vectors that do not have {n} elements");
    }

    private static double CubicInterpolate(double x1, double f1, double g1, double x2, double f2, double g2, (double Lo, double Hi)? bounds = null)
    {
        var (lo, hi) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1));
        double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
        double d2Square = d1 * d1 - g1 * g2;
        if (d2Square >= 0)
        {
            double d2 = Math.Sqrt(d2Square);
            double m = x1 <= x2
                ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
            return Math.Min(Math.Max(m, lo), hi);
        }
        return (lo + hi) / 2;
    }

    private static (double F, double[] G, double T, int Evals) StrongWolfe(Func<double, (double, double[])> obj, double t, double[] d, double f, double[] g, double gtd,
        double c1 = 1e-4, double c2 = 0.9, double toleranceChange = 1e-9, int maxLs = 25)
    {
        double dNorm = AbsMax(d);
        g = (double[])g.Clone();
        var (fNew, gNew) = obj(t);
        int lsFuncEvals = 1;
        double gtdNew = Dot(gNew, d);
        double tPrev = 0, fPrev = f, gtdPrev = gtd;
        double[] gPrev = g;
        bool done = false;
        int lsIter = 0;
        double[] bracket, bracketF, bracketGtd = [];
        double[][] bracketG;
        while (true)
        {
            if (lsIter >= maxLs)
            {
                bracket = [0, t];
                bracketF = [f, fNew];
                bracketG = [g, gNew];
                break;
            }
            if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev))
            {
                bracket = [tPrev, t];
                bracketF = [fPrev, fNew];
                bracketG = [gPrev, (double[])gNew.Clone()];
                bracketGtd = [gtdPrev, gtdNew];
                break;
            }
            if (Math.Abs(gtdNew) <= -c2 * gtd)
            {
                bracket = [t];
                bracketF = [fNew];
                bracketG = [gNew];
                done = true;
                break;
            }
            if (gtdNew >= 0)
            {
                bracket = [tPrev, t];
                bracketF = [fPrev, fNew];
                bracketG = [gPrev, (double[])gNew.Clone()];
                bracketGtd = [gtdPrev, gtdNew];
                break;
            }
            double minStep = t + 0.01 * (t - tPrev);
            double maxStep = t * 10;
            double tmp = t;
            t = CubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, (minStep, maxStep));
            tPrev = tmp;
            fPrev = fNew;
            gPrev = (double[])gNew.Clone();
            gtdPrev = gtdNew;
            (fNew, gNew) = obj(t);
            lsFuncEvals++;
            gtdNew = Dot(gNew, d);
            lsIter++;
        }

        bool insufProgress = false;
        int low = 0, high = 0;
        if (bracketF.Length > 1)
            (low, high) = bracketF[0] <= bracketF[^1] ? (0, 1) : (1, 0);
        while (!done && lsIter < maxLs)
        {
            if (Math.Abs(bracket[1] - bracket[0]) * dNorm < toleranceChange)
                break;
            t = CubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1]);
            double bMax = Math.Max(bracket[0], bracket[1]), bMin = Math.Min(bracket[0], bracket[1]);
            double eps = 0.1 * (bMax - bMin);
            if (Math.Min(bMax - t, t - bMin) < eps)
            {
                if (insufProgress || t >= bMax || t <= bMin)
                {
                    t = Math.Abs(t - bMax) < Math.Abs(t - bMin) ? bMax - eps : bMin + eps;
                    insufProgress = false;
                }
                else
                {
                    insufProgress = true;
                }
            }
            else
            {
                insufProgress = false;
            }
            (fNew, gNew) = obj(t);
            lsFuncEvals++;
            gtdNew = Dot(gNew, d);
            lsIter++;
            if (fNew > f + c1 * t * gtd || fNew >= bracketF[low])
            {
                bracket[high] = t;
                bracketF[high] = fNew;
                bracketG[high] = (double[])gNew.Clone();
                bracketGtd[high] = gtdNew;
                (low, high) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0);
            }
            else
            {
                if (Math.Abs(gtdNew) <= -c2 * gtd)
                {
                    done = true;
                }
                else if (gtdNew * (bracket[high] - bracket[low]) >= 0)
                {
                    bracket[high] = bracket[low];
                    bracketF[high] = bracketF[low];
                    bracketG[high] = bracketG[low];
                    bracketGtd[high] = bracketGtd[low];
                }
                bracket[low] = t;
                bracketF[low] = fNew;
                bracketG[low] = (double[])gNew.Clone();
                bracketGtd[low] = gtdNew;
            }
        }
        return (bracketF[low], bracketG[low], bracket[low], lsFuncEvals);
    }
}
