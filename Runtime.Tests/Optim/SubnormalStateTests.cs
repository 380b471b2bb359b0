using System;
using System.Collections.Generic;
using System.Linq;
using DslModels.Optim;
using Xunit;

namespace DslModels.Tests.Optim;

/// <summary>A ReLU MLP with Adam whose hidden units die on a small pool of samples (docs/optim.md, "Adam's stuck subnormals").</summary>
[Model(Inputs = 16), Loss(LossKind.CrossEntropy), Optimizer(OptimizerKind.Adam, LearningRate = 0.01)]
public partial class SubnormalAdamMlp
{
    [Layer(48, Activation.ReLU)] public partial Dense Hidden1 { get; }
    [Layer(48, Activation.ReLU)] public partial Dense Hidden2 { get; }
    [Layer(4)] public partial Dense Output { get; }
}

/// <summary><see cref="Optimizer.FlushSubnormalState"/>: what it sets to zero, what it leaves, and what training with it keeps.</summary>
public class SubnormalStateTests
{
    // Bit patterns of float32 values: subnormal ones (to become +0) and others (to stay as they are, NaN payloads and -0 included).
    private static readonly uint[] Subnormal32 = [0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x00400000, 0x00000003];
    private static readonly uint[] Kept32 = [0x00800000, 0x80800000, 0x00000000, 0x80000000, 0x3F800000, 0x7FC00001, 0xFFC12345, 0x7F800000, 0xFF800000, 0x7F7FFFFF, 0x00800001];

    [Fact]
    public void Flush_zeroes_exactly_the_subnormal_values_of_float32_state()
    {
        // 37 elements: the vector loop (8 at a time) and the scalar remainder both see both kinds.
        var p = new TensorParameter<float>(new float[37], [37]);
        var o = new Adam([p], lr: 0.01, amsgrad: true);
        p.SetGrad(Enumerable.Range(0, 37).Select(i => (float)(i - 18) / 7).ToArray());
        o.Step(); // creates exp_avg, exp_avg_sq, max_exp_avg_sq and the step count
        var st = o.State[p];
        var rng = new Random(3);
        var expected = new Dictionary<string, uint[]>();
        int subnormals = 0;
        foreach (string key in new[] { "exp_avg", "exp_avg_sq", "max_exp_avg_sq" })
        {
            var values = st.Tensor(key).Float32;
            var want = new uint[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                bool sub = (i + key.Length) % 3 == 0 || i >= 34; // some in every vector and in the remainder
                uint bits = sub ? Subnormal32[rng.Next(Subnormal32.Length)] : Kept32[rng.Next(Kept32.Length)];
                values[i] = BitConverter.UInt32BitsToSingle(bits);
                want[i] = sub ? 0u : bits;
                if (sub) subnormals++;
            }
            expected[key] = want;
        }
        double step = st.Tensor("step").ToScalar();
        var before = p.Data.ToArray();

        Assert.Equal(subnormals, o.FlushSubnormalState());

        foreach (var (key, want) in expected)
            Assert.Equal(want, st.Tensor(key).Float32.ToArray().Select(BitConverter.SingleToUInt32Bits).ToArray());
        Assert.Equal(step, st.Tensor("step").ToScalar());
        Assert.Equal(before, p.Data.ToArray());
        Assert.Equal(0, o.FlushSubnormalState()); // nothing left
    }

    [Fact]
    public void Flush_zeroes_the_subnormal_values_of_float64_state_and_of_lbfgs_history()
    {
        var p = new TensorParameter<double>(new double[5], [5]);
        var o = new Adam([p], lr: 0.01);
        p.SetGrad([0.5, -1, 0.25, 2, -0.125]);
        o.Step();
        var m = o.State[p].Tensor("exp_avg").Float64;
        double[] values = [double.Epsilon, -1e-310, 2.2250738585072014e-308, -0.0, 1e-300];
        values.CopyTo(m);
        Assert.Equal(2, o.FlushSubnormalState());
        Assert.Equal([0.0, 0.0, 2.2250738585072014e-308, -0.0, 1e-300], m.ToArray());
        Assert.True(BitConverter.DoubleToInt64Bits(m[1]) == 0, "a negative subnormal becomes +0");
        Assert.True(BitConverter.DoubleToInt64Bits(m[3]) == long.MinValue, "-0 stays -0");

        // LBFGS keeps lists of direction vectors: those are state tensors too.
        var q = new TensorParameter<double>(new double[] { 1, -1 }, [2]);
        var lbfgs = new Lbfgs([q], lr: 1, maxIter: 3, historySize: 4);
        lbfgs.Step(() =>
        {
            q.SetGrad([2 * q.Data[0], 4 * q.Data[1]]);
            return q.Data[0] * q.Data[0] + 2 * q.Data[1] * q.Data[1];
        });
        var dirs = Assert.IsType<List<object?>>(lbfgs.State[q]["old_dirs"]);
        var first = Assert.IsType<StateTensor>(dirs[0]).Float64;
        double kept = first[1];
        first[0] = -double.Epsilon;
        Assert.Equal(1, lbfgs.FlushSubnormalState());
        Assert.Equal(0L, BitConverter.DoubleToInt64Bits(first[0]));
        Assert.Equal(kept, first[1]);
    }

