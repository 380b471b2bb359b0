using System;
using System.Collections.Generic;
using System.Linq;

namespace DslModels.Optim.Schedulers;

/// <summary>
/// Base of the epoch-based learning-rate schedulers (PyTorch's <c>_LRScheduler</c>/<c>LRScheduler</c>). The constructor
/// sets each group's <c>initial_lr</c> (when <c>lastEpoch == -1</c>) and performs the first <see cref="Step()"/>, so
/// the groups already hold the epoch-0 learning rates. Like PyTorch's, most rules are recursive ("chainable"): they
/// scale the group's current <c>lr</c>, so schedulers on one optimizer compose multiplicatively.
/// </summary>
public abstract class LRScheduler
{
    private double[] _lastLr = [];

    /// <summary>Binds the scheduler to <paramref name="optimizer"/>. Derived constructors end with <see cref="InitialStep"/>.</summary>
    protected LRScheduler(Optimizer optimizer, int lastEpoch = -1)
    {
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        if (lastEpoch == -1)
        {
            foreach (var g in optimizer.ParamGroups)
                if (!g.ContainsKey("initial_lr"))
                    g["initial_lr"] = g.GetDouble("lr");
        }
        else
        {
            for (int i = 0; i < optimizer.ParamGroups.Count; i++)
                if (!optimizer.ParamGroups[i].ContainsKey("initial_lr"))
                    throw new ArgumentException($"param 'initial_lr' is not specified in param_groups[{i}] when resuming an optimizer");
        }
        BaseLrs = optimizer.ParamGroups.Select(g => g.GetDouble("initial_lr")).ToArray();
        LastEpoch = lastEpoch;
    }

    /// <summary>The optimizer whose groups are scheduled.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The number of <see cref="Step()"/> calls since construction (0 right after it).</summary>
    public int LastEpoch { get; protected set; }

    /// <summary>The groups' <c>initial_lr</c> values.</summary>
    public double[] BaseLrs { get; protected set; }

    /// <summary>The learning rates written by the last step.</summary>
    public IReadOnlyList<double> GetLastLr() => _lastLr;

    /// <summary>Decrements <see cref="LastEpoch"/> (used by <see cref="SequentialLR"/>).</summary>
    internal void UndoStep() => LastEpoch--;

    /// <summary>PyTorch's <c>_initial_step()</c>: call at the end of a derived constructor.</summary>
    protected void InitialStep() => Step();

    /// <summary>Advances one epoch and writes the new learning rates into the groups.</summary>
    public virtual void Step()
    {
        LastEpoch++;
        Apply(GetLr());
    }

    /// <summary>Jumps to <paramref name="epoch"/> (PyTorch's deprecated <c>step(epoch)</c>): uses the closed form if there is one.</summary>
    public virtual void Step(int epoch)
    {
        LastEpoch = epoch;
        Apply(ClosedFormLr() ?? GetLr());
    }

    /// <summary>Writes <paramref name="lrs"/> into the groups.</summary>
    protected void Apply(double[] lrs)
    {
        for (int i = 0; i < lrs.Length; i++)
            Optimizer.ParamGroups[i]["lr"] = lrs[i];
        _lastLr = lrs;
    }

    /// <summary>The learning rates at <see cref="LastEpoch"/> (usually from the groups' current values).</summary>
    protected abstract double[] GetLr();

    /// <summary>The closed form at <see cref="LastEpoch"/>, or null.</summary>
    protected virtual double[]? ClosedFormLr() => null;

    /// <summary>The groups' current learning rates.</summary>
    protected double[] CurrentLrs() => Optimizer.ParamGroups.Select(g => g.GetDouble("lr")).ToArray();

    /// <summary>Maps the groups' current learning rates.</summary>
    protected double[] Map(Func<double, double> f) => CurrentLrs().Select(f).ToArray();

    /// <summary>The scheduler's state (PyTorch: every attribute except the optimizer).</summary>
    public Dictionary<string, object?> StateDict()
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["last_epoch"] = (long)LastEpoch, ["base_lrs"] = (double[])BaseLrs.Clone(), ["_last_lr"] = _lastLr.ToArray(),
        };
        SaveState(d);
        return d;
    }

    /// <summary>Restores <see cref="StateDict"/>.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, object?> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        LastEpoch = checked((int)ParamGroup.ToDouble(state["last_epoch"], "last_epoch"));
        BaseLrs = ((double[])state["base_lrs"]!).ToArray();
        _lastLr = ((double[])state["_last_lr"]!).ToArray();
        LoadState(state);
    }

    /// <summary>Adds derived fields to the state.</summary>
    protected virtual void SaveState(Dictionary<string, object?> state) { }

    /// <summary>Restores derived fields.</summary>
    protected virtual void LoadState(IReadOnlyDictionary<string, object?> state) { }

    /// <summary>Python's modulo (non-negative for a positive divisor).</summary>
    protected static int PyMod(int a, int m) => ((a % m) + m) % m;

    /// <summary>One value per group from a scalar or a list.</summary>
    protected static double[] PerGroup(Optimizer optimizer, string name, IReadOnlyList<double> values)
    {
        int n = optimizer.ParamGroups.Count;
        if (values.Count == 1) return Enumerable.Repeat(values[0], n).ToArray();
        if (values.Count != n) throw new ArgumentException($"expected {n} values for {name}, got {values.Count}");
        return values.ToArray();
    }
}

