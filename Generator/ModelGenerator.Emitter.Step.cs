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
            public StepGroup(string label, double momentum)
            {
                Label = label;
                Momentum = momentum;
            }

            public string Label { get; }

            /// <summary>The group's momentum as declared (SGD and RMSprop specialise on momentum != 0).</summary>
            public double Momentum { get; }

            /// <summary>(state_dict name, arena offset, length), in group order.</summary>
            public List<(string Name, int Offset, int Length)> Params { get; } = new();

            /// <summary>Maximal runs of adjacent parameters (the 64-byte padding between them included): [start, end) in the arena.</summary>
            public List<(int Start, int End)> Runs()
            {
                var runs = new List<(int Start, int End)>();
                foreach (var (_, offset, length) in Params.OrderBy(p => p.Offset))
                {
                    if (runs.Count > 0 && AlignUp(runs[runs.Count - 1].End) == offset)
                        runs[runs.Count - 1] = (runs[runs.Count - 1].Start, offset + length);
                    else
                        runs.Add((offset, offset + length));
                }
                return runs;
            }

            private static int AlignUp(int n) => (n + 15) / 16 * 16;
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
            (string, int, int) W(LayerSpec l) => (l.Name + ".weight", layout.WeightOffsets[index[l.Name]], l.In * l.Out);
            (string, int, int) B(LayerSpec l) => (l.Name + ".bias", layout.BiasOffsets[index[l.Name]], l.Out);
            var groups = new List<StepGroup>();
            bool grouped = !double.IsNaN(o.BiasWeightDecay) || spec.Layers.Any(l => l.Group is not null);
            var main = new StepGroup(grouped ? "main group" : "all parameters", momentum);
            var biases = new StepGroup("biases", momentum);
            foreach (var l in spec.Layers.Where(l => !grouped || l.Group is null))
            {
                main.Params.Add(W(l));
                if (l.HasBias)
                    (double.IsNaN(o.BiasWeightDecay) ? main : biases).Params.Add(B(l));
            }
            if (main.Params.Count > 0)
                groups.Add(main);
            if (biases.Params.Count > 0)
                groups.Add(biases);
            if (grouped)
            {
                foreach (var l in spec.Layers.Where(l => l.Group is not null))
                {
                    var g = new StepGroup(l.Name, Or(l.Group!.Momentum, momentum));
                    g.Params.Add(W(l));
                    if (l.HasBias)
                        g.Params.Add(B(l));
                    groups.Add(g);
                }
            }
            return groups;
        }

        /// <summary>Optimizers whose update Step() runs as an emitted pass over the arena.</summary>
        private static bool HasFusedStep(OptimizerKind kind) => kind is OptimizerKind.Sgd or OptimizerKind.Adam or OptimizerKind.AdamW;

        /// <summary>The state keys that live in the arena and that the fused pass reads and writes.</summary>
        private static List<string> ArenaKeys(OptimizerSpec o, StepGroup g) => o.Kind switch
        {
            OptimizerKind.Sgd => g.Momentum != 0 ? new List<string> { "momentum_buffer" } : new List<string>(),
            _ => o.Amsgrad ? new List<string> { "exp_avg", "exp_avg_sq", "max_exp_avg_sq" } : new List<string> { "exp_avg", "exp_avg_sq" },
        };

        /// <summary>
        /// Step(): for SGD, Adam and AdamW an update specialised for the declared options and fused over the parameter arena
        /// (one vectorised pass per contiguous run of a group's parameters, state in the optimizer's arena), with the
        /// hyper-parameters a scheduler changes read from the live param groups; the runtime optimizer otherwise.
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
            string kernel = o.Kind == OptimizerKind.Sgd ? "Sgd" : "Adam";
            w.Line("/// <summary>");
            w.Line("/// One step of <see cref=\"Optimizer\"/> (<c>optimizer.step()</c>) with the gradients in <see cref=\"Parameters\"/>: the update emitted for the");
            w.Line($"/// declared {(o.Kind == OptimizerKind.Sgd ? "SGD" : o.Kind.ToString())} options, one pass over each contiguous run of a group's parameters and its state (which lives in the");
            w.Line("/// optimizer's state arena), with lr, momentum, betas, eps and weight_decay read from <see cref=\"Optimizer\"/>'s param groups at");
            w.Line("/// every step (schedulers stay live). Bit for bit what <c>Optimizer.Step()</c> computes. The optimizer itself steps instead");
            w.Line("/// when the fused pass does not apply: the first step (it creates the state), after groups were added, or when an option");
            w.Line("/// the pass is specialised on (listed in DslCanFuseStep) was changed at run time.");
            w.Line("/// </summary>");
            using (w.Block("public void Step()"))
            {
                using (w.Block("if (!DslCanFuseStep())"))
                {
                    w.Line("Optimizer.Step();");
                    w.Line("return;");
                }
                w.Line($"ref float p = ref {MM}.GetReference(_dslParameters.Span);");
                w.Line($"ref float g = ref {MM}.GetReference(_dslGradients.Span);");
                var keys = groups.SelectMany(gr => ArenaKeys(o, gr)).Distinct().ToList();
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
                        if (o.Kind == OptimizerKind.Sgd)
                        {
                            w.Line("// The constants as the runtime SGD rounds them.");
                            w.Line("float lr = (float)group.GetDouble(\"lr\"), momentum = (float)group.GetDouble(\"momentum\"), oneMinusDampening = (float)(1.0 - group.GetDouble(\"dampening\")), wd = (float)group.GetDouble(\"weight_decay\");");
                            string buf = gr.Momentum != 0 ? "ref momentumBuffer" : "ref p";
                            foreach (var (start, end) in gr.Runs())
                                w.Line($"DslSgd{(gr.Momentum != 0 ? "Momentum" : "")}(ref p, ref g, {buf}, {start}, {end}, lr, momentum, oneMinusDampening, wd); // floats [{start}, {end})");
                        }
                        else
                        {
                            w.Line("// Every parameter of the group has the same step count (DslCanFuseStep checked it): one set of constants, as the runtime Adam computes them.");
                            w.Line($"double step = Optimizer.AdvanceGroupStep({gi}, \"step\");");
                            w.Line("double lr = group.GetDouble(\"lr\"), eps = group.GetDouble(\"eps\"), wd = group.GetDouble(\"weight_decay\");");
                            w.Line("var (b1, b2) = group.GetPair(\"betas\");");
                            w.Line("double stepSize = lr / (1 - global::System.Math.Pow(b1, step)), bc2Sqrt = global::System.Math.Sqrt(1 - global::System.Math.Pow(b2, step));");
                            string vmax = o.Amsgrad ? "ref maxExpAvgSq" : "ref p";
                            foreach (var (start, end) in gr.Runs())
                                w.Line($"DslAdam(ref p, ref g, ref expAvg, ref expAvgSq, {vmax}, {start}, {end}, (float)b1, (float)(1 - b1), (float)b2, (float)(1 - b2), (float)eps, (float)wd, (float)(1 - lr * wd), (float)(-stepSize), (float)bc2Sqrt); // floats [{start}, {end})");
                        }
                    }
                }
            }
            w.Line();

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
                    if (o.Kind == OptimizerKind.Sgd)
                    {
                        changed.Add($"{G}.GetDouble(\"momentum\") {(groups[gi].Momentum != 0 ? "==" : "!=")} 0");
                        changed.Add($"{(o.Nesterov ? "!" : "")}{G}.GetBool(\"nesterov\")");
                    }
                    else
                    {
                        changed.Add($"{(o.Amsgrad ? "!" : "")}{G}.GetBool(\"amsgrad\")");
                    }
                    changed.Add($"{(o.Maximize ? "!" : "")}{G}.GetBool(\"maximize\")");
                    w.Line($"if ({string.Join(" || ", changed)}) return false;");
                    w.Line($"if (!Optimizer.CanFuseGroup({gi}, DslStepArenaKeys[{gi}], {(o.Kind == OptimizerKind.Sgd ? "null" : "\"step\"")})) return false;");
                }
                w.Line("return true;");
            }
            w.Line();
            if (o.Kind == OptimizerKind.Sgd)
            {
                foreach (bool withMomentum in groups.Select(gr => gr.Momentum != 0).Distinct().OrderBy(b => b))
                    EmitSgdKernel(w, o, withMomentum);
            }
            else
            {
                EmitAdamKernel(w, o);
            }
        }

        private static string StateLocal(string key)
        {
            var parts = key.Split('_');
            return parts[0] + string.Concat(parts.Skip(1).Select(x => char.ToUpperInvariant(x[0]) + x.Substring(1)));
        }

        /// <summary>One vector step of [start, end): Vector512 or Vector256 lanes, then the scalar tail (elementwise, so every width gives the same bits).</summary>
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

        private static void EmitSgdKernel(SourceWriter w, OptimizerSpec o, bool momentum)
        {
            string name = momentum ? "DslSgdMomentum" : "DslSgd";
            string flags = $"{(momentum ? "momentum" : "no momentum")}{(o.Nesterov ? ", nesterov" : "")}{(o.Maximize ? ", maximize" : "")}";
            w.Line($"/// <summary>SGD ({flags}) on floats [start, end) of the arena: the runtime SGD's operations in its order.</summary>");
            w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
            using (w.Block($"private static void {name}(ref float t, ref float g, ref float b, int start, int end, float lr, float momentum, float oneMinusDampening, float wd)"))
            {
                w.Line("bool useWd = wd != 0;");
                EmitElementwisePass(w, isa =>
                {
                    string T = isa.Type;
                    w.Line($"var lrV = {T}.Create(lr); var mV = {T}.Create(momentum); var dV = {T}.Create(oneMinusDampening); var wdV = {T}.Create(wd);");
                    using (w.Block($"for (; i <= end - {isa.Width}; i += {isa.Width})"))
                    {
                        w.Line($"var th = {T}.LoadUnsafe(ref t, (nuint)i);");
                        w.Line($"var d = {T}.LoadUnsafe(ref g, (nuint)i);");
                        if (o.Maximize)
                            w.Line("d = -d;");
                        w.Line("if (useWd) d += wdV * th;");
                        if (momentum)
                        {
                            w.Line($"var bb = {T}.LoadUnsafe(ref b, (nuint)i) * mV + dV * d;");
                            w.Line($"{T}.StoreUnsafe(bb, ref b, (nuint)i);");
                            w.Line(o.Nesterov ? "d += mV * bb;" : "d = bb;");
                        }
                        w.Line($"{T}.StoreUnsafe(th - lrV * d, ref t, (nuint)i);");
                    }
                }, () =>
                {
                    w.Line($"float th = {U}.Add(ref t, i);");
                    w.Line($"float d = {U}.Add(ref g, i);");
                    if (o.Maximize)
                        w.Line("d = -d;");
                    w.Line("if (useWd) d += wd * th;");
                    if (momentum)
                    {
                        w.Line($"float bb = {U}.Add(ref b, i) * momentum + oneMinusDampening * d;");
                        w.Line($"{U}.Add(ref b, i) = bb;");
                        w.Line(o.Nesterov ? "d += momentum * bb;" : "d = bb;");
                    }
                    w.Line($"{U}.Add(ref t, i) = th - lr * d;");
                });
            }
            w.Line();
        }

        private static void EmitAdamKernel(SourceWriter w, OptimizerSpec o)
        {
            bool decoupled = o.Kind == OptimizerKind.AdamW;
            string flags = $"{(decoupled ? "decoupled weight decay" : "L2 weight decay")}{(o.Amsgrad ? ", amsgrad" : "")}{(o.Maximize ? ", maximize" : "")}";
            w.Line($"/// <summary>{o.Kind} ({flags}) on floats [start, end) of the arena: the runtime {o.Kind}'s operations in its order.</summary>");
            w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
            using (w.Block("private static void DslAdam(ref float t, ref float g, ref float m, ref float v, ref float vmax, int start, int end, float b1, float oneMinusB1, float b2, float oneMinusB2, float eps, float wd, float decay, float negStepSize, float bc2Sqrt)"))
            {
                if (!decoupled)
                    w.Line("bool useWd = wd != 0;");
                EmitElementwisePass(w, isa =>
                {
                    string T = isa.Type;
                    w.Line($"var vb1 = {T}.Create(b1); var v1b1 = {T}.Create(oneMinusB1); var vb2 = {T}.Create(b2); var v1b2 = {T}.Create(oneMinusB2);");
                    w.Line($"var veps = {T}.Create(eps); var vwd = {T}.Create(wd); var vdecay = {T}.Create(decay); var vstep = {T}.Create(negStepSize); var vbc2 = {T}.Create(bc2Sqrt);");
                    using (w.Block($"for (; i <= end - {isa.Width}; i += {isa.Width})"))
                    {
                        w.Line("nuint k = (nuint)i;");
                        w.Line($"var th = {T}.LoadUnsafe(ref t, k);");
                        w.Line($"var d = {T}.LoadUnsafe(ref g, k);");
                        if (o.Maximize)
                            w.Line("d = -d;");
                        w.Line(decoupled ? "th *= vdecay;" : "if (useWd) d += vwd * th;");
                        w.Line($"var mm = {T}.LoadUnsafe(ref m, k) * vb1 + v1b1 * d;");
                        w.Line($"var vv = {T}.LoadUnsafe(ref v, k) * vb2 + v1b2 * d * d;");
                        w.Line($"{T}.StoreUnsafe(mm, ref m, k);");
                        w.Line($"{T}.StoreUnsafe(vv, ref v, k);");
                        if (o.Amsgrad)
                        {
                            w.Line($"vv = {T}.Max({T}.LoadUnsafe(ref vmax, k), vv);");
                            w.Line($"{T}.StoreUnsafe(vv, ref vmax, k);");
                        }
                        w.Line($"var denom = {T}.Sqrt(vv) / vbc2 + veps;");
                        w.Line($"{T}.StoreUnsafe(th + vstep * (mm / denom), ref t, k);");
                    }
                }, () =>
                {
                    w.Line($"float th = {U}.Add(ref t, i);");
                    w.Line($"float d = {U}.Add(ref g, i);");
                    if (o.Maximize)
                        w.Line("d = -d;");
                    w.Line(decoupled ? "th *= decay;" : "if (useWd) d += wd * th;");
                    w.Line($"float mm = {U}.Add(ref m, i) * b1 + oneMinusB1 * d;");
                    w.Line($"float vv = {U}.Add(ref v, i) * b2 + oneMinusB2 * d * d;");
                    w.Line($"{U}.Add(ref m, i) = mm;");
                    w.Line($"{U}.Add(ref v, i) = vv;");
                    if (o.Amsgrad)
                    {
                        w.Line($"vv = global::System.MathF.Max({U}.Add(ref vmax, i), vv);");
                        w.Line($"{U}.Add(ref vmax, i) = vv;");
                    }
                    w.Line("float denom = global::System.MathF.Sqrt(vv) / bc2Sqrt + eps;");
                    w.Line($"{U}.Add(ref t, i) = th + negStepSize * (mm / denom);");
                });
            }
            w.Line();
        }
    }
}
