using System.IO;
using Xunit;

namespace DslModels.Tests.Conformance;

/// <summary>Checks of the runner itself: cases load, ids are unique, and every suite has cases.</summary>
public class ConformanceRunnerTests
{
    [Theory]
    [InlineData("init")]
    [InlineData("loss")]
    [InlineData("optim")]
    [InlineData("schedule")]
    public void Bundled_suite_has_cases(string suite) => Assert.NotEmpty(ConformanceCases.Ids(suite));

    [Fact]
    public void Bundled_cases_are_in_the_test_output()
    {
        Assert.True(Directory.Exists(ConformanceCases.Directory), ConformanceCases.Directory);
    }
}
