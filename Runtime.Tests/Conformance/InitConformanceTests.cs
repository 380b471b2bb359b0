using System;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace DslModels.Tests.Conformance;

/// <summary>
/// The "init" suite of Conformance/FORMAT.md: every <c>torch.nn.init</c> case, run against <see cref="DslModels.Init"/>.
/// Random initialisers are checked by their properties (bounds with the limits rounded to float32, sample mean and
/// std within 6 standard errors, orthogonality to 1e-4, zeros per column), deterministic ones exactly; error cases
/// must throw an <see cref="ArgumentException"/> (or subclass) and leave the tensor untouched.
/// </summary>
public class InitConformanceTests
{
    public static TheoryData<string> Cases => ConformanceCases.Ids("init");

    private const long Seed = 20240611;

    [Theory, MemberData(nameof(Cases))]
    public void Case(string id)
    {
        ConformanceCase c = ConformanceCases.Get(id);
        JsonElement json = c.Json;
        JsonElement options = json.TryGetProperty("options", out var o) ? o : default;
        bool expectError = json.TryGetProperty("expect_error", out var err);

        switch (c.Op)
        {
            case "calculate_gain":
                {
                    string nonlinearity = options.GetProperty("nonlinearity").GetString()!;
                    double? param = options.TryGetProperty("param", out var p) ? p.GetDouble() : null;
                    if (expectError)
                    {
                        var ex = Assert.ThrowsAny<ArgumentException>(() => DslModels.Init.CalculateGain(nonlinearity, param));
                        Assert.Contains(MessageOf(err), ex.Message, StringComparison.Ordinal);
                        return;
                    }
                    double expected = json.GetProperty("expected").GetProperty("gain").GetDouble();
                    AssertGain(expected, DslModels.Init.CalculateGain(nonlinearity, param));
                    return;
                }
            case "_calculate_fan_in_and_fan_out":
                {
                    int[] shape = Shape(json);
                    if (expectError)
                    {
                        var ex = Assert.ThrowsAny<ArgumentException>(() => DslModels.Init.CalculateFanInAndFanOut(shape));
                        Assert.Contains(MessageOf(err), ex.Message, StringComparison.Ordinal);
                        return;
                    }
                    var (fanIn, fanOut) = DslModels.Init.CalculateFanInAndFanOut(shape);
                    JsonElement expected = json.GetProperty("expected");
                    Assert.Equal(expected.GetProperty("fan_in").GetInt32(), fanIn);
                    Assert.Equal(expected.GetProperty("fan_out").GetInt32(), fanOut);
                    return;
                }
        }

        int[] tensorShape = Shape(json);
        int numel = tensorShape.Aggregate(1, (a, b) => checked(a * b));
        var tensor = new float[numel];
        Action<float[]> run = Runner(c.Op, tensorShape, options);

        if (expectError)
        {
            const float Sentinel = -12345.5f;
            tensor.AsSpan().Fill(Sentinel);
            var ex = Assert.ThrowsAny<ArgumentException>(() => run(tensor));
            Assert.Contains(MessageOf(err), ex.Message, StringComparison.Ordinal);
            Assert.All(tensor, v => Assert.Equal(Sentinel, v)); // raised before anything was written
            return;
        }

        tensor.AsSpan().Fill(float.NaN); // every element must be written
        run(tensor);
        CheckExpected(c.Op, json.GetProperty("expected"), tensorShape, options, tensor);
    }

