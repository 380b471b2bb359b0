using System;
using System.Runtime.CompilerServices;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using System.Runtime.Intrinsics;

namespace DslModels.Optim;

/// <summary>
/// The per-parameter state of an optimizer (PyTorch: <c>optimizer.state[p]</c>), keyed by PyTorch's names.
/// Values are <see cref="StateTensor"/> (live buffers), <see cref="long"/> (Python int), <see cref="double"/>
/// (Python float), <c>null</c> (None) or <see cref="List{T}"/> of those (LBFGS history).
/// </summary>
public sealed class ParamState : IReadOnlyDictionary<string, object?>
{
    /// <summary>
    /// The raw entries. Python ints and floats that an optimizer updates at every step are held in mutable
    /// <see cref="PyInt"/>/<see cref="PyFloat"/> cells (so a step does not box); the public accessors return them as
    /// <see cref="long"/>/<see cref="double"/>. Every write tells the owning optimizer (<see cref="StateEntries"/>).
    /// </summary>
    internal readonly StateEntries Values = new();

    /// <inheritdoc />
    public object? this[string key] => Public(Values[key]);

    /// <inheritdoc />
    public IEnumerable<string> Keys => Values.Keys;

    IEnumerable<object?> IReadOnlyDictionary<string, object?>.Values
    {
        get
        {
            foreach (var v in Values.Values)
                yield return Public(v);
        }
    }

    /// <inheritdoc />
    public int Count => Values.Count;

    /// <inheritdoc />
    public bool ContainsKey(string key) => Values.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, out object? value)
    {
        bool found = Values.TryGetValue(key, out value);
        value = Public(value);
        return found;
    }

    /// <summary>The state tensor <paramref name="key"/>.</summary>
    public StateTensor Tensor(string key) => Values[key] as StateTensor ?? throw new InvalidOperationException($"state '{key}' is not a tensor.");

    internal Span<T> Span<T>(string key) where T : unmanaged => Tensor(key).Values<T>();

    internal long GetInt(string key) => Values[key] switch
    {
        PyInt c => c.Value,
        var v => (long)v!,
    };

    /// <summary>
    /// The mutable cell of the Python int <paramref name="key"/>, created with <paramref name="initial"/> when absent
    /// (a plain <see cref="long"/>, e.g. from a loaded state dict, is moved into a cell once).
    /// </summary>
    internal PyInt Int(string key, long initial = 0)
    {
        if (Values.TryGetValue(key, out object? v))
        {
            if (v is PyInt c)
                return c;
            initial = v is int i ? i : (long)v!;
        }
        var cell = new PyInt { Value = initial };
        Values[key] = cell;
        return cell;
    }

    /// <summary>The value as the public API shows it (cells unwrapped).</summary>
    internal static object? Public(object? v) => v switch
    {
        PyInt c => c.Value,
        PyFloat c => c.Value,
        _ => v,
    };

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        foreach (var (k, v) in Values)
            yield return new KeyValuePair<string, object?>(k, Public(v));
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// The entries of a <see cref="ParamState"/>. Every write (set, remove) bumps the owning optimizer's state version,
/// which keeps <see cref="Optimizer.CanFuseGroup"/>'s remembered answer honest: a generated model's fused step then checks
/// one number instead of looking up every parameter's state at every step. The dictionary itself is private, so no
/// write can go around the version.
/// </summary>
internal sealed class StateEntries : IEnumerable<KeyValuePair<string, object?>>
{
    private readonly Dictionary<string, object?> _entries = new(StringComparer.Ordinal);

    /// <summary>The optimizer whose state this is (null for a state not yet handed to one).</summary>
    internal Optimizer? Owner;

    public object? this[string key]
    {
        get => _entries[key];
        set
        {
            _entries[key] = value;
            Owner?.StateChanged();
        }
    }

    public bool TryGetValue(string key, out object? value) => _entries.TryGetValue(key, out value);

    public object? GetValueOrDefault(string key) => _entries.GetValueOrDefault(key);

    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    public int Count => _entries.Count;

    public Dictionary<string, object?>.KeyCollection Keys => _entries.Keys;

    public Dictionary<string, object?>.ValueCollection Values => _entries.Values;

    public bool Remove(string key)
    {
        Owner?.StateChanged();
        return _entries.Remove(key);
    }

    public Dictionary<string, object?>.Enumerator GetEnumerator() => _entries.GetEnumerator();

    IEnumerator<KeyValuePair<string, object?>> IEnumerable<KeyValuePair<string, object?>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A mutable Python int of an optimizer's state (see <see cref="ParamState.Values"/>).</summary>
internal sealed class PyInt
{
    public long Value;

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A mutable Python float of an optimizer's state (see <see cref="ParamState.Values"/>).</summary>
internal sealed class PyFloat
{
    public double Value;

