using System;
using System.Collections.Generic;
using System.Linq;

namespace DslModels.Optim.Schedulers;

/// <summary>The <c>mode</c> of <see cref="CyclicLR"/>.</summary>
public enum CyclicMode
{
    /// <summary>Constant amplitude.</summary>
    Triangular,
    /// <summary>Amplitude halved every cycle.</summary>
    Triangular2,
    /// <summary>Amplitude scaled by γ^iteration.</summary>
    ExpRange,
}

/// <summary>
/// <c>CyclicLR(optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode='triangular', gamma=1.0,
/// cycle_momentum=True, base_momentum=0.8, max_momentum=0.9)</c>: the learning rate cycles between base_lr and max_lr;
/// with <c>cycle_momentum</c> the group's <c>momentum</c> cycles inversely (the optimizer must have a <c>momentum</c> default).
/// </summary>
public sealed class CyclicLR : LRScheduler
{
    private readonly double[] _maxLrs;
    private readonly double[]? _baseMomentums, _maxMomentums;
    private readonly double _totalSize, _stepRatio, _gamma;
    private readonly CyclicMode _mode;
    private readonly Func<double, double>? _scaleFn;
    private readonly bool _scaleByCycle;

    /// <summary>Creates the scheduler (one value for all groups; use the list overload for one per group).</summary>
    public CyclicLR(Optimizer optimizer, double baseLr, double maxLr, int stepSizeUp = 2000, int? stepSizeDown = null, CyclicMode mode = CyclicMode.Triangular,
        double gamma = 1.0, Func<double, double>? scaleFn = null, bool scaleByCycle = true, bool cycleMomentum = true, double baseMomentum = 0.8, double maxMomentum = 0.9, int lastEpoch = -1)
        : this(optimizer, [baseLr], [maxLr], stepSizeUp, stepSizeDown, mode, gamma, scaleFn, scaleByCycle, cycleMomentum, [baseMomentum], [maxMomentum], lastEpoch) { }

    /// <summary>Creates the scheduler with per-group values.</summary>
    public CyclicLR(Optimizer optimizer, IReadOnlyList<double> baseLr, IReadOnlyList<double> maxLr, int stepSizeUp, int? stepSizeDown, CyclicMode mode,
        double gamma, Func<double, double>? scaleFn, bool scaleByCycle, bool cycleMomentum, IReadOnlyList<double> baseMomentum, IReadOnlyList<double> maxMomentum, int lastEpoch = -1)
        : base(Prepare(optimizer, baseLr, lastEpoch), lastEpoch)
    {
        var baseLrs = PerGroup(optimizer, "base_lr", baseLr);
        _maxLrs = PerGroup(optimizer, "max_lr", maxLr);
        double up = stepSizeUp, down = stepSizeDown ?? stepSizeUp;
        if (up <= 0 || down <= 0)
            throw new ArgumentOutOfRangeException(nameof(stepSizeUp), "step sizes must be positive");
        _totalSize = up + down;
        _stepRatio = up / _totalSize;
        (_mode, _gamma, _scaleFn) = (mode, gamma, scaleFn);
        _scaleByCycle = scaleFn is null ? mode != CyclicMode.ExpRange : scaleByCycle;
        if (cycleMomentum)
        {
            if (!optimizer.Defaults.ContainsKey("momentum"))
                throw new ArgumentException("optimizer must support momentum with `cycle_momentum` option enabled");
            var bm = PerGroup(optimizer, "base_momentum", baseMomentum);
            if (lastEpoch == -1)
                for (int i = 0; i < bm.Length; i++)
                    optimizer.ParamGroups[i]["momentum"] = bm[i];
            _baseMomentums = optimizer.ParamGroups.Select(g => g.GetDouble("momentum")).ToArray();
            _maxMomentums = PerGroup(optimizer, "max_momentum", maxMomentum);
        }
        InitialStep();
        BaseLrs = baseLrs;
    }