    [Fact]
    public void A_group_without_eps_keeps_its_state()
    {
        // Zeroing a subnormal exp_avg_sq there would make the next update 0/0; the other group is flushed.
        var a = new TensorParameter<float>(new float[3], [3]);
        var b = new TensorParameter<float>(new float[3], [3]);
        var o = new Adam([new ParamGroup([a], new Dictionary<string, object?> { ["eps"] = 0.0 }), new ParamGroup([b])], lr: 0.01);
        a.SetGrad([1f, -1f, 0.5f]);
        b.SetGrad([1f, -1f, 0.5f]);
        o.Step();
        float tiny = BitConverter.UInt32BitsToSingle(5);
        foreach (var p in new[] { a, b })
        {
            o.State[p].Tensor("exp_avg").Float32.Fill(tiny);
            o.State[p].Tensor("exp_avg_sq").Float32.Fill(tiny);
        }

        Assert.Equal(6, o.FlushSubnormalState());

        Assert.All(o.State[a].Tensor("exp_avg_sq").Float32.ToArray(), x => Assert.Equal(tiny, x));
        Assert.All(o.State[a].Tensor("exp_avg").Float32.ToArray(), x => Assert.Equal(tiny, x));
        Assert.All(o.State[b].Tensor("exp_avg_sq").Float32.ToArray(), x => Assert.Equal(0u, BitConverter.SingleToUInt32Bits(x)));
        a.SetGrad([0f, 0f, 0f]);
        o.Step();
        Assert.All(a.Data.ToArray(), x => Assert.True(float.IsFinite(x)));
    }

    [Fact]
    public void Training_with_periodic_flushes_keeps_every_parameter_and_exp_avg_sq_bit_for_bit()
    {
        // Batch 1 over a pool of 16 samples: hidden units that none of them turns on leave their columns' exp_avg stuck at
        // subnormals (docs/optim.md). One model flushes every 250 steps, the other does not.
        const int pool = 16, steps = 3000;
        var rng = new Random(11);
        var xs = new float[pool][];
        var ys = new int[pool][];
        for (int k = 0; k < pool; k++)
        {
            xs[k] = Enumerable.Range(0, SubnormalAdamMlp.InputSize).Select(_ => (float)(2 * rng.NextDouble() - 1)).ToArray();
            ys[k] = [rng.Next(SubnormalAdamMlp.OutputSize)];
        }
        using var plain = new SubnormalAdamMlp(seed: 5);
        using var flushed = new SubnormalAdamMlp(seed: 5);
        long total = 0;
        for (int s = 0; s < steps; s++)
        {
            plain.TrainStep(xs[s % pool], ys[s % pool], 1);
            flushed.TrainStep(xs[s % pool], ys[s % pool], 1);
            if ((s + 1) % 250 == 0) total += flushed.Optimizer.FlushSubnormalState();
        }
        Assert.True(total > 100, $"the run should produce stuck subnormals to flush (flushed {total})");

        for (int i = 0; i < plain.Parameters.Count; i++)
            Assert.Equal(Bits(plain.Parameters[i].Data), Bits(flushed.Parameters[i].Data));
        Assert.Equal(Bits(plain.Optimizer.StateArena("exp_avg_sq")), Bits(flushed.Optimizer.StateArena("exp_avg_sq")));
        var m0 = plain.Optimizer.StateArena("exp_avg");
        var m1 = flushed.Optimizer.StateArena("exp_avg");
        int differing = 0;
        for (int i = 0; i < m0.Length; i++)
        {
            if (BitConverter.SingleToUInt32Bits(m0[i]) == BitConverter.SingleToUInt32Bits(m1[i])) continue;
            differing++;
            Assert.True(float.IsSubnormal(m0[i]) && BitConverter.SingleToUInt32Bits(m1[i]) == 0, $"exp_avg[{i}]: {m0[i]:R} against {m1[i]:R}");
        }
        Assert.True(differing > 0, "some exp_avg values were flushed since the last 250 steps and still differ");
    }

    private static uint[] Bits(ReadOnlySpan<float> values) => values.ToArray().Select(BitConverter.SingleToUInt32Bits).ToArray();
}
