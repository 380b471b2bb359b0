using System;
using System.Globalization;

namespace DslModels;

/// <summary>
/// <c>torch.nn.init</c>: PyTorch's initialisers with its names, defaults, math and errors
/// (../docs/init.md). Every method fills a row-major tensor of the given shape in place, drawing
/// from the given <see cref="TorchGenerator"/> in PyTorch's order.
/// </summary>
public static class Init
{
    /// <summary><c>calculate_gain(nonlinearity, param)</c>: the recommended gain for a nonlinearity.</summary>
    /// <exception cref="ArgumentException">Unknown nonlinearity, or a leaky_relu slope that is not a finite number.</exception>
    public static double CalculateGain(string nonlinearity, double? param = null)
    {
        ArgumentNullException.ThrowIfNull(nonlinearity);
        switch (nonlinearity)
        {
            case "linear":
            case "conv1d":
            case "conv2d":
            case "conv3d":
            case "conv_transpose1d":
            case "conv_transpose2d":
            case "conv_transpose3d":
            case "sigmoid":
                return 1.0;
            case "tanh":
                return 5.0 / 3;
            case "relu":
                return Math.Sqrt(2.0);
            case "leaky_relu":
                double slope = param ?? 0.01;
                if (double.IsNaN(slope) || double.IsInfinity(slope))
                    throw new ArgumentException($"negative_slope {slope.ToString(CultureInfo.InvariantCulture)} not a valid number", nameof(param));
                return Math.Sqrt(2.0 / (1 + slope * slope));
            case "selu":
                return 3.0 / 4;
            default:
                throw new ArgumentException($"Unsupported nonlinearity {nonlinearity}", nameof(nonlinearity));
        }
    }

    /// <summary><c>_calculate_fan_in_and_fan_out</c>: fan_in = shape[1]·prod(shape[2:]), fan_out = shape[0]·prod(shape[2:]).</summary>
    /// <exception cref="ArgumentException">The shape has fewer than 2 dimensions.</exception>
    public static (int FanIn, int FanOut) CalculateFanInAndFanOut(ReadOnlySpan<int> shape)
    {
        if (shape.Length < 2)
            throw new ArgumentException($"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got shape [{Format(shape)}]).", nameof(shape));
        int receptive = 1;
        for (int i = 2; i < shape.Length; i++)
            receptive *= shape[i];
        return (shape[1] * receptive, shape[0] * receptive);
    }

