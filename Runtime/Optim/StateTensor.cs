using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DslModels.Optim;

/// <summary>
/// A tensor of optimizer state (PyTorch's state tensors: <c>exp_avg</c>, 0-dim <c>step</c>, …): a shape, an element
/// type and row-major values. Inside an optimizer these are the live buffers; <see cref="Optimizer.StateDict"/>
/// returns copies.
/// </summary>
public sealed class StateTensor
{
    private readonly float[]? _f;
    private readonly double[]? _d;
    private readonly int[] _shape;

    // float32 values are _f[_offset .. _offset + _length): the whole array, or a slice of an optimizer's state arena
    // (see Optimizer.AttachStateArena) when the tensor is the state of a generated model's parameter.
    private readonly int _offset;
    private readonly int _length;

    /// <summary>A zero tensor of <paramref name="dtype"/> and <paramref name="shape"/> (empty shape = 0-dim scalar).</summary>
    public StateTensor(ScalarType dtype, IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        _shape = [.. shape];
        long n = 1;
        foreach (int s in _shape)
        {
            if (s < 0)
                throw new ArgumentOutOfRangeException(nameof(shape), "shape sizes must be >= 0.");
            n *= s;
        }
        if (dtype == ScalarType.Float32)
        {
            _f = new float[n];
            _length = (int)n;
        }
        else
            _d = new double[n];
        DType = dtype;
        Shape = new ReadOnlyCollection<int>(_shape);
    }

    /// <summary>A float32 view of <paramref name="array"/>[<paramref name="offset"/>..] with <paramref name="shape"/> (a state arena slice).</summary>
    internal StateTensor(float[] array, int offset, IReadOnlyList<int> shape)
    {
        _shape = [.. shape];
        int n = 1;
        foreach (int d in _shape)
            n *= d;
        if (offset < 0 || offset + n > array.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"a view of [{offset}, {offset + n}) does not fit in {array.Length} values.");
        _f = array;
        _offset = offset;
        _length = n;
        DType = ScalarType.Float32;
        Shape = new ReadOnlyCollection<int>(_shape);
    }

    /// <summary>Whether the values are the slice of <paramref name="array"/> starting at <paramref name="offset"/>.</summary>
    internal bool IsViewOf(float[] array, int offset) => ReferenceEquals(_f, array) && _offset == offset;

    private Span<float> F
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _f.AsSpan(_offset, _length);
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>.</summary>
    public StateTensor(IReadOnlyList<int> shape, ReadOnlySpan<float> data) : this(ScalarType.Float32, shape)
    {
        if (data.Length != _length)
            throw new ArgumentException($"shape needs {_length} values; got {data.Length}.", nameof(data));
        data.CopyTo(F);
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>.</summary>
    public StateTensor(IReadOnlyList<int> shape, ReadOnlySpan<double> data) : this(ScalarType.Float64, shape)
    {
        if (data.Length != _d!.Length)
            throw new ArgumentException($"shape needs {_d.Length} values; got {data.Length}.", nameof(data));
        data.CopyTo(_d);
    }

    /// <summary>A 0-dim float32 tensor (PyTorch's <c>step</c>, ASGD's <c>eta</c>/<c>mu</c>, NAdam's <c>mu_product</c>).</summary>
    public static StateTensor Float32Scalar(double value)
    {
        var t = new StateTensor(ScalarType.Float32, []);
        t.F[0] = (float)value;
        return t;
    }

    /// <summary>A 0-dim tensor of <paramref name="dtype"/>.</summary>
    public static StateTensor Scalar(ScalarType dtype, double value)
    {
        var t = new StateTensor(dtype, []);
        t.SetItem(value);
        return t;
    }

    /// <summary>The element type.</summary>
    public ScalarType DType { get; }

    /// <summary>The shape; empty for a 0-dim tensor.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Number of elements.</summary>
    public int Length
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _f is not null ? _length : _d!.Length;
    }

    /// <summary>The values of a float32 tensor.</summary>
    public Span<float> Float32
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _f is not null ? F : throw new InvalidOperationException("not a float32 tensor.");
    }

    /// <summary>The values of a float64 tensor.</summary>
    public Span<double> Float64 => _d ?? throw new InvalidOperationException("not a float64 tensor.");

    /// <summary>The values as <typeparamref name="T"/>, which must be the tensor's element type.</summary>
    public Span<T> Values<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float) && _f is not null)
            return MemoryMarshal.CreateSpan(ref Unsafe.As<float, T>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_f), _offset)), _length);
        if (typeof(T) == typeof(double) && _d is not null)
            return MemoryMarshal.CreateSpan(ref Unsafe.As<double, T>(ref MemoryMarshal.GetArrayDataReference(_d)), _d.Length);
        throw new InvalidOperationException($"state tensor is {DType}, not {typeof(T).Name}.");
    }

    /// <summary>Element <paramref name="index"/> as a double.</summary>
    public double this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _f is not null ? F[index] : _d![index];
    }

    /// <summary>The single value (PyTorch's <c>.item()</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double ToScalar()
    {
        if (Length != 1)
            throw new InvalidOperationException($"a tensor with {Length} elements cannot be converted to a scalar.");
        return this[0];
    }

    /// <summary>Sets the single value (rounded to the element type).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SetItem(double value)
    {
        if (Length != 1)
            throw new InvalidOperationException($"a tensor with {Length} elements is not a scalar.");
        if (_f is not null) F[0] = (float)value; else _d![0] = value;
    }

    /// <summary>The values as doubles (a copy).</summary>
    public double[] ToDoubleArray()
    {
        if (_d is not null) return (double[])_d.Clone();
        var f = F;
        var r = new double[f.Length];
        for (int i = 0; i < r.Length; i++) r[i] = f[i];
        return r;
    }

    /// <summary>A deep copy.</summary>
    public StateTensor Clone() => _f is not null ? new StateTensor(_shape, (ReadOnlySpan<float>)F) : new StateTensor(_shape, _d!);

    /// <summary>A copy converted to <paramref name="dtype"/>.</summary>
    public StateTensor To(ScalarType dtype)
    {
        if (dtype == DType) return Clone();
        var r = new StateTensor(dtype, _shape);
        if (dtype == ScalarType.Float32)
            for (int i = 0; i < _d!.Length; i++) r._f![i] = (float)_d[i];
        else
        {
            var f = F;
            for (int i = 0; i < f.Length; i++) r._d![i] = f[i];
        }
        return r;
    }

    internal bool SameShape(IReadOnlyList<int> shape)
    {
        if (shape.Count != _shape.Length) return false;
        for (int i = 0; i < _shape.Length; i++)
            if (shape[i] != _shape[i]) return false;
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => $"tensor({DType}, [{string.Join(", ", _shape)}])";
}
