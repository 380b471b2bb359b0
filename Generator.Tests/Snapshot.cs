using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Xunit;

namespace DslModels.Generator.Tests;

/// <summary>
/// Snapshot files in the Verify convention: the approved output is <c>Snapshots/{name}.verified.cs</c> beside the
/// tests; on a mismatch the new output is written to <c>{name}.received.cs</c> and the test fails with a line diff.
/// To approve, read the diff, then rename the .received file over the .verified one (or run the tests with
/// DSLMODELS_ACCEPT_SNAPSHOTS=1, which does that for every mismatch).
/// </summary>
internal static class Snapshot
{
    public static void Verify(string name, string actual, [CallerFilePath] string callerPath = "")
    {
        string dir = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots");
        string verified = Path.Combine(dir, name + ".verified.cs");
        string received = Path.Combine(dir, name + ".received.cs");
        actual = actual.Replace("\r\n", "\n", StringComparison.Ordinal);
        string expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n", StringComparison.Ordinal) : string.Empty;
        if (expected == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        if (Environment.GetEnvironmentVariable("DSLMODELS_ACCEPT_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(verified, actual, new UTF8Encoding(false));
            return;
        }
        File.WriteAllText(received, actual, new UTF8Encoding(false));
        Assert.Fail($"Snapshot '{name}' differs from {verified} (new output in {received}):\n{Diff(expected, actual)}");
    }

    private static string Diff(string expected, string actual)
    {
        var model = InlineDiffBuilder.Diff(expected, actual);
        var sb = new StringBuilder();
        int shown = 0, line = 0;
        foreach (var l in model.Lines)
        {
            line++;
            if (l.Type == ChangeType.Unchanged) continue;
            sb.Append(l.Type == ChangeType.Inserted ? "+ " : l.Type == ChangeType.Deleted ? "- " : "~ ")
              .Append(line).Append(": ").AppendLine(l.Text);
            if (++shown == 60) { sb.AppendLine("... (more differences)"); break; }
        }
        return sb.ToString();
    }
}
