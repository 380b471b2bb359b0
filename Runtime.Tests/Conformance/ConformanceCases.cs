using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace DslModels.Tests.Conformance;

/// <summary>One case of ../shared/conformance (format: Conformance/FORMAT.md).</summary>
public sealed record ConformanceCase(string Suite, string Op, string Id, string File, JsonElement Json)
{
    public override string ToString() => Id;
}

/// <summary>
/// Loads the PyTorch conformance cases: by default the copy bundled with the tests
/// (Conformance/cases), or every *.json under the directory named by the environment variable
/// <c>DSLMODELS_CONFORMANCE_DIR</c>. Files are grouped by their "suite" field, so any layout works.
/// </summary>
public static class ConformanceCases
{
    public const string DirectoryVariable = "DSLMODELS_CONFORMANCE_DIR";

    private static readonly Lazy<Dictionary<string, ConformanceCase>> All = new(LoadAll);

    public static string Directory =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } dir
            ? dir
            : Path.Combine(AppContext.BaseDirectory, "Conformance", "cases");

    /// <summary>The ids of a suite's cases, for <c>[MemberData]</c>: one xunit test per case.</summary>
    public static TheoryData<string> Ids(string suite)
    {
        var data = new TheoryData<string>();
        foreach (var c in All.Value.Values.Where(c => c.Suite == suite).OrderBy(c => c.Id, StringComparer.Ordinal))
            data.Add(c.Id);
        return data;
    }

    public static ConformanceCase Get(string id) => All.Value[id];

    private static Dictionary<string, ConformanceCase> LoadAll()
    {
        string dir = Directory;
        if (!System.IO.Directory.Exists(dir))
            throw new DirectoryNotFoundException($"Conformance case directory '{dir}' does not exist (set {DirectoryVariable} or build the tests).");
        var cases = new Dictionary<string, ConformanceCase>(StringComparer.Ordinal);
        foreach (string file in System.IO.Directory.EnumerateFiles(dir, "*.json", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            JsonElement root = doc.RootElement.Clone();
            if (!root.TryGetProperty("suite", out var suite) || !root.TryGetProperty("cases", out var list))
                continue;
            foreach (JsonElement c in list.EnumerateArray())
            {
                string id = c.GetProperty("id").GetString()!;
                if (!cases.TryAdd(id, new ConformanceCase(suite.GetString()!, c.GetProperty("op").GetString()!, id, file, c)))
                    throw new InvalidDataException($"Duplicate conformance case id '{id}' in {file}.");
            }
        }
        return cases;
    }
}

/// <summary>A tensor of a case: shape, dtype and row-major values (as doubles; int64 values are exact up to 2^53).</summary>
public sealed record CaseTensor(int[] Shape, string DType, double[] Data)
{
    public bool IsFloat => DType is "float32" or "float64";

    public float[] ToFloat() => Data.Select(d => (float)d).ToArray();

    public int[] ToInt() => Data.Select(d => checked((int)d)).ToArray();

    public static CaseTensor Parse(JsonElement e)
    {
        int[] shape = e.GetProperty("shape").EnumerateArray().Select(s => s.GetInt32()).ToArray();
        string dtype = e.GetProperty("dtype").GetString()!;
        double[] data = e.GetProperty("data").EnumerateArray().Select(ParseNumber).ToArray();
        return new CaseTensor(shape, dtype, data);
    }

    public static double ParseNumber(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => v.GetDouble(),
        JsonValueKind.True => 1,
        JsonValueKind.False => 0,
        JsonValueKind.String => v.GetString() switch
        {
            "nan" => double.NaN,
            "inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            var s => double.Parse(s!, CultureInfo.InvariantCulture),
        },
        _ => throw new InvalidDataException($"Not a number: {v}"),
    };
}

/// <summary>FORMAT.md's comparison: |a - e| &lt;= atol + rtol·|e|, non-finite values equal exactly, -0 == 0.</summary>
public static class CaseTolerance
{
    public static (double Rtol, double Atol) For(JsonElement caseJson, string dtype, string? key = null)
    {
        bool f64 = dtype == "float64";
        double rtol = f64 ? 1e-10 : 1e-5, atol = f64 ? 1e-12 : 1e-6;
        if (caseJson.TryGetProperty("rtol", out var r)) rtol = r.GetDouble();
        if (caseJson.TryGetProperty("atol", out var a)) atol = a.GetDouble();
        if (key is not null && caseJson.TryGetProperty("tol", out var tol) && tol.TryGetProperty(key, out var t))
        {
            if (t.TryGetProperty("rtol", out var tr)) rtol = tr.GetDouble();
            if (t.TryGetProperty("atol", out var ta)) atol = ta.GetDouble();
        }
        return (rtol, atol);
    }

    public static void AssertClose(string what, ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double rtol, double atol)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            bool ok = double.IsFinite(e) ? Math.Abs(a - e) <= atol + rtol * Math.Abs(e) : e.Equals(a);
            Assert.True(ok, $"{what}[{i}]: expected {e.ToString("R", CultureInfo.InvariantCulture)}, got {a.ToString("R", CultureInfo.InvariantCulture)} (rtol {rtol}, atol {atol})");
        }
    }
}
