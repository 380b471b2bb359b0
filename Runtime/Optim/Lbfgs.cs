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

    // Working buffers (flattened parameters), allocated once: the step itself allocates nothing after warm-up (the
    // history lists grow until history_size; a dropped history pair's tensors are reused for the next pair).
    private double[] _flat = [], _q = [], _x0 = [], _gPrev = [], _gNew = [];
    private readonly double[][] _bracketG = [[], []];
    private readonly double[] _bracket = new double[2], _bracketF = new double[2], _bracketGtd = new double[2];
    private StateTensor? _y, _s;
    // The holders of t not in the state (t switches between a tensor and a Python float); created up front so that a
    // first switch after warm-up does not allocate.
    private StateTensor? _spareTTensor = StateTensor.Scalar(ScalarType.Float64, 0);
    private PyFloat? _spareTFloat = new();

    private List<OptimParameter> Params => Groups[0].ParamList;

    private int NumElements
    {
        get
        {
            int n = 0;
            foreach (var p in Params) n += p.Length;
            return n;
        }
    }

    private void EnsureBuffers(int n, bool lineSearch)
    {
        if (_flat.Length != n)
        {
            _flat = new double[n];
            _q = new double[n];
        }
        if (lineSearch && _x0.Length != n)
        {
            _x0 = new double[n];
            _gPrev = new double[n];
            _gNew = new double[n];
            _bracketG[0] = new double[n];
            _bracketG[1] = new double[n];
        }
    }

    /// <summary>The flat gradient into <paramref name="flat"/>: a missing gradient counts as zeros; a sparse one is densified (absent rows are zero).</summary>
    private void GatherFlatGrad(double[] flat)
    {
        int o = 0;
        foreach (var p in Params)
        {
            var dst = flat.AsSpan(o, p.Length);
            if (!p.HasGrad)
            {
                dst.Clear();
            }
            else if (p.SparseGradRows is { } rows)
            {
                dst.Clear();
                int rowLen = p.RowLength;
                foreach (int r in rows)
                    CopyGrad(p, r * rowLen, dst.Slice(r * rowLen, rowLen));
            }
            else
            {
                CopyGrad(p, 0, dst);
            }
            o += p.Length;
        }
    }

    private static void CopyGrad(OptimParameter p, int start, Span<double> dst)
    {
        switch (p)
        {
            case OptimParameter<float> f:
            {
                var g = f.Grad.Slice(start, dst.Length);
                for (int i = 0; i < dst.Length; i++) dst[i] = g[i];
                break;
            }
            case OptimParameter<double> d:
                d.Grad.Slice(start, dst.Length).CopyTo(dst);
                break;
            default:
                dst.Clear();
                break;
        }
    }

    private void AddGrad(double t, ReadOnlySpan<double> d)
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

    /// <summary>Saves the parameters into <see cref="_x0"/> (float32 values are exact in float64).</summary>
    private void SaveParams()
    {
        int o = 0;
        foreach (var p in Params)
        {
            switch (p)
            {
                case OptimParameter<float> f:
                {
                    var x = f.Data;
                    for (int i = 0; i < x.Length; i++) _x0[o + i] = x[i];
                    break;
                }
                case OptimParameter<double> d:
                    d.Data.CopyTo(_x0.AsSpan(o, p.Length));
                    break;
                default:
                    throw new NotSupportedException();
            }
            o += p.Length;
        }
    }

    private void RestoreParams()
    {
        int o = 0;
        foreach (var p in Params)
        {
            switch (p)
            {
                case OptimParameter<float> f:
                {
                    var x = f.Data;
                    for (int i = 0; i < x.Length; i++) x[i] = (float)_x0[o + i];
                    break;
                }
                case OptimParameter<double> d:
                    _x0.AsSpan(o, p.Length).CopyTo(d.Data);
                    break;
            }
            o += p.Length;
        }
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static double AbsMax(ReadOnlySpan<double> a)
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
        var g = Groups[0];
        double lr = g.GetDouble("lr"), tolGrad = g.GetDouble("tolerance_grad"), tolChange = g.GetDouble("tolerance_change");
        int maxIter = (int)g.GetInt64("max_iter"), maxEval = (int)g.GetInt64("max_eval"), historySize = (int)g.GetInt64("history_size");
        string? lineSearch = g.GetString("line_search_fn");

        var st = StateOf(Params[0]);
        PyInt funcEvals = st.Int("func_evals"), stateIter = st.Int("n_iter");

        double origLoss = closure();
        double loss = origLoss;
        int currentEvals = 1;
        funcEvals.Value++;
        int n = NumElements;
        EnsureBuffers(n, lineSearch is not null);
        double[] flatGrad = _flat;
        GatherFlatGrad(flatGrad);
        if (AbsMax(flatGrad) <= tolGrad)
            return origLoss;

        // The state's objects are the live buffers (converted once if they came from a state dict in another form);
        // they are (re)assigned to the state at the end, in PyTorch's key order.
        var values = st.Values;
        StateTensor dT = LiveVector(values, "d", n);
        double t = values.TryGetValue("t", out var tv) ? ScalarOf(tv) : 0;
        var oldDirs = LiveVectors(values, "old_dirs", n, historySize);
        var oldStps = LiveVectors(values, "old_stps", n, historySize);
        var ro = LiveScalars(values, "ro", historySize);
        StateTensor hDiagT = values.TryGetValue("H_diag", out var hv) ? LiveScalar(hv) : StateTensor.Scalar(ScalarType.Float64, 1);
        double hDiag = hDiagT.ToScalar();
        StateTensor prevFlatGradT = LiveVector(values, "prev_flat_grad", n);
        var prevLossCell = values.TryGetValue("prev_loss", out var pl) ? pl as PyFloat ?? new PyFloat { Value = ScalarOf(pl) } : new PyFloat();
        double prevLoss = prevLossCell.Value;
        List<object?>? al = values.TryGetValue("al", out var alv) ? LiveOptionalScalars(alv, historySize) : null;
        bool tIsTensor = tv is StateTensor;

        int nIter = 0;
        while (nIter < maxIter)
        {
            nIter++;
            long iter = ++stateIter.Value;
            Span<double> d = dT.Float64;

            if (iter == 1)
            {
                for (int i = 0; i < d.Length; i++) d[i] = -flatGrad[i];
                oldDirs = new List<object?>(Math.Min(historySize, 1024));
                oldStps = new List<object?>(Math.Min(historySize, 1024));
                ro = new List<object?>(Math.Min(historySize, 1024));
                hDiag = 1;
            }
            else
            {
                StateTensor yT = _y ??= new StateTensor(ScalarType.Float64, [n]), sT = _s ??= new StateTensor(ScalarType.Float64, [n]);
                Span<double> y = yT.Float64, s = sT.Float64, prevFlatGrad = prevFlatGradT.Float64;
                for (int i = 0; i < y.Length; i++)
                {
                    y[i] = flatGrad[i] - prevFlatGrad[i];
                    s[i] = d[i] * t;
                }
                double ys = Dot(y, s);
                if (ys > 1e-10)
                {
                    object? freeY = null, freeS = null, freeRo = null;
                    if (oldDirs.Count == historySize)
                    {
                        freeY = oldDirs[0];
                        freeS = oldStps[0];
                        freeRo = ro[0];
                        oldDirs.RemoveAt(0);
                        oldStps.RemoveAt(0);
                        ro.RemoveAt(0);
                    }
                    oldDirs.Add(yT);
                    oldStps.Add(sT);
                    ro.Add(SetScalar(freeRo, 1.0 / ys));
                    _y = IsVector(freeY, n) ? (StateTensor)freeY! : null;
                    _s = IsVector(freeS, n) ? (StateTensor)freeS! : null;
                    hDiag = ys / Dot(y, y);
                }
                int numOld = oldDirs.Count;
                al ??= [];
                if (al.Count > historySize) al.RemoveRange(historySize, al.Count - historySize);
                while (al.Count < historySize) al.Add(null);
                Span<double> q = _q;
                for (int i = 0; i < q.Length; i++) q[i] = -flatGrad[i];
                for (int i = numOld - 1; i >= 0; i--)
                {
                    double a = Dot(VectorAt(oldStps, i), q) * ScalarAt(ro, i);
                    al[i] = SetScalar(al[i], a);
                    var dir = VectorAt(oldDirs, i);
                    for (int j = 0; j < q.Length; j++) q[j] = Math.FusedMultiplyAdd(-a, dir[j], q[j]);
                }
                // r = q·H_diag, then the second loop; r becomes the new direction d.
                for (int j = 0; j < d.Length; j++) d[j] = q[j] * hDiag;
                for (int i = 0; i < numOld; i++)
                {
                    double be = Dot(VectorAt(oldDirs, i), d) * ScalarAt(ro, i);
                    double coef = ScalarAt(al, i) - be;
                    var stp = VectorAt(oldStps, i);
                    for (int j = 0; j < d.Length; j++) d[j] = Math.FusedMultiplyAdd(coef, stp[j], d[j]);
                }
            }

            flatGrad.CopyTo(prevFlatGradT.Float64);
            prevLoss = loss;

            if (iter == 1)
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
                SaveParams();
                (loss, t, lsFuncEvals) = StrongWolfe(closure, t, d, loss, flatGrad, gtd);
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
                    GatherFlatGrad(flatGrad);
                    optCond = AbsMax(flatGrad) <= tolGrad;
                    lsFuncEvals = 1;
                }
            }
            currentEvals += lsFuncEvals;
            funcEvals.Value += lsFuncEvals;

            if (nIter == maxIter) break;
            if (currentEvals >= maxEval) break;
            if (optCond) break;
            double maxStep = 0;
            foreach (double x in d) maxStep = Math.Max(maxStep, Math.Abs(x * t));
            if (maxStep <= tolChange) break;
            if (Math.Abs(loss - prevLoss) < tolChange) break;
        }

        values["d"] = dT;
        // t is a tensor after a line search or the first iteration, else a Python float (as in PyTorch); the holder
        // of the other kind is kept for the next switch.
        object? oldT = values.GetValueOrDefault("t");
        if (tIsTensor)
        {
            if (!IsScalar(oldT))
            {
                _spareTFloat = oldT as PyFloat ?? _spareTFloat;
                oldT = _spareTTensor;
                _spareTTensor = null;
            }
            values["t"] = SetScalar(oldT, t);
        }
        else
        {
            if (oldT is not PyFloat tCell)
            {
                _spareTTensor = IsScalar(oldT) ? (StateTensor)oldT! : _spareTTensor;
                tCell = _spareTFloat ?? new PyFloat();
                _spareTFloat = null;
            }
            tCell.Value = t;
            values["t"] = tCell;
        }
        values["old_dirs"] = oldDirs;
        values["old_stps"] = oldStps;
        values["ro"] = ro;
        hDiagT.SetItem(hDiag);
        values["H_diag"] = hDiagT;
        values["prev_flat_grad"] = prevFlatGradT;
        prevLossCell.Value = prevLoss;
        values["prev_loss"] = prevLossCell;
        if (al is not null)
            values["al"] = al;
        return origLoss;
    }

    private static double ScalarOf(object? v) => v switch
    {
        StateTensor t => t.ToScalar(),
        double d => d,
        long l => l,
        PyFloat c => c.Value,
        PyInt c => c.Value,
        _ => throw new InvalidOperationException($"LBFGS state: not a scalar: {v}"),
    };

    private static bool IsVector(object? v, int n) =>
        v is StateTensor { DType: ScalarType.Float64, Shape.Count: 1 } t && t.Shape[0] == n;

    private static bool IsScalar(object? v) => v is StateTensor { DType: ScalarType.Float64, Shape.Count: 0 };

    /// <summary><paramref name="cell"/> set to <paramref name="value"/> if it is a float64 0-dim tensor, else a new one.</summary>
    private static StateTensor SetScalar(object? cell, double value)
    {
        if (IsScalar(cell))
        {
            var t = (StateTensor)cell!;
            t.SetItem(value);
            return t;
        }
        return StateTensor.Scalar(ScalarType.Float64, value);
    }

    private static StateTensor LiveScalar(object? v) => IsScalar(v) ? (StateTensor)v! : StateTensor.Scalar(ScalarType.Float64, ScalarOf(v));

    private static Span<double> VectorAt(List<object?> list, int i) => ((StateTensor)list[i]!).Float64;

    private static double ScalarAt(List<object?> list, int i) => ScalarOf(list[i]);

    /// <summary>The float64 vector of <paramref name="n"/> elements under <paramref name="key"/> (zeros when absent).</summary>
    private static StateTensor LiveVector(StateEntries values, string key, int n)
    {
        values.TryGetValue(key, out var v);
        if (IsVector(v, n))
            return (StateTensor)v!;
        return v is StateTensor t ? new StateTensor([n], t.ToDoubleArray()) : new StateTensor(ScalarType.Float64, [n]);
    }

    private static List<object?> LiveVectors(StateEntries values, string key, int n, int historySize)
    {
        if (!values.TryGetValue(key, out var v) || v is not List<object?> list)
            return new List<object?>(Math.Min(historySize, 1024));
        for (int i = 0; i < list.Count; i++)
            if (!IsVector(list[i], n))
                list[i] = new StateTensor([n], ((StateTensor)list[i]!).ToDoubleArray());
        return list;
    }

    private static List<object?> LiveScalars(StateEntries values, string key, int historySize)
    {
        if (!values.TryGetValue(key, out var v) || v is not List<object?> list)
            return new List<object?>(Math.Min(historySize, 1024));
        for (int i = 0; i < list.Count; i++)
            if (!IsScalar(list[i]))
                list[i] = StateTensor.Scalar(ScalarType.Float64, ScalarOf(list[i]));
        return list;
    }

    private static List<object?> LiveOptionalScalars(object? v, int historySize)
    {
        if (v is not List<object?> list)
            return [.. new object?[historySize]];
        for (int i = 0; i < list.Count; i++)
            if (list[i] is not null && !IsScalar(list[i]))
                list[i] = StateTensor.Scalar(ScalarType.Float64, ScalarOf(list[i]));
        return list;
    }

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

    /// <summary>Evaluates the objective at θ + <paramref name="step"/>·d: the loss, and the flat gradient into <paramref name="grad"/>; θ is restored.</summary>
    private double Evaluate(Func<double> closure, double step, ReadOnlySpan<double> d, double[] grad)
    {
        AddGrad(step, d);
        double f = closure();
        GatherFlatGrad(grad);
        RestoreParams();
        return f;
    }

    private int BracketPrevAndNew(double tPrev, double t, double fPrev, double fNew, double[] gPrev, double[] gNew, double gtdPrev, double gtdNew)
    {
        _bracket[0] = tPrev; _bracket[1] = t;
        _bracketF[0] = fPrev; _bracketF[1] = fNew;
        gPrev.CopyTo(_bracketG[0], 0);
        gNew.CopyTo(_bracketG[1], 0);
        _bracketGtd[0] = gtdPrev; _bracketGtd[1] = gtdNew;
        return 2;
    }

    /// <summary>
    /// PyTorch's <c>_strong_wolfe</c> from the saved parameters (<see cref="_x0"/>); the gradient at the accepted step is
    /// written into <paramref name="g"/> (the gradient at step 0 on entry). Gradients live in preallocated buffers and
    /// are copied where PyTorch clones them.
    /// </summary>
    private (double F, double T, int Evals) StrongWolfe(Func<double> closure, double t, ReadOnlySpan<double> d, double f, double[] g, double gtd,
        double c1 = 1e-4, double c2 = 0.9, double toleranceChange = 1e-9, int maxLs = 25)
    {
        double dNorm = AbsMax(d);
        double[] gNew = _gNew, gPrev = _gPrev;
        double[] bracket = _bracket, bracketF = _bracketF, bracketGtd = _bracketGtd;
        double[][] bracketG = _bracketG;
        double fNew = Evaluate(closure, t, d, gNew);
        int lsFuncEvals = 1;
        double gtdNew = Dot(gNew, d);
        double tPrev = 0, fPrev = f, gtdPrev = gtd;
        g.CopyTo(gPrev, 0);
        bool done = false;
        int lsIter = 0;
        int bracketLength;
        while (true)
        {
            if (lsIter >= maxLs)
            {
                bracket[0] = 0; bracket[1] = t;
                bracketF[0] = f; bracketF[1] = fNew;
                g.CopyTo(bracketG[0], 0);
                gNew.CopyTo(bracketG[1], 0);
                bracketLength = 2;
                break;
            }
            if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev))
            {
                bracketLength = BracketPrevAndNew(tPrev, t, fPrev, fNew, gPrev, gNew, gtdPrev, gtdNew);
                break;
            }
            if (Math.Abs(gtdNew) <= -c2 * gtd)
            {
                bracket[0] = t;
                bracketF[0] = fNew;
                gNew.CopyTo(bracketG[0], 0);
                bracketLength = 1;
                done = true;
                break;
            }
            if (gtdNew >= 0)
            {
                bracketLength = BracketPrevAndNew(tPrev, t, fPrev, fNew, gPrev, gNew, gtdPrev, gtdNew);
                break;
            }
            double minStep = t + 0.01 * (t - tPrev);
            double maxStep = t * 10;
            double tmp = t;
            t = CubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, (minStep, maxStep));
            tPrev = tmp;
            fPrev = fNew;
            gNew.CopyTo(gPrev, 0);
            gtdPrev = gtdNew;
            fNew = Evaluate(closure, t, d, gNew);
            lsFuncEvals++;
            gtdNew = Dot(gNew, d);
            lsIter++;
        }

        bool insufProgress = false;
        int low = 0, high = 0;
        if (bracketLength > 1)
            (low, high) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0);
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
            fNew = Evaluate(closure, t, d, gNew);
            lsFuncEvals++;
            gtdNew = Dot(gNew, d);
            lsIter++;
            if (fNew > f + c1 * t * gtd || fNew >= bracketF[low])
            {
                bracket[high] = t;
                bracketF[high] = fNew;
                gNew.CopyTo(bracketG[high], 0);
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
                    // The old low end becomes the high end: swap the gradient buffers, the new low's is overwritten below.
                    bracket[high] = bracket[low];
                    bracketF[high] = bracketF[low];
                    (bracketG[high], bracketG[low]) = (bracketG[low], bracketG[high]);
                    bracketGtd[high] = bracketGtd[low];
                }
                bracket[low] = t;
                bracketF[low] = fNew;
                gNew.CopyTo(bracketG[low], 0);
                bracketGtd[low] = gtdNew;
            }
        }
        bracketG[low].CopyTo(g, 0);
        return (bracketF[low], bracket[low], lsFuncEvals);
    }
}
