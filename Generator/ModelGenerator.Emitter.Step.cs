using System.Collections.Generic;
using System.Linq;
using DslModels.Generator.Helpers;
using DslModels.Generator.Model;

namespace DslModels.Generator;

public sealed partial class ModelGenerator
{
    internal static partial class Emitter
    {
        /// <summary>One parameter group of the optimizer as the constructor builds it, with what the fused step specialises on.</summary>
        private sealed class StepGroup
        {
            public StepGroup(string label, double momentum, params (string Key, double Value)[] options)
            {
                Label = label;
                Momentum = momentum;
                Options = options.Where(x => !double.IsNaN(x.Value)).ToList();
            }

            public string Label { get; }

            /// <summary>The group's own options (PyTorch keys) as declared; the optimizer's defaults fill in the rest.</summary>
            public List<(string Key, double Value)> Options { get; }

            /// <summary>The constructor's local variable of each parameter, in group order.</summary>
            public List<string> Locals { get; } = new();

            /// <summary>The group's momentum as declared (SGD and RMSprop specialise on momentum != 0).</summary>
            public double Momentum { get; }

            /// <summary>(state_dict name, arena offset, length, rows: the layer's outputs), in group order.</summary>
            public List<(string Name, int Offset, int Length, int Rows)> Params { get; } = new();

            /// <summary>Maximal runs of parameters that follow each other with no padding between them: [start, end) in the arena. Padding is never touched.</summary>
            public List<(int Start, int End)> Runs()
            {
                var runs = new List<(int Start, int End)>();
                foreach (var (_, offset, length, _) in Params.OrderBy(p => p.Offset))
                {
                    if (runs.Count > 0 && runs[runs.Count - 1].End == offset)
                        runs[runs.Count - 1] = (runs[runs.Count - 1].Start, offset + length);
                    else
                        runs.Add((offset, offset + length));
                }
                return runs;
            }

        }

        /// <summary>
        /// The groups exactly as <see cref="EmitOptimizerCreation"/> passes them: one group of everything, or the main group
        /// (layers without [ParamGroup]; biases too unless BiasWeightDecay is set), the biases, then one group per [ParamGroup] layer.
        /// </summary>
        private static List<StepGroup> StepGroups(ModelSpec spec, Layout layout, OptimizerSpec o)
        {
            double momentum = Or(o.Momentum, 0);
            var index = new Dictionary<string, int>();
            for (int i = 0; i < spec.Layers.Count; i++)
                index[spec.Layers[i].Name] = i;
            void W(StepGroup g, LayerSpec l)
            {
                g.Params.Add((l.Name + ".weight", layout.WeightOffsets[index[l.Name]], l.In * l.Out, l.Out));
                g.Locals.Add(Local(l) + "Weight");
            }
            void B(StepGroup g, LayerSpec l)
            {
                g.Params.Add((l.Name + ".bias", layout.BiasOffsets[index[l.Name]], l.Out, l.Out));
                g.Locals.Add(Local(l) + "Bias");
            }
            var groups = new List<StepGroup>();
            bool grouped = IsGrouped(spec, o);
            var main = new StepGroup(grouped ? "main group" : "all parameters", momentum);
            var biases = new StepGroup("biases", momentum, ("weight_decay", o.BiasWeightDecay));
            foreach (var l in spec.Layers.Where(l => !grouped || l.Group is null))
            {
                W(main, l);
                if (l.HasBias)
                    B(double.IsNaN(o.BiasWeightDecay) ? main : biases, l);
            }
            if (main.Params.Count > 0)
                groups.Add(main);
            if (biases.Params.Count > 0)
                groups.Add(biases);
            if (grouped)
            {
                foreach (var l in spec.Layers.Where(l => l.Group is not null))
                {
                    var gs = l.Group!;
                    var g = new StepGroup(l.Name, Or(gs.Momentum, momentum), ("lr", gs.LearningRate), ("weight_decay", gs.WeightDecay), ("momentum", gs.Momentum));
                    W(g, l);
                    if (l.HasBias)
                        B(g, l);
                    groups.Add(g);
                }
            }
            return groups;
        }

        /// <summary>Whether the optimizer gets several groups: BiasWeightDecay or a [ParamGroup] layer.</summary>
        private static bool IsGrouped(ModelSpec spec, OptimizerSpec o) => !double.IsNaN(o.BiasWeightDecay) || spec.Layers.Any(l => l.Group is not null);

        /// <summary>Optimizers whose update Step() runs as an emitted pass over the arena (all but SparseAdam and LBFGS).</summary>
        private static bool HasFusedStep(OptimizerKind kind) => kind is not (OptimizerKind.SparseAdam or OptimizerKind.LBFGS);

        /// <summary>The state keys that live in the arena and that the fused pass reads and writes.</summary>
        private static List<string> ArenaKeys(OptimizerSpec o, StepGroup g) => o.Kind switch
        {
            OptimizerKind.Sgd => g.Momentum != 0 ? new List<string> { "momentum_buffer" } : new List<string>(),
            OptimizerKind.Adam or OptimizerKind.AdamW => o.Amsgrad ? new List<string> { "exp_avg", "exp_avg_sq", "max_exp_avg_sq" } : new List<string> { "exp_avg", "exp_avg_sq" },
            OptimizerKind.Adagrad => new List<string> { "sum" },
            OptimizerKind.RMSprop => new[] { "square_avg", g.Momentum != 0 ? "momentum_buffer" : null, o.Centered ? "grad_avg" : null }.Where(k => k is not null).Select(k => k!).ToList(),
            OptimizerKind.Adadelta => new List<string> { "square_avg", "acc_delta" },
            OptimizerKind.Adamax => new List<string> { "exp_avg", "exp_inf" },
            OptimizerKind.ASGD => new List<string> { "ax" },
            OptimizerKind.Rprop => new List<string> { "prev", "step_size" },
            _ => new List<string> { "exp_avg", "exp_avg_sq" }, // NAdam, RAdam
        };

        /// <summary>The 0-dim float32 state besides the step count that must agree across a group for one pass to update it (checked live).</summary>
        private static string[] GroupScalars(OptimizerKind kind) => kind switch
        {
            OptimizerKind.NAdam => new[] { "mu_product" },
            OptimizerKind.ASGD => new[] { "eta", "mu" },
            _ => new string[0],
        };

        /// <summary>The options Step() reads live from the param groups, for its doc comment.</summary>
        private static string LiveOptions(OptimizerKind kind) => kind switch
        {
            OptimizerKind.Sgd => "lr, momentum, dampening and weight_decay",
            OptimizerKind.Adagrad => "lr, lr_decay, eps and weight_decay",
            OptimizerKind.RMSprop => "lr, alpha, eps, momentum and weight_decay",
            OptimizerKind.Adadelta => "lr, rho, eps and weight_decay",
            OptimizerKind.ASGD => "lr, lambd, alpha, t0 and weight_decay",
            OptimizerKind.Rprop => "etas and step_sizes",
            OptimizerKind.NAdam => "lr, betas, eps, weight_decay and momentum_decay",
            _ => "lr, betas, eps and weight_decay", // Adam, AdamW, Adamax, RAdam
        };

