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
        CheckShape(shape);
        long receptive = 1;
        for (int i = 2; i < shape.Length; i++)
            receptive *= shape[i];
        long fanIn = shape[1] * receptive, fanOut = shape[0] * receptive;
        if (fanIn > int.MaxValue || fanOut > int.MaxValue)
            throw new ArgumentException($"Fans of shape [{Format(shape)}] exceed int.MaxValue.", nameof(shape));
        return ((int)fanIn, (int)fanOut);
    }

    /// <summary>
    /// <c>_calculate_correct_fan(tensor, mode)</c>: fan_in or fan_out per <paramref name="mode"/>, which is
    /// compared case-insensitively (<c>"FAN_OUT"</c> is accepted, as in PyTorch).
    /// </summary>
    /// <exception cref="ArgumentException">Mode is neither fan_in nor fan_out, or the shape has fewer than 2 dimensions.</exception>
    public static int CalculateCorrectFan(ReadOnlySpan<int> shape, string mode)
    {
        ArgumentNullException.ThrowIfNull(mode);
        string lower = mode.ToLowerInvariant();
        if (lower != "fan_in" && lower != "fan_out")
            throw new ArgumentException($"Mode {lower} not supported, please use one of ['fan_in', 'fan_out']", nameof(mode));
        var (fanIn, fanOut) = CalculateFanInAndFanOut(shape);
        return lower == "fan_in" ? fanIn : fanOut;
    }

    /// <summary><c>uniform_(tensor, a=0, b=1)</c>.</summary>
    public static void Uniform(Span<float> tensor, TorchGenerator generator, double a = 0, double b = 1)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (!(a <= b))
            throw new ArgumentException($"uniform_ expects to return a [from, to) range, but found from={Fmt(a)} > to={Fmt(b)}", nameof(a));
        if (!((double)(float)b - (float)a <= float.MaxValue))
            throw new ArgumentException($"uniform_ expects to-from <= std::numeric_limits<float>::max(), but found to={Fmt(b)} and from={Fmt(a)} which result in to-from to exceed the limit", nameof(b));
        generator.FillUniform(tensor, a, b);
    }

    /// <summary><c>normal_(tensor, mean=0, std=1)</c>.</summary>
    public static void Normal(Span<float> tensor, TorchGenerator generator, double mean = 0, double std = 1)
    {
        ArgumentNullException.ThrowIfNull(generator);
        CheckStd(std);
        generator.FillNormal(tensor, mean, std);
    }

    /// <summary>
    /// <c>trunc_normal_(tensor, mean=0, std=1, a=-2, b=2)</c>: values from N(mean, std²) restricted to [a, b]
    /// (<paramref name="a"/>, <paramref name="b"/> are absolute bounds, not in units of std). PyTorch's inverse-CDF
    /// method, step for step: l = Φ((a−mean)/std), u = Φ((b−mean)/std) with Φ(z) = (1 + erf(z/√2))/2 in double;
    /// v ~ U(2l−1, 2u−1) (float32 <c>uniform_</c>, one draw per element); t = erfinv(v)·(std·√2) + mean in float32;
    /// clamp to [a, b]. PyTorch only warns when mean is more than 2 std outside [a, b]; this method does not warn.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">std is not positive and finite, mean is not finite, a or b is NaN.</exception>
    /// <exception cref="ArgumentException">a &gt; b.</exception>
    public static void TruncNormal(Span<float> tensor, TorchGenerator generator, double mean = 0, double std = 1, double a = -2, double b = 2)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (!double.IsFinite(mean))
            throw new ArgumentOutOfRangeException(nameof(mean), mean, $"trunc_normal_ expects a finite mean, but found mean {Fmt(mean)}");
        if (!(std > 0) || double.IsInfinity(std))
            throw new ArgumentOutOfRangeException(nameof(std), std, $"trunc_normal_ expects a finite std > 0.0, but found std {Fmt(std)} (PyTorch divides by std)");
        if (double.IsNaN(a))
            throw new ArgumentOutOfRangeException(nameof(a), a, "trunc_normal_ expects a lower bound a that is a number, but found nan");
        if (double.IsNaN(b))
            throw new ArgumentOutOfRangeException(nameof(b), b, "trunc_normal_ expects an upper bound b that is a number, but found nan");
        if (a > b)
            throw new ArgumentException($"trunc_normal_ expects a <= b, but found a={Fmt(a)} > b={Fmt(b)}", nameof(a));
        double l = NormCdf((a - mean) / std);
        double u = NormCdf((b - mean) / std);
        double from = 2 * l - 1, to = 2 * u - 1;
        float scale = (float)(std * Math.Sqrt(2.0));
        float shift = (float)mean, lo = (float)a, hi = (float)b;
        for (int i = 0; i < tensor.Length; i++)
        {
            float v = generator.NextUniformFloat(from, to);
            float t = (float)SpecialFunctions.Erfinv(v);
            t *= scale;
            t += shift;
            tensor[i] = t < lo ? lo : t > hi ? hi : t;
        }
    }

    /// <summary><c>constant_(tensor, val)</c>.</summary>
    public static void Constant(Span<float> tensor, double value) => tensor.Fill((float)value);

    /// <summary><c>zeros_(tensor)</c>.</summary>
    public static void Zeros(Span<float> tensor) => tensor.Clear();

    /// <summary><c>ones_(tensor)</c>.</summary>
    public static void Ones(Span<float> tensor) => tensor.Fill(1f);

    /// <summary><c>eye_(tensor)</c>: the (rectangular) identity, 1 where row == column, else 0. 2-D tensors only.</summary>
    /// <exception cref="ArgumentException">The shape is not 2-D or does not match the tensor's length.</exception>
    public static void Eye(Span<float> tensor, ReadOnlySpan<int> shape)
    {
        if (shape.Length != 2)
            throw new ArgumentException($"Only tensors with 2 dimensions are supported (got shape [{Format(shape)}]).", nameof(shape));
        CheckLength(tensor, shape);
        tensor.Clear();
        int rows = shape[0], cols = shape[1];
        for (int i = 0; i < Math.Min(rows, cols); i++)
            tensor[i * cols + i] = 1f;
    }

    /// <summary>
    /// <c>dirac_(tensor, groups=1)</c>: the identity convolution kernel for 3-, 4- and 5-D weights
    /// [out, in, k…]: zeros, then for each group g and d &lt; min(out/groups, in) a 1 at
    /// [g·out/groups + d, d, k₀/2, k₁/2, …] (centre tap, integer division).
    /// </summary>
    /// <exception cref="ArgumentException">Not 3/4/5-D, shape[0] not divisible by groups, or shape/tensor mismatch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">groups &lt; 1.</exception>
    public static void Dirac(Span<float> tensor, ReadOnlySpan<int> shape, int groups = 1)
    {
        if (shape.Length is < 3 or > 5)
            throw new ArgumentException($"Only tensors with 3, 4, or 5 dimensions are supported (got shape [{Format(shape)}]).", nameof(shape));
        if (groups < 1)
            throw new ArgumentOutOfRangeException(nameof(groups), groups, $"dirac_ expects groups >= 1, but found groups={groups.ToString(CultureInfo.InvariantCulture)}");
        CheckLength(tensor, shape);
        if (shape[0] % groups != 0)
            throw new ArgumentException($"dim 0 must be divisible by groups (dim 0 is {shape[0].ToString(CultureInfo.InvariantCulture)}, groups is {groups.ToString(CultureInfo.InvariantCulture)}).", nameof(groups));
        tensor.Clear();
        int outPerGroup = shape[0] / groups;
        int minDim = Math.Min(outPerGroup, shape[1]);
        // Row-major strides and the offset of the centre tap within one [k…] block.
        int kernelSize = 1, centre = 0;
        for (int i = 2; i < shape.Length; i++)
        {
            centre = centre * shape[i] + shape[i] / 2;
            kernelSize *= shape[i];
        }
        int inStride = kernelSize, outStride = shape[1] * kernelSize;
        for (int g = 0; g < groups; g++)
            for (int d = 0; d < minDim; d++)
                tensor[(g * outPerGroup + d) * outStride + d * inStride + centre] = 1f;
    }

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
        ArgumentNullException.ThrowIfNull(generator);
        CheckLength(weight, weightShape);
        CheckBias(bias, weightShape);
        KaimingUniform(weight, weightShape, generator, a: Math.Sqrt(5.0));
        LinearDefaultBias(bias, weightShape, generator);
    }

    /// <summary>The bias part of <see cref="LinearDefault"/>: U(-1/√fan_in, 1/√fan_in) with fan_in from the weight's shape.</summary>
    public static void LinearDefaultBias(Span<float> bias, ReadOnlySpan<int> weightShape, TorchGenerator generator)
    {
        CheckBias(bias, weightShape);
        int fanIn = CalculateFanInAndFanOut(weightShape).FanIn;
        double bound = fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0.0;
        Uniform(bias, generator, -bound, bound);
    }

    /// <summary>
    /// <c>orthogonal_(tensor, gain=1)</c>: a (semi-)orthogonal matrix scaled by <paramref name="gain"/>. The tensor is
    /// viewed as rows = shape[0] by cols = numel/rows; rows·cols N(0,1) values are drawn (one <c>normal_</c> call, as
    /// PyTorch); a wide matrix is transposed; Householder QR (in double); Q's columns are multiplied by sign(diag R)
    /// (sign(0) = 0, as <c>torch.sign</c>); transposed back; times gain. Rows are orthonormal·gain when rows ≤ cols,
    /// columns when rows &gt; cols. The draws match PyTorch's; the result matches it to float32 rounding
    /// (the sign-corrected Q of a full-rank matrix is unique, whatever LAPACK does).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 dimensions, or shape/tensor mismatch.</exception>
    public static void Orthogonal(Span<float> tensor, ReadOnlySpan<int> shape, TorchGenerator generator, double gain = 1)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (shape.Length < 2)
            throw new ArgumentException($"Only tensors with 2 or more dimensions are supported (got shape [{Format(shape)}]).", nameof(shape));
        CheckLength(tensor, shape);
        if (tensor.IsEmpty)
            return;
        int rows = shape[0];
        int cols = tensor.Length / rows;
        var flat = new float[tensor.Length];
        generator.FillNormal(flat, 0, 1);

        // A: m×n with m >= n (the transpose of the draws when the matrix is wide), in double.
        bool wide = rows < cols;
        int m = wide ? cols : rows, n = wide ? rows : cols;
        var a = new double[m * n];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                if (wide) a[j * n + i] = flat[i * cols + j];
                else a[i * n + j] = flat[i * cols + j];
            }
        var q = HouseholderQ(a, m, n);

        float g = (float)gain;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                double v = wide ? q[j * n + i] : q[i * n + j];
                tensor[i * cols + j] = (float)v * g;
            }
    }

    /// <summary>
    /// <c>sparse_(tensor, sparsity, std=0.01)</c>: fills the 2-D tensor from N(0, std²), then for each column (in order)
    /// draws a permutation of the rows (<see cref="TorchGenerator.RandPerm"/>, torch 1.13's <c>randperm</c>) and zeroes
    /// the first ceil(sparsity·rows) rows of it, so every column has exactly that many zeros (all of them when
    /// sparsity ≥ 1, as PyTorch's slicing).
    /// </summary>
    /// <exception cref="ArgumentException">Not 2-D, or shape/tensor mismatch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">sparsity negative or not finite (PyTorch silently zeroes the wrong count), std negative.</exception>
    public static void Sparse(Span<float> tensor, ReadOnlySpan<int> shape, TorchGenerator generator, double sparsity, double std = 0.01)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (shape.Length != 2)
            throw new ArgumentException($"Only tensors with 2 dimensions are supported (got shape [{Format(shape)}]).", nameof(shape));
        CheckLength(tensor, shape);
        if (!(sparsity >= 0) || double.IsInfinity(sparsity))
            throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, $"sparse_ expects a finite sparsity >= 0 (the fraction of zeros per column), but found sparsity {Fmt(sparsity)}");
        CheckStd(std);
        int rows = shape[0], cols = shape[1];
        int numZeros = (int)Math.Min(rows, Math.Ceiling(sparsity * rows));
        generator.FillNormal(tensor, 0, std);
        var perm = new int[rows];
        for (int col = 0; col < cols; col++)
        {
            generator.RandPerm(perm);
            for (int k = 0; k < numZeros; k++)
                tensor[perm[k] * cols + col] = 0f;
        }
    }

    /// <summary>Φ(z) = (1 + erf(z/√2)) / 2, as <c>trunc_normal_</c>'s <c>norm_cdf</c>.</summary>
    private static double NormCdf(double z) => (1.0 + SpecialFunctions.Erf(z / Math.Sqrt(2.0))) / 2.0;

    /// <summary>
    /// The m×n Q of the reduced QR of the row-major m×n matrix <paramref name="a"/> (m ≥ n; overwritten), with
    /// column j multiplied by sign(R[j, j]). Householder reflections as LAPACK's geqrf: R[k,k] = −sign(a_kk)·‖x‖.
    /// </summary>
    private static double[] HouseholderQ(double[] a, int m, int n)
    {
        var tau = new double[n];
        var rDiag = new double[n];
        for (int k = 0; k < n; k++)
        {
            double alpha = a[k * n + k];
            double scale = 0;
            for (int i = k + 1; i < m; i++)
                scale = Math.Max(scale, Math.Abs(a[i * n + k]));
            if (scale == 0)
            {
                tau[k] = 0; // H = I, R[k,k] = alpha (LAPACK's dlarfg)
                rDiag[k] = alpha;
                continue;
            }
            scale = Math.Max(scale, Math.Abs(alpha));
            double sum = 0;
            for (int i = k; i < m; i++)
            {
                double t = a[i * n + k] / scale;
                sum += t * t;
            }
            double beta = -Math.CopySign(scale * Math.Sqrt(sum), alpha);
            tau[k] = (beta - alpha) / beta;
            double inv = 1.0 / (alpha - beta);
            for (int i = k + 1; i < m; i++)
                a[i * n + k] *= inv; // v = [1, a[k+1.., k]]
            rDiag[k] = beta;
            // Apply H = I − tau·v·vᵀ to the remaining columns.
            for (int j = k + 1; j < n; j++)
            {
                double dot = a[k * n + j];
                for (int i = k + 1; i < m; i++)
                    dot += a[i * n + k] * a[i * n + j];
                dot *= tau[k];
                a[k * n + j] -= dot;
                for (int i = k + 1; i < m; i++)
                    a[i * n + j] -= dot * a[i * n + k];
            }
        }
        // Q = H_0 H_1 … H_{n-1} · I[:, :n], applied right to left.
        var q = new double[m * n];
        for (int j = 0; j < n; j++)
            q[j * n + j] = 1;
        for (int k = n - 1; k >= 0; k--)
        {
            if (tau[k] == 0)
                continue;
            for (int j = k; j < n; j++)
            {
                double dot = q[k * n + j];
                for (int i = k + 1; i < m; i++)
                    dot += a[i * n + k] * q[i * n + j];
                dot *= tau[k];
                q[k * n + j] -= dot;
                for (int i = k + 1; i < m; i++)
                    q[i * n + j] -= dot * a[i * n + k];
            }
        }
        for (int j = 0; j < n; j++)
        {
            double s = Math.Sign(rDiag[j]);
            for (int i = 0; i < m; i++)
                q[i * n + j] *= s;
        }
        return q;
    }

    private static void CheckStd(double std)
    {
        if (!(std >= 0))
            throw new ArgumentOutOfRangeException(nameof(std), std, $"normal expects std >= 0.0, but found std {Fmt(std)}");
    }

    private static void CheckBias(Span<float> bias, ReadOnlySpan<int> weightShape)
    {
        CheckShape(weightShape);
        if (weightShape.Length < 1 || bias.Length != weightShape[0])
            throw new ArgumentException($"bias holds {bias.Length} values but the weight of shape [{Format(weightShape)}] needs one per output (shape[0]).", nameof(bias));
    }

    private static void CheckShape(ReadOnlySpan<int> shape)
    {
        foreach (int d in shape)
            if (d < 0)
                throw new ArgumentException($"shape must not have negative sizes; got [{Format(shape)}].", nameof(shape));
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
        int fan = CalculateCorrectFan(shape, mode);
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
