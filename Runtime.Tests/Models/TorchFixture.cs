using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace DslModels.Tests.Models;

/// <summary>PyTorch's numbers for a test model (Fixtures/*.json, written by tools/make_model_fixtures.py).</summary>
public sealed class TorchFixture
{
    private readonly JsonElement _root;

    public TorchFixture(string model)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", model + ".json");
        _root = JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone();
    }

    public int Batch => _root.GetProperty("batch").GetInt32();

    public int Steps => _root.GetProperty("loss").GetArrayLength();

    public float[] Input(int step) => Data(_root.GetProperty("inputs")[step]).Select(v => (float)v).ToArray();

    public double[] Target(int step) => Data(_root.GetProperty("targets")[step]);

    public double Loss(int step) => _root.GetProperty("loss")[step].GetDouble();

    public JsonElement Initial => _root.GetProperty("initial");

    public JsonElement After(int step) => _root.GetProperty("params_after_step")[step];

    private static double[] Data(JsonElement t) => t.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();

    /// <summary>Checks every parameter against the fixture: all values, or the first 64 and float64 sums for large ones.</summary>
    public static void AssertParameters(string when, JsonElement expected, IModel model, double rtol, double atol)
    {
        Assert.Equal(expected.EnumerateObject().Count(), model.Parameters.Count);
        foreach (var p in model.Parameters)
        {
            JsonElement e = expected.GetProperty(p.Name);
            Assert.Equal(e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()), p.Shape);
            float[] actual = p.Data.ToArray();
            if (e.TryGetProperty("data", out var data))
            {
                ModelHelpers.AssertClose($"{when} {p.Name}", data.EnumerateArray().Select(v => v.GetDouble()).ToArray(), actual, rtol, atol);
                continue;
            }
            double[] first = e.GetProperty("first").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            ModelHelpers.AssertClose($"{when} {p.Name} (first 64)", first, actual.AsSpan(0, first.Length), rtol, atol);
            double sum = actual.Sum(v => (double)v), sumAbs = actual.Sum(v => Math.Abs((double)v)), sumSq = actual.Sum(v => (double)v * v);
            double scale = actual.Length;
            rtol = Math.Max(rtol, 1e-12); // the float64 sums themselves differ in summation order
            Assert.True(Math.Abs(sum - e.GetProperty("sum").GetDouble()) <= scale * atol + rtol * sumAbs, $"{when} {p.Name}: sum {sum:R} vs {e.GetProperty("sum").GetDouble():R}");
            Assert.True(Math.Abs(sumAbs - e.GetProperty("sum_abs").GetDouble()) <= scale * atol + rtol * sumAbs, $"{when} {p.Name}: sum_abs");
            Assert.True(Math.Abs(sumSq - e.GetProperty("sum_sq").GetDouble()) <= scale * atol + 2 * rtol * sumSq, $"{when} {p.Name}: sum_sq");
        }
    }
}
