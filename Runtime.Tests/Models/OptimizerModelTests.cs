using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using DslModels.Optim;
using DslModels.Optim.Schedulers;
using Xunit;
using static DslModels.Tests.Models.ModelHelpers;

namespace DslModels.Tests.Models;

/// <summary>Generated models with every optimizer they can drive, against PyTorch (Fixtures/Optimizers.json).</summary>
public class OptimizerModelTests
{
    private static readonly JsonElement Fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Optimizers.json"))).RootElement.Clone();

    public static TheoryData<string> Names => new(Fixture.GetProperty("models").EnumerateObject().Select(p => p.Name));

    private static (IModel Model, Func<float[], int[], int, float> Step) Create(string name) => name switch
    {
        "OptAdam" => Bind(new OptAdam(), (m, x, y, b) => m.TrainStep(x, y, b)),
        "OptAdamW" => Bind(new OptAdamW(), (m, x, y, b) => m.TrainStep(x, y, b)),
        "OptAdagrad" => Bind(new OptAdagrad(), (m, x, y, b) => m.TrainStep(x, y, b)),
        "OptRMSprop" => Bind(new OptRMSprop(), (m, x, y, b) => m.TrainStep(x, y, b)),
        "OptAdadelta" => Bind(new OptAdadelta(), (m, x, y, b) => m.TrainStep(x, y, b)),
        "OptAdamax" => Bind(new OptAdamax(), (m, x, y, b) => m.TrainStep(x, y, b)),
        "OptAsgd" => Bind(new OptAsgd(), (m, x, y, b) => m.TrainStep(x, y, b)),
        "OptRprop" => Bind(new OptRprop(), (m, x, y, b) => m.TrainStep(x, y, b)),
        "OptNAdam" => Bind(new OptNAdam(), (m, x, y, b) => m.TrainStep(x, y, b)),
        "OptRAdam" => Bind(new OptRAdam(), (m, x, y, b) => m.TrainStep(x, y, b)),
        "OptSgdGroups" => Bind(new OptSgdGroups(), (m, x, y, b) => m.TrainStep(x, y, b)),
        _ => throw new ArgumentException($"no model for fixture '{name}'", nameof(name)),
    };

    private static (IModel, Func<float[], int[], int, float>) Bind<T>(T model, Func<T, float[], int[], int, float> step) where T : IModel =>
        (model, (x, y, b) => step(model, x, y, b));

    [Theory]
    [MemberData(nameof(Names))]
    public void TrainStep_follows_pytorch(string name)
    {
        JsonElement record = Fixture.GetProperty("models").GetProperty(name);
        int batch = Fixture.GetProperty("batch").GetInt32();
        var (model, step) = Create(name);
        using (model)
        {
            for (int s = 0; s < record.GetProperty("loss").GetArrayLength(); s++)
            {
                float[] x = Fixture.GetProperty("inputs")[s].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
                int[] y = Fixture.GetProperty("targets")[s].EnumerateArray().Select(v => v.GetInt32()).ToArray();
                float loss = step(x, y, batch);
                ModelHelpers.AssertMatchesTorchStep(name, record, s, loss, model);
            }
        }
    }

    [Fact]
    public void Param_groups_come_from_the_declaration()
    {
        using var model = new OptSgdGroups();
        var groups = model.Optimizer.ParamGroups;
        Assert.Equal(3, groups.Count);
        Assert.Equal(0.05, groups[0].GetDouble("weight_decay"));
        Assert.Equal(0.0, groups[1].GetDouble("weight_decay"));
        Assert.Equal(0.01, groups[2].LearningRate);
        Assert.Equal(0.5, groups[2].GetDouble("momentum"));
        Assert.Equal(0.9, groups[0].GetDouble("momentum"));
    }

    [Fact]
    public void A_scheduler_drives_the_generated_model_and_its_state_round_trips()
    {
        using var model = new OptAdam();
        var scheduler = new StepLR(model.Optimizer, stepSize: 2, gamma: 0.5);
        var x = Fixture.GetProperty("inputs")[0].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        var y = Fixture.GetProperty("targets")[0].EnumerateArray().Select(v => v.GetInt32()).ToArray();
        for (int i = 0; i < 4; i++)
        {
            model.TrainStep(x, y, 5);
            scheduler.Step();
        }
        Assert.Equal(0.05 * 0.25, model.Optimizer.ParamGroups[0].LearningRate, 12);

        // Save mid-training, continue two ways, and compare bit for bit.
        string saved = model.Optimizer.StateDict().ToJson();
        float[][] parameters = ModelHelpers.Snapshot(model);
        using var resumed = new OptAdam();
        for (int k = 0; k < parameters.Length; k++)
            resumed.Parameters[k].CopyFrom(parameters[k]);
        resumed.Optimizer.LoadStateDict(OptimizerStateDict.FromJson(saved));
        for (int i = 0; i < 3; i++)
        {
            model.TrainStep(x, y, 5);
            resumed.TrainStep(x, y, 5);
        }
        for (int k = 0; k < parameters.Length; k++)
            Assert.True(model.Parameters[k].Data.SequenceEqual(resumed.Parameters[k].Data), model.Parameters[k].Name);
    }

    [Fact]
    public void Gradient_clipping_works_between_Backward_and_Step()
    {
        using var model = new OptAdam();
        var x = Fixture.GetProperty("inputs")[0].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        float[] output = new float[5 * 4];
        model.ZeroGrad();
        model.Forward(x, output, 5);
        model.Backward(Enumerable.Repeat(10f, output.Length).ToArray(), 5);
        double norm = ClipGrad.ClipGradNorm(model.Parameters, maxNorm: 1.0);
        Assert.True(norm > 1.0);
        double after = Math.Sqrt(model.Parameters.Sum(p => p.Grad.ToArray().Sum(g => (double)g * g)));
        Assert.Equal(1.0, after, 5);
        model.Step();
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Training_allocates_nothing_after_warm_up(string name)
    {
        var (model, step) = Create(name);
        using (model)
        {
            var x = Fixture.GetProperty("inputs")[0].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            var y = Fixture.GetProperty("targets")[0].EnumerateArray().Select(v => v.GetInt32()).ToArray();
            step(x, y, 5);
            AssertAllocatesNothing(() =>
            {
                for (int i = 0; i < 5; i++)
                    step(x, y, 5);
            });
        }
    }
}