    private static Action<float[]> Runner(string op, int[] shape, JsonElement options)
    {
        double D(string name, double fallback) =>
            options.ValueKind == JsonValueKind.Object && options.TryGetProperty(name, out var v) ? v.GetDouble() : fallback;
        string S(string name, string fallback) =>
            options.ValueKind == JsonValueKind.Object && options.TryGetProperty(name, out var v) ? v.GetString()! : fallback;
        int I(string name, int fallback) =>
            options.ValueKind == JsonValueKind.Object && options.TryGetProperty(name, out var v) ? v.GetInt32() : fallback;
        var g = new TorchGenerator(Seed);
        return op switch
        {
            "uniform_" => t => DslModels.Init.Uniform(t, g, D("a", 0), D("b", 1)),
            "normal_" => t => DslModels.Init.Normal(t, g, D("mean", 0), D("std", 1)),
            "trunc_normal_" => t => DslModels.Init.TruncNormal(t, g, D("mean", 0), D("std", 1), D("a", -2), D("b", 2)),
            "constant_" => t => DslModels.Init.Constant(t, D("val", double.NaN)),
            "ones_" => t => DslModels.Init.Ones(t),
            "zeros_" => t => DslModels.Init.Zeros(t),
            "eye_" => t => DslModels.Init.Eye(t, shape),
            "dirac_" => t => DslModels.Init.Dirac(t, shape, I("groups", 1)),
            "xavier_uniform_" => t => DslModels.Init.XavierUniform(t, shape, g, D("gain", 1)),
            "xavier_normal_" => t => DslModels.Init.XavierNormal(t, shape, g, D("gain", 1)),
            "kaiming_uniform_" => t => DslModels.Init.KaimingUniform(t, shape, g, D("a", 0), S("mode", "fan_in"), S("nonlinearity", "leaky_relu")),
            "kaiming_normal_" => t => DslModels.Init.KaimingNormal(t, shape, g, D("a", 0), S("mode", "fan_in"), S("nonlinearity", "leaky_relu")),
            "orthogonal_" => t => DslModels.Init.Orthogonal(t, shape, g, D("gain", 1)),
            "sparse_" => t => DslModels.Init.Sparse(t, shape, g, D("sparsity", double.NaN), D("std", 0.01)),
            _ => throw new Xunit.Sdk.XunitException($"init op '{op}' has no runner"),
        };
    }

    private static void CheckExpected(string op, JsonElement expected, int[] shape, JsonElement options, float[] t)
    {
        if (expected.TryGetProperty("fan_in", out var fi))
        {
            var (fanIn, fanOut) = DslModels.Init.CalculateFanInAndFanOut(shape);
            Assert.Equal(fi.GetInt32(), fanIn);
            Assert.Equal(expected.GetProperty("fan_out").GetInt32(), fanOut);
        }
        if (op.StartsWith("kaiming_", StringComparison.Ordinal) && expected.TryGetProperty("gain", out var kg))
        {
            double a = options.TryGetProperty("a", out var av) ? av.GetDouble() : 0;
            string nl = options.TryGetProperty("nonlinearity", out var nv) ? nv.GetString()! : "leaky_relu";
            AssertGain(kg.GetDouble(), DslModels.Init.CalculateGain(nl, a));
        }

        string distribution = expected.GetProperty("distribution").GetString()!;
        switch (distribution)
        {
            case "exact":
                {
                    var values = CaseTensor.Parse(expected.GetProperty("values"));
                    Assert.Equal(shape, values.Shape);
                    Assert.Equal(values.Data.Length, t.Length);
                    for (int i = 0; i < t.Length; i++)
                        Assert.True((float)values.Data[i] == t[i], $"[{i}]: expected {values.Data[i].ToString("R", CultureInfo.InvariantCulture)}, got {t[i].ToString("R", CultureInfo.InvariantCulture)}");
                    return;
                }
            case "uniform":
            case "trunc_normal":
                AssertWithin(t, expected.GetProperty("low").GetDouble(), expected.GetProperty("high").GetDouble());
                if (expected.TryGetProperty("bound", out var bound))
                    AssertWithin(t, -bound.GetDouble(), bound.GetDouble());
                AssertMoments(t, expected);
                return;
            case "normal":
                AssertMoments(t, expected);
                return;
            case "orthogonal":
                AssertOrthogonal(t, shape, expected.GetProperty("gain").GetDouble());
                return;
            case "sparse":
                {
                    int rows = shape[0], cols = shape[1];
                    int zerosPerColumn = expected.GetProperty("zeros_per_column").GetInt32();
                    for (int j = 0; j < cols; j++)
                    {
                        int zeros = 0;
                        for (int i = 0; i < rows; i++)
                            if (t[i * cols + j] == 0) zeros++;
                        Assert.True(zeros == zerosPerColumn, FormattableString.Invariant($"column {j}: {zeros} zeros, expected {zerosPerColumn}"));
                    }
                    AssertMoments(t.Where(v => v != 0).ToArray(), expected);
                    return;
                }
            default:
                throw new Xunit.Sdk.XunitException($"unknown distribution '{distribution}'");
        }
    }

