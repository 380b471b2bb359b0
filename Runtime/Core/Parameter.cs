using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;

namespace DslModels;

/// <summary>
/// A named learnable tensor (PyTorch's <c>nn.Parameter</c>): a view of its values in a model's
/// parameter buffer and of its gradient, at the same offset, in the gradient buffer.
/// Names and shapes are PyTorch's <c>state_dict</c> ones (<c>hidden.weight</c> is <c>[out, in]</c>).
/// </summary>
public sealed class Parameter
{
    private readonly AlignedBuffer _data;
    private readonly AlignedBuffer _grad;
    private readonly int[] _shape;

    private readonly Action? _gradientReady;

    /// <summary>Creates a view of <paramref name="data"/> and <paramref name="grad"/> at <paramref name="offset"/>.</summary>
    public Parameter(string name, AlignedBuffer data, AlignedBuffer grad, int offset, params int[] shape)
        : this(name, data, grad, offset, null, shape)
    {
    }

    /// <summary>
    /// Creates a view of <paramref name="data"/> and <paramref name="grad"/> at <paramref name="offset"/> whose gradient a model may
    /// write late: <paramref name="gradientReady"/> (when not null) runs before every read of <see cref="Grad"/>, and must leave the
    /// gradient in the buffer. A generated model's TrainStep uses it to skip storing its first layer's weight gradient, which
    /// nothing in the step reads again, and computes it here only if something asks for it (the same bits).
    /// </summary>
    public Parameter(string name, AlignedBuffer data, AlignedBuffer grad, int offset, Action? gradientReady, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(grad);
        ArgumentNullException.ThrowIfNull(shape);
        int length = 1;
        foreach (int d in shape)
        {
            if (d < 0)
                throw new ArgumentOutOfRangeException(nameof(shape), $"shape of '{name}' must not have negative sizes; got [{string.Join(", ", shape)}].");
            length *= d;
        }
        if (offset < 0 || offset + length > data.Length || offset + length > grad.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"'{name}' needs floats [{offset}, {offset + length}) but the buffers hold {data.Length} and {grad.Length}.");
        Name = name;
        _data = data;
        _grad = grad;
        Offset = offset;
        Length = length;
        _shape = (int[])shape.Clone();
        Shape = new ReadOnlyCollection<int>(_shape);
        _gradientReady = gradientReady;
    }

    /// <summary>The <c>state_dict</c> key, e.g. <c>hidden.weight</c>.</summary>
    public string Name { get; }

    /// <summary>The shape, PyTorch's layout (row-major).</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>Offset of the first element in the model's parameter and gradient buffers.</summary>
    public int Offset { get; }

    /// <summary>The buffer <see cref="Data"/> is a view of.</summary>
    internal AlignedBuffer DataBuffer => _data;

    /// <summary>The values (row-major).</summary>
    public Span<float> Data => _data.Span.Slice(Offset, Length);

    /// <summary>
    /// The accumulated gradient (row-major), same layout as <see cref="Data"/>. A view of the model's gradient buffer as it is now:
    /// read it after the step whose gradient you want (a span taken before a TrainStep need not show that step's gradient).
    /// </summary>
    public Span<float> Grad
    {
        get
        {
            _gradientReady?.Invoke();
            return _grad.Span.Slice(Offset, Length);
        }
    }

    /// <summary>The shape as an array (a copy).</summary>
    public int[] GetShape() => (int[])_shape.Clone();

    /// <summary>Copies <paramref name="values"/> into <see cref="Data"/> after checking the length.</summary>
    public void CopyFrom(ReadOnlySpan<float> values)
    {
        if (values.Length != Length)
            throw new ArgumentException($"'{Name}' has shape [{string.Join(", ", _shape)}] = {Length} values; got {values.Length}.", nameof(values));
        values.CopyTo(Data);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{string.Join(", ", _shape.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";
}
