using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace DslModels.Tests;

/// <summary>
/// The test assembly's entry point when it runs as a program rather than under <c>dotnet test</c>: xunit's own discoverer and
/// executor, in this process, over the test classes whose full names start with one of the arguments (all when none).
/// </summary>
/// <remarks>
/// It exists for machines that cannot host the test platform: <c>.ci/arm64-tests</c> publishes this project self-contained for
/// linux-arm64 and runs it under QEMU's user-mode emulation, so the Arm64 code paths (AdvSimd; the generated kernels' Vector128
/// path) run the same tests as x64. <c>dotnet test</c> does not call it (the test platform has its own host).
/// Usage: <c>DslModels.Runtime.Tests [--list] [class-name-prefix ...]</c>, or <c>--digest</c> (see <see cref="CrossPlatformDigest"/>).
/// Prints one line per failed test, then
/// <c>in-process: N passed, N failed, N skipped</c>; the exit code is 1 when a test failed or none ran.
/// </remarks>
public static class InProcessRunner
{
    public static int Main(string[] args)
    {
        if (args is ["--digest"])
        {
            CrossPlatformDigest.Print(Console.Out);
            return 0;
        }
        bool list = args.Contains("--list");
        var prefixes = args.Where(a => a != "--list").ToArray();
        var assembly = typeof(InProcessRunner).Assembly;
        var diagnostics = new Sink();
        using var framework = new XunitTestFramework(diagnostics);
        var discoverer = framework.GetDiscoverer(new ReflectionAssemblyInfo(assembly));
        var discovery = new Sink();
        discoverer.Find(includeSourceInformation: false, discovery, new Options());
        discovery.Done.WaitOne();
        var cases = discovery.TestCases
            .Where(c => prefixes.Length == 0 || prefixes.Any(p => c.TestMethod.TestClass.Class.Name.StartsWith(p, StringComparison.Ordinal)))
            .ToList();
        if (list)
        {
            foreach (var group in cases.GroupBy(c => c.TestMethod.TestClass.Class.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{group.Key} {group.Count()}"));
            return 0;
        }
        var clock = Stopwatch.StartNew();
        var execution = new Sink();
        using (var executor = framework.GetExecutor(assembly.GetName()))
        {
            executor.RunTests(cases, execution, new Options());
            execution.Done.WaitOne();
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"in-process: {execution.Passed} passed, {execution.Failed} failed, {execution.Skipped} skipped ({cases.Count} test cases of {prefixes.Length} class prefix(es), {clock.Elapsed.TotalSeconds:F0} s)"));
        return execution.Failed == 0 && execution.Passed > 0 ? 0 : 1;
    }

    /// <summary>Discovery and execution options: xunit's defaults (a missing key reads as null or default).</summary>
    private sealed class Options : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
    {
        private readonly Dictionary<string, object?> _values = new();

        public TValue GetValue<TValue>(string name) => _values.TryGetValue(name, out var v) && v is TValue t ? t : default!;

        public void SetValue<TValue>(string name, TValue value) => _values[name] = value;
    }

    /// <summary>Collects discovered test cases, or counts results and prints each failure.</summary>
#pragma warning disable xUnit3000 // LongLivedMarshalByRefObject is for .NET Framework's app domains; this runs in one .NET process
    private sealed class Sink : IMessageSink
#pragma warning restore xUnit3000
    {
        public readonly List<ITestCase> TestCases = new();
        public readonly ManualResetEvent Done = new(false);
        public int Passed, Failed, Skipped;

        public bool OnMessage(IMessageSinkMessage message)
        {
            switch (message)
            {
                case ITestCaseDiscoveryMessage found:
                    TestCases.Add(found.TestCase);
                    break;
                case IDiscoveryCompleteMessage:
                    Done.Set();
                    break;
                case ITestPassed:
                    Interlocked.Increment(ref Passed);
                    break;
                case ITestSkipped:
                    Interlocked.Increment(ref Skipped);
                    break;
                case ITestFailed failed:
                    Interlocked.Increment(ref Failed);
                    lock (this)
                    {
                        Console.WriteLine($"FAILED {failed.Test.DisplayName}");
                        Console.WriteLine("  " + string.Join(Environment.NewLine + "  ", failed.Messages.Where(m => m is not null)));
                        var trace = failed.StackTraces.FirstOrDefault(s => s is not null);
                        if (trace is not null) Console.WriteLine("  " + trace.Replace("\n", "\n  ", StringComparison.Ordinal));
                    }
                    break;
                case IErrorMessage error:
                    Interlocked.Increment(ref Failed);
                    lock (this) Console.WriteLine("ERROR " + string.Join(" | ", error.Messages.Where(m => m is not null)));
                    break;
                case ITestAssemblyFinished:
                    Done.Set();
                    break;
            }
            return true;
        }
    }
}
