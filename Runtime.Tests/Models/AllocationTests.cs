using System;
using Xunit;
using static DslModels.Tests.Models.ModelHelpers;

namespace DslModels.Tests.Models;

/// <summary>After the first call at a batch size, the hot paths allocate no managed memory (counted, not timed).</summary>
public class AllocationTests
{
    [Fact]
    public void TrainStep_Forward_Predict_and_Backward_allocate_nothing_after_warm_up()
    {
        using var model = new FashionMlp();
        const int batch = 8;
        float[] x = Inputs(batch * FashionMlp.InputSize, 1), output = new float[batch * FashionMlp.OutputSize];
        int[] y = Classes(batch, FashionMlp.OutputSize, 2);
        model.TrainStep(x, y, batch);
        model.Predict(x, output, batch);

        AssertAllocatesNothing(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                model.TrainStep(x, y, batch);
                model.Forward(x, output, batch);
                model.Backward(output, batch);
                model.Predict(x, output, batch);
                model.Predict(x.AsSpan(0, FashionMlp.InputSize), output.AsSpan(0, FashionMlp.OutputSize), 1);
            }
        });
    }

    [Theory]
    [InlineData("SoftmaxMse")]
    [InlineData("LossCeSmooth")]
    [InlineData("LossBceLogits")]
    [InlineData("LossKl")]
    [InlineData("LossMlm")]
    public void Generated_training_with_other_losses_allocates_nothing_after_warm_up(string name)
    {
        var fixture = System.Text.Json.JsonDocument.Parse(System.IO.File.ReadAllText(System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "Losses.json"))).RootElement;
        var record = fixture.GetProperty("models").GetProperty(name);
        float[] x = System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Select(record.GetProperty("inputs")[0].EnumerateArray(), v => (float)v.GetDouble()));
        double[] t = System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Select(record.GetProperty("targets")[0].EnumerateArray(), v => v.GetDouble()));
        float[] tf = System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Select(t, v => (float)v));
        int[] ti = System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Select(t, v => (int)v));
        Action step = name switch
        {
            "LossCeSmooth" => Bind(new LossCeSmooth(), m => m.TrainStep(x, ti, 5)),
            "LossBceLogits" => Bind(new LossBceLogits(), m => m.TrainStep(x, tf, 5)),
            "LossKl" => Bind(new LossKl(), m => m.TrainStep(x, tf, 5)),
            "LossMlm" => Bind(new LossMlm(), m => m.TrainStep(x, ti, 5)),
            _ => Bind(new SoftmaxMse(), m => m.TrainStep(x, tf, 5)),
        };
        step();
        AssertAllocatesNothing(() =>
        {
            for (int i = 0; i < 5; i++)
                step();
        });
    }

    /// <summary>The check itself: code that allocates in every call fails it (its three windows all see the bytes).</summary>
    [Fact]
    public void The_allocation_check_catches_an_allocation_in_every_call()
    {
        object? sink = null;
        var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertAllocatesNothing(() => sink = new byte[16]));
        Assert.Contains("bytes allocated on this thread in each of three windows", failure.Message);
        GC.KeepAlive(sink);
    }

    private static Action Bind<T>(T model, Func<T, float> step) => () => step(model);
}
