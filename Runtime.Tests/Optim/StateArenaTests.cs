using System;
using System.Collections.Generic;
using System.Linq;
using DslModels.Optim;
using Xunit;

namespace DslModels.Tests.Optim;

/// <summary>Optimizer.AttachStateArena: parameter-shaped state of a model's parameters lives in one array per key.</summary>
public class StateArenaTests
{
    private static (AlignedBuffer Data, AlignedBuffer Grad, Parameter W, Parameter B) Model()
    {
        var data = new AlignedBuffer(48);
        var grad = new AlignedBuffer(48);
        var w = new Parameter("w", data, grad, 0, 3, 5);  // floats [0, 15)
        var b = new Parameter("b", data, grad, 16, 3);    // floats [16, 19)
        for (int i = 0; i < 19; i++)
        {
            data.Span[i] = 0.1f * i;
            grad.Span[i] = 1f - 0.05f * i;
        }
        return (data, grad, w, b);
    }

    [Fact]
    public void State_created_after_attaching_is_the_arena_slice_at_the_parameter_offset()
    {
        var (data, _, w, b) = Model();
        var adam = new Adam(new[] { new ParamGroup(new[] { w, b }) }, lr: 0.1);
        adam.AttachStateArena(data);
        Assert.True(adam.StateArena("exp_avg").IsEmpty); // nothing allocated before the first step
        adam.Step();
        var arena = adam.StateArena("exp_avg");
        Assert.Equal(data.Length, arena.Length);
        foreach (var (p, offset, length) in new[] { (adam.Parameters.First(), 0, 15), (adam.Parameters.Last(), 16, 3) })
        {
            var t = (StateTensor)adam.State[p]["exp_avg"]!;
            Assert.True(t.Float32.SequenceEqual(arena.Slice(offset, length)));
            t.Float32[0] = 42f; // one memory: a write through the tensor shows in the arena
            Assert.Equal(42f, arena[offset]);
        }
        Assert.Equal(0f, arena[15]); // padding between parameters is not state
    }

    [Fact]
    public void Attaching_moves_existing_state_and_keeps_the_numbers()
    {
        var (data, _, w, b) = Model();
        var (data2, _, w2, b2) = Model();
        var attached = new Sgd(new OptimParameter[] { w, b }, new SgdOptions(lr: 0.1, momentum: 0.9));
        var plain = new Sgd(new OptimParameter[] { w2, b2 }, new SgdOptions(lr: 0.1, momentum: 0.9));
        attached.Step();
        plain.Step();
        attached.AttachStateArena(data); // after state exists: moved into the arena
        Assert.False(attached.StateArena("momentum_buffer").IsEmpty);
        attached.Step();
        plain.Step();
        Assert.True(data.Span.Slice(0, 19).SequenceEqual(data2.Span.Slice(0, 19)));
        Assert.Equal(plain.StateDict().ToJson(), attached.StateDict().ToJson());
    }

    [Fact]
    public void A_second_parameter_buffer_is_refused()
    {
        var (data, _, w, b) = Model();
        var sgd = new Sgd(new OptimParameter[] { w, b }, new SgdOptions(lr: 0.1));
        sgd.AttachStateArena(data);
        sgd.AttachStateArena(data); // the same buffer again is fine
        using var other = new AlignedBuffer(48);
        var e = Assert.Throws<InvalidOperationException>(() => sgd.AttachStateArena(other));
        Assert.Contains("already attached", e.Message);
    }

    [Fact]
    public void The_fusion_checks_answer_no_without_changing_anything()
    {
        var (data, _, w, b) = Model();
        var adam = new Adam(new[] { new ParamGroup(new[] { w, b }) }, lr: 0.1);
        Assert.False(adam.CanFuseGroup(0, new[] { "exp_avg" }, "step")); // no arena
        adam.AttachStateArena(data);
        Assert.False(adam.CanFuseGroup(0, new[] { "exp_avg" }, "step")); // no state yet
        Assert.False(adam.CanFuseGroup(3, new[] { "exp_avg" }, "step")); // no such group
        adam.Step();
        Assert.True(adam.CanFuseGroup(0, new[] { "exp_avg", "exp_avg_sq" }, "step"));
        Assert.False(adam.CanFuseGroup(0, new[] { "momentum_buffer" }, "step")); // a key Adam does not keep
        Assert.Equal(1.0, ((StateTensor)adam.State.Values.First()["step"]!).ToScalar());
    }
    // CanFuseGroup remembers a "yes" until the optimizer's state changes (a generated model asks at every step). Each
    // change below must turn a remembered answer, as the full check would.
    private static readonly string[] AdamKeys = { "exp_avg", "exp_avg_sq" };