/// <summary><c>LambdaLR(optimizer, lr_lambda)</c>: <c>lr = initial_lr·λ(epoch)</c>, one function or one per group.</summary>
public sealed class LambdaLR : LRScheduler
{
    private readonly Func<int, double>[] _lambdas;

    /// <summary>Creates the scheduler.</summary>
    public LambdaLR(Optimizer optimizer, IReadOnlyList<Func<int, double>> lrLambdas, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        ArgumentNullException.ThrowIfNull(lrLambdas);
        int n = optimizer.ParamGroups.Count;
        if (lrLambdas.Count == 1) _lambdas = Enumerable.Repeat(lrLambdas[0], n).ToArray();
        else if (lrLambdas.Count == n) _lambdas = [.. lrLambdas];
        else throw new ArgumentException($"Expected {n} lr_lambdas, but got {lrLambdas.Count}");
        InitialStep();
    }

    /// <summary>Creates the scheduler with one function for all groups.</summary>
    public LambdaLR(Optimizer optimizer, Func<int, double> lrLambda, int lastEpoch = -1) : this(optimizer, [lrLambda], lastEpoch) { }

    /// <inheritdoc />
    protected override double[] GetLr() => BaseLrs.Select((b, i) => b * _lambdas[i](LastEpoch)).ToArray();
}

/// <summary><c>MultiplicativeLR(optimizer, lr_lambda)</c>: <c>lr = lr·λ(epoch)</c> for epoch &gt; 0.</summary>
public sealed class MultiplicativeLR : LRScheduler
{
    private readonly Func<int, double> _lambda;

    /// <summary>Creates the scheduler.</summary>
    public MultiplicativeLR(Optimizer optimizer, Func<int, double> lrLambda, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        _lambda = lrLambda ?? throw new ArgumentNullException(nameof(lrLambda));
        InitialStep();
    }

    /// <inheritdoc />
    protected override double[] GetLr() => LastEpoch > 0 ? Map(lr => lr * _lambda(LastEpoch)) : CurrentLrs();
}

/// <summary><c>StepLR(optimizer, step_size, gamma=0.1)</c>: <c>lr = initial_lr·γ^⌊epoch/step_size⌋</c>.</summary>
public sealed class StepLR : LRScheduler
{
    private readonly int _stepSize;
    private readonly double _gamma;

    /// <summary>Creates the scheduler (<paramref name="stepSize"/> must be positive).</summary>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        // PyTorch fails later with ZeroDivisionError ("integer modulo by zero"); fail clearly here.
        if (stepSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, $"step_size must be a positive integer (integer modulo by zero); got {stepSize}");
        (_stepSize, _gamma) = (stepSize, gamma);
        InitialStep();
    }

    /// <inheritdoc />
    protected override double[] GetLr() => LastEpoch == 0 || LastEpoch % _stepSize != 0 ? CurrentLrs() : Map(lr => lr * _gamma);

    /// <inheritdoc />
    protected override double[]? ClosedFormLr() => BaseLrs.Select(b => b * Math.Pow(_gamma, LastEpoch / _stepSize)).ToArray();
}

/// <summary><c>MultiStepLR(optimizer, milestones, gamma=0.1)</c>: multiply by γ at each milestone (a repeated milestone counts twice).</summary>
public sealed class MultiStepLR : LRScheduler
{
    private readonly int[] _milestones;
    private readonly double _gamma;

    /// <summary>Creates the scheduler.</summary>
    public MultiStepLR(Optimizer optimizer, IEnumerable<int> milestones, double gamma = 0.1, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        _milestones = [.. (milestones ?? throw new ArgumentNullException(nameof(milestones))).Order()];
        _gamma = gamma;
        InitialStep();
    }

    /// <inheritdoc />
    protected override double[] GetLr()
    {
        int count = _milestones.Count(m => m == LastEpoch);
        return count == 0 ? CurrentLrs() : Map(lr => lr * Math.Pow(_gamma, count));
    }