    private static Optimizer Prepare(Optimizer optimizer, IReadOnlyList<double> baseLr, int lastEpoch)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        var b = PerGroup(optimizer, "base_lr", baseLr);
        if (lastEpoch == -1)
            for (int i = 0; i < b.Length; i++)
                optimizer.ParamGroups[i]["lr"] = b[i];
        return optimizer;
    }

    private double Scale(double x) => _scaleFn?.Invoke(x) ?? _mode switch
    {
        CyclicMode.Triangular => 1.0,
        CyclicMode.Triangular2 => 1 / Math.Pow(2.0, x - 1),
        _ => Math.Pow(_gamma, x),
    };

    /// <inheritdoc />
    protected override double[] GetLr()
    {
        double cycle = Math.Floor(1 + LastEpoch / _totalSize);
        double x = 1.0 + LastEpoch / _totalSize - cycle;
        double scaleFactor = x <= _stepRatio ? x / _stepRatio : (x - 1) / (_stepRatio - 1);
        double s = Scale(_scaleByCycle ? cycle : LastEpoch);
        var lrs = BaseLrs.Select((b, i) => b + (_maxLrs[i] - b) * scaleFactor * s).ToArray();
        if (_baseMomentums is not null)
            for (int i = 0; i < _baseMomentums.Length; i++)
                Optimizer.ParamGroups[i]["momentum"] = _maxMomentums![i] - (_maxMomentums[i] - _baseMomentums[i]) * scaleFactor * s;
        return lrs;
    }
}

