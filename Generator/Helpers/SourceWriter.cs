using System;
using System.Globalization;
using System.Text;

namespace DslModels.Generator.Helpers;

/// <summary>An indenting text writer for emitted C#; <see cref="Block"/> opens a brace block closed on dispose.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public void Line(string text = "")
    {
        if (text.Length == 0)
        {
            _sb.Append('\n');
            return;
        }
        _sb.Append(' ', _indent * 4).Append(text).Append('\n');
    }

    public BlockScope Block(string header)
    {
        Line(header);
        Line("{");
        _indent++;
        return new BlockScope(this);
    }

    /// <summary>A bare <c>{ }</c> scope, so locals of one emitted section cannot clash with the next.</summary>
    public BlockScope Scope()
    {
        Line("{");
        _indent++;
        return new BlockScope(this);
    }

    public void Indent() => _indent++;

    public void Unindent() => _indent--;

    public override string ToString() => _sb.ToString();

    internal readonly struct BlockScope : IDisposable
    {
        private readonly SourceWriter _writer;

        public BlockScope(SourceWriter writer) => _writer = writer;

        public void Dispose()
        {
            _writer._indent--;
            _writer.Line("}");
        }
    }
}

/// <summary>Culture-invariant literals for emitted code.</summary>
internal static class Literals
{
    /// <summary>A float literal that reads back to the same float, e.g. <c>0.05f</c>.</summary>
    public static string Float(double value)
    {
        float f = (float)value;
        if (float.IsNaN(f)) return "float.NaN";
        if (float.IsPositiveInfinity(f)) return "float.PositiveInfinity";
        if (float.IsNegativeInfinity(f)) return "float.NegativeInfinity";
        return f.ToString("R", CultureInfo.InvariantCulture) + "f";
    }

    /// <summary>A double literal that reads back to the same double, e.g. <c>0.05</c> or <c>1E-05</c>.</summary>
    public static string Double(double value)
    {
        if (double.IsNaN(value)) return "double.NaN";
        if (double.IsPositiveInfinity(value)) return "double.PositiveInfinity";
        if (double.IsNegativeInfinity(value)) return "double.NegativeInfinity";
        string s = value.ToString("R", CultureInfo.InvariantCulture);
        return s.IndexOfAny(new[] { '.', 'E', 'e' }) >= 0 ? s : s + ".0";
    }

    /// <summary>A value as Python prints it, for PyTorch-style descriptions (<c>0.05</c>, <c>True</c>).</summary>
    public static string Py(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Py(bool value) => value ? "True" : "False";

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A grouped count for comments, e.g. <c>101,770</c>.</summary>
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string String(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (c < ' ') sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
