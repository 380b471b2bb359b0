using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Linq;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace DslModels.Optim;

/// <summary>The element type of a parameter or state tensor.</summary>
public enum ScalarType
{
    /// <summary>torch.float32.</summary>
    Float32,
    /// <summary>torch.float64.</summary>
    Float64,
}

/// <summary>
/// A tensor an optimizer can update: values, an optional gradient and a shape. This is the optimizers' parameter
/// abstraction, in two element types: <see cref="OptimParameter{T}"/> with <c>T</c> = <see cref="float"/> or
/// <see cref="double"/>. Model parameters (<see cref="Parameter"/>, float32 views of a model's arena) are wrapped by
/// <see cref="From(Parameter)"/> (always the same wrapper for the same parameter, so identity works as in PyTorch);
/// stand-alone tensors of either precision are <see cref="TensorParameter{T}"/>.
/// </summary>
public abstract class OptimParameter
{
    private int[]? _sparseRows;

    private protected OptimParameter() { }

    /// <summary>A name for messages (e.g. <c>hidden.weight</c>), or null.</summary>
    public abstract string? Name { get; }

    /// <summary>The shape (row-major).</summary>
    public abstract IReadOnlyList<int> Shape { get; }

    /// <summary>Number of elements.</summary>
    public abstract int Length { get; }

    /// <summary>The element type.</summary>
    public abstract ScalarType DType { get; }

    /// <summary>Whether the gradient exists (PyTorch: <c>p.grad is not None</c>). Optimizers skip parameters without one.</summary>
    public abstract bool HasGrad { get; }

    /// <summary>
    /// Sparse gradient (PyTorch's sparse COO gradient of an embedding): when not null, only these rows (indices along
    /// dimension 0, sorted, distinct) of <c>Grad</c> are present; other rows are absent (not zero). Only
    /// <c>SparseAdam</c> and <c>Adagrad</c> accept sparse gradients; LBFGS densifies them.
    /// </summary>
    public int[]? SparseGradRows
    {
        get => _sparseRows;
        set
        {
            if (value is not null)
            {
                if (Shape.Count == 0)
                    throw new ArgumentException("a 0-dim tensor cannot have a sparse gradient.", nameof(value));
                for (int i = 0; i < value.Length; i++)
                    if (value[i] < 0 || value[i] >= Shape[0] || (i > 0 && value[i] <= value[i - 1]))
                        throw new ArgumentException($"sparse gradient rows must be sorted, distinct and in [0, {Shape[0]}).", nameof(value));
            }
            _sparseRows = value is null ? null : (int[])value.Clone();
        }
    }

    /// <summary>Elements per row along dimension 0.</summary>
    internal int RowLength => Shape.Count == 0 || Shape[0] == 0 ? Length : Length / Shape[0];

    /// <summary>Zeroes the gradient, or removes it when <paramref name="setToNone"/> and the tensor supports that.</summary>
    public abstract void ZeroGrad(bool setToNone);

    /// <summary>The optimizer view of a model parameter (cached: the same wrapper for the same parameter).</summary>
    public static ModelParameter From(Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        return Cache.GetValue(parameter, static p => new ModelParameter(p));
    }

    /// <summary>Wraps a model parameter (see <see cref="From(Parameter)"/>).</summary>
    public static implicit operator OptimParameter(Parameter parameter) => From(parameter);

    private static readonly ConditionalWeakTable<Parameter, ModelParameter> Cache = new();

    internal string Describe() => Name ?? $"tensor [{string.Join(", ", Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))}]";

    /// <inheritdoc />
    public override string ToString() => Describe();
}

/// <summary>A parameter with elements of type <typeparamref name="T"/> (float or double).</summary>
public abstract class OptimParameter<T> : OptimParameter where T : unmanaged, IFloatingPointIeee754<T>
{
    private protected OptimParameter()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"optimizer parameters must be float or double, not {typeof(T).Name}.");
    }

    /// <inheritdoc />
    public sealed override ScalarType DType => typeof(T) == typeof(float) ? ScalarType.Float32 : ScalarType.Float64;

    /// <summary>The values (row-major).</summary>
    public abstract Span<T> Data { get; }

    /// <summary>The gradient, same layout as <see cref="Data"/>; throws when <see cref="OptimParameter.HasGrad"/> is false.</summary>
    public abstract Span<T> Grad { get; }
}

/// <summary>A model's <see cref="Parameter"/> (float32) as an optimizer parameter. Its gradient always exists.</summary>
public sealed class ModelParameter : OptimParameter<float>
{
    internal ModelParameter(Parameter parameter) => Parameter = parameter;

    /// <summary>The wrapped model parameter.</summary>
    public Parameter Parameter { get; }

    /// <inheritdoc />
    public override string? Name => Parameter.Name;

    /// <inheritdoc />
    public override IReadOnlyList<int> Shape => Parameter.Shape;

    /// <inheritdoc />
    public override int Length => Parameter.Length;

    /// <inheritdoc />
    public override bool HasGrad
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        get => true;
    }

    /// <inheritdoc />
    public override Span<float> Data => Parameter.Data;

    /// <inheritdoc />
    public override Span<float> Grad => Parameter.Grad;

    /// <summary>Zeroes the gradient. A model's gradient buffer cannot be None, so <paramref name="setToNone"/> also zeroes.</summary>
    public override void ZeroGrad(bool setToNone) => Parameter.Grad.Clear();
}

/// <summary>A stand-alone tensor parameter owning its values and (optional) gradient.</summary>
public sealed class TensorParameter<T> : OptimParameter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _data;
    private T[]? _grad;
    private readonly int[] _shape;

    /// <summary>Creates a parameter of <paramref name="shape"/> holding a copy of <paramref name="values"/>; it has no gradient yet.</summary>
    public TensorParameter(ReadOnlySpan<T> values, int[] shape, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0)
                throw new ArgumentOutOfRangeException(nameof(shape), "shape sizes must be >= 0.");
            n *= d;
        }
        if (n != values.Length)
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] needs {n} values; got {values.Length}.", nameof(values));
        _data = values.ToArray();
        _shape = (int[])shape.Clone();
        Shape = new ReadOnlyCollection<int>(_shape);
        Name = name;
    }

    /// <summary>Creates a 1-D parameter.</summary>
    public TensorParameter(params T[] values) : this(values, [values.Length]) { }

    /// <inheritdoc />
    public override string? Name { get; }

    /// <inheritdoc />
    public override IReadOnlyList<int> Shape { get; }

    /// <inheritdoc />
    public override int Length => _data.Length;

    /// <inheritdoc />
    public override bool HasGrad => _grad is not null;

    /// <inheritdoc />
    public override Span<T> Data => _data;

    /// <inheritdoc />
    public override Span<T> Grad => _grad ?? throw new InvalidOperationException($"{Describe()} has no gradient.");

    /// <summary>Sets the gradient (creating it if it was None).</summary>
    public void SetGrad(ReadOnlySpan<T> gradient)
    {
        if (gradient.Length != _data.Length)
            throw new ArgumentException($"gradient needs {_data.Length} values; got {gradient.Length}.", nameof(gradient));
        _grad ??= new T[_data.Length];
        gradient.CopyTo(_grad);
    }

    /// <summary>Creates a zero gradient if there is none, and returns it.</summary>
    public Span<T> EnsureGrad() => _grad ??= new T[_data.Length];

    /// <inheritdoc />
    public override void ZeroGrad(bool setToNone)
    {
        if (setToNone)
            _grad = null;
        else if (_grad is not null)
            Array.Clear(_grad);
    }
}