    /// <inheritdoc />
    protected override double[]? ClosedFormLr() => BaseLrs.Select(b => b * Math.Pow(_gamma, _milestones.Count(m => m <= LastEpoch))).ToArray();
}

/// <summary><c>ConstantLR(optimizer, factor=1/3, total_iters=5)</c>: <c>lr = initial_lr·factor</c> until <c>total_iters</c>.</summary>
public sealed class ConstantLR : LRScheduler
{
    private readonly double _factor;
    private readonly int _totalIters;

    /// <summary>Creates the scheduler.</summary>
    public ConstantLR(Optimizer optimizer, double factor = 1.0 / 3, int totalIters = 5, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        if (!(factor >= 0 && factor <= 1))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "Constant multiplicative factor expected to be between 0 and 1.");
        (_factor, _totalIters) = (factor, totalIters);
        InitialStep();
    }

    /// <inheritdoc />
    protected override double[] GetLr()
    {
        if (LastEpoch == 0) return Map(lr => lr * _factor);
        if (LastEpoch != _totalIters) return CurrentLrs();
        return Map(lr => lr * (1.0 / _factor));
    }

    /// <inheritdoc />
    protected override double[]? ClosedFormLr() => BaseLrs.Select(b => b * (_factor + (LastEpoch >= _totalIters ? 1 - _factor : 0))).ToArray();
}

/// <summary><c>LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5)</c>: linear warm-up (or decay) of the factor.</summary>
public sealed class LinearLR : LRScheduler
{
    private readonly double _start, _end;
    private readonly int _totalIters;

    /// <summary>Creates the scheduler.</summary>
    public LinearLR(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        if (!(startFactor > 0 && startFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(startFactor), startFactor, "Starting multiplicative factor expected to be between 0 and 1. (It must be > 0, as in PyTorch 2.x.)");
        if (!(endFactor >= 0 && endFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(endFactor), endFactor, "Ending multiplicative factor expected to be between 0 and 1.");
        (_start, _end, _totalIters) = (startFactor, endFactor, totalIters);
        InitialStep();
    }

    /// <inheritdoc />
    protected override double[] GetLr()
    {
        if (LastEpoch == 0) return Map(lr => lr * _start);
        if (LastEpoch > _totalIters) return CurrentLrs();
        return Map(lr => lr * (1.0 + (_end - _start) / (_totalIters * _start + (LastEpoch - 1) * (_end - _start))));
    }

    /// <inheritdoc />
    protected override double[]? ClosedFormLr() =>
        BaseLrs.Select(b => b * (_start + (_end - _start) * Math.Min(_totalIters, LastEpoch) / _totalIters)).ToArray();
}

/// <summary><c>ExponentialLR(optimizer, gamma)</c>: <c>lr = initial_lr·γ^epoch</c>.</summary>
public sealed class ExponentialLR : LRScheduler
{
    private readonly double _gamma;

    /// <summary>Creates the scheduler.</summary>
    public ExponentialLR(Optimizer optimizer, double gamma, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        _gamma = gamma;
        InitialStep();
    }

    /// <inheritdoc />
    protected override double[] GetLr() => LastEpoch == 0 ? CurrentLrs() : Map(lr => lr * _gamma);

    /// <inheritdoc />
    protected override double[]? ClosedFormLr() => BaseLrs.Select(b => b * Math.Pow(_gamma, LastEpoch)).ToArray();
}

/// <summary><c>PolynomialLR(optimizer, total_iters=5, power=1.0)</c>: <c>lr = initial_lr·(1 - min(epoch, total)/total)^power</c>.</summary>
public sealed class PolynomialLR : LRScheduler
{
    private readonly int _totalIters;
    private readonly double _power;

    /// <summary>Creates the scheduler.</summary>
    public PolynomialLR(Optimizer optimizer, int totalIters = 5, double power = 1.0, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        if (totalIters <= 0)
            throw new ArgumentOutOfRangeException(nameof(totalIters), totalIters, "total_iters must be positive");
        (_totalIters, _power) = (totalIters, power);
        InitialStep();
    }

    /// <inheritdoc />
    protected override double[] GetLr()
    {
        if (LastEpoch == 0 || LastEpoch > _totalIters) return CurrentLrs();
        double decay = Math.Pow((1.0 - (double)LastEpoch / _totalIters) / (1.0 - (double)(LastEpoch - 1) / _totalIters), _power);
        return Map(lr => lr * decay);
    }

    /// <inheritdoc />
    protected override double[]? ClosedFormLr() =>
        BaseLrs.Select(b => b * Math.Pow(1.0 - (double)Math.Min(_totalIters, LastEpoch) / _totalIters, _power)).ToArray();
}

/// <summary>
/// <c>CosineAnnealingLR(optimizer, T_max, eta_min=0)</c>: <c>η_min + (lr₀ - η_min)(1 + cos(π·epoch/T_max))/2</c>
/// (recursive form; keeps oscillating with period 2·T_max after T_max, as PyTorch's).
/// </summary>
public sealed class CosineAnnealingLR : LRScheduler
{
    private readonly int _tMax;
    private readonly double _etaMin;

    /// <summary>Creates the scheduler.</summary>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        if (tMax <= 0)
            throw new ArgumentOutOfRangeException(nameof(tMax), tMax, "T_max must be positive");
        (_tMax, _etaMin) = (tMax, etaMin);
        InitialStep();
    }

    /// <inheritdoc />
    protected override double[] GetLr()
    {
        var lrs = CurrentLrs();
        if (LastEpoch == 0) return lrs;
        if (PyMod(LastEpoch - 1 - _tMax, 2 * _tMax) == 0)
            return lrs.Select((lr, i) => lr + (BaseLrs[i] - _etaMin) * (1 - Math.Cos(Math.PI / _tMax)) / 2).ToArray();
        return lrs.Select(lr => (1 + Math.Cos(Math.PI * LastEpoch / _tMax)) / (1 + Math.Cos(Math.PI * (LastEpoch - 1) / _tMax)) * (lr - _etaMin) + _etaMin).ToArray();
    }

    /// <inheritdoc />
    protected override double[]? ClosedFormLr() =>
        BaseLrs.Select(b => _etaMin + (b - _etaMin) * (1 + Math.Cos(Math.PI * LastEpoch / _tMax)) / 2).ToArray();
}

/// <summary>
/// <c>CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0)</c>: cosine annealing restarted after T_0,
/// T_0·T_mult, … epochs. <see cref="Step(double)"/> accepts fractional epochs.
/// </summary>
public sealed class CosineAnnealingWarmRestarts : LRScheduler
{
    private readonly int _t0, _tMult;
    private readonly double _etaMin;
    private double _tI, _tCur;