    private static Adam SteppedAdam(AlignedBuffer data, Parameter w, Parameter b, int steps)
    {
        var adam = new Adam(new[] { new ParamGroup(new[] { w, b }) }, lr: 0.1);
        adam.AttachStateArena(data);
        for (int k = 0; k < steps; k++)
            adam.Step();
        return adam;
    }

    [Fact]
    public void A_remembered_yes_sees_step_counts_and_sparse_gradients_change()
    {
        var (data, _, w, b) = Model();
        var adam = SteppedAdam(data, w, b, 1);
        Assert.True(adam.CanFuseGroup(0, AdamKeys, "step"));
        Assert.True(adam.CanFuseGroup(0, AdamKeys, "step"));
        var first = adam.Parameters.First();
        var step = (StateTensor)adam.State[first]["step"]!;
        step.SetItem(5); // a count changed in place: no state entry was written
        Assert.False(adam.CanFuseGroup(0, AdamKeys, "step"));
        step.SetItem(1);
        Assert.True(adam.CanFuseGroup(0, AdamKeys, "step"));
        first.SparseGradRows = new[] { 0 };
        Assert.False(adam.CanFuseGroup(0, AdamKeys, "step"));
        first.SparseGradRows = null;
        Assert.True(adam.CanFuseGroup(0, AdamKeys, "step"));
        Assert.False(adam.CanFuseGroup(0, new[] { "exp_avg", "max_exp_avg_sq" }, "step")); // other keys: checked afresh
        var reused = new[] { "exp_avg", "exp_avg_sq" };
        Assert.True(adam.CanFuseGroup(0, reused, "step"));
        reused[1] = "max_exp_avg_sq"; // the same array with other keys: checked afresh too
        Assert.False(adam.CanFuseGroup(0, reused, "step"));
    }

    [Fact]
    public void The_groups_their_parameters_and_the_state_are_read_only_views()
    {
        var (data, _, w, b) = Model();
        var adam = SteppedAdam(data, w, b, 1);
        var p = adam.Parameters.First();
        // A cast must not change what the fusion checks remember (or bypass AddParamGroup's checks).
        Assert.Throws<NotSupportedException>(() => ((IList<OptimParameter>)adam.ParamGroups[0].Params).Add(p));
        Assert.Throws<NotSupportedException>(() => ((IList<ParamGroup>)adam.ParamGroups).Add(new ParamGroup(new[] { p })));
        Assert.Throws<NotSupportedException>(() => ((IDictionary<OptimParameter, ParamState>)adam.State).Remove(p));
        Assert.True(adam.CanFuseGroup(0, AdamKeys, "step"));
        // The state view follows a loaded state dict.
        var (data2, _, w2, b2) = Model();
        adam.LoadStateDict(SteppedAdam(data2, w2, b2, 0).StateDict());
        Assert.Empty(adam.State);
    }

    [Fact]
    public void A_remembered_yes_is_dropped_when_a_state_entry_is_replaced()
    {
        var (data, _, w, b) = Model();
        var adam = SteppedAdam(data, w, b, 1);
        Assert.True(adam.CanFuseGroup(0, AdamKeys, "step"));
        var st = adam.State[adam.Parameters.Last()];
        var arenaView = st.Values["exp_avg"];
        st.Values["exp_avg"] = new StateTensor(ScalarType.Float32, new[] { 3 }); // its own memory, not the arena's
        Assert.False(adam.CanFuseGroup(0, AdamKeys, "step"));
        st.Values["exp_avg"] = arenaView;
        Assert.True(adam.CanFuseGroup(0, AdamKeys, "step"));
        st.Values.Remove("exp_avg_sq");
        Assert.False(adam.CanFuseGroup(0, AdamKeys, "step"));
    }

