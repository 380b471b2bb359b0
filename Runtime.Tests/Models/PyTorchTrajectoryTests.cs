using System.Linq;
using Xunit;

namespace DslModels.Tests.Models;

/// <summary>
/// Generated models against PyTorch itself: the same seed gives PyTorch's initial weights (the runtime's
/// generator reproduces torch.manual_seed), and TrainStep follows PyTorch's loss and parameter trajectory.
/// </summary>
public class PyTorchTrajectoryTests
{
    [Fact]
    public void OddMlp_matches_pytorch_init_and_sgd_nesterov_steps()
    {
        var fixture = new TorchFixture("OddMlp");
        using var model = new OddMlp(seed: 3);
        // Uniform draws are bit-identical; fourth.weight (kaiming_normal_) differs from torch's float32 Box-Muller
        // (computed with float log/cos) by its rounding, a few parts per million.
        TorchFixture.AssertParameters("initial", fixture.Initial, model, 1e-5, 1e-7);
        Assert.True(model.First.Weight.Data.ToArray().SequenceEqual(
            fixture.Initial.GetProperty("first.weight").GetProperty("data").EnumerateArray().Select(v => (float)v.GetDouble())),
            "first.weight must equal torch.manual_seed(3); nn.Linear(19, 37) bit for bit");
        for (int s = 0; s < fixture.Steps; s++)
        {
            int[] targets = fixture.Target(s).Select(v => (int)v).ToArray();
            float loss = model.TrainStep(fixture.Input(s), targets, fixture.Batch);
            Assert.Equal(fixture.Loss(s), loss, 1e-5 * System.Math.Abs(fixture.Loss(s)) + 1e-6);
            TorchFixture.AssertParameters($"after step {s}", fixture.After(s), model, 1e-4, 2e-6);
        }
    }

    [Fact]
    public void FashionMlp_matches_pytorch_init_and_sgd_momentum_steps()
    {
        var fixture = new TorchFixture("FashionMlp");
        using var model = new FashionMlp(seed: 0);
        TorchFixture.AssertParameters("initial", fixture.Initial, model, 0, 0);
        for (int s = 0; s < fixture.Steps; s++)
        {
            int[] targets = fixture.Target(s).Select(v => (int)v).ToArray();
            float loss = model.TrainStep(fixture.Input(s), targets, fixture.Batch);
            Assert.Equal(fixture.Loss(s), loss, 1e-5 * System.Math.Abs(fixture.Loss(s)) + 1e-6);
            TorchFixture.AssertParameters($"after step {s}", fixture.After(s), model, 1e-4, 2e-6);
        }
    }

    [Fact]
    public void InitZoo_matches_pytorch_trunc_normal_eye_orthogonal_sparse_and_bias_inits()
    {
        var fixture = new TorchFixture("InitZoo");
        using var model = new InitZoo(seed: 21);
        // trunc_normal_/normal_/sparse_ agree with torch's float32 kernels within a few ulps, orthogonal_ up to
        // torch's LAPACK QR rounding; eye_, constant_ and uniform_ exactly (the whole stream of draws stays aligned).
        TorchFixture.AssertParameters("initial", fixture.Initial, model, 1e-5, 1e-6);
        foreach (var name in new[] { "a.bias", "b.weight", "d.bias" })
        {
            var p = model.Parameters.Single(p => p.Name == name);
            Assert.True(p.Data.ToArray().SequenceEqual(fixture.Initial.GetProperty(name).GetProperty("data").EnumerateArray().Select(v => (float)v.GetDouble())), name);
        }
        var sparse = model.D.Weight.Data.ToArray();
        for (int col = 0; col < 5; col++)
            Assert.Equal(2, Enumerable.Range(0, 4).Count(row => sparse[row * 5 + col] == 0f)); // ceil(0.4 * 4) zeros per column
    }

    [Theory]
    [InlineData("ActZoo1")]
    [InlineData("ActZoo2")]
    public void Every_activation_matches_pytorch(string name)
    {
        var fixture = new TorchFixture(name);
        using IModel model = name == "ActZoo1" ? new ActZoo1(seed: 5) : new ActZoo2(seed: 6);
        TorchFixture.AssertParameters("initial", fixture.Initial, model, 0, 0);
        for (int s = 0; s < fixture.Steps; s++)
        {
            int[] targets = fixture.Target(s).Select(v => (int)v).ToArray();
            float loss = model is ActZoo1 a ? a.TrainStep(fixture.Input(s), targets, fixture.Batch) : ((ActZoo2)model).TrainStep(fixture.Input(s), targets, fixture.Batch);
            Assert.Equal(fixture.Loss(s), loss, 1e-5 * System.Math.Abs(fixture.Loss(s)) + 1e-6);
            TorchFixture.AssertParameters($"after step {s}", fixture.After(s), model, 1e-4, 2e-6);
        }
    }

    [Fact]
    public void TinyRegressor_matches_pytorch_mse_sum_and_sgd_dampening()
    {
        var fixture = new TorchFixture("TinyRegressor");
        using var model = new TinyRegressor(seed: 0);
        TorchFixture.AssertParameters("initial", fixture.Initial, model, 0, 0);
        for (int s = 0; s < fixture.Steps; s++)
        {
            float[] targets = fixture.Target(s).Select(v => (float)v).ToArray();
            float loss = model.TrainStep(fixture.Input(s), targets, fixture.Batch);
            Assert.Equal(fixture.Loss(s), loss, 1e-5 * System.Math.Abs(fixture.Loss(s)) + 1e-6);
            TorchFixture.AssertParameters($"after step {s}", fixture.After(s), model, 1e-5, 1e-7);
        }
    }
}