        /// <summary>
        /// Step(): for every optimizer but SparseAdam and LBFGS an update specialised for the declared options and fused over
        /// the parameter arena (one vectorised pass per contiguous run of a group's parameters, state in the optimizer's
        /// arena), with the hyper-parameters a scheduler changes read from the live param groups and the per-group scalar
        /// state (step counts, NAdam's mu_product, ASGD's eta and mu) updated as the runtime does; the runtime optimizer otherwise.
        /// </summary>
        private static void EmitStep(SourceWriter w, ModelSpec spec, Layout layout, OptimizerSpec o)
        {
            if (!HasFusedStep(o.Kind))
            {
                w.Line($"/// <summary>One step of <see cref=\"Optimizer\"/> (<c>optimizer.step()</c>) with the gradients in <see cref=\"Parameters\"/>. ({OptimizerClass(o.Kind)} runs the runtime optimizer's update.)</summary>");
                w.Line("public void Step() => Optimizer.Step();");
                w.Line();
                return;
            }
            var groups = StepGroups(spec, layout, o);
            var split = new List<SplitCall>();
            var keys = new List<string>();
            w.Line("/// <summary>");
            w.Line("/// One step of <see cref=\"Optimizer\"/> (<c>optimizer.step()</c>) with the gradients in <see cref=\"Parameters\"/>: the update emitted for the");
            w.Line($"/// declared {(o.Kind == OptimizerKind.Sgd ? "SGD" : o.Kind.ToString())} options, one pass over each contiguous run of a group's parameters and its state (which lives in the");
            w.Line($"/// optimizer's state arena), with {LiveOptions(o.Kind)} read from <see cref=\"Optimizer\"/>'s param groups at");
            w.Line("/// every step (schedulers stay live). Bit for bit what <c>Optimizer.Step()</c> computes. The optimizer itself steps instead");
            w.Line("/// when the fused pass does not apply: the first step (it creates the state), after groups were added, or when an option");
            w.Line("/// the pass is specialised on (listed in DslCanFuseStep) was changed at run time.");
            w.Line("/// </summary>");
            using (w.Block("public void Step()"))
            {
                if (FusesStepInBackward(spec))
                    w.Line("DslMaterializeGradients(); // the gradients this step reads");
                using (w.Block("if (!DslCanFuseStep())"))
                {
                    w.Line("Optimizer.Step();");
                    w.Line("return;");
                }
                w.Line($"ref float p = ref {MM}.GetReference(_dslParameters.Span);");
                w.Line($"ref float g = ref {MM}.GetReference(_dslGradients.Span);");
                keys = groups.SelectMany(gr => ArenaKeys(o, gr)).Distinct().ToList();
                foreach (string key in keys)
                    w.Line($"ref float {StateLocal(key)} = ref {MM}.GetReference(Optimizer.StateArena({Literals.String(key)}));");
                w.Line("var groups = Optimizer.ParamGroups;");
                for (int gi = 0; gi < groups.Count; gi++)
                {
                    var gr = groups[gi];
                    w.Line($"// Group {gi} ({gr.Label}): {string.Join(", ", gr.Params.Select(x => x.Name))}");
                    using (w.Scope())
                    {
                        w.Line($"var group = groups[{gi}];");
                        EmitGroupStep(w, o, gr, gi, split);
                    }
                }
            }
            w.Line();
            if (FusesStepInBackward(spec))
                EmitStepInBackward(w, spec, o, groups, keys, split);
            if (split.Count > 0)
                EmitSplitStep(w, split, keys);

            w.Line("// Per group: the state keys the fused pass keeps in the optimizer's state arena.");
            w.Line($"private static readonly string[][] DslStepArenaKeys = {{ {string.Join(", ", groups.Select(gr => $"new string[] {{ {string.Join(", ", ArenaKeys(o, gr).Select(Literals.String))} }}"))} }};");
            w.Line();
            w.Line("/// <summary>Whether the optimizer is still as the fused Step() was specialised for, and its state is in place.</summary>");
            using (w.Block("private bool DslCanFuseStep()"))
            {
                w.Line("var groups = Optimizer.ParamGroups;");
                w.Line($"if (groups.Count != {groups.Count}) return false;");
                for (int gi = 0; gi < groups.Count; gi++)
                {
                    // Each condition is true when the live group differs from what the pass was specialised for.
                    var changed = new List<string>();
                    string G = $"groups[{gi}]";
                    bool momentum = groups[gi].Momentum != 0;
                    switch (o.Kind)
                    {
                        case OptimizerKind.Sgd:
                            changed.Add($"{G}.GetDouble(\"momentum\") {(momentum ? "==" : "!=")} 0");
                            changed.Add($"{(o.Nesterov ? "!" : "")}{G}.GetBool(\"nesterov\")");
                            break;
                        case OptimizerKind.Adam or OptimizerKind.AdamW:
                            changed.Add($"{(o.Amsgrad ? "!" : "")}{G}.GetBool(\"amsgrad\")");
                            break;
                        case OptimizerKind.RMSprop:
                            // The runtime keeps and uses a momentum buffer when momentum > 0.
                            changed.Add(momentum ? $"!({G}.GetDouble(\"momentum\") > 0)" : $"{G}.GetDouble(\"momentum\") > 0");
                            changed.Add($"{(o.Centered ? "!" : "")}{G}.GetBool(\"centered\")");
                            break;
                    }
                    if (o.Kind is not (OptimizerKind.NAdam or OptimizerKind.RAdam)) // they have no maximize option
                        changed.Add($"{(o.Maximize ? "!" : "")}{G}.GetBool(\"maximize\")");
                    if (changed.Count > 0)
                        w.Line($"if ({string.Join(" || ", changed)}) return false;");
                    w.Line($"if (!Optimizer.CanFuseGroup({gi}, DslStepArenaKeys[{gi}], {(o.Kind == OptimizerKind.Sgd ? "null" : "\"step\"")})) return false;");
                    foreach (string key in GroupScalars(o.Kind))
                        w.Line($"if (!Optimizer.GroupScalarsAgree({gi}, {Literals.String(key)})) return false;");
                }
                w.Line("return true;");
            }
            w.Line();
            switch (o.Kind)
            {
                case OptimizerKind.Sgd:
                    foreach (bool withMomentum in groups.Select(gr => gr.Momentum != 0).Distinct().OrderBy(b => b))
                        EmitSgdKernel(w, o, withMomentum);
                    break;
                case OptimizerKind.Adam or OptimizerKind.AdamW:
                    EmitAdamKernel(w, o);
                    break;
                case OptimizerKind.RMSprop:
                    foreach (bool withMomentum in groups.Select(gr => gr.Momentum != 0).Distinct().OrderBy(b => b))
                        EmitRmspropKernel(w, o, withMomentum);
                    break;
                default:
                    EmitOtherKernel(w, o);
                    break;
            }
        }

        /// <summary>
        /// Whether TrainStep runs the optimizer's update of the first layer's weight inside its weight-gradient kernel, on each
        /// strip of rows as soon as its gradient is final (while the strip is still in registers and L1), and Step() only on the
        /// rest: in the one-input TrainStep, with any optimizer that has an emitted Step(), when the first layer has at least
        /// 65,536 weights, or as many as DslModelsFusedStepMinWeights says when it is set (ModelSpec). By default only SGD fuses
        /// at every batch; the others at batches of at most RowOrderMaxSamples (<see cref="FusesSmallBatchesOnly"/>).
        /// A later layer's W is still read after its weight gradient, by its input gradient; the first layer has none, and in
        /// an MLP on images it holds most parameters. (TrainStep also skips it when that kernel is split over threads.)
        /// </summary>
        private static bool FusesStepInBackward(ModelSpec spec) =>
            spec.Optimizer is { } o && HasFusedStep(o.Kind) && spec.Loss is { Inputs: 1 }
            && (long)spec.Layers[0].In * spec.Layers[0].Out >= (spec.FusedStepMinWeights ?? ModelSpec.DefaultFusedStepMinWeights);

        /// <summary>
        /// Whether TrainStep fuses only batches of at most RowOrderMaxSamples (the row-by-row twin): an optimizer other than SGD,
        /// without DslModelsFusedStepMinWeights. Their updates divide and take square roots, which inside the strip-by-strip
        /// tiles of larger batches measured slower than Step()'s pass (Adam on 784 -> 512: +3% at batch 32, +13% at 128), while
        /// in the twin, where updating W and its state is the work, the pass saved is the gain (mlp512 with Adam, session 23:
        /// train/1 285 -> 269 us, train/4 234 -> 217, medians).
        /// </summary>
        private static bool FusesSmallBatchesOnly(ModelSpec spec) =>
            spec.FusedStepMinWeights is null && spec.Optimizer is { Kind: not OptimizerKind.Sgd };

        /// <summary>What a layer's weight-gradient kernel needs to update the weight as it finishes it (see <see cref="FusesStepInBackward"/>).</summary>
        private sealed class FusedUpdate
        {
            public FusedUpdate(StepKernel kernel, SplitCall call, int floatBase, int boolBase)
            {
                Kernel = kernel;
                Call = call;
                FloatBase = floatBase;
                BoolBase = boolBase;
            }

            /// <summary>The group's kernel (its body is written inline into the tiles).</summary>
            public StepKernel Kernel { get; }

            /// <summary>Step()'s call of the kernel for the weight's group: its state arrays (Refs) and its arguments.</summary>
            public SplitCall Call { get; }

            /// <summary>Where the group's float and bool arguments sit in _dslFuseF and _dslFuseB.</summary>
            public int FloatBase { get; }

            public int BoolBase { get; }

            /// <summary>The state-arena refs of the call ("ref momentumBuffer"...), after the parameters and gradients.</summary>
            public IEnumerable<string> StateRefs => Call.Refs.Split(new[] { ", " }, System.StringSplitOptions.RemoveEmptyEntries).Skip(2);

            /// <summary>The fused weight-gradient kernel's extra parameters: the weight in the parameter arena and in each state arena, and Step()'s arguments.</summary>
            public string Parameters => string.Concat(Extra.Select(p => $", {p.Type} {p.Name}"));

            /// <summary>The same parameters passed on as arguments (", ref stepT, ..., stepLr, ...").</summary>
            public string Arguments => string.Concat(Extra.Select(p => p.Type.StartsWith("ref ", System.StringComparison.Ordinal) ? $", ref {p.Name}" : $", {p.Name}"));

            private IEnumerable<(string Type, string Name)> Extra =>
                new[] { ("ref float", "stepT") }.Concat(Kernel.Arrays.Select(a => ("ref float", Param(a))))
                .Concat(Kernel.Floats.Select(f => ("float", Param(f)))).Concat(Kernel.Bools.Select(b => ("bool", Param(b))));

            public static string Param(string name) => "step" + char.ToUpperInvariant(name[0]) + name.Substring(1);
        }

        /// <summary>Step()'s kernel call of each group (the format string with {0} for the range), as EmitGroupStep writes it.</summary>
        private static List<string> GroupCalls(OptimizerSpec o, List<StepGroup> groups)
        {
            var calls = new List<string>();
            for (int gi = 0; gi < groups.Count; gi++)
            {
                string? call = null;
                EmitGroupStep(new SourceWriter(), o, groups[gi], gi, new List<SplitCall>(), c => call ??= c);
                calls.Add(call!);
            }
            return calls;
        }

        /// <summary>The kernel Step() runs for a group with (SGD, RMSprop) or without momentum, as EmitStep emits it.</summary>
        private static StepKernel KernelOf(SourceWriter w, OptimizerSpec o, bool momentum)
        {
            var captured = new List<StepKernel>();
            switch (o.Kind)
            {
                case OptimizerKind.Sgd:
                    EmitSgdKernel(w, o, momentum, captured);
                    break;
                case OptimizerKind.Adam or OptimizerKind.AdamW:
                    EmitAdamKernel(w, o, captured);
                    break;
                case OptimizerKind.RMSprop:
                    EmitRmspropKernel(w, o, momentum, captured);
                    break;
                default:
                    EmitOtherKernel(w, o, captured);
                    break;
            }
            return captured[0];
        }

        /// <summary>
        /// Whether TrainStep also fuses the update of a later layer's weight, at batches of at most RowOrderMaxSamples only, in the
        /// row-by-row twin (DslWeightGradStepRows): a layer after the first with as many weights as the first layer needs to fuse.
        /// Its input gradient reads W, so the twin computes it too, before the update: up to 2 samples from each row of W just
        /// before that row's update (the input gradient kernel's chains over the outputs in order: the same bits), at 3 and 4
        /// with that kernel first; the separate pass is skipped. At such batches the step is the pass over W and the optimizer's
        /// state: fusing saves a pass over W, a read of the weight gradient and a store of it that is read for ownership first
        /// (mlp512 with Adam, docs/benchmarks.md "Session 24"). Not at larger batches: the twin is for small batches only, and
        /// the strip-by-strip tiles' update measured slower than Step()'s pass for Adam (FusesSmallBatchesOnly).
        /// </summary>
        private static bool FusesInRows(ModelSpec spec, LayerSpec l) =>
            FusesStepInBackward(spec) && !ReferenceEquals(l, spec.Layers[0])
            && (long)l.In * l.Out >= (spec.FusedStepMinWeights ?? ModelSpec.DefaultFusedStepMinWeights);

        /// <summary>The layers <see cref="FusesInRows"/> takes, in order.</summary>
        private static List<LayerSpec> RowFusedLayers(ModelSpec spec) => spec.Layers.Where(l => FusesInRows(spec, l)).ToList();

        /// <summary>The fused update of layer <paramref name="l"/>'s weight, or null when TrainStep does not fuse it.</summary>
        private static FusedUpdate? FusedUpdateOf(SourceWriter w, ModelSpec spec, LayerSpec l)
        {
            // The first layer at any batch the step fuses; a later one at batches of at most RowOrderMaxSamples (FusesInRows).
            if (!FusesStepInBackward(spec) || !(ReferenceEquals(l, spec.Layers[0]) || FusesInRows(spec, l)))
                return null;
            var o = spec.Optimizer!;
            var groups = StepGroups(spec, new Layout(spec), o);
            int gi = groups.FindIndex(g => g.Params.Any(x => x.Name == l.Name + ".weight"));
            var calls = FusedCalls(o, groups);
            var (floats, bools) = FusedSlots(calls);
            return new FusedUpdate(KernelOf(w, o, groups[gi].Momentum != 0), calls[gi], gi * floats, gi * bools);
        }

        /// <summary>Step()'s kernel call of each group, parsed: the float and bool arguments _dslFuseF and _dslFuseB keep.</summary>
        private static List<SplitCall> FusedCalls(OptimizerSpec o, List<StepGroup> groups) => GroupCalls(o, groups).Select(c => SplitCall.Parse(c, 0)).ToList();

        /// <summary>Slots per group in _dslFuseF and _dslFuseB (group g's arguments start at g times these).</summary>
        private static (int Floats, int Bools) FusedSlots(List<SplitCall> calls) =>
            (calls.Max(c => c.Floats.Count), System.Math.Max(1, calls.Max(c => c.Bools.Count)));

        /// <summary>
        /// The first layer's weight gradient that TrainStep's fused kernel did not store (deferGrad): that kernel streams dW strips that
        /// nothing in the step reads again, and storing them cost mlp128 ~2.4 of 16.6 us a step at batch 1 and ~2.5 of 75 at batch 32
        /// (docs/benchmarks.md, "Session 20"). Instead the step leaves its input (act0) and dz in place, and DslMaterializeGradients
        /// computes dW with the plain kernel (the same sums in the same order: the same bits) when something needs it: the
        /// parameter's Grad (every runtime reader goes through it), Step(), a training Forward (which overwrites the input), a
        /// larger batch (which replaces the buffers). A TrainStep or ZeroGrad writes every gradient anew, so it just drops it.
        /// Predict reuses the scratch buffer that holds dz, so it first copies dz aside (DslKeepPendingDz).
        /// </summary>
        private static void EmitDeferredGradient(SourceWriter w, ModelSpec spec)
        {
            var first = spec.Layers[0];
            string L = first.PropertyName;
            string dzBuf = DzInGradA(spec, 0) ? "_dslGradA" : "_dslGradB";
            string bias = first.HasBias ? $"ref {U}.Add(ref g, Dsl{L}BiasOffset), " : "";
            w.Line($"// TrainStep's deferred weight gradient of {first.Name} (see DslMaterializeGradients): whether it is pending, the batch it is for,");
            w.Line("// whether Predict copied its dz aside, and the kernel's flags.");
            w.Line("private bool _dslGradPending, _dslPendingDzKept, _dslDeferGrad, _dslGradDeferred;");
            w.Line("private int _dslPendingBatch, _dslDeferHoldoff;");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// TrainSteps that store the gradient after a deferred one was computed (DslMaterializeGradients): computing it costs about");
            w.Line("/// the weight-gradient kernel (mlp128: ~4 us at batch 1, ~23 at batch 32) where deferring saves ~1.2-1.7 us a step, so a");
            w.Line("/// caller that reads it (or calls Forward, Step()) after every TrainStep stops deferring, and pays one computation in 65 steps.");
            w.Line("/// </summary>");
            w.Line("private const int DslDeferHoldoff = 64;");
            w.Line($"private {Rt}.AlignedBuffer? _dslPendingDz;");
            w.Line();
            w.Line("/// <summary>");
            w.Line($"/// Writes the weight gradient of {first.Name} that the last TrainStep computed but did not store (its fused kernel skips those stores:");
            w.Line("/// nothing in the step reads them), from the step's input and dz, which nothing has overwritten since: the plain kernel makes the");
            w.Line("/// same sums in the same order, so the gradient has the bits the fused kernel had. Runs before anything reads the gradient.");
            w.Line("/// </summary>");
            using (w.Block("private void DslMaterializeGradients()"))
            {
                w.Line("if (!_dslGradPending) return;");
                w.Line("_dslGradPending = false;");
                w.Line("_dslDeferHoldoff = DslDeferHoldoff;");
                w.Line($"ref float g = ref {MM}.GetReference(_dslGradients.Span);");
                w.Line($"var dz = _dslPendingDzKept ? _dslPendingDz!.Span : {dzBuf}!.Span;");
                w.Line($"DslWeightGrad{L}(ref {MM}.GetReference(_dslAct0!.Span), ref {MM}.GetReference(dz), ref {U}.Add(ref g, Dsl{L}WeightOffset), {bias}_dslPendingBatch, 0, {Literals.Int(first.Out)}, false);");
            }
            w.Line();
            w.Line("/// <summary>Copies the pending gradient's dz aside, before Predict overwrites the scratch buffer that holds it.</summary>");
            using (w.Block("private void DslKeepPendingDz()"))
            {
                w.Line("if (_dslPendingDzKept) return;");
                w.Line($"{dzBuf}!.Span.Slice(0, _dslPendingBatch * {Literals.Int(first.Out)}).CopyTo(_dslPendingDz!.Span);");
                w.Line("_dslPendingDzKept = true;");
            }
            w.Line();
        }

        /// <summary>
        /// TrainStep's side of the fused update: DslPrepareFusedStep (what Step() does before its passes: the checks, the step
        /// counts, the constants, kept in _dslFuseF/_dslFuseB for the weight-gradient kernel), DslWarmFusedKernel, and
        /// DslStepRest (Step()'s passes over the parameters that kernel does not update: the biases and the later layers).
        /// </summary>
        private static void EmitStepInBackward(SourceWriter w, ModelSpec spec, OptimizerSpec o, List<StepGroup> groups, List<string> keys, List<SplitCall> split)
        {
            var calls = FusedCalls(o, groups);
            string fusedWeight = spec.Layers[0].Name + ".weight";
            var (floats, bools) = FusedSlots(calls);
            w.Line("// TrainStep's fused update: the group constants Step() would use (set by DslPrepareFusedStep), read by the weight-gradient");
            w.Line("// kernels while _dslFusing is set, and by DslStepRest.");
            w.Line($"private readonly float[] _dslFuseF = new float[{groups.Count * floats}];");
            w.Line($"private readonly bool[] _dslFuseB = new bool[{groups.Count * bools}];");
            w.Line("private bool _dslFusing;");
            if (RowFusedLayers(spec).Count > 0)
            {
                w.Line($"// Set by TrainStep at batches of at most {RowOrderMaxSamples}: the later layers' twins update their weights too (FusesInRows) and write");
                w.Line("// their input gradients first; _dslRowsDeferred takes the twins' gradDeferred, which stays false (they store their gradients).");
                w.Line("private bool _dslFuseRows, _dslRowsDeferred;");
            }
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// TrainStep, before its backward pass: when Step() would run its emitted passes (DslCanFuseStep), does what Step() does");
            w.Line("/// before them (the step counts and group scalars advance, the constants are computed from the live param groups) and keeps");
            w.Line("/// the constants; the weight-gradient kernels then update each weight as they finish it, and DslStepRest the rest. Every");
            w.Line("/// value is Step()'s, element by element: the same bits. Returns false (nothing changed) when Step() must run instead.");
            w.Line("/// </summary>");
            using (w.Block("private bool DslPrepareFusedStep()"))
            {
                w.Line("if (!DslCanFuseStep()) return false;");
                w.Line("var groups = Optimizer.ParamGroups;");
                for (int gi = 0; gi < groups.Count; gi++)
                {
                    w.Line($"// Group {gi} ({groups[gi].Label})");
                    using (w.Scope())
                    {
                        w.Line($"var group = groups[{gi}];");
                        int g = gi;
                        EmitGroupStep(w, o, groups[gi], gi, new List<SplitCall>(), call =>
                        {
                            var c = SplitCall.Parse(call, 0);
                            for (int i = 0; i < c.Floats.Count; i++)
                                w.Line($"_dslFuseF[{g * floats + i}] = {c.Floats[i]};");
                            for (int i = 0; i < c.Bools.Count; i++)
                                w.Line($"_dslFuseB[{g * bools + i}] = {c.Bools[i]};");
                        });
                    }
                }
                w.Line("_dslFusing = true;");
                w.Line("return true;");
            }
            w.Line();
            var first = spec.Layers[0];
            var f = FusedUpdateOf(new SourceWriter(), spec, first)!;
            w.Line("private bool _dslFusedKernelWarm;");
            w.Line();
            w.Line("/// <summary>");
            w.Line($"/// Calls DslWeightGradStep{first.PropertyName} on no rows (it reads and writes nothing), so that the JIT compiles it during the first");
            w.Line("/// TrainStep, which cannot fuse (the optimizer creates its state there) and compiles everything else, rather than during");
            w.Line("/// the second: a process then has one slow first step instead of two (mlp128 at batch 32: the second took ~11 ms).");
            w.Line($"/// Its row-by-row twin DslWeightGradStepRows{first.PropertyName} too when <paramref name=\"batch\"/> is at most {RowOrderMaxSamples}: compiling it costs the first");
            w.Line("/// step a few ms, which a model trained on larger batches does not pay (it would at its first small batch).");
            w.Line("/// </summary>");
            using (w.Block("private void DslWarmFusedKernel(int batch)"))
            {
                w.Line("_dslFusedKernelWarm = true;");
                w.Line($"ref float p = ref {MM}.GetReference(_dslParameters.Span);");
                w.Line($"ref float g = ref {MM}.GetReference(_dslGradients.Span);");
                // A kernel's arguments for no rows: the weight's gradient and bias gradient, then W and p for the state, zeros for the constants.
                (string At, string Bias, string Args) NoRows(LayerSpec l, FusedUpdate fu)
                {
                    string lat = $"Dsl{l.PropertyName}WeightOffset";
                    return (lat, l.HasBias ? $"ref {U}.Add(ref g, Dsl{l.PropertyName}BiasOffset), " : "",
                        $", ref {U}.Add(ref p, {lat})" + string.Concat(fu.StateRefs.Select(_ => ", ref p"))
                        + string.Concat(fu.Call.Floats.Select(_ => ", 0f")) + string.Concat(fu.Call.Bools.Select(_ => ", false")));
                }
                var (at, bias, args) = NoRows(first, f);
                w.Line("bool deferred = false;");
                w.Line($"DslWeightGradStep{first.PropertyName}(ref p, ref p, ref {U}.Add(ref g, {at}), {bias}0, 0, 0, false{args}, false, ref deferred); // batch 0, rows [0, 0)");
                w.Line($"if (batch <= {RowOrderMaxSamples}) DslWeightGradStepRows{first.PropertyName}(ref p, ref p, ref {U}.Add(ref g, {at}), {bias}0, 0, 0, false{args}, false, ref deferred); // its twin for batches of at most {RowOrderMaxSamples}");
                foreach (var l in RowFusedLayers(spec))
                {
                    var (lat, lbias, largs) = NoRows(l, FusedUpdateOf(new SourceWriter(), spec, l)!);
                    w.Line($"if (batch <= {RowOrderMaxSamples}) DslWeightGradStepRows{l.PropertyName}(ref p, ref p, ref p, ref {U}.Add(ref g, {lat}), {lbias}0, 0, 0, false{largs}, false, ref deferred); // {l.Name}'s twin (FusesInRows)");
                }
            }
            w.Line();
            EmitDeferredGradient(w, spec);
            var rowFused = RowFusedLayers(spec);
            if (rowFused.Count > 0)
            {
                w.Line("/// <summary>Step()'s passes over the parameters the weight-gradient kernels did not update, with DslPrepareFusedStep's constants.");
                w.Line($"/// <paramref name=\"rows\"/>: the twins of the later layers updated their weights too (DslWeightGradStepRows, batches of at most {RowOrderMaxSamples}).");
                w.Line("/// </summary>");
            }
            else
            {
                w.Line("/// <summary>Step()'s passes over the parameters the weight-gradient kernels did not update, with DslPrepareFusedStep's constants.</summary>");
            }
            using (w.Block(rowFused.Count > 0 ? "private void DslStepRest(bool rows)" : "private void DslStepRest()"))
            {
                w.Line($"ref float p = ref {MM}.GetReference(_dslParameters.Span);");
                w.Line($"ref float g = ref {MM}.GetReference(_dslGradients.Span);");
                foreach (string key in keys)
                    w.Line($"ref float {StateLocal(key)} = ref {MM}.GetReference(Optimizer.StateArena({Literals.String(key)}));");
                void Groups(ICollection<string> fused, bool splits)
                {
                    for (int gi = 0; gi < groups.Count; gi++)
                    {
                        var c = calls[gi];
                        string args = string.Concat(c.Floats.Select((_, i) => $", _dslFuseF[{gi * floats + i}]").Concat(c.Bools.Select((_, i) => $", _dslFuseB[{gi * bools + i}]")));
                        w.Line($"// Group {gi} ({groups[gi].Label}): {string.Join(", ", groups[gi].Params.Where(x => !fused.Contains(x.Name)).Select(x => x.Name))}");
                        EmitRuns(w, groups[gi], $"{c.Kernel}({c.Refs}{{0}}{args});", split, fused, splits);
                    }
                }
                if (rowFused.Count > 0)
                {
                    using (w.Block("if (rows)"))
                    {
                        w.Line($"// The backward's twins updated {string.Join(", ", rowFused.Select(l => l.Name + ".weight"))} too (a batch of at most {RowOrderMaxSamples}: one thread).");
                        Groups(new[] { fusedWeight }.Concat(rowFused.Select(l => l.Name + ".weight")).ToList(), splits: false);
                    }
                    using (w.Block("else"))
                        Groups(new[] { fusedWeight }, splits: true);
                }
                else
                {
                    Groups(new[] { fusedWeight }, splits: true);
                }
            }
            w.Line();
        }

        /// <summary>Runs of at least this many floats are split over the threads when <c>model.Threads</c> is above 1.</summary>
        private const int StepSplitFloats = 1 << 16;

        /// <summary>
        /// A kernel call of Step() that may run split over the threads: the kernel, its ref arguments (which DslStepPart
        /// re-derives from the arenas) and its float and bool arguments (which travel through _dslStepF/_dslStepB).
        /// </summary>
        private sealed class SplitCall
        {
            /// <summary>The bool arguments the calls above pass (every other argument after the range is a float).</summary>
            private static readonly string[] BoolArguments = { "wd != 0", "rect", "mu != 1" };

            private SplitCall(int id, string kernel, string refs, List<string> floats, List<string> bools)
            {
                Id = id;
                Kernel = kernel;
                Refs = refs;
                Floats = floats;
                Bools = bools;
            }

            public int Id { get; }

            public string Kernel { get; }

            /// <summary>"ref p, ref g, ref expAvg, ": everything before the range.</summary>
            public string Refs { get; }

            public List<string> Floats { get; }

            public List<string> Bools { get; }

            /// <summary>The parameters of the run: (arena offset, rows, floats per row).</summary>
            public List<(int Offset, int Rows, int RowLength)> Pieces { get; } = new();

            /// <summary>Whether a kernel argument is a bool: one of those above, or a value TrainStep's fused step kept (_dslFuseB).</summary>
            private static bool IsBool(string argument) => System.Array.IndexOf(BoolArguments, argument) >= 0 || argument.StartsWith("_dslFuseB[", System.StringComparison.Ordinal);

            /// <summary>Splits <c>Kernel(refs, {0}, args...);</c> as written in EmitGroupStep.</summary>
            public static SplitCall Parse(string call, int id)
            {
                int open = call.IndexOf('(');
                string inner = call.Substring(open + 1, call.LastIndexOf(')') - open - 1);
                int range = inner.IndexOf("{0}", System.StringComparison.Ordinal);
                var args = new List<string>();
                int depth = 0, from = range + 3;
                for (int i = from; i <= inner.Length; i++)
                {
                    if (i == inner.Length || (inner[i] == ',' && depth == 0))
                    {
                        string arg = inner.Substring(from, i - from).Trim();
                        if (arg.Length > 0)
                            args.Add(arg);
                        from = i + 1;
                    }
                    else if (inner[i] == '(')
                        depth++;
                    else if (inner[i] == ')')
                        depth--;
                }
                return new SplitCall(id, call.Substring(0, open), inner.Substring(0, range),
                    args.Where(a => !IsBool(a)).ToList(), args.Where(IsBool).ToList());
            }
        }

        /// <summary>DslStepParallel and DslStepPart: one long run of Step() split into 16-float-aligned parts, one per thread.</summary>
        private static void EmitSplitStep(SourceWriter w, List<SplitCall> split, List<string> keys)
        {
            w.Line("// Step() arguments of a run split over the threads (DslStepPart reads them).");
            w.Line($"private readonly float[] _dslStepF = new float[{split.Max(c => c.Floats.Count)}];");
            w.Line($"private readonly bool[] _dslStepB = new bool[{System.Math.Max(1, split.Max(c => c.Bools.Count))}];");
            w.Line("private int _dslStepRun;");
            w.Line("private global::System.Action<int>? _dslStepPart;");
            w.Line();
            using (w.Block("private void DslStepParallel(int run)"))
            {
                w.Line("_dslStepRun = run;");
                w.Line("_dslStepPart ??= DslStepPart;");
                w.Line("_dslPool!.Run(_dslPool.Threads, _dslStepPart);");
            }
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Part <paramref name=\"part\"/> of the split run: rows [part * chunk, (part + 1) * chunk) of each of its parameters, the chunk as");
            w.Line("/// DslSetPart cuts a row-split layer, so each thread updates the rows it reads in the next forward pass and has just written");
            w.Line("/// the gradients of. Element-wise: every split gives the same bits.");
            w.Line("/// </summary>");
            using (w.Block("private void DslStepPart(int part)"))
            {
                w.Line("DslOnPart(-1, _dslStepRun, part, done: false);");
                w.Line("int parts = _dslPool!.Threads;");
                w.Line($"ref float p = ref {MM}.GetReference(_dslParameters.Span);");
                w.Line($"ref float g = ref {MM}.GetReference(_dslGradients.Span);");
                foreach (string key in keys)
                    w.Line($"ref float {StateLocal(key)} = ref {MM}.GetReference(Optimizer.StateArena({Literals.String(key)}));");
                w.Line("int start, end;");
                using (w.Block("switch (_dslStepRun)"))
                {
                    foreach (var c in split)
                    {
                        var args = c.Floats.Select((_, i) => $"_dslStepF[{i}]").Concat(c.Bools.Select((_, i) => $"_dslStepB[{i}]"));
                        w.Line($"case {c.Id}:");
                        w.Indent();
                        foreach (var (offset, rows, rowLength) in c.Pieces)
                        {
                            w.Line($"(start, end) = DslStepRows({offset}, {rows}, {rowLength}, part, parts);");
                            w.Line($"if (start < end) {c.Kernel}({c.Refs}start, end, {string.Join(", ", args)});");
                        }
                        w.Line("break;");
                        w.Unindent();
                    }
                }
                w.Line("DslOnPart(-1, _dslStepRun, part, done: true);");
            }
            w.Line();
            w.Line("/// <summary>Floats [start, end) of rows [part * chunk, (part + 1) * chunk) of a parameter, chunk = rows / parts rounded up to 16.</summary>");
            using (w.Block("private static (int Start, int End) DslStepRows(int offset, int rows, int rowLength, int part, int parts)"))
            {
                w.Line("int chunk = ((rows + parts - 1) / parts + 15) / 16 * 16, r0 = global::System.Math.Min(part * chunk, rows), r1 = global::System.Math.Min(r0 + chunk, rows);");
                w.Line("return (offset + r0 * rowLength, offset + r1 * rowLength);");
            }
            w.Line();
        }

        /// <summary>
        /// Step()'s kernel <paramref name="call"/> (a format string, {0} the range) on each contiguous run of <paramref name="gr"/>'s
        /// parameters but <paramref name="exclude"/>; runs of at least StepSplitFloats split over the model's threads after a threaded batch.
        /// </summary>
        private static void EmitRuns(SourceWriter w, StepGroup gr, string call, List<SplitCall> split, ICollection<string>? exclude, bool splits = true)
        {
            var group = new StepGroup(gr.Label, gr.Momentum);
            group.Params.AddRange(gr.Params.Where(x => exclude is null || !exclude.Contains(x.Name)));
            foreach (var (start, end) in group.Runs())
            {
                string direct = string.Format(call, $"{start}, {end}") + $" // floats [{start}, {end})";
                if (end - start < StepSplitFloats || !splits)
                {
                    w.Line(direct);
                    continue;
                }
                // Long runs split over the model's threads: the arguments go through fields to DslStepPart.
                var c = SplitCall.Parse(call, split.Count);
                c.Pieces.AddRange(group.Params.Where(x => x.Offset >= start && x.Offset < end).OrderBy(x => x.Offset).Select(x => (x.Offset, x.Rows, x.Length / x.Rows)));
                split.Add(c);
                // Only after a threaded batch (>= 64 samples, as DslDispatch): the workers are then still spinning, while
                // waking a blocked one costs more than this whole pass.
                using (w.Block("if (_dslPool is not null && _dslForwardBatch >= 64)"))
                {
                    for (int i = 0; i < c.Floats.Count; i++)
                        w.Line($"_dslStepF[{i}] = {c.Floats[i]};");
                    for (int i = 0; i < c.Bools.Count; i++)
                        w.Line($"_dslStepB[{i}] = {c.Bools[i]};");
                    w.Line($"DslStepParallel({c.Id}); // floats [{start}, {end}): each thread updates its rows of each parameter (see DslStepPart)");
                }
                using (w.Block("else"))
                    w.Line(direct);
            }
        }

        /// <summary>The body of Step() for one group: its constants as the runtime computes them, then one kernel call per run.</summary>
        private static void EmitGroupStep(SourceWriter w, OptimizerSpec o, StepGroup gr, int gi, List<SplitCall> split, System.Action<string>? capture = null)
        {
            void Runs(string call)
            {
                if (capture is not null)
                    capture(call);
                else
                    EmitRuns(w, gr, call, split, null);
            }
            const string Same = "// Every parameter of the group has the same step count (DslCanFuseStep checked it): one set of constants, as the runtime {0} computes them.";
            const string SysMath = "global::System.Math";
            switch (o.Kind)
            {
                case OptimizerKind.Sgd:
                {
                    w.Line("// The constants as the runtime SGD rounds them.");
                    w.Line("float lr = (float)group.GetDouble(\"lr\"), momentum = (float)group.GetDouble(\"momentum\"), oneMinusDampening = (float)(1.0 - group.GetDouble(\"dampening\")), wd = (float)group.GetDouble(\"weight_decay\");");
                    Runs(gr.Momentum != 0
                        ? "DslSgdMomentum(ref p, ref g, ref momentumBuffer, {0}, lr, momentum, oneMinusDampening, wd, wd != 0);"
                        : "DslSgd(ref p, ref g, {0}, lr, wd, wd != 0);");
                    break;
                }
                case OptimizerKind.Adam or OptimizerKind.AdamW:
                {
                    w.Line(string.Format(Same, "Adam"));
                    w.Line($"double step = Optimizer.AdvanceGroupStep({gi}, \"step\");");
                    w.Line("double lr = group.GetDouble(\"lr\"), eps = group.GetDouble(\"eps\"), wd = group.GetDouble(\"weight_decay\");");
                    w.Line("var (b1, b2) = group.GetPair(\"betas\");");
                    w.Line($"double stepSize = lr / (1 - {SysMath}.Pow(b1, step)), bc2Sqrt = {SysMath}.Sqrt(1 - {SysMath}.Pow(b2, step));");
                    string vmax = o.Amsgrad ? "ref maxExpAvgSq, " : "";
                    Runs($"DslAdam(ref p, ref g, ref expAvg, ref expAvgSq, {vmax}{{0}}, (float)b1, (float)(1 - b1), (float)b2, (float)(1 - b2), (float)eps, (float)wd, (float)(1 - lr * wd), (float)(-stepSize), (float)bc2Sqrt, wd != 0);");
                    break;
                }
                case OptimizerKind.Adagrad:
                    w.Line(string.Format(Same, "Adagrad"));
                    w.Line($"double step = Optimizer.AdvanceGroupStep({gi}, \"step\");");
                    w.Line("double lr = group.GetDouble(\"lr\"), lrDecay = group.GetDouble(\"lr_decay\"), eps = group.GetDouble(\"eps\"), wd = group.GetDouble(\"weight_decay\");");
                    w.Line("double clr = lr / (1 + (step - 1) * lrDecay);");
                    Runs("DslAdagrad(ref p, ref g, ref sum, {0}, (float)(-clr), (float)eps, (float)wd, wd != 0);");
                    break;
                case OptimizerKind.RMSprop:
                {
                    w.Line($"Optimizer.AdvanceGroupStep({gi}, \"step\"); // the count only; RMSprop's update does not use it");
                    w.Line("double lr = group.GetDouble(\"lr\"), alpha = group.GetDouble(\"alpha\"), eps = group.GetDouble(\"eps\"), wd = group.GetDouble(\"weight_decay\"), momentum = group.GetDouble(\"momentum\");");
                    bool withMomentum = gr.Momentum != 0;
                    string arrays = "ref squareAvg" + (o.Centered ? ", ref gradAvg" : "") + (withMomentum ? ", ref momentumBuffer" : "");
                    Runs($"DslRmsprop{(withMomentum ? "Momentum" : "")}(ref p, ref g, {arrays}, {{0}}, (float)alpha, (float)(1 - alpha), (float)eps, (float)wd, {(withMomentum ? "(float)momentum, " : "")}(float)(-lr), wd != 0);");
                    break;
                }
                case OptimizerKind.Adadelta:
                    w.Line($"Optimizer.AdvanceGroupStep({gi}, \"step\"); // the count only; Adadelta's update does not use it");
                    w.Line("double lr = group.GetDouble(\"lr\"), rho = group.GetDouble(\"rho\"), eps = group.GetDouble(\"eps\"), wd = group.GetDouble(\"weight_decay\");");
                    Runs("DslAdadelta(ref p, ref g, ref squareAvg, ref accDelta, {0}, (float)rho, (float)(1 - rho), (float)eps, (float)wd, (float)(-lr), wd != 0);");
                    break;
                case OptimizerKind.Adamax:
                    w.Line(string.Format(Same, "Adamax"));
                    w.Line($"double step = Optimizer.AdvanceGroupStep({gi}, \"step\");");
                    w.Line("double lr = group.GetDouble(\"lr\"), eps = group.GetDouble(\"eps\"), wd = group.GetDouble(\"weight_decay\");");
                    w.Line("var (b1, b2) = group.GetPair(\"betas\");");
                    w.Line($"double clr = lr / (1 - {SysMath}.Pow(b1, step));");
                    Runs("DslAdamax(ref p, ref g, ref expAvg, ref expInf, {0}, (float)b1, (float)(1 - b1), (float)b2, (float)eps, (float)wd, (float)(-clr), wd != 0);");
                    break;
                case OptimizerKind.NAdam:
                    w.Line(string.Format(Same, "NAdam"));
                    w.Line($"double step = Optimizer.AdvanceGroupStep({gi}, \"step\");");
                    w.Line("double lr = group.GetDouble(\"lr\"), eps = group.GetDouble(\"eps\"), wd = group.GetDouble(\"weight_decay\"), psi = group.GetDouble(\"momentum_decay\");");
                    w.Line("var (b1, b2) = group.GetPair(\"betas\");");
                    w.Line($"double bc2 = 1 - {SysMath}.Pow(b2, step);");
                    w.Line($"double mu = b1 * (1 - 0.5 * {SysMath}.Pow(0.96, step * psi));");
                    w.Line($"double muNext = b1 * (1 - 0.5 * {SysMath}.Pow(0.96, (step + 1) * psi));");
                    w.Line("// mu_product is one value for the whole group (DslCanFuseStep checked it): a float32 0-dim tensor times a Python float, in float32.");
                    w.Line($"Optimizer.SetGroupScalar({gi}, \"mu_product\", (float)Optimizer.GroupScalar({gi}, \"mu_product\") * (float)mu);");
                    w.Line($"double muProduct = Optimizer.GroupScalar({gi}, \"mu_product\");");
                    w.Line("double muProductNext = muProduct * muNext;");
                    w.Line("double s1 = lr * (1 - mu) / (1 - muProduct) * -1, s2 = lr * muNext / (1 - muProductNext) * -1;");
                    Runs($"DslNAdam(ref p, ref g, ref expAvg, ref expAvgSq, {{0}}, (float)b1, (float)(1 - b1), (float)b2, (float)(1 - b2), (float)eps, (float)wd, (float){SysMath}.Sqrt(bc2), (float)s1, (float)s2, wd != 0);");
                    break;
                case OptimizerKind.RAdam:
                    w.Line(string.Format(Same, "RAdam"));
                    w.Line($"double step = Optimizer.AdvanceGroupStep({gi}, \"step\");");
                    w.Line("double lr = group.GetDouble(\"lr\"), eps = group.GetDouble(\"eps\"), wd = group.GetDouble(\"weight_decay\");");
                    w.Line("var (b1, b2) = group.GetPair(\"betas\");");
                    w.Line($"double bc1 = 1 - {SysMath}.Pow(b1, step), bc2 = 1 - {SysMath}.Pow(b2, step);");
                    w.Line("double rhoInf = 2 / (1 - b2) - 1;");
                    w.Line($"double rhoT = rhoInf - 2 * step * {SysMath}.Pow(b2, step) / bc2;");
                    w.Line("bool rect = rhoT > 5; // the variance is tractable: the rectified update");
                    w.Line($"double r = rect ? {SysMath}.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0;");
                    Runs($"DslRAdam(ref p, ref g, ref expAvg, ref expAvgSq, {{0}}, (float)b1, (float)(1 - b1), (float)b2, (float)(1 - b2), (float)eps, (float)wd, (float)bc1, (float){SysMath}.Sqrt(bc2), (float)lr, (float)r, wd != 0, rect);");
                    break;
                case OptimizerKind.ASGD:
                    w.Line(string.Format(Same, "ASGD"));
                    w.Line($"double step = Optimizer.AdvanceGroupStep({gi}, \"step\");");
                    w.Line("double lr = group.GetDouble(\"lr\"), lambd = group.GetDouble(\"lambd\"), alpha = group.GetDouble(\"alpha\"), t0 = group.GetDouble(\"t0\"), wd = group.GetDouble(\"weight_decay\");");
                    w.Line("// eta and mu are one value each for the whole group (DslCanFuseStep checked it): this step uses them, then they advance.");
                    w.Line($"double eta = Optimizer.GroupScalar({gi}, \"eta\"), mu = Optimizer.GroupScalar({gi}, \"mu\");");
                    Runs("DslAsgd(ref p, ref g, ref ax, {0}, (float)(1 - lambd * eta), (float)(-eta), (float)mu, (float)wd, wd != 0, mu != 1);");
                    w.Line($"Optimizer.SetGroupScalar({gi}, \"eta\", lr / {SysMath}.Pow(1 + lambd * lr * step, alpha));");
                    w.Line($"Optimizer.SetGroupScalar({gi}, \"mu\", 1 / {SysMath}.Max(1, step - t0));");
                    break;
                case OptimizerKind.Rprop:
                    w.Line($"Optimizer.AdvanceGroupStep({gi}, \"step\"); // the count only; Rprop's update does not use it");
                    w.Line("var (etaMinus, etaPlus) = group.GetPair(\"etas\");");
                    w.Line("var (minStep, maxStep) = group.GetPair(\"step_sizes\");");
                    Runs("DslRprop(ref p, ref g, ref prev, ref stepSize, {0}, (float)etaMinus, (float)etaPlus, (float)minStep, (float)maxStep);");
                    break;
            }
        }

        private static string StateLocal(string key)
        {
            var parts = key.Split('_');
            return parts[0] + string.Concat(parts.Skip(1).Select(x => char.ToUpperInvariant(x[0]) + x.Substring(1)));
        }

        /// <summary>One vector step of [start, end): Vector512, Vector256 or Vector128 lanes, then the scalar tail (elementwise, so every width gives the same bits).</summary>
        private static void EmitElementwisePass(SourceWriter w, System.Action<Isa> vectorBody, System.Action scalarBody)
        {
            w.Line("int i = start;");
            EmitIsaDispatch(w, isa =>
            {
                vectorBody(isa);
            }, null);
            using (w.Block("for (; i < end; i++)"))
                scalarBody();
        }

        private static void EmitSgdKernel(SourceWriter w, OptimizerSpec o, bool momentum, List<StepKernel>? capture = null)
        {
            string flags = Flags((momentum, "momentum"), (o.Nesterov, "nesterov"), (o.Maximize, "maximize"));
            var floats = momentum ? new List<string> { "lr", "momentum", "oneMinusDampening", "wd" } : new List<string> { "lr", "wd" };
            EmitKernel(w, $"SGD{flags} on floats [start, end) of the arena: the runtime SGD's operations in its order.",
                momentum ? "DslSgdMomentum" : "DslSgd", momentum ? new[] { "b" } : new string[0], floats, new[] { "useWd" }, x =>
            {
                EmitDirection(w, x, o.Maximize, weightDecay: true);
                if (momentum)
                {
                    w.Line(x.Let("bb", $"{x.Load("b")} * {x.C("momentum")} + {x.C("oneMinusDampening")} * d"));
                    w.Line(x.Store("b", "bb"));
                    w.Line(o.Nesterov ? $"d += {x.C("momentum")} * bb;" : "d = bb;");
                }
                w.Line(x.Store("t", $"th - {x.C("lr")} * d"));
            }, capture);
        }

        private static void EmitAdamKernel(SourceWriter w, OptimizerSpec o, List<StepKernel>? capture = null)
        {
            bool decoupled = o.Kind == OptimizerKind.AdamW;
            string flags = Flags((decoupled, "decoupled weight decay"), (!decoupled, "L2 weight decay"), (o.Amsgrad, "amsgrad"), (o.Maximize, "maximize"));
            var arrays = o.Amsgrad ? new[] { "m", "v", "vmax" } : new[] { "m", "v" };
            EmitKernel(w, $"{o.Kind}{flags} on floats [start, end) of the arena: the runtime {o.Kind}'s operations in its order.", "DslAdam", arrays,
                new[] { "b1", "oneMinusB1", "b2", "oneMinusB2", "eps", "wd", "decay", "negStepSize", "bc2Sqrt" }, new[] { "useWd" }, x =>
            {
                EmitDirection(w, x, o.Maximize, weightDecay: !decoupled);
                if (decoupled)
                    w.Line($"th *= {x.C("decay")};");
                w.Line(x.Let("mm", $"{x.Load("m")} * {x.C("b1")} + {x.C("oneMinusB1")} * d"));
                w.Line(x.Let("vv", $"{x.Load("v")} * {x.C("b2")} + {x.C("oneMinusB2")} * d * d"));
                w.Line(x.Store("m", "mm"));
                w.Line(x.Store("v", "vv"));
                if (o.Amsgrad)
                {
                    w.Line($"vv = {x.Max(x.Load("vmax"), "vv")};");
                    w.Line(x.Store("vmax", "vv"));
                }
                w.Line(x.Let("denom", $"{x.Sqrt("vv")} / {x.C("bc2Sqrt")} + {x.C("eps")}"));
                w.Line(x.Store("t", $"th + {x.C("negStepSize")} * (mm / denom)"));
            }, capture);
        }

        /// <summary>An optimizer's element-wise kernel as EmitKernel writes it: its name, its ref arrays, float and bool arguments, and its body.</summary>
        private sealed class StepKernel
        {
            public StepKernel(string name, List<string> arrays, List<string> floats, List<string> bools, System.Action<Lanes> body)
            {
                Name = name;
                Arrays = arrays;
                Floats = floats;
                Bools = bools;
                Body = body;
            }

            public string Name { get; }

            /// <summary>The state arrays after <c>t</c> and <c>g</c> (the names the body reads them by).</summary>
            public List<string> Arrays { get; }

            public List<string> Floats { get; }

            public List<string> Bools { get; }

            /// <summary>Writes one element's (or vector's) update; each writer is the one the kernel was captured with.</summary>
            public System.Action<Lanes> Body { get; }
        }

        /// <summary>How a kernel body reads for one width: Vector512/Vector256/Vector128 lanes at <c>k</c>, or the scalar element <c>i</c>.</summary>
        private sealed class Lanes
        {
            private readonly Isa? _isa;
            private readonly string? _gradient;

            public Lanes(Isa? isa) => _isa = isa;

            /// <summary>Vector lanes at offset <c>k</c> whose gradient is already in the register <paramref name="gradient"/> (not loaded from g).</summary>
            public Lanes(Isa isa, string gradient)
            {
                _isa = isa;
                _gradient = gradient;
            }

            public bool IsVector => _isa is not null;

            /// <summary>The static Vector512/Vector256/Vector128 class alias (vector widths only).</summary>
            public string T => _isa!.Type;

            /// <summary>The Vector512&lt;float&gt;/Vector256&lt;float&gt; alias (vector widths only).</summary>
            public string Vec => _isa!.Vec;

            public string Let(string name, string expr) => $"{(IsVector ? "var" : "float")} {name} = {expr};";

            public string Load(string array) => array == "g" && _gradient is not null ? _gradient
                : IsVector ? $"{T}.LoadUnsafe(ref {array}, k)" : $"{U}.Add(ref {array}, i)";

            public string Store(string array, string value) => IsVector ? $"{T}.StoreUnsafe({value}, ref {array}, k);" : $"{U}.Add(ref {array}, i) = {value};";

            /// <summary>A float parameter of the kernel: splatted once before the vector loop, or itself.</summary>
            public string C(string name) => IsVector ? VectorName(name) : name;

            public string Sqrt(string x) => IsVector ? $"{T}.Sqrt({x})" : $"global::System.MathF.Sqrt({x})";

            public string Abs(string x) => IsVector ? $"{T}.Abs({x})" : $"global::System.MathF.Abs({x})";

            public string Max(string a, string b) => IsVector ? $"{T}.Max({a}, {b})" : $"global::System.MathF.Max({a}, {b})";

            public string Min(string a, string b) => IsVector ? $"{T}.Min({a}, {b})" : $"global::System.MathF.Min({a}, {b})";

            public static string VectorName(string name) => "v" + char.ToUpperInvariant(name[0]) + name.Substring(1);
        }

        /// <summary>
        /// An element-wise optimizer kernel over floats [start, end) of the arena: <c>t</c> the parameters, <c>g</c> the
        /// gradients, then <paramref name="arrays"/> (state arenas), the <paramref name="floats"/> and <paramref name="bools"/>;
        /// <paramref name="body"/> writes one element's update for a width (the same operations for every width, so every
        /// width gives the same bits).
        /// </summary>
        private static void EmitKernel(SourceWriter w, string summary, string name, IEnumerable<string> arrays, IList<string> floats, IEnumerable<string> bools, System.Action<Lanes> body,
            List<StepKernel>? capture = null)
        {
            if (capture is not null)
            {
                capture.Add(new StepKernel(name, arrays.ToList(), floats.ToList(), bools.ToList(), body));
                return;
            }
            w.Line($"/// <summary>{summary}</summary>");
            w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
            string parameters = string.Concat(new[] { "ref float t", "ref float g" }.Concat(arrays.Select(a => "ref float " + a)).Select(x => x + ", "))
                + "int start, int end" + string.Concat(floats.Select(f => ", float " + f)) + string.Concat(bools.Select(b => ", bool " + b));
            using (w.Block($"private static void {name}({parameters})"))
            {
                EmitElementwisePass(w, isa =>
                {
                    for (int c = 0; c < floats.Count; c += 5)
                        w.Line(string.Join(" ", floats.Skip(c).Take(5).Select(f => $"var {Lanes.VectorName(f)} = {isa.Type}.Create({f});")));
                    using (w.Block($"for (; i <= end - {isa.Width}; i += {isa.Width})"))
                    {
                        w.Line("nuint k = (nuint)i;");
                        body(new Lanes(isa));
                    }
                }, () => body(new Lanes(null)));
            }
            w.Line();
        }

        /// <summary>θ and the direction d (the gradient, negated for maximize, plus wd·θ when the group has weight decay), as every runtime kernel starts.</summary>
        private static void EmitDirection(SourceWriter w, Lanes x, bool maximize, bool weightDecay)
        {
            w.Line(x.Let("th", x.Load("t")));
            w.Line(x.Let("d", x.Load("g")));
            if (maximize)
                w.Line("d = -d;");
            if (weightDecay)
                w.Line($"if (useWd) d += {x.C("wd")} * th;");
        }

        private static string Flags(params (bool On, string Text)[] flags) =>
            string.Join(", ", flags.Where(f => f.On).Select(f => f.Text)) is { Length: > 0 } s ? $" ({s})" : "";

        private static void EmitRmspropKernel(SourceWriter w, OptimizerSpec o, bool momentum, List<StepKernel>? capture = null)
        {
            var arrays = new List<string> { "squareAvg" };
            if (o.Centered) arrays.Add("gradAvg");
            if (momentum) arrays.Add("momentumBuffer");
            var floats = new List<string> { "alpha", "oneMinusAlpha", "eps", "wd" };
            if (momentum) floats.Add("momentum");
            floats.Add("negLr");
            string flags = Flags((momentum, "momentum"), (o.Centered, "centered"), (o.Maximize, "maximize"));
            EmitKernel(w, $"RMSprop{flags} on floats [start, end) of the arena: the runtime RMSprop's operations in its order.",
                momentum ? "DslRmspropMomentum" : "DslRmsprop", arrays, floats, new[] { "useWd" }, x =>
            {
                EmitDirection(w, x, o.Maximize, weightDecay: true);
                w.Line(x.Let("sq", $"{x.Load("squareAvg")} * {x.C("alpha")} + {x.C("oneMinusAlpha")} * d * d"));
                w.Line(x.Store("squareAvg", "sq"));
                if (o.Centered)
                {
                    w.Line(x.Let("ga", $"{x.Load("gradAvg")} * {x.C("alpha")} + {x.C("oneMinusAlpha")} * d"));
                    w.Line(x.Store("gradAvg", "ga"));
                    w.Line(x.Let("avg", $"{x.Sqrt("sq + -(ga * ga)")} + {x.C("eps")}"));
                }
                else
                {
                    w.Line(x.Let("avg", $"{x.Sqrt("sq")} + {x.C("eps")}"));
                }
                if (momentum)
                {
                    w.Line(x.Let("buf", $"{x.Load("momentumBuffer")} * {x.C("momentum")} + d / avg"));
                    w.Line(x.Store("momentumBuffer", "buf"));
                    w.Line(x.Store("t", $"th + {x.C("negLr")} * buf"));
                }
                else
                {
                    w.Line(x.Store("t", $"th + {x.C("negLr")} * (d / avg)"));
                }
            }, capture);
        }

        /// <summary>The kernel of Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD or Rprop (one specialisation per model).</summary>
        private static void EmitOtherKernel(SourceWriter w, OptimizerSpec o, List<StepKernel>? capture = null)
        {
            string max = o.Maximize ? " (maximize)" : "";
            string Doc(string what) => $"{what} on floats [start, end) of the arena: the runtime {what.Split(' ')[0]}'s operations in its order.";
            switch (o.Kind)
            {
                case OptimizerKind.Adagrad:
                    EmitKernel(w, Doc("Adagrad" + max), "DslAdagrad", new[] { "sum" }, new[] { "negClr", "eps", "wd" }, new[] { "useWd" }, x =>
                    {
                        EmitDirection(w, x, o.Maximize, weightDecay: true);
                        w.Line(x.Let("s", $"{x.Load("sum")} + d * d"));
                        w.Line(x.Store("sum", "s"));
                        w.Line(x.Store("t", $"th + {x.C("negClr")} * (d / ({x.Sqrt("s")} + {x.C("eps")}))"));
                    }, capture);
                    break;
                case OptimizerKind.Adadelta:
                    EmitKernel(w, Doc("Adadelta" + max), "DslAdadelta", new[] { "squareAvg", "accDelta" }, new[] { "rho", "oneMinusRho", "eps", "wd", "negLr" }, new[] { "useWd" }, x =>
                    {
                        EmitDirection(w, x, o.Maximize, weightDecay: true);
                        w.Line(x.Let("v", $"{x.Load("squareAvg")} * {x.C("rho")} + {x.C("oneMinusRho")} * d * d"));
                        w.Line(x.Store("squareAvg", "v"));
                        w.Line(x.Let("std", x.Sqrt($"v + {x.C("eps")}")));
                        w.Line(x.Let("u", x.Load("accDelta")));
                        w.Line(x.Let("delta", $"{x.Sqrt($"u + {x.C("eps")}")} / std * d"));
                        w.Line(x.Store("accDelta", $"u * {x.C("rho")} + {x.C("oneMinusRho")} * delta * delta"));
                        w.Line(x.Store("t", $"th + {x.C("negLr")} * delta"));
                    }, capture);
                    break;
                case OptimizerKind.Adamax:
                    EmitKernel(w, Doc("Adamax" + max), "DslAdamax", new[] { "expAvg", "expInf" }, new[] { "b1", "oneMinusB1", "b2", "eps", "wd", "negClr" }, new[] { "useWd" }, x =>
                    {
                        EmitDirection(w, x, o.Maximize, weightDecay: true);
                        w.Line(x.Let("m", $"{x.Load("expAvg")} * {x.C("b1")} + {x.C("oneMinusB1")} * d"));
                        w.Line(x.Let("u", x.Max($"{x.Load("expInf")} * {x.C("b2")}", $"{x.Abs("d")} + {x.C("eps")}")));
                        w.Line(x.Store("expAvg", "m"));
                        w.Line(x.Store("expInf", "u"));
                        w.Line(x.Store("t", $"th + {x.C("negClr")} * (m / u)"));
                    }, capture);
                    break;
                case OptimizerKind.NAdam:
                    EmitKernel(w, Doc("NAdam"), "DslNAdam", new[] { "expAvg", "expAvgSq" }, new[] { "b1", "oneMinusB1", "b2", "oneMinusB2", "eps", "wd", "bc2Sqrt", "s1", "s2" }, new[] { "useWd" }, x =>
                    {
                        EmitDirection(w, x, maximize: false, weightDecay: true);
                        w.Line(x.Let("m", $"{x.Load("expAvg")} * {x.C("b1")} + {x.C("oneMinusB1")} * d"));
                        w.Line(x.Let("v", $"{x.Load("expAvgSq")} * {x.C("b2")} + {x.C("oneMinusB2")} * d * d"));
                        w.Line(x.Store("expAvg", "m"));
                        w.Line(x.Store("expAvgSq", "v"));
                        w.Line(x.Let("denom", $"{x.Sqrt("v")} / {x.C("bc2Sqrt")} + {x.C("eps")}"));
                        w.Line($"th = th + {x.C("s1")} * (d / denom);");
                        w.Line(x.Store("t", $"th + {x.C("s2")} * (m / denom)"));
                    }, capture);
                    break;
                case OptimizerKind.RAdam:
                    EmitKernel(w, Doc("RAdam").Replace(" on floats", " (rectified or not, as rect says) on floats"), "DslRAdam", new[] { "expAvg", "expAvgSq" },
                        new[] { "b1", "oneMinusB1", "b2", "oneMinusB2", "eps", "wd", "bc1", "bc2Sqrt", "lr", "r" }, new[] { "useWd", "rect" }, x =>
                    {
                        EmitDirection(w, x, maximize: false, weightDecay: true);
                        w.Line(x.Let("m", $"{x.Load("expAvg")} * {x.C("b1")} + {x.C("oneMinusB1")} * d"));
                        w.Line(x.Let("v", $"{x.Load("expAvgSq")} * {x.C("b2")} + {x.C("oneMinusB2")} * d * d"));
                        w.Line(x.Store("expAvg", "m"));
                        w.Line(x.Store("expAvgSq", "v"));
                        w.Line(x.Let("mHat", $"m / {x.C("bc1")}"));
                        w.Line(x.Let("update", $"rect ? mHat * {x.C("lr")} * ({x.C("bc2Sqrt")} / ({x.Sqrt("v")} + {x.C("eps")})) * {x.C("r")} : mHat * {x.C("lr")}"));
                        w.Line(x.Store("t", "th - update"));
                    }, capture);
                    break;
                case OptimizerKind.ASGD:
                    EmitKernel(w, Doc("ASGD" + max).Replace(" on floats", ", averaging into ax when average is set, on floats"), "DslAsgd", new[] { "ax" }, new[] { "decay", "negEta", "mu", "wd" }, new[] { "useWd", "average" }, x =>
                    {
                        EmitDirection(w, x, o.Maximize, weightDecay: true);
                        w.Line($"th = th * {x.C("decay")};");
                        w.Line($"th = th + {x.C("negEta")} * d;");
                        w.Line(x.Store("t", "th"));
                        using (w.Block("if (average)"))
                        {
                            w.Line(x.Let("a", x.Load("ax")));
                            w.Line(x.Store("ax", $"a + (th - a) * {x.C("mu")}"));
                        }
                        using (w.Block("else"))
                            w.Line(x.Store("ax", "th"));
                    }, capture);
                    break;
                case OptimizerKind.Rprop:
                    EmitKernel(w, Doc("Rprop" + max), "DslRprop", new[] { "prev", "stepSize" }, new[] { "etaMinus", "etaPlus", "minStep", "maxStep" }, new string[0], x =>
                    {
                        w.Line(x.Let("d", x.Load("g")));
                        if (o.Maximize)
                            w.Line("d = -d;");
                        w.Line(x.Let("prod", $"d * {x.Load("prev")}"));
                        if (x.IsVector)
                        {
                            // Masks and selects, lane by lane what the scalar comparisons below do.
                            string T = x.T;
                            w.Line($"var zero = {x.Vec}.Zero; var one = {x.Vec}.One;");
                            w.Line($"var neg = {T}.LessThan(prod, zero);");
                            w.Line($"var factor = {T}.ConditionalSelect({T}.GreaterThan(prod, zero), vEtaPlus, {T}.ConditionalSelect(neg, vEtaMinus, one));");
                            w.Line(x.Let("s", x.Min(x.Max($"{x.Load("stepSize")} * factor", "vMinStep"), "vMaxStep")));
                            w.Line(x.Store("stepSize", "s"));
                            w.Line($"d = {T}.ConditionalSelect(neg, zero, d);");
                            w.Line($"var sign = {T}.ConditionalSelect({T}.GreaterThan(d, zero), one, {T}.ConditionalSelect({T}.LessThan(d, zero), -one, zero));");
                        }
                        else
                        {
                            w.Line("float factor = prod > 0f ? etaPlus : prod < 0f ? etaMinus : 1f;");
                            w.Line(x.Let("s", x.Min(x.Max($"{x.Load("stepSize")} * factor", "minStep"), "maxStep")));
                            w.Line(x.Store("stepSize", "s"));
                            w.Line("if (prod < 0f) d = 0f;");
                            w.Line("float sign = d > 0f ? 1f : d < 0f ? -1f : 0f;");
                        }
                        w.Line(x.Store("t", $"{x.Load("t")} - sign * s"));
                        w.Line(x.Store("prev", "d"));
                    }, capture);
                    break;
            }
        }
    }
}