    [Fact]
    public void Asking_again_after_every_state_change_allocates_nothing()
    {
        var (data, _, w, b) = Model();
        var adam = SteppedAdam(data, w, b, 1);
        Assert.True(adam.CanFuseGroup(0, AdamKeys, "step"));
        var st = adam.State[adam.Parameters.First()];
        long allocated = 0;
        for (int k = 0; k < 10; k++)
        {
            st.Values["exp_avg"] = st.Values["exp_avg"]; // a state write, so the next answer is a full check
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.True(adam.CanFuseGroup(0, AdamKeys, "step"));
            adam.AdvanceGroupStep(0, "step");
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(0, allocated);
        Assert.Equal(11.0, ((StateTensor)st["step"]!).ToScalar()); // 1 step + 10 advances
    }

    [Fact]
    public void A_remembered_yes_is_dropped_when_a_state_dict_is_loaded()
    {
        var (data, _, w, b) = Model();
        var adam = SteppedAdam(data, w, b, 1);
        Assert.True(adam.CanFuseGroup(0, AdamKeys, "step"));
        Assert.Equal(2.0, adam.AdvanceGroupStep(0, "step"));

        // A state dict without state (never stepped): nothing to fuse.
        var (data2, _, w2, b2) = Model();
        adam.LoadStateDict(SteppedAdam(data2, w2, b2, 0).StateDict());
        Assert.False(adam.CanFuseGroup(0, AdamKeys, "step"));

        // A state dict at step 7: the counts advanced are the loaded ones, not the cells the optimizer held before.
        var (data3, _, w3, b3) = Model();
        adam.LoadStateDict(SteppedAdam(data3, w3, b3, 7).StateDict());
        Assert.True(adam.CanFuseGroup(0, AdamKeys, "step"));
        Assert.Equal(8.0, adam.AdvanceGroupStep(0, "step"));
        foreach (var p in adam.Parameters)
            Assert.Equal(8.0, ((StateTensor)adam.State[p]["step"]!).ToScalar());
    }

    [Fact]
    public void A_remembered_yes_is_dropped_when_a_group_or_new_state_arrives()
    {
        var (data, _, w, b) = Model();
        var sgd = new Sgd(new OptimParameter[] { w, b }, new SgdOptions(lr: 0.1, momentum: 0.9));
        sgd.AttachStateArena(data);
        sgd.Step();
        var keys = new[] { "momentum_buffer" };
        Assert.True(sgd.CanFuseGroup(0, keys, null));
        var extra = new TensorParameter<float>(1f, 2f);
        extra.SetGrad(new float[] { 0.5f, 0.5f });
        sgd.AddParamGroup(new ParamGroup(new OptimParameter[] { extra }));
        Assert.True(sgd.CanFuseGroup(0, keys, null)); // group 0 is as it was
        Assert.False(sgd.CanFuseGroup(1, keys, null)); // not a view of the arena
        sgd.Step(); // the runtime step writes the state entries again (and creates the new parameter's)
        Assert.True(sgd.CanFuseGroup(0, keys, null));
    }
    [Fact]
    public void Remembered_group_scalars_see_values_and_loaded_state_change()
    {
        var (data, _, w, b) = Model();
        var asgd = new Asgd(new OptimParameter[] { w, b }, lr: 0.1);
        Assert.False(asgd.GroupScalarsAgree(0, "eta")); // no state yet
        asgd.Step();
        Assert.True(asgd.GroupScalarsAgree(0, "eta"));
        Assert.True(asgd.GroupScalarsAgree(0, "eta"));
        var first = (StateTensor)asgd.State[asgd.Parameters.First()]["eta"]!;
        double eta = first.ToScalar();
        first.SetItem(eta / 2); // changed in place: the remembered tensors are read again
        Assert.False(asgd.GroupScalarsAgree(0, "eta"));
        asgd.SetGroupScalar(0, "eta", 0.375);
        Assert.True(asgd.GroupScalarsAgree(0, "eta"));
        Assert.Equal(0.375, asgd.GroupScalar(0, "eta"));
        Assert.False(asgd.GroupScalarsAgree(0, "no_such_state"));

        // Loaded state: new tensors, which SetGroupScalar must write (not the ones remembered before the load).
        var (_, _, w2, b2) = Model();
        var other = new Asgd(new OptimParameter[] { w2, b2 }, lr: 0.2);
        other.Step();
        other.Step();
        var source = (StateTensor)other.State[other.Parameters.First()]["eta"]!;
        double loaded = source.ToScalar();
        asgd.LoadStateDict(other.StateDict());
        Assert.Equal(loaded, asgd.GroupScalar(0, "eta"));
        asgd.SetGroupScalar(0, "eta", 0.125);
        foreach (var p in asgd.Parameters)
            Assert.Equal(0.125, ((StateTensor)asgd.State[p]["eta"]!).ToScalar());
        Assert.Equal(loaded, source.ToScalar()); // the source's tensors are not the loaded ones
    }
}