    public override string ToString() => Py.Repr(Value);
}

/// <summary>
/// Base class of all optimizers, with PyTorch's <c>torch.optim.Optimizer</c> contract: <see cref="Defaults"/>,
/// <see cref="ParamGroups"/> (mutable, read at every step), lazily created per-parameter <see cref="State"/>,
/// <see cref="ZeroGrad"/>, <see cref="Step"/>, <see cref="AddParamGroup"/>, <see cref="StateDict"/> and
/// <see cref="LoadStateDict"/>. Parameters are <see cref="OptimParameter"/>s (float32 model parameters or float32/float64
/// tensors); parameters without a gradient are skipped by <see cref="Step"/>.
/// </summary>
public abstract class Optimizer
{
    /// <summary>Keys of PyTorch's param groups that only select an implementation; accepted and ignored by the factory.</summary>
    internal static readonly string[] ImplementationKeys = ["foreach", "differentiable", "capturable", "fused"];

    private readonly Dictionary<string, object?> _defaults;
    private readonly List<ParamGroup> _groups = [];
    private Dictionary<OptimParameter, ParamState> _state = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Bumped by every change that can turn <see cref="CanFuseGroup"/>'s answer: a state entry written, added or removed
    /// (<see cref="StateEntries"/>), a parameter's state created, a group added, a state dict loaded, the arena attached.
    /// </summary>
    private int _stateVersion;

    internal void StateChanged() => _stateVersion++;

    /// <summary>Creates the optimizer: validates <paramref name="groups"/> and fills in <paramref name="defaults"/>.</summary>
    protected Optimizer(IEnumerable<ParamGroup> groups, IReadOnlyDictionary<string, object?> defaults)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(defaults);
        _defaults = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in defaults)
            _defaults[k] = ParamGroup.Normalize(k, v);
        var list = groups.ToList();
        if (list.Count == 0)
            throw new ArgumentException("optimizer got an empty parameter list", nameof(groups));
        foreach (var g in list)
            AddParamGroup(g);
    }

    /// <summary>One group of <paramref name="parameters"/>.</summary>
    protected static IEnumerable<ParamGroup> OneGroup(IEnumerable<OptimParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = parameters.ToList();
        if (list.Count == 0)
            throw new ArgumentException("optimizer got an empty parameter list", nameof(parameters));
        return [new ParamGroup(list)];
    }

    /// <summary>The constructor's hyper-parameters (PyTorch: <c>optimizer.defaults</c>).</summary>
    public IReadOnlyDictionary<string, object?> Defaults => _defaults;

    /// <summary>The parameter groups, in order.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => _groupsView ??= _groups.AsReadOnly();

    private ReadOnlyCollection<ParamGroup>? _groupsView; // a view, so a cast cannot add a group past AddParamGroup

    /// <summary>The groups as the concrete list, so steps iterate without allocating an enumerator.</summary>
    protected List<ParamGroup> Groups => _groups;

    /// <summary>The per-parameter state (only parameters that have been stepped).</summary>
    public IReadOnlyDictionary<OptimParameter, ParamState> State => _stateView ??= new ReadOnlyDictionary<OptimParameter, ParamState>(_state);

    private ReadOnlyDictionary<OptimParameter, ParamState>? _stateView; // a view of _state (a cast cannot change it); dropped when _state is replaced

    /// <summary>All parameters, in group order.</summary>
    public IEnumerable<OptimParameter> Parameters => _groups.SelectMany(g => g.Params);

    /// <summary>The name used in messages (PyTorch's class name).</summary>
    public virtual string Name => GetType().Name;

    /// <summary>
    /// Adds a group (PyTorch: <c>add_param_group</c>): fills in missing options from <see cref="Defaults"/>; a parameter
    /// in two groups, a duplicated parameter or an empty group is an <see cref="ArgumentException"/>.
    /// </summary>
    public virtual void AddParamGroup(ParamGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (group.Params.Count == 0)
            throw new ArgumentException("optimizer got an empty parameter list", nameof(group));
        var seen = new HashSet<OptimParameter>(ReferenceEqualityComparer.Instance);
        foreach (var p in group.Params)
            if (!seen.Add(p))
                throw new ArgumentException($"optimizer contains a parameter group with duplicate parameters ({p.Describe()})", nameof(group));
        foreach (var g in _groups)
            if (ReferenceEquals(g, group))
                throw new ArgumentException("this parameter group was already added", nameof(group));
        foreach (var p in _groups.SelectMany(g => g.Params))
            if (seen.Contains(p))
                throw new ArgumentException("some parameters appear in more than one parameter group", nameof(group));
        foreach (var (k, v) in _defaults)
        {
            if (ReferenceEquals(v, Required) && !group.ContainsKey(k))
                throw new ArgumentException($"parameter group didn't specify a value of required optimization parameter {k}", nameof(group));
            group.SetDefault(k, v is double[] a ? (double[])a.Clone() : v);
        }
        _groups.Add(group);
        StateChanged();
    }