    /// <summary><c>uniform_(tensor, a=0, b=1)</c>.</summary>
    public static void Uniform(Span<float> tensor, TorchGenerator generator, double a = 0, double b = 1)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (a > b)
            throw new ArgumentException($"uniform_ expects to return a [from, to) range, but found from={Fmt(a)} > to={Fmt(b)}", nameof(a));
        generator.FillUniform(tensor, a, b);
    }

    /// <summary><c>normal_(tensor, mean=0, std=1)</c>.</summary>
    public static void Normal(Span<float> tensor, TorchGenerator generator, double mean = 0, double std = 1)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (!(std >= 0))
            throw new ArgumentOutOfRangeException(nameof(std), std, $"normal expects std >= 0.0, but found std {Fmt(std)}");
        generator.FillNormal(tensor, mean, std);
    }

    /// <summary><c>constant_(tensor, val)</c>.</summary>
    public static void Constant(Span<float> tensor, double value) => tensor.Fill((float)value);

    /// <summary><c>zeros_(tensor)</c>.</summary>
    public static void Zeros(Span<float> tensor) => tensor.Clear();

    /// <summary><c>ones_(tensor)</c>.</summary>
    public static void Ones(Span<float> tensor) => tensor.Fill(1f);

    /// <summary><c>xavier_uniform_(tensor, gain=1)</c>: U(-b, b) with b = gain·sqrt(6 / (fan_in + fan_out)).</summary>
    public static void XavierUniform(Span<float> tensor, ReadOnlySpan<int> shape, TorchGenerator generator, double gain = 1)
    {
        CheckLength(tensor, shape);
        double std = XavierStd(shape, gain);
        double bound = Math.Sqrt(3.0) * std;
        Uniform(tensor, generator, -bound, bound);
    }

    /// <summary><c>xavier_normal_(tensor, gain=1)</c>: N(0, std²) with std = gain·sqrt(2 / (fan_in + fan_out)).</summary>
    public static void XavierNormal(Span<float> tensor, ReadOnlySpan<int> shape, TorchGenerator generator, double gain = 1)
    {
        CheckLength(tensor, shape);
        Normal(tensor, generator, 0, XavierStd(shape, gain));
    }

    /// <summary><c>kaiming_uniform_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu')</c>: U(-b, b), b = gain·sqrt(3 / fan).</summary>
    public static void KaimingUniform(Span<float> tensor, ReadOnlySpan<int> shape, TorchGenerator generator, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu")
    {
        CheckLength(tensor, shape);
        if (tensor.IsEmpty)
            return; // PyTorch: "Initializing zero-element tensors is a no-op"
        double std = KaimingStd(shape, a, mode, nonlinearity);
        double bound = Math.Sqrt(3.0) * std;
        Uniform(tensor, generator, -bound, bound);
    }

    /// <summary><c>kaiming_normal_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu')</c>: N(0, std²), std = gain / sqrt(fan).</summary>
    public static void KaimingNormal(Span<float> tensor, ReadOnlySpan<int> shape, TorchGenerator generator, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu")
    {
        CheckLength(tensor, shape);
        if (tensor.IsEmpty)
            return;
        Normal(tensor, generator, 0, KaimingStd(shape, a, mode, nonlinearity));
    }

    /// <summary>
    /// <c>nn.Linear.reset_parameters</c>: weight <c>kaiming_uniform_(a=sqrt(5))</c> (= U(-1/√in, 1/√in)), then
    /// bias U(-1/√fan_in, 1/√fan_in) (bound 0 when fan_in is 0). Draws the weight first, then the bias, as PyTorch.
    /// </summary>
    public static void LinearDefault(Span<float> weight, ReadOnlySpan<int> weightShape, Span<float> bias, TorchGenerator generator)
    {
        KaimingUniform(weight, weightShape, generator, a: Math.Sqrt(5.0));
        LinearDefaultBias(bias, weightShape, generator);
    }

    /// <summary>The bias part of <see cref="LinearDefault"/>: U(-1/√fan_in, 1/√fan_in) with fan_in from the weight's shape.</summary>
    public static void LinearDefaultBias(Span<float> bias, ReadOnlySpan<int> weightShape, TorchGenerator generator)
    {
        int fanIn = CalculateFanInAndFanOut(weightShape).FanIn;
        double bound = fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0.0;
        Uniform(bias, generator, -bound, bound);
    }

    private static double XavierStd(ReadOnlySpan<int> shape, double gain)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(shape);
        if (fanIn + fanOut == 0)
            throw new ArgumentException($"xavier init needs fan_in + fan_out > 0; shape [{Format(shape)}] has none.", nameof(shape));
        return gain * Math.Sqrt(2.0 / (fanIn + fanOut));
    }

    private static double KaimingStd(ReadOnlySpan<int> shape, double a, string mode, string nonlinearity)
    {
        ArgumentNullException.ThrowIfNull(mode);
        var (fanIn, fanOut) = CalculateFanInAndFanOut(shape);
        int fan = mode.ToLowerInvariant() switch
        {
            "fan_in" => fanIn,
            "fan_out" => fanOut,
            _ => throw new ArgumentException($"Mode {mode.ToLowerInvariant()} not supported, please use one of ['fan_in', 'fan_out']", nameof(mode)),
        };
        double gain = CalculateGain(nonlinearity, a);
        return gain / Math.Sqrt(fan);
    }

    private static void CheckLength(Span<float> tensor, ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0)
                throw new ArgumentException($"shape must not have negative sizes; got [{Format(shape)}].", nameof(shape));
            n *= d;
        }
        if (n != tensor.Length)
            throw new ArgumentException($"tensor holds {tensor.Length} values but shape [{Format(shape)}] needs {n}.", nameof(tensor));
    }

    private static string Format(ReadOnlySpan<int> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++)
            parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        return string.Join(", ", parts);
    }

    private static string Fmt(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