/// <summary>
/// <c>OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
/// anneal_strategy='cos', cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.,
/// final_div_factor=1e4, three_phase=False)</c>. With <c>cycle_momentum</c>, the group's <c>momentum</c> — or
/// <c>betas[0]</c> for optimizers with <c>betas</c> (Adam family) — cycles inversely to the learning rate.
/// Stepping past <c>total_steps</c> is an error.
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    private readonly (double End, string StartLr, string EndLr, string StartM, string EndM)[] _phases;
    private readonly int _totalSteps;
    private readonly bool _cos, _cycleMomentum, _useBeta1;

    /// <summary>Creates the scheduler (give <paramref name="totalSteps"/>, or <paramref name="epochs"/> and <paramref name="stepsPerEpoch"/>).</summary>
    public OneCycleLR(Optimizer optimizer, double maxLr, int? totalSteps = null, int? epochs = null, int? stepsPerEpoch = null, double pctStart = 0.3,
        string annealStrategy = "cos", bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95, double divFactor = 25.0,
        double finalDivFactor = 1e4, bool threePhase = false, int lastEpoch = -1)
        : base(Prepare(optimizer, maxLr, totalSteps, epochs, stepsPerEpoch, pctStart, annealStrategy, cycleMomentum, baseMomentum, maxMomentum, divFactor, finalDivFactor, lastEpoch), lastEpoch)
    {
        _totalSteps = totalSteps ?? epochs!.Value * stepsPerEpoch!.Value;
        _cos = annealStrategy == "cos";
        _cycleMomentum = cycleMomentum;
        _useBeta1 = cycleMomentum && optimizer.Defaults.ContainsKey("betas");
        _phases = threePhase
            ?
            [
                (pctStart * _totalSteps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (2 * pctStart * _totalSteps - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (_totalSteps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
            :
            [
                (pctStart * _totalSteps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (_totalSteps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ];
        InitialStep();
    }

    private static Optimizer Prepare(Optimizer optimizer, double maxLr, int? totalSteps, int? epochs, int? stepsPerEpoch, double pctStart, string anneal,
        bool cycleMomentum, double baseMomentum, double maxMomentum, double divFactor, double finalDivFactor, int lastEpoch)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (totalSteps is null && (epochs is null || stepsPerEpoch is null))
            throw new ArgumentException("You must define either total_steps OR (epochs AND steps_per_epoch)");
        if (totalSteps is { } t && t <= 0)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), t, $"Expected positive integer total_steps, but got {t}");
        if (totalSteps is null && epochs <= 0)
            throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"Expected positive integer epochs, but got {epochs}");
        if (totalSteps is null && stepsPerEpoch <= 0)
            throw new ArgumentOutOfRangeException(nameof(stepsPerEpoch), stepsPerEpoch, $"Expected positive integer steps_per_epoch, but got {stepsPerEpoch}");
        if (!(pctStart >= 0 && pctStart <= 1))
            throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, $"Expected float between 0 and 1 pct_start, but got {Py.Repr(pctStart)}");
        if (anneal is not ("cos" or "linear"))
            throw new ArgumentException($"anneal_strategy must by one of 'cos' or 'linear', instead got {anneal}");
        if (lastEpoch == -1)
            foreach (var g in optimizer.ParamGroups)
            {
                g["initial_lr"] = maxLr / divFactor;
                g["max_lr"] = maxLr;
                g["min_lr"] = maxLr / divFactor / finalDivFactor;
            }
        if (cycleMomentum)
        {
            bool betas = optimizer.Defaults.ContainsKey("betas");
            if (!optimizer.Defaults.ContainsKey("momentum") && !betas)
                throw new ArgumentException("optimizer must support momentum with `cycle_momentum` option enabled");
            if (lastEpoch == -1)
                foreach (var g in optimizer.ParamGroups)
                {
                    if (betas)
                    {
                        var (_, b2) = g.GetPair("betas");
                        g["betas"] = new[] { maxMomentum, b2 };
                    }
                    else
                    {
                        g["momentum"] = maxMomentum;
                    }
                    g["max_momentum"] = maxMomentum;
                    g["base_momentum"] = baseMomentum;
                }
        }
        return optimizer;
    }

    private double Anneal(double start, double end, double pct) =>
        _cos ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1) : (end - start) * pct + start;

    /// <inheritdoc />
    protected override double[] GetLr()
    {
        int stepNum = LastEpoch;
        if (stepNum > _totalSteps)
            throw new InvalidOperationException($"Tried to step {stepNum + 1} times. The specified number of total steps is {_totalSteps}");
        var lrs = new double[Optimizer.ParamGroups.Count];
        for (int gi = 0; gi < lrs.Length; gi++)
        {
            var g = Optimizer.ParamGroups[gi];
            double start = 0, lr = 0, momentum = 0;
            for (int i = 0; i < _phases.Length; i++)
            {
                var ph = _phases[i];
                if (stepNum <= ph.End || i == _phases.Length - 1)
                {
                    double pct = (stepNum - start) / (ph.End - start);
                    lr = Anneal(g.GetDouble(ph.StartLr), g.GetDouble(ph.EndLr), pct);
                    if (_cycleMomentum)
                        momentum = Anneal(g.GetDouble(ph.StartM), g.GetDouble(ph.EndM), pct);
                    break;
                }
                start = ph.End;
            }
            lrs[gi] = lr;
            if (_cycleMomentum)
            {
                if (_useBeta1)
                {
                    var (_, b2) = g.GetPair("betas");
                    g["betas"] = new[] { momentum, b2 };
                }
                else
                {
                    g["momentum"] = momentum;
                }
            }
        }
        return lrs;
    }
}

/// <summary>
/// <c>ReduceLROnPlateau(optimizer, mode='min', factor=0.1, patience=10, threshold=1e-4, threshold_mode='rel',
/// cooldown=0, min_lr=0, eps=1e-8)</c>: multiplies the learning rate by <c>factor</c> once the metric passed to
/// <see cref="Step(double)"/> has not improved for more than <c>patience</c> steps.
/// </summary>
public sealed class ReduceLROnPlateau
{
    private readonly bool _min, _rel;
    private readonly double _factor, _threshold, _eps;
    private readonly int _patience, _cooldown;
    private readonly double[] _minLrs;