    /// <summary>PyTorch's <c>required</c> sentinel for a default that every group must set.</summary>
    public static readonly object Required = new RequiredMarker();

    private sealed class RequiredMarker
    {
        public override string ToString() => "<required parameter>";
    }

    /// <summary>
    /// Zeroes every gradient (PyTorch 1.13's default), or with <paramref name="setToNone"/> removes it where the
    /// parameter supports that (a removed gradient makes <see cref="Step"/> skip the parameter; model parameters
    /// always keep a gradient buffer and are zeroed).
    /// </summary>
    public void ZeroGrad(bool setToNone = false)
    {
        foreach (var g in _groups)
            foreach (var p in g.ParamList)
            {
                if (p.HasGrad)
                    p.ZeroGrad(setToNone);
                p.SparseGradRows = null;
            }
    }

    /// <summary>
    /// Performs one update. If <paramref name="closure"/> is given it is called once, first (it must zero the
    /// gradients, compute the loss and its gradients, and return the loss), and its value is returned; otherwise null.
    /// </summary>
    public virtual double? Step(Func<double>? closure = null)
    {
        double? loss = closure?.Invoke();
        StepCore();
        return loss;
    }

    /// <summary>The update, using the current gradients and the groups' current options.</summary>
    protected abstract void StepCore();

    /// <summary>The state of <paramref name="p"/>, created empty if absent.</summary>
    protected ParamState StateOf(OptimParameter p)
    {
        if (!_state.TryGetValue(p, out var s))
        {
            _state[p] = s = new ParamState();
            s.Values.Owner = this;
            StateChanged();
        }
        return s;
    }

    /// <summary>Throws PyTorch's error if <paramref name="p"/> has a sparse gradient.</summary>
    protected void RejectSparse(OptimParameter p, string? message = null)
    {
        if (p.SparseGradRows is not null)
            throw new InvalidOperationException(message ?? $"{Name} does not support sparse gradients");
    }

    /// <summary>A zero tensor like <paramref name="p"/>.</summary>
    protected static StateTensor ZerosLike(OptimParameter p) => new(p.DType, p.Shape);

    /// <summary>
    /// A zero tensor like <paramref name="p"/> for state <paramref name="key"/>: a slice of the state arena when one is
    /// attached and holds <paramref name="p"/> (<see cref="AttachStateArena"/>), otherwise a tensor of its own.
    /// </summary>
    protected StateTensor ZerosLike(OptimParameter p, string key)
    {
        if (ArenaView(p, key) is { } view)
        {
            view.Float32.Clear();
            return view;
        }
        return ZerosLike(p);
    }

    /// <summary><see cref="FullLike(OptimParameter, double)"/> for state <paramref name="key"/>, in the state arena when one holds <paramref name="p"/>.</summary>
    protected StateTensor FullLike(OptimParameter p, string key, double value)
    {
        if (ArenaView(p, key) is { } view)
        {
            view.Float32.Fill((float)value);
            return view;
        }
        return FullLike(p, value);
    }

    /// <summary>A tensor like <paramref name="p"/> filled with <paramref name="value"/> (rounded to its type).</summary>
    protected static StateTensor FullLike(OptimParameter p, double value)
    {
        var t = new StateTensor(p.DType, p.Shape);
        if (p.DType == ScalarType.Float32) t.Float32.Fill((float)value); else t.Float64.Fill(value);
        return t;
    }

    /// <summary>
    /// Calls <paramref name="float32"/> or <paramref name="float64"/> with the typed parameter. (The built-in optimizers
    /// switch on the type inline instead: lambdas capturing locals would allocate at every step.)
    /// </summary>
    protected static void Dispatch(OptimParameter p, Action<OptimParameter<float>> float32, Action<OptimParameter<double>> float64)
    {
        switch (p)
        {
            case OptimParameter<float> f: float32(f); break;
            case OptimParameter<double> d: float64(d); break;
            default: throw Unsupported(p);
        }
    }

    /// <summary>The error for a parameter that is neither float32 nor float64.</summary>
    private protected static NotSupportedException Unsupported(OptimParameter p) => new($"unsupported parameter type {p.GetType().Name}.");

    // ---------------------------------------------------------------- subnormal state