    /// <summary>Creates the scheduler.</summary>
    public CosineAnnealingWarmRestarts(Optimizer optimizer, int t0, int tMult = 1, double etaMin = 0, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        if (t0 <= 0)
            throw new ArgumentOutOfRangeException(nameof(t0), t0, $"Expected positive integer T_0, but got {t0}");
        if (tMult < 1)
            throw new ArgumentOutOfRangeException(nameof(tMult), tMult, $"Expected integer T_mult >= 1, but got {tMult}");
        (_t0, _tI, _tMult, _etaMin, _tCur) = (t0, t0, tMult, etaMin, lastEpoch);
        InitialStep();
    }

    /// <summary>The epoch within the current cycle.</summary>
    public double TCur => _tCur;

    /// <inheritdoc />
    protected override double[] GetLr() => BaseLrs.Select(b => _etaMin + (b - _etaMin) * (1 + Math.Cos(Math.PI * _tCur / _tI)) / 2).ToArray();

    /// <inheritdoc />
    public override void Step()
    {
        if (LastEpoch < 0)
        {
            Step(0.0);
            return;
        }
        _tCur += 1;
        if (_tCur >= _tI)
        {
            _tCur -= _tI;
            _tI *= _tMult;
        }
        LastEpoch++;
        Apply(GetLr());
    }

    /// <inheritdoc />
    public override void Step(int epoch) => Step((double)epoch);

    /// <summary>Jumps to a (possibly fractional) <paramref name="epoch"/>.</summary>
    public void Step(double epoch)
    {
        if (epoch < 0)
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"Expected non-negative epoch, but got {epoch}");
        if (epoch >= _t0)
        {
            if (_tMult == 1)
            {
                _tCur = epoch % _t0;
            }
            else
            {
                int n = (int)Math.Log(epoch / _t0 * (_tMult - 1) + 1, _tMult);
                _tCur = epoch - _t0 * (Math.Pow(_tMult, n) - 1) / (_tMult - 1);
                _tI = _t0 * Math.Pow(_tMult, n);
            }
        }
        else
        {
            _tI = _t0;
            _tCur = epoch;
        }
        LastEpoch = (int)Math.Floor(epoch);
        Apply(GetLr());
    }

    /// <inheritdoc />
    protected override void SaveState(Dictionary<string, object?> state)
    {
        state["T_i"] = _tI;
        state["T_cur"] = _tCur;
    }

    /// <inheritdoc />
    protected override void LoadState(IReadOnlyDictionary<string, object?> state)
    {
        _tI = ParamGroup.ToDouble(state["T_i"], "T_i");
        _tCur = ParamGroup.ToDouble(state["T_cur"], "T_cur");
    }
}