    /// <summary>Creates the scheduler (<paramref name="minLr"/>: one value, or one per group).</summary>
    public ReduceLROnPlateau(Optimizer optimizer, string mode = "min", double factor = 0.1, int patience = 10, double threshold = 1e-4,
        string thresholdMode = "rel", int cooldown = 0, IReadOnlyList<double>? minLr = null, double eps = 1e-8)
    {
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        if (!(factor < 1.0))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "Factor should be < 1.0.");
        int n = optimizer.ParamGroups.Count;
        minLr ??= [0.0];
        if (minLr.Count != 1 && minLr.Count != n)
            throw new ArgumentException($"expected {n} min_lrs, got {minLr.Count}");
        _minLrs = minLr.Count == 1 ? Enumerable.Repeat(minLr[0], n).ToArray() : [.. minLr];
        if (mode is not ("min" or "max"))
            throw new ArgumentException($"mode {mode} is unknown!");
        if (thresholdMode is not ("rel" or "abs"))
            throw new ArgumentException($"threshold mode {thresholdMode} is unknown!");
        (_min, _rel, _factor, _threshold, _eps, _patience, _cooldown) = (mode == "min", thresholdMode == "rel", factor, threshold, eps, patience, cooldown);
        Best = _min ? double.PositiveInfinity : double.NegativeInfinity;
        LastLr = optimizer.ParamGroups.Select(g => g.GetDouble("lr")).ToArray();
    }

    /// <summary>Creates the scheduler with one <paramref name="minLr"/> for all groups.</summary>
    public ReduceLROnPlateau(Optimizer optimizer, string mode, double factor, int patience, double threshold, string thresholdMode, int cooldown, double minLr, double eps = 1e-8)
        : this(optimizer, mode, factor, patience, threshold, thresholdMode, cooldown, [minLr], eps) { }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The best metric so far.</summary>
    public double Best { get; private set; }

    /// <summary>Consecutive steps without improvement.</summary>
    public int NumBadEpochs { get; private set; }

    /// <summary>Steps left in the cool-down.</summary>
    public int CooldownCounter { get; private set; }

    /// <summary>Number of steps.</summary>
    public int LastEpoch { get; private set; }

    /// <summary>The learning rates after the last step.</summary>
    public double[] LastLr { get; private set; }

    private bool IsBetter(double a, double best) => (_min, _rel) switch
    {
        (true, true) => a < best * (1 - _threshold),
        (true, false) => a < best - _threshold,
        (false, true) => a > best * (1 + _threshold),
        _ => a > best + _threshold,
    };

    /// <summary>Records <paramref name="metric"/> and reduces the learning rates if it plateaued.</summary>
    public void Step(double metric)
    {
        LastEpoch++;
        if (IsBetter(metric, Best))
        {
            Best = metric;
            NumBadEpochs = 0;
        }
        else
        {
            NumBadEpochs++;
        }
        if (CooldownCounter > 0)
        {
            CooldownCounter--;
            NumBadEpochs = 0;
        }
        if (NumBadEpochs > _patience)
        {
            for (int i = 0; i < Optimizer.ParamGroups.Count; i++)
            {
                var g = Optimizer.ParamGroups[i];
                double old = g.GetDouble("lr");
                double next = Math.Max(old * _factor, _minLrs[i]);
                if (old - next > _eps)
                    g["lr"] = next;
            }
            CooldownCounter = _cooldown;
            NumBadEpochs = 0;
        }
        LastLr = Optimizer.ParamGroups.Select(g => g.GetDouble("lr")).ToArray();
    }

    /// <summary>The scheduler's state.</summary>
    public Dictionary<string, object?> StateDict() => new(StringComparer.Ordinal)
    {
        ["best"] = Best, ["num_bad_epochs"] = (long)NumBadEpochs, ["cooldown_counter"] = (long)CooldownCounter,
        ["last_epoch"] = (long)LastEpoch, ["_last_lr"] = LastLr.ToArray(),
    };

    /// <summary>Restores <see cref="StateDict"/>.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, object?> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Best = ParamGroup.ToDouble(state["best"], "best");
        NumBadEpochs = (int)ParamGroup.ToDouble(state["num_bad_epochs"], "num_bad_epochs");
        CooldownCounter = (int)ParamGroup.ToDouble(state["cooldown_counter"], "cooldown_counter");
        LastEpoch = (int)ParamGroup.ToDouble(state["last_epoch"], "last_epoch");
        LastLr = ((double[])state["_last_lr"]!).ToArray();
    }
}

