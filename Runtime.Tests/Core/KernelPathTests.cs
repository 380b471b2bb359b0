using System;
using System.Runtime.Intrinsics;
using Xunit;

namespace DslModels.Tests.Core;

public class KernelPathTests
{
    /// <summary>
    /// CI runs the runtime tests once per code path, with runtime settings that select it, and names the path it expects in
    /// DSLMODELS_EXPECT_KERNEL_PATH: this checks that each run really exercised the path it is meant to cover.
    /// </summary>
    [Fact]
    public void The_kernel_path_is_the_one_the_run_selected()
    {
        string? expected = Environment.GetEnvironmentVariable("DSLMODELS_EXPECT_KERNEL_PATH");
        if (string.IsNullOrEmpty(expected))
        {
            // No expectation set: at least the widest accelerated vector must be the one reported.
            if (Vector512.IsHardwareAccelerated)
                Assert.Equal(KernelPath.Vector512, KernelPaths.Current);
            else if (!Vector128.IsHardwareAccelerated)
                Assert.Equal(KernelPath.Scalar, KernelPaths.Current);
            return;
        }
        Assert.Equal(Enum.Parse<KernelPath>(expected), KernelPaths.Current);
    }
}
