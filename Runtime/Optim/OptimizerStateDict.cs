using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace DslModels.Optim;

/// <summary>
/// An optimizer's saved state in PyTorch's <c>state_dict()</c> layout:
/// <code>
/// { "state": { "0": { "step": &lt;tensor&gt;, "exp_avg": &lt;tensor&gt;, ... }, ... },
///   "param_groups": [ { "lr": 0.001, "betas": [0.9, 0.999], ..., "params": [0, 1] }, ... ] }
/// </code>
/// Values: <see cref="StateTensor"/>, <see cref="long"/> (int), <see cref="double"/> (float), <see cref="bool"/>,
/// <see cref="string"/>, <c>null</c>, <see cref="double"/>[] (tuples), <see cref="List{T}"/> of values, and
/// <see cref="int"/>[] for <c>params</c>. <see cref="ToJson"/> writes tensors as
/// <c>{"shape": [...], "dtype": "float32", "data": [...]}</c> (the conformance format; non-finite numbers as
/// <c>"nan"</c>, <c>"inf"</c>, <c>"-inf"</c>), with round-trip-exact numbers.
/// </summary>
public sealed class OptimizerStateDict
{
    /// <summary>Per-parameter state by parameter index.</summary>
    public SortedDictionary<int, Dictionary<string, object?>> State { get; } = new();

    /// <summary>The param groups: options plus <c>params</c> (<see cref="int"/>[] of indices).</summary>
    public List<Dictionary<string, object?>> ParamGroups { get; } = [];

    internal static object? DeepCopy(object? v) => v switch
    {
        StateTensor t => t.Clone(),
        List<object?> l => l.Select(DeepCopy).ToList(),
        double[] a => (double[])a.Clone(),
        int[] a => (int[])a.Clone(),
        _ => v,
    };

    /// <summary>A deep copy.</summary>
    public OptimizerStateDict Clone()
    {
        var r = new OptimizerStateDict();
        foreach (var (k, v) in State)
            r.State[k] = v.ToDictionary(kv => kv.Key, kv => DeepCopy(kv.Value), StringComparer.Ordinal);
        foreach (var g in ParamGroups)
            r.ParamGroups.Add(g.ToDictionary(kv => kv.Key, kv => DeepCopy(kv.Value), StringComparer.Ordinal));
        return r;
    }

    /// <summary>Serializes to JSON (culture-invariant; numbers round-trip exactly).</summary>
    public string ToJson(bool indented = false)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartObject();
            w.WritePropertyName("state");
            w.WriteStartObject();
            foreach (var (k, entry) in State)
            {
                w.WritePropertyName(k.ToString(CultureInfo.InvariantCulture));
                WriteMap(w, entry);
            }
            w.WriteEndObject();
            w.WritePropertyName("param_groups");
            w.WriteStartArray();
            foreach (var g in ParamGroups)
                WriteMap(w, g);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/>.</summary>
    public void Save(string path) => File.WriteAllText(path, ToJson(indented: true));

    /// <summary>Reads a file written by <see cref="Save"/>.</summary>
    public static OptimizerStateDict Load(string path) => FromJson(File.ReadAllText(path));