/// <summary>
/// <c>SequentialLR(optimizer, schedulers, milestones)</c>: runs <c>schedulers[i]</c> between milestones, restarting each
/// at its milestone (e.g. a LinearLR warm-up followed by CosineAnnealingLR).
/// </summary>
public sealed class SequentialLR
{
    private readonly LRScheduler[] _schedulers;
    private readonly int[] _milestones;

    /// <summary>Creates the scheduler; all children must drive <paramref name="optimizer"/>.</summary>
    public SequentialLR(Optimizer optimizer, IReadOnlyList<LRScheduler> schedulers, IReadOnlyList<int> milestones, int lastEpoch = -1)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(schedulers);
        ArgumentNullException.ThrowIfNull(milestones);
        if (schedulers.Count == 0)
            throw new ArgumentException("SequentialLR expects at least one scheduler");
        for (int i = 0; i < schedulers.Count; i++)
            if (!ReferenceEquals(schedulers[i].Optimizer, optimizer))
                throw new ArgumentException($"Sequential Schedulers expects all schedulers to belong to the same optimizer, but got schedulers at index {i} to be different than the optimizer passed in.");
        if (milestones.Count != schedulers.Count - 1)
            throw new ArgumentException($"Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers {schedulers.Count} and the number of milestones to be equal to {milestones.Count}");
        (_schedulers, _milestones, Optimizer, LastEpoch) = ([.. schedulers], [.. milestones], optimizer, lastEpoch + 1);
        // PyTorch: reset the learning rates, undo the children's initial steps, re-run only the first one's.
        foreach (var g in optimizer.ParamGroups)
            g["lr"] = g.GetDouble("initial_lr");
        foreach (var s in _schedulers)
            s.UndoStep();
        _schedulers[0].Step();
        LastLr = _schedulers[0].GetLastLr().ToArray();
    }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Number of steps.</summary>
    public int LastEpoch { get; private set; }

    /// <summary>The learning rates after the last step.</summary>
    public double[] LastLr { get; private set; }

    /// <summary>Advances one epoch.</summary>
    public void Step()
    {
        LastEpoch++;
        int idx = _milestones.Count(m => m <= LastEpoch);
        var s = _schedulers[idx];
        if (idx > 0 && _milestones[idx - 1] == LastEpoch)
            s.Step(0);
        else
            s.Step();
        LastLr = s.GetLastLr().ToArray();
    }
}

/// <summary><c>ChainedScheduler(schedulers)</c>: steps every child each time (their recursive rules multiply).</summary>
public sealed class ChainedScheduler
{
    private readonly LRScheduler[] _schedulers;

    /// <summary>Creates the scheduler.</summary>
    public ChainedScheduler(IReadOnlyList<LRScheduler> schedulers)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        if (schedulers.Count == 0)
            throw new ArgumentException("ChainedScheduler expects at least one scheduler");
        _schedulers = [.. schedulers];
        LastLr = _schedulers[^1].Optimizer.ParamGroups.Select(g => g.GetDouble("lr")).ToArray();
    }

    /// <summary>The learning rates after the last step.</summary>
    public double[] LastLr { get; private set; }

    /// <summary>Steps every child.</summary>
    public void Step()
    {
        foreach (var s in _schedulers)
            s.Step();
        LastLr = _schedulers[^1].Optimizer.ParamGroups.Select(g => g.GetDouble("lr")).ToArray();
    }
}