    private static void AssertWithin(float[] t, double low, double high)
    {
        float lo = (float)low, hi = (float)high;
        for (int i = 0; i < t.Length; i++)
            Assert.True(t[i] >= lo && t[i] <= hi, $"[{i}] = {t[i].ToString("R", CultureInfo.InvariantCulture)} outside [{lo.ToString("R", CultureInfo.InvariantCulture)}, {hi.ToString("R", CultureInfo.InvariantCulture)}]");
    }

    /// <summary>
    /// Sample mean within 6·σ/√n of <c>mean</c>; sample std within 6·σ/√(2n) of <c>std</c> (the standard error of a
    /// normal sample's std; uniform and truncated normal values have lighter tails, so it is conservative for them).
    /// </summary>
    private static void AssertMoments(float[] t, JsonElement expected)
    {
        double mean = expected.GetProperty("mean").GetDouble();
        double std = expected.GetProperty("std").GetDouble();
        int n = t.Length;
        Assert.True(n > 1, "too few values for a moment check");
        Assert.All(t, v => Assert.True(float.IsFinite(v), FormattableString.Invariant($"non-finite value {v}")));
        double m = t.Sum(v => (double)v) / n;
        double s = Math.Sqrt(t.Sum(v => ((double)v - m) * ((double)v - m)) / (n - 1));
        double seMean = std / Math.Sqrt(n), seStd = std / Math.Sqrt(2.0 * n);
        Assert.True(Math.Abs(m - mean) <= 6 * seMean, FormattableString.Invariant($"sample mean {m:R} vs {mean:R} (6 SE = {6 * seMean:R})"));
        Assert.True(Math.Abs(s - std) <= 6 * seStd, FormattableString.Invariant($"sample std {s:R} vs {std:R} (6 SE = {6 * seStd:R})"));
    }

    /// <summary>Rows of the rows×(numel/rows) matrix (columns when rows &gt; cols) are orthogonal with norm gain, to 1e-4.</summary>
    private static void AssertOrthogonal(float[] t, int[] shape, double gain)
    {
        int rows = shape[0], cols = t.Length / rows;
        bool byRows = rows <= cols;
        int k = byRows ? rows : cols, len = byRows ? cols : rows;
        double At(int vec, int e) => byRows ? t[vec * cols + e] : t[e * cols + vec];
        double tol = 1e-4 * Math.Max(1, gain * gain);
        for (int p = 0; p < k; p++)
            for (int q = p; q < k; q++)
            {
                double dot = 0;
                for (int e = 0; e < len; e++)
                    dot += At(p, e) * At(q, e);
                double want = p == q ? gain * gain : 0;
                Assert.True(Math.Abs(dot - want) <= tol, FormattableString.Invariant($"<{p},{q}> = {dot:R}, expected {want:R}"));
            }
    }

    private static void AssertGain(double expected, double actual)
    {
        const double Rtol = 1e-10, Atol = 1e-12; // float64 tolerance (FORMAT.md)
        Assert.True(Math.Abs(actual - expected) <= Atol + Rtol * Math.Abs(expected), FormattableString.Invariant($"gain: expected {expected:R}, got {actual:R}"));
    }

    private static int[] Shape(JsonElement json) => json.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>"ValueError: Unsupported nonlinearity gelu" → "Unsupported nonlinearity gelu".</summary>
    private static string MessageOf(JsonElement expectError)
    {
        string s = expectError.GetString()!;
        int colon = s.IndexOf(": ", StringComparison.Ordinal);
        return colon >= 0 ? s[(colon + 2)..] : s;
    }
}