    /// <summary>
    /// Not a PyTorch method: sets every subnormal value (nonzero and smaller in magnitude than 2^-126 in a float32 tensor,
    /// 2^-1022 in a float64 one) of this optimizer's tensor state to +0, and returns how many it set: every state tensor,
    /// LBFGS's history and 0-dim ones such as NAdam's <c>mu_product</c> included. Nothing else changes: not the parameters,
    /// the options, scalar (non-tensor) state or any normal value, zero, infinity or NaN.
    /// <para>
    /// Why: the state of a weight whose gradient stays exactly zero (a ReLU unit that no sample turns on) decays step by
    /// step, and Adam's <c>exp_avg</c> (β1 = 0.9) then stops at a few multiples of 2^-149, where <c>m·β1</c> rounds back to
    /// <c>m</c>. Every later step computes with those subnormals, which many CPUs handle slowly: a 784-512-512-10 MLP with
    /// Adam trained at batch 1 in 263 us a step with 57,000 of them and in 205 us without (AMD Zen 5, docs/benchmarks.md,
    /// "Session 22"); PyTorch computes the same values with the same operations. Calling this every 1,000 steps or so removes
    /// them (new ones take ~900 steps to reach the range).
    /// </para>
    /// <para>
    /// What it changes: those values, which PyTorch keeps, become 0 in <see cref="State"/> and <see cref="StateDict"/>.
    /// While the weight's gradient stays zero, Adam's update of the weight was already exactly zero (the term is far below
    /// half an ulp of any weight of magnitude 2^-100 or more), so the parameters keep PyTorch's bits; when the gradient
    /// returns, <c>m·β1</c> of a subnormal m is far below half an ulp of <c>(1-β1)·g</c> unless g itself is below ~1e-30.
    /// In the benchmark's runs (8,000 steps at batch 1, flushing every 1,000) every parameter and every <c>exp_avg_sq</c>
    /// kept its bits and <c>exp_avg</c> differed only where PyTorch's value is subnormal. It is your choice, not a default:
    /// PyTorch's own switch for this, <c>torch.set_flush_denormal(True)</c>, changes every operation on the CPU instead.
    /// A param group whose <c>eps</c> is 0 keeps its state as it is: in an optimizer that divides by a root of its second
    /// moments (Adam, AdamW, NAdam, RAdam, RMSprop, Adadelta, Adagrad), a zeroed <c>exp_avg_sq</c> or <c>square_avg</c>
    /// would make that weight's next update 0/0 (NaN).
    /// </para>
    /// </summary>
    public long FlushSubnormalState()
    {
        long count = 0;
        foreach (var group in _groups)
        {
            // Without eps, a zeroed second moment would make the next update divide 0 by 0: such a group keeps its state.
            if (group.ContainsKey("eps") && group.GetDouble("eps") == 0)
                continue;
            foreach (var p in group.ParamList)
            {
                if (!_state.TryGetValue(p, out var st))
                    continue;
                foreach (var value in st.Values.Values)
                {
                    if (value is StateTensor t)
                        count += FlushSubnormals(t);
                    else if (value is List<object?> list)
                        foreach (var item in list)
                            if (item is StateTensor lt)
                                count += FlushSubnormals(lt);
                }
            }
        }
        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called every thousand steps or so: not worth tiering up through slow code
    private static long FlushSubnormals(StateTensor t)
    {
        long count = 0;
        if (t.DType == ScalarType.Float64)
        {
            var d = t.Float64;
            for (int i = 0; i < d.Length; i++)
                if (double.IsSubnormal(d[i]))
                {
                    d[i] = 0;
                    count++;
                }
            return count;
        }
        var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<float, uint>(t.Float32);
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var abs = Vector256.Create(0x7FFFFFFFu);
            var limit = Vector256.Create(0x007FFFFFu);
            for (; k <= bits.Length - 8; k += 8)
            {
                var v = Vector256.Create(bits.Slice(k, 8));
                // Subnormal: 0 < |x| < 2^-126, i.e. the magnitude's bits minus one below 0x7FFFFF (zero wraps around).
                var sub = Vector256.LessThan((v & abs) - Vector256<uint>.One, limit);
                if (sub == Vector256<uint>.Zero)
                    continue;
                count += System.Numerics.BitOperations.PopCount(Vector256.ExtractMostSignificantBits(sub));
                Vector256.AndNot(v, sub).CopyTo(bits.Slice(k, 8));
            }
        }
        for (; k < bits.Length; k++)
            if ((bits[k] & 0x7FFFFFFFu) - 1 < 0x007FFFFFu)
            {
                bits[k] = 0;
                count++;
            }
        return count;
    }

    // ---------------------------------------------------------------- state dict

