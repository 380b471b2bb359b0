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