    /// <summary>Parses the JSON of <see cref="ToJson"/> (or a PyTorch state dict exported in the same format).</summary>
    public static OptimizerStateDict FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var sd = new OptimizerStateDict();
        if (!root.TryGetProperty("state", out var state) || !root.TryGetProperty("param_groups", out var groups))
            throw new FormatException("an optimizer state dict needs 'state' and 'param_groups'.");
        foreach (var prop in state.EnumerateObject())
        {
            int index = int.Parse(prop.Name, NumberStyles.Integer, CultureInfo.InvariantCulture);
            var entry = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var kv in prop.Value.EnumerateObject())
                entry[kv.Name] = ReadValue(kv.Value);
            sd.State[index] = entry;
        }
        foreach (var g in groups.EnumerateArray())
        {
            var map = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var kv in g.EnumerateObject())
                map[kv.Name] = kv.Name == "params"
                    ? kv.Value.EnumerateArray().Select(e => e.GetInt32()).ToArray()
                    : ReadValue(kv.Value);
            sd.ParamGroups.Add(map);
        }
        return sd;
    }

    private static void WriteMap(Utf8JsonWriter w, Dictionary<string, object?> map)
    {
        w.WriteStartObject();
        foreach (var (k, v) in map)
        {
            w.WritePropertyName(k);
            WriteValue(w, v);
        }
        w.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter w, object? v)
    {
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case bool b: w.WriteBooleanValue(b); break;
            case long l: w.WriteNumberValue(l); break;
            case int i: w.WriteNumberValue(i); break;
            case double d: WriteDouble(w, d, isFloat: true); break;
            case string s: w.WriteStringValue(s); break;
            case int[] a:
                w.WriteStartArray();
                foreach (int x in a) w.WriteNumberValue(x);
                w.WriteEndArray();
                break;
            case double[] a:
                w.WriteStartArray();
                foreach (double x in a) WriteDouble(w, x, isFloat: true);
                w.WriteEndArray();
                break;
            case List<object?> list:
                w.WriteStartArray();
                foreach (var x in list) WriteValue(w, x);
                w.WriteEndArray();
                break;
            case StateTensor t:
                w.WriteStartObject();
                w.WritePropertyName("shape");
                w.WriteStartArray();
                foreach (int s in t.Shape) w.WriteNumberValue(s);
                w.WriteEndArray();
                w.WriteString("dtype", t.DType == ScalarType.Float32 ? "float32" : "float64");
                w.WritePropertyName("data");
                w.WriteStartArray();
                if (t.DType == ScalarType.Float32)
                    foreach (float f in t.Float32)
                    {
                        if (float.IsFinite(f)) w.WriteRawValue(f.ToString("R", CultureInfo.InvariantCulture));
                        else w.WriteStringValue(NonFinite(f));
                    }
                else
                    foreach (double d in t.Float64) WriteDouble(w, d, isFloat: false);
                w.WriteEndArray();
                w.WriteEndObject();
                break;
            default:
                throw new InvalidOperationException($"cannot serialize a {v.GetType().Name} in an optimizer state dict.");
        }
    }

    private static void WriteDouble(Utf8JsonWriter w, double d, bool isFloat)
    {
        if (!double.IsFinite(d))
        {
            w.WriteStringValue(NonFinite(d));
            return;
        }
        string s = d.ToString("R", CultureInfo.InvariantCulture);
        // Mark Python floats as floats ("1.0", not "1") so they read back as double, not int.
        if (isFloat && s.IndexOfAny(['.', 'E', 'e']) < 0)
            s += ".0";
        w.WriteRawValue(s);
    }

    private static string NonFinite(double d) => double.IsNaN(d) ? "nan" : d > 0 ? "inf" : "-inf";

    private static object? ReadValue(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Null: return null;
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.Number:
            {
                string raw = e.GetRawText();
                return raw.IndexOfAny(['.', 'E', 'e']) < 0 && e.TryGetInt64(out long l) ? (object)l : e.GetDouble();
            }
            case JsonValueKind.String:
                return e.GetString() switch
                {
                    "nan" => double.NaN,
                    "inf" => double.PositiveInfinity,
                    "-inf" => double.NegativeInfinity,
                    var s => s,
                };
            case JsonValueKind.Array:
            {
                var items = e.EnumerateArray().ToList();
                if (items.Count > 0 && items.All(x => x.ValueKind == JsonValueKind.Number))
                    return items.Select(x => x.GetDouble()).ToArray();
                return items.Select(ReadValue).ToList();
            }
            case JsonValueKind.Object:
                if (e.TryGetProperty("shape", out var shape) && e.TryGetProperty("dtype", out var dtype) && e.TryGetProperty("data", out var data))
                    return ReadTensor(shape, dtype.GetString(), data);
                throw new FormatException($"unexpected object in an optimizer state dict: {e.GetRawText()}");
            default:
                throw new FormatException($"unexpected JSON value: {e.GetRawText()}");
        }
    }

    private static StateTensor ReadTensor(JsonElement shapeElement, string? dtype, JsonElement data)
    {
        int[] shape = shapeElement.EnumerateArray().Select(s => s.GetInt32()).ToArray();
        var items = data.EnumerateArray().ToList();
        switch (dtype)
        {
            case "float32":
            {
                var f = new float[items.Count];
                for (int i = 0; i < f.Length; i++)
                    f[i] = items[i].ValueKind == JsonValueKind.String
                        ? (float)ParseNonFinite(items[i].GetString())
                        : float.Parse(items[i].GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture);
                return new StateTensor(shape, f);
            }
            case "float64":
            {
                var d = new double[items.Count];
                for (int i = 0; i < d.Length; i++)
                    d[i] = items[i].ValueKind == JsonValueKind.String ? ParseNonFinite(items[i].GetString()) : items[i].GetDouble();
                return new StateTensor(shape, d);
            }
            default:
                throw new FormatException($"unsupported state tensor dtype '{dtype}'.");
        }
    }

    private static double ParseNonFinite(string? s) => s switch
    {
        "nan" => double.NaN,
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        _ => throw new FormatException($"not a number: '{s}'."),
    };
}
