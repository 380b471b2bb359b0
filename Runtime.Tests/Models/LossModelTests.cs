using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace DslModels.Tests.Models;

/// <summary>Every loss a generated model trains with, against PyTorch's trajectory (Fixtures/Losses.json).</summary>
public class LossModelTests
{
    private static readonly JsonElement Fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Losses.json"))).RootElement.Clone();

    public static TheoryData<string> Names => new(Fixture.GetProperty("models").EnumerateObject().Select(p => p.Name));

    private static (IModel Model, Func<float[], double[], int, float> Step) Create(string name)
    {
        static int[] I(double[] t) => t.Select(v => (int)v).ToArray();
        static float[] F(double[] t) => t.Select(v => (float)v).ToArray();
        switch (name)
        {
            case "LossL1": { var m = new LossL1(); return (m, (x, t, b) => m.TrainStep(x, F(t), b)); }
            case "LossSmoothL1": { var m = new LossSmoothL1(); return (m, (x, t, b) => m.TrainStep(x, F(t), b)); }
            case "LossHuber": { var m = new LossHuber(); return (m, (x, t, b) => m.TrainStep(x, F(t), b)); }
            case "LossNll": { var m = new LossNll(); return (m, (x, t, b) => m.TrainStep(x, I(t), b)); }
            case "LossCeSmooth": { var m = new LossCeSmooth(); return (m, (x, t, b) => m.TrainStep(x, I(t), b)); }
            case "LossBce": { var m = new LossBce(); return (m, (x, t, b) => m.TrainStep(x, F(t), b)); }
            case "LossBceLogits": { var m = new LossBceLogits(); return (m, (x, t, b) => m.TrainStep(x, F(t), b)); }
            case "LossKl": { var m = new LossKl(); return (m, (x, t, b) => m.TrainStep(x, F(t), b)); }
            case "LossPoisson": { var m = new LossPoisson(); return (m, (x, t, b) => m.TrainStep(x, F(t), b)); }
            case "LossSoftMargin": { var m = new LossSoftMargin(); return (m, (x, t, b) => m.TrainStep(x, F(t), b)); }
            case "LossMlsm": { var m = new LossMlsm(); return (m, (x, t, b) => m.TrainStep(x, F(t), b)); }
            case "LossMultiMargin": { var m = new LossMultiMargin(); return (m, (x, t, b) => m.TrainStep(x, I(t), b)); }
            case "LossMlm": { var m = new LossMlm(); return (m, (x, t, b) => m.TrainStep(x, I(t), b)); }
            case "LossHinge": { var m = new LossHinge(); return (m, (x, t, b) => m.TrainStep(x, F(t), b)); }
            case "SoftmaxMse": { var m = new SoftmaxMse(); return (m, (x, t, b) => m.TrainStep(x, F(t), b)); }
            default: throw new ArgumentException($"no model for fixture '{name}'", nameof(name));
        }
    }

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
                float[] x = record.GetProperty("inputs")[s].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
                double[] t = record.GetProperty("targets")[s].EnumerateArray().Select(v => v.GetDouble()).ToArray();
                float loss = step(x, t, batch);
                ModelHelpers.AssertMatchesTorchStep(name, record, s, loss, model);
            }
        }
    }

    [Fact]
    public void Bad_targets_are_rejected_before_anything_changes()
    {
        using var bce = new LossBce();
        var before = ModelHelpers.Snapshot(bce);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => bce.TrainStep(new float[6], new[] { 0f, 1f, 1.5f, 0f }, 1));
        Assert.Equal("targets", e.ParamName);
        Assert.Contains("targets[2] = 1.5", e.Message);
        ModelHelpers.AssertUnchanged(before, bce);

        using var mlm = new LossMlm();
        var m = Assert.Throws<ArgumentOutOfRangeException>(() => mlm.TrainStep(new float[6], new[] { 0, 4, -1, -1 }, 1));
        Assert.Contains("targets[1] = 4", m.Message);

        using var mm = new LossMultiMargin();
        var c = Assert.Throws<ArgumentOutOfRangeException>(() => mm.TrainStep(new float[6], new[] { -100 }, 1));
        Assert.Contains("[0, 4)", c.Message);
    }

    public static TheoryData<string> SiameseNames => new(Fixture.GetProperty("siamese").EnumerateObject().Select(p => p.Name));

    /// <summary>Pairwise and triplet losses: the generated siamese TrainStep follows PyTorch's model(x1), model(x2)[, model(x3)].</summary>
    [Theory]
    [MemberData(nameof(SiameseNames))]
    public void Siamese_TrainStep_follows_pytorch(string name)
    {
        JsonElement record = Fixture.GetProperty("siamese").GetProperty(name);
        int batch = Fixture.GetProperty("batch").GetInt32();
        IModel model = name switch
        {
            "PairRanking" => new PairRanking(),
            "PairCosine" => new PairCosine(),
            "TripletNet" => new TripletNet(),
            "TripletDistanceNet" => new TripletDistanceNet(),
            _ => throw new ArgumentException(name, nameof(name)),
        };
        using (model)
        {
            for (int s = 0; s < record.GetProperty("loss").GetArrayLength(); s++)
            {
                float[][] x = record.GetProperty("inputs")[s].EnumerateArray().Select(a => a.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
                float[] t = record.GetProperty("targets").GetArrayLength() > s ? record.GetProperty("targets")[s].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray() : [];
                float loss = model switch
                {
                    PairRanking m => m.TrainStep(x[0], x[1], t, batch),
                    PairCosine m => m.TrainStep(x[0], x[1], t, batch),
                    TripletNet m => m.TrainStep(x[0], x[1], x[2], batch),
                    TripletDistanceNet m => m.TrainStep(x[0], x[1], x[2], batch),
                    _ => throw new InvalidOperationException(),
                };
                ModelHelpers.AssertMatchesTorchStep(name, record, s, loss, model);
            }
        }
    }

    [Fact]
    public void Siamese_ComputeLoss_matches_TrainStep_and_checks_lengths()
    {
        using var model = new TripletNet();
        float[] a = new float[2 * 6], p = new float[2 * 6], n = new float[2 * 6];
        for (int i = 0; i < a.Length; i++) { a[i] = i * 0.1f; p[i] = i * 0.05f; n[i] = -i * 0.07f; }
        float[] oa = new float[8], op = new float[8], on = new float[8];
        model.Predict(a, oa, 2);
        model.Predict(p, op, 2);
        model.Predict(n, on, 2);
        float expected = model.ComputeLoss(oa, op, on, 2);
        Assert.Equal(expected, model.TrainStep(a, p, n, 2));
        var e = Assert.Throws<ArgumentException>(() => model.TrainStep(a, p, new float[5], 2));
        Assert.Equal("negative", e.ParamName);
    }

    [Fact]
    public void GaussianNLL_with_per_sample_variances_follows_pytorch()
    {
        JsonElement record = Fixture.GetProperty("gaussian");
        int batch = Fixture.GetProperty("batch").GetInt32();
        using var model = new LossGaussian();
        for (int s = 0; s < record.GetProperty("loss").GetArrayLength(); s++)
        {
            float[] F(string key) => record.GetProperty(key)[s].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            float loss = model.TrainStep(F("inputs"), F("targets"), F("variances"), batch);
            ModelHelpers.AssertMatchesTorchStep("GaussianNLL", record, s, loss, model);
        }
        var before = ModelHelpers.Snapshot(model);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainStep(new float[6], new float[4], [-1f], 1));
        Assert.Equal("variance", e.ParamName);
        var l = Assert.Throws<ArgumentException>(() => model.TrainStep(new float[6], new float[4], new float[3], 1));
        Assert.Contains("got 3", l.Message);
        ModelHelpers.AssertUnchanged(before, model);
    }
}
