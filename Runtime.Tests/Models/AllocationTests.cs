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

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            model.TrainStep(x, y, batch);
            model.Forward(x, output, batch);
            model.Backward(output, batch);
            model.Predict(x, output, batch);
            model.Predict(x.AsSpan(0, FashionMlp.InputSize), output.AsSpan(0, FashionMlp.OutputSize), 1);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }
}