    /// <summary>
    /// PyTorch's <c>state_dict()</c>: <c>state</c> keyed by integer parameter index (parameters numbered 0, 1, … in
    /// group order; only parameters with state) and <c>param_groups</c> (every option plus <c>params</c>, the indices).
    /// Values are deep copies.
    /// </summary>
    public OptimizerStateDict StateDict()
    {
        var sd = new OptimizerStateDict();
        int index = 0;
        foreach (var g in _groups)
        {
            var opts = g.SnapshotOptions();
            var ids = new int[g.Params.Count];
            for (int i = 0; i < ids.Length; i++)
            {
                var p = g.Params[i];
                ids[i] = index;
                if (_state.TryGetValue(p, out var st))
                {
                    var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var (k, v) in st.Values)
                        copy[k] = OptimizerStateDict.DeepCopy(ParamState.Public(v));
                    sd.State[index] = copy;
                }
                index++;
            }
            opts["params"] = ids;
            sd.ParamGroups.Add(opts);
        }
        return sd;
    }

    /// <summary>
    /// PyTorch's <c>load_state_dict</c>: the saved groups' options replace the current ones (missing options take the
    /// defaults) and the saved state is mapped to the current parameters by position. Throws
    /// <see cref="ArgumentException"/> — leaving the optimizer unchanged — when the number of groups, a group's size,
    /// a state tensor's shape, or a parameter index does not match. State tensors are copied and converted to the
    /// parameter's element type, except float32 scalars (<c>step</c>, <c>eta</c>, <c>mu</c>, <c>mu_product</c>) which
    /// stay float32 so that a resumed run is bit-identical.
    /// </summary>
    public void LoadStateDict(OptimizerStateDict stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        if (stateDict.ParamGroups.Count != _groups.Count)
            throw new ArgumentException("loaded state dict has a different number of parameter groups", nameof(stateDict));
        var map = new Dictionary<int, OptimParameter>();
        var newOptions = new List<Dictionary<string, object?>>();
        for (int gi = 0; gi < _groups.Count; gi++)
        {
            var saved = stateDict.ParamGroups[gi];
            if (!saved.TryGetValue("params", out object? ids) || ids is not int[] idArray)
                throw new ArgumentException($"loaded param group {gi} has no 'params' list of indices", nameof(stateDict));
            if (idArray.Length != _groups[gi].Params.Count)
                throw new ArgumentException("loaded state dict contains a parameter group that doesn't match the size of optimizer's group", nameof(stateDict));
            for (int i = 0; i < idArray.Length; i++)
                if (!map.TryAdd(idArray[i], _groups[gi].Params[i]))
                    throw new ArgumentException($"loaded state dict uses parameter index {idArray[i]} twice", nameof(stateDict));
            var opts = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (k, v) in saved)
                if (k != "params")
                    opts[k] = ParamGroup.Normalize(k, v is double[] a ? (double[])a.Clone() : v);
            foreach (var (k, v) in _defaults)
                if (!opts.ContainsKey(k))
                {
                    if (ReferenceEquals(v, Required))
                        throw new ArgumentException($"loaded param group {gi} didn't specify a value of required optimization parameter {k}", nameof(stateDict));
                    opts[k] = v is double[] a ? (double[])a.Clone() : v;
                }
            if (_groups[gi].BoundSgdOptions is { } bound)
                bound.Validate(opts, out _, out _, out _, out _, out _, out _);
            newOptions.Add(opts);
        }
        var newState = new Dictionary<OptimParameter, ParamState>(ReferenceEqualityComparer.Instance);
        foreach (var (index, entry) in stateDict.State)
        {
            if (!map.TryGetValue(index, out var p))
                throw new ArgumentException($"loaded state refers to parameter index {index}, which is not in any group", nameof(stateDict));
            var st = new ParamState();
            foreach (var (k, v) in entry)
                st.Values[k] = ConvertLoaded(p, k, v);
            ValidateLoadedState(p, st);
            st.Values.Owner = this;
            newState[p] = st;
        }
        foreach (var (p, st) in newState)
            MoveIntoArena(p, st);
        for (int gi = 0; gi < _groups.Count; gi++)
            _groups[gi].ReplaceOptions(newOptions[gi]);
        _state = newState;
        _stateView = null;
        StateChanged();
    }

    private object? ConvertLoaded(OptimParameter p, string key, object? value) => value switch
    {
        StateTensor t => ConvertLoadedTensor(p, key, t),
        List<object?> list => list.Select(x => ConvertLoaded(p, key, x)).ToList(),
        int i => (long)i,
        double[] a => a.Select(x => (object?)x).ToList(),
        null or long or double or bool or string => value,
        _ => throw new ArgumentException($"state '{key}': unsupported value type {value.GetType().Name}"),
    };

    /// <summary>The element type a loaded state tensor is converted to (default: the parameter's, except float32 scalars).</summary>
    protected virtual StateTensor ConvertLoadedTensor(OptimParameter p, string key, StateTensor t) =>
        key is "step" or "eta" or "mu" or "mu_product" ? t.Clone() : t.To(p.DType);

    /// <summary>
    /// Checks a loaded state entry; the default requires every state tensor that is not 0-dim to have the parameter's
    /// shape. Throw <see cref="ArgumentException"/> on mismatch.
    /// </summary>
    protected virtual void ValidateLoadedState(OptimParameter p, ParamState state)
    {
        foreach (var (k, v) in state.Values)
            if (v is StateTensor t && t.Shape.Count > 0 && !t.SameShape(p.Shape))
                throw new ArgumentException($"loaded state '{k}' of {p.Describe()} has shape [{string.Join(", ", t.Shape)}], but the parameter has shape [{string.Join(", ", p.Shape)}]");
    }

    // ---------------------------------------------------------------- state arena (generated models)

    private AlignedBuffer? _arenaOwner;
    private int _arenaLength;
    private Dictionary<OptimParameter, int>? _arenaOffsets;
    private readonly Dictionary<string, (float[] Array, int Start)> _arenas = new(StringComparer.Ordinal);

    /// <summary>
    /// Lays out float32 state tensors like the parameter buffer <paramref name="parameters"/>: from now on the state of
    /// every model parameter that is a view of <paramref name="parameters"/> (one of a generated model's) and has the
    /// parameter's shape (<c>exp_avg</c>, <c>momentum_buffer</c>, …) is the slice at the parameter's offset of one
    /// 64-byte-aligned array per state key, so that a generated model's <c>Step()</c> can update all its parameters and
    /// their state in one pass over contiguous memory. Nothing else changes: <see cref="State"/>,
    /// <see cref="StateDict"/> and <see cref="LoadStateDict"/> behave as before (loaded values are copied into the
    /// arena). Existing state is moved into the arena. Generated models call this from their constructor.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public void AttachStateArena(AlignedBuffer parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (_arenaOwner is not null && !ReferenceEquals(_arenaOwner, parameters))
            throw new InvalidOperationException("a state arena is already attached to another parameter buffer.");
        _arenaOwner = parameters;
        _arenaLength = parameters.Length;
        _arenaOffsets ??= new Dictionary<OptimParameter, int>(ReferenceEqualityComparer.Instance);
        foreach (var g in _groups)
            foreach (var p in g.ParamList)
                if (p is ModelParameter m && ReferenceEquals(m.Parameter.DataBuffer, parameters))
                    _arenaOffsets[p] = m.Parameter.Offset;
        foreach (var (p, st) in _state)
            MoveIntoArena(p, st);
        StateChanged();
    }

    /// <summary>
    /// The state arena of <paramref name="key"/> (as long as the parameter buffer; each parameter's state at the
    /// parameter's offset), or an empty span when no state of that key is in the arena yet.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Span<float> StateArena(string key) =>
        _arenas.TryGetValue(key, out var a) ? a.Array.AsSpan(a.Start, _arenaLength) : default;

    /// <summary>
    /// For a generated model's fused step: true when every parameter of group <paramref name="groupIndex"/> has a
    /// gradient (not sparse) and state, its <paramref name="arenaKeys"/> state lives in the arena, and (if
    /// <paramref name="stepKey"/> is given) all of the group's step counts are equal, so one pass with one set of
    /// constants updates the whole group exactly as <see cref="Step"/> would. Changes nothing.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool CanFuseGroup(int groupIndex, string[] arenaKeys, string? stepKey)
    {
        ArgumentNullException.ThrowIfNull(arenaKeys);
        if (_arenaOffsets is null || (uint)groupIndex >= (uint)_groups.Count)
            return false;
        var group = _groups[groupIndex];
        if (FusableAsBefore(groupIndex, group, stepKey) is { } known && known.ArenaKeys.AsSpan().SequenceEqual(arenaKeys))
        {
            // No state entry, group or arena changed since the full check: only the parameters' own gradients and the
            // step counts' values can have.
            foreach (var p in group.ParamList)
                if (!p.HasGrad || p.SparseGradRows is not null)
                    return false;
            return stepKey is null || StepsAgree(known.Steps);
        }
        if (_fusable.Length <= groupIndex)
            Array.Resize(ref _fusable, _groups.Count);
        var f = _fusable[groupIndex] ??= new FusableGroup();
        f.Known = false;
        if (f.Steps.Length != group.ParamList.Count)
            f.Steps = new object[group.ParamList.Count];
        double step = double.NaN;
        bool cells = true;
        int n = 0;
        foreach (var p in group.ParamList)
        {
            if (!p.HasGrad || p.SparseGradRows is not null || !_arenaOffsets.TryGetValue(p, out int offset) || !_state.TryGetValue(p, out var st))
                return false;
            foreach (string key in arenaKeys)
                if (!_arenas.TryGetValue(key, out var a) || !st.Values.TryGetValue(key, out var v) || v is not StateTensor t || !t.IsViewOf(a.Array, a.Start + offset))
                    return false;
            if (stepKey is not null)
            {
                if (!TryGetStep(st, stepKey, out double s) || (!double.IsNaN(step) && s != step))
                    return false;
                step = s;
                var cell = st.Values[stepKey];
                if (cell is StateTensor or PyInt)
                    f.Steps[n++] = cell!;
                else
                    cells = false; // a loaded count not yet in a cell: AdvanceGroupStep moves it into one (a state change)
            }
        }
        if (cells) // remembered (in place: a fallback that asks at every step allocates nothing)
        {
            f.Known = true;
            f.Version = _stateVersion;
            f.Group = group;
            if (f.ArenaKeys.Length != arenaKeys.Length)
                f.ArenaKeys = new string[arenaKeys.Length];
            arenaKeys.CopyTo(f.ArenaKeys, 0); // a copy: the caller may reuse its array for other keys
            f.StepKey = stepKey;
        }
        return true;
    }

    /// <summary>
    /// A group <see cref="CanFuseGroup"/> found fusable (<c>Known</c>) while the state version was <c>Version</c>, for these
    /// arena keys and step key, with each parameter's step count cell when a step key was given.
    /// </summary>
    private sealed class FusableGroup
    {
        public bool Known;
        public int Version;
        public ParamGroup? Group;
        public string[] ArenaKeys = [];
        public string? StepKey;
        public object[] Steps = [];
    }

    private FusableGroup?[] _fusable = [];

    /// <summary>The remembered answer for the group, if no state entry, group or arena has changed since it was found.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private FusableGroup? FusableAsBefore(int groupIndex, ParamGroup group, string? stepKey) =>
        groupIndex < _fusable.Length && _fusable[groupIndex] is { Known: true } f && f.Version == _stateVersion && ReferenceEquals(f.Group, group) && f.StepKey == stepKey ? f : null;

    /// <summary>The step counts all equal, as the full check in <see cref="CanFuseGroup"/> compares them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool StepsAgree(object[] steps)
    {
        double step = double.NaN;
        foreach (var cell in steps)
        {
            double s = cell is PyInt i ? i.Value : ((StateTensor)cell).ToScalar();
            if (!double.IsNaN(step) && s != step)
                return false;
            step = s;
        }
        return true;
    }

    /// <summary>
    /// For a generated model's fused step (after <see cref="CanFuseGroup"/>): adds one to the <paramref name="stepKey"/>
    /// count of every parameter of group <paramref name="groupIndex"/>, as <see cref="Step"/> does, and returns the new count.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double AdvanceGroupStep(int groupIndex, string stepKey)
    {
        double result = double.NaN;
        if (FusableAsBefore(groupIndex, _groups[groupIndex], stepKey) is { } known)
        {
            foreach (var cell in known.Steps)
            {
                if (cell is PyInt i)
                    result = ++i.Value;
                else
                {
                    var t = (StateTensor)cell;
                    t.SetItem(t.ToScalar() + 1);
                    result = t.ToScalar();
                }
            }
            return result;
        }
        foreach (var p in _groups[groupIndex].ParamList)
        {
            switch (StateOf(p).Values[stepKey])
            {
                case StateTensor t:
                    t.SetItem(t.ToScalar() + 1);
                    result = t.ToScalar();
                    break;
                case PyInt or long: // a Python int; a loaded one moves into a cell, as the optimizer's own step does
                    var cell = StateOf(p).Int(stepKey);
                    cell.Value++;
                    result = cell.Value;
                    break;
                default:
                    throw new InvalidOperationException($"state '{stepKey}' of {p.Describe()} is not a step count.");
            }
        }
        return result;
    }

    /// <summary>
    /// For a generated model's fused step: true when every parameter of group <paramref name="groupIndex"/> has the
    /// float32 0-dim state <paramref name="key"/> (ASGD's <c>eta</c> and <c>mu</c>, NAdam's <c>mu_product</c>) and all
    /// of them hold the same bits, so one value stands for the whole group (<see cref="GroupScalar"/>). Changes nothing.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool GroupScalarsAgree(int groupIndex, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if ((uint)groupIndex >= (uint)_groups.Count || ScalarCellsOf(groupIndex, key) is not { Length: > 0 } cells)
            return false;
        int first = BitConverter.SingleToInt32Bits(cells[0].Float32[0]);
        foreach (var t in cells)
            if (BitConverter.SingleToInt32Bits(t.Float32[0]) != first)
                return false;
        return true;
    }

    /// <summary>Each parameter's float32 0-dim state <c>Key</c> of one group, in group order, as found while the state version was <c>Version</c>.</summary>
    private sealed class ScalarCells
    {
        public required ParamGroup Group;
        public required string Key;
        public bool Known;
        public int Version;
        public StateTensor[] Cells = [];
    }

    private ScalarCells[] _scalarCells = []; // one per (group, key) that fused steps ask about: a handful

    /// <summary>
    /// The float32 0-dim state tensors <paramref name="key"/> of group <paramref name="groupIndex"/>'s parameters, or null
    /// when a parameter has none; remembered (in place) until the state changes, so a fused step finds them without lookups.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private StateTensor[]? ScalarCellsOf(int groupIndex, string key)
    {
        var group = _groups[groupIndex];
        ScalarCells? entry = null;
        foreach (var c in _scalarCells)
            if (ReferenceEquals(c.Group, group) && c.Key == key)
            {
                if (c.Known && c.Version == _stateVersion)
                    return c.Cells;
                entry = c;
                break;
            }
        if (entry is null)
        {
            entry = new ScalarCells { Group = group, Key = key };
            Array.Resize(ref _scalarCells, _scalarCells.Length + 1);
            _scalarCells[^1] = entry;
        }
        entry.Known = false;
        if (entry.Cells.Length != group.ParamList.Count)
            entry.Cells = new StateTensor[group.ParamList.Count];
        int n = 0;
        foreach (var p in group.ParamList)
        {
            if (!_state.TryGetValue(p, out var st) || !st.Values.TryGetValue(key, out var v) || v is not StateTensor { DType: ScalarType.Float32, Length: 1 } t)
                return null;
            entry.Cells[n++] = t;
        }
        entry.Known = true;
        entry.Version = _stateVersion;
        return entry.Cells;
    }

    /// <summary>
    /// For a generated model's fused step (after <see cref="GroupScalarsAgree"/>): the value of the 0-dim state
    /// <paramref name="key"/> of the first parameter of group <paramref name="groupIndex"/>, as <c>.item()</c> gives it.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double GroupScalar(int groupIndex, string key) =>
        ScalarCellsOf(groupIndex, key) is { Length: > 0 } cells ? cells[0].ToScalar() : StateOf(_groups[groupIndex].ParamList[0]).Tensor(key).ToScalar();

    /// <summary>
    /// For a generated model's fused step: sets the 0-dim state <paramref name="key"/> of every parameter of group
    /// <paramref name="groupIndex"/> to <paramref name="value"/> (rounded to the tensor's type), as <see cref="Step"/>
    /// does parameter by parameter.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SetGroupScalar(int groupIndex, string key, double value)
    {
        if (ScalarCellsOf(groupIndex, key) is { } cells)
        {
            foreach (var t in cells)
                t.SetItem(value);
            return;
        }
        foreach (var p in _groups[groupIndex].ParamList)
            StateOf(p).Tensor(key).SetItem(value);
    }

    private static bool TryGetStep(ParamState st, string key, out double step)
    {
        step = double.NaN;
        if (!st.Values.TryGetValue(key, out var v))
            return false;
        switch (v)
        {
            case StateTensor t when t.Length == 1:
                step = t.ToScalar();
                return true;
            case PyInt i:
                step = i.Value;
                return true;
            case long l: // a loaded Python int, not yet in a cell
                step = l;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The arena slice for state <paramref name="key"/> of <paramref name="p"/> (allocating the key's arena), or null.</summary>
    private StateTensor? ArenaView(OptimParameter p, string key)
    {
        if (_arenaOffsets is null || p.DType != ScalarType.Float32 || !_arenaOffsets.TryGetValue(p, out int offset))
            return null;
        if (!_arenas.TryGetValue(key, out var a))
        {
            // Pinned, so the 64-byte alignment found here holds for the array's lifetime.
            var array = GC.AllocateArray<float>(_arenaLength + AlignedBuffer.FloatAlignment, pinned: true);
            int start = AlignedBuffer.AlignmentOffset(array);
            _arenas[key] = a = (array, start);
            StateChanged();
        }
        return new StateTensor(a.Array, a.Start + offset, p.Shape);
    }

    /// <summary>Replaces parameter-shaped float32 state tensors of <paramref name="p"/> by arena slices holding the same values.</summary>
    private void MoveIntoArena(OptimParameter p, ParamState st)
    {
        if (_arenaOffsets is null || !_arenaOffsets.ContainsKey(p))
            return;
        foreach (var key in st.Values.Keys.ToList())
        {
            if (st.Values[key] is not StateTensor t || t.DType != ScalarType.Float32 || t.Shape.Count == 0 || !t.SameShape(p.Shape))
                continue;
            var view = ArenaView(p, key)!;
            if (!ReferenceEquals(view, t))
                t.Float32.CopyTo(view.Float32);
            st.Values[key] = view;
        }
    }
}
