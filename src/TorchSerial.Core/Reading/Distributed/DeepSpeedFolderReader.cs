using System.Text.RegularExpressions;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Tensors;
using TorchSerial.Torch;

namespace TorchSerial.Reading;

/// <summary>
/// Opens a DeepSpeed ZeRO checkpoint folder (distributed-checkpoints.md §3) as the state dict <c>zero_to_fp32</c>
/// rebuilds: the fp32 trainable parameters put together from every rank's optimizer partitions (stages 1 and 2: each
/// group's partitions end to end, sliced in <c>param_shapes</c> order; stage 3: <c>ceil(numel / world)</c> elements of
/// every rank a parameter, padding dropped), buffers, frozen parameters, and shared parameters as the same tensor.
/// Where zero_to_fp32 loses data this keeps it: integer buffers keep their dtype (it casts every buffer to float), and
/// ZeRO-1's frozen parameters come from the 16-bit module (it drops them). The 16-bit module of the model-states file
/// is there as the sub-object <c>module</c>. Nothing is read whole: each parameter's bytes come from the partitions
/// when used.
/// </summary>
internal static partial class DeepSpeedFolderReader
{
    public static Checkpoint Open(string folder, LoadOptions options, bool eager, CancellationToken ct)
    {
        options = options with { Policy = options.Policy.WithDataClasses(DistributedGlobals.DeepSpeed) };
        var names = Directory.EnumerateFiles(folder).Select(Path.GetFileName).OfType<string>()
            .OrderBy(NaturalKey, StringComparer.Ordinal).ToList();
        var modelNames = names.Where(n => n.EndsWith("_model_states.pt", StringComparison.Ordinal)).ToList();
        var optimNames = names.Where(n => n.EndsWith("_optim_states.pt", StringComparison.Ordinal)).ToList();
        if (modelNames.Count == 0)
            throw Invalid(folder, "it holds no *_model_states.pt file, so there are no parameter names or shapes");
        if (optimNames.Count == 0)
            throw Invalid(folder, $"it holds no *_optim_states.pt files: a ZeRO-0 (or non-ZeRO) checkpoint has no " +
                $"fp32 partitions to rebuild. Its weights are the 16-bit module of '{modelNames[0]}': import " +
                "that file with -Key module");
        var open = new List<Checkpoint>();
        try
        {
            Checkpoint Load(string name)
            {
                ct.ThrowIfCancellationRequested();
                try { var c = CheckpointReader.Open(Path.Combine(folder, name), options); open.Add(c); return c; }
                catch (TorchSerialException ex)
                {
                    throw new TorchSerialException(ex.ErrorId, ex.Kind, $"'{name}' of the DeepSpeed checkpoint " +
                        $"'{folder}' cannot be read: {ex.Message}", ex) { Record = name, Offset = ex.Offset };
                }
            }
            var models = modelNames.Select(Load).ToList();
            var optims = optimNames.Select(n => OptimizerState(Load(n), n, folder)).ToList();
            var model0 = Dict(models[0].Root, modelNames[0], folder, "the model states");
            var (stage, world) = StageAndWorld(optims[0], optimNames[0], folder);
            if (world != optims.Count)
                throw Invalid(folder, $"'{optimNames[0]}' says the optimizer was partitioned over {world} ranks, but " +
                    $"there are {optims.Count} *_optim_states.pt files ({string.Join(", ", optimNames)}): files are " +
                    "missing, or the folder mixes checkpoints");
            var state = new PyDict();
            var module = Dict(model0["module"], modelNames[0], folder, "'module'");
            foreach (var name in List(model0, "buffer_names", modelNames[0], folder))
                if (name is string n && module.Contains(n)) state.SetItem(n, module[n]);
            var ctx = new Context(folder, world, new AssembledTensors(options, module.Count));
            if (stage <= 2) Zero12(ctx, state, model0, module, optims, modelNames[0], optimNames);
            else Zero3(ctx, state, model0, models, modelNames, optims, optimNames);
            if (model0.Contains("shared_params") && model0["shared_params"] is PyDict shared)
                foreach (System.Collections.DictionaryEntry pair in shared)
                    if (pair.Value is string source && state.Contains(source)) state.SetItem(pair.Key, state[source]);

            var tensors = TensorCollector.Collect(state, state.Count);
            var storages = tensors.Select(t => t.Storage).Distinct(ReferenceEqualityComparer.Instance)
                .Cast<Storage>().ToList();
            var graph = new LoadedGraph(CheckpointFormat.DeepSpeed, state, storages, modelNames.Concat(optimNames)
                .ToList()) { PickleProtocol = models[0].PickleProtocol };
            var alternates = new Dictionary<string, object?>(StringComparer.Ordinal) { ["module"] = module };
            var result = CheckpointReader.Finish(folder, graph, tensors, new CheckpointOwners(open), eager, options, ct,
                alsoLoad: module.Values.OfType<Tensor>().Select(t => t.Storage));
            result.Alternates = alternates;
            return result;
        }
        catch
        {
            foreach (var c in open) c.Dispose();
            throw;
        }
    }

    private sealed record Context(string Folder, int World, AssembledTensors Tensors);

    /// <summary>Stages 1 and 2: group g of the fp32 weights is every rank's partition g end to end (padding was removed
    /// at save), and its parameters are consecutive slices of it in <c>param_shapes</c> order.</summary>
    private static void Zero12(Context ctx, PyDict state, PyDict model0, PyDict module, List<PyDict> optims,
        string modelName, List<string> optimNames)
    {
        var trainable = new HashSet<string>(StringComparer.Ordinal);
        var groups = List(model0, "param_shapes", modelName, ctx.Folder);
        foreach (var g in groups)
            foreach (System.Collections.DictionaryEntry p in Dict(g, modelName, ctx.Folder, "a param_shapes group"))
                trainable.Add(Name(p.Key, modelName, ctx.Folder));
        // Frozen parameters: DeepSpeed records them from stage 2 on; under stage 1 the 16-bit module holds them whole.
        if (model0.Contains("frozen_param_fragments")
            && model0["frozen_param_fragments"] is PyDict { Count: > 0 } frozen)
            foreach (System.Collections.DictionaryEntry f in frozen) state.SetItem(f.Key, f.Value);
        else
        {
            var shared = model0.Contains("shared_params") && model0["shared_params"] is PyDict s ? s : new PyDict();
            foreach (System.Collections.DictionaryEntry m in module)
                if (m.Key is string n && !trainable.Contains(n) && !state.Contains(n) && !shared.Contains(n)
                    && m.Value is Tensor) state.SetItem(n, m.Value);
        }
        for (int g = 0; g < groups.Count; g++)
        {
            var partitions = optims.Select((o, r) => Flat(List(o, "single_partition_of_fp32_groups", optimNames[r],
                ctx.Folder), g, optimNames[r], ctx.Folder)).ToList();
            var flat = new FlatRun(partitions);
            long offset = 0;
            var shapes = Dict(groups[g], modelName, ctx.Folder, "a param_shapes group");
            foreach (System.Collections.DictionaryEntry p in shapes)
            {
                string name = Name(p.Key, modelName, ctx.Folder);
                var shape = Shape(p.Value, name, modelName, ctx.Folder);
                long numel = shape.Aggregate(1L, (a, b) => checked(a * b));
                if (offset + numel > flat.Length)
                    throw Invalid(ctx.Folder, $"parameter '{p.Key}' of group {g} needs elements " +
                        $"{offset}..{offset + numel} but the ranks' partitions hold {flat.Length}: the partitions " +
                        "do not match param_shapes");
                state.SetItem(name, Assemble(name, shape, flat.Pieces(offset, numel, 0), ctx));
                offset += numel;
            }
            long Align(long x) => 2L * ctx.World * ((x + 2L * ctx.World - 1) / (2L * ctx.World));
            if (Align(offset) != Align(flat.Length))
                throw Invalid(ctx.Folder, $"group {g}'s parameters consumed {offset} elements out of {flat.Length} " +
                    "in the partitions (zero_to_fp32: \"consumed N numels out of M - something is wrong\"): the " +
                    "model and optimizer files do not belong together");
        }
    }

    /// <summary>Stage 3: every parameter is split into <c>ceil(numel / world)</c> elements a rank, the last padded;
    /// each rank's share of it lies at the same running offset of that rank's sub-groups laid end to end.</summary>
    private static void Zero3(Context ctx, PyDict state, PyDict model0, List<Checkpoint> models,
        List<string> modelNames, List<PyDict> optims, List<string> optimNames)
    {
        if (models.Count != ctx.World)
            throw Invalid(ctx.Folder, $"a ZeRO-3 checkpoint has one model-states file a rank, but there are " +
                $"{models.Count} for {ctx.World} ranks");
        if (model0.Contains("frozen_param_shapes") && model0["frozen_param_shapes"] is PyDict frozenShapes)
        {
            var fragments = models.Select((m, r) => Dict(Dict(m.Root, modelNames[r], ctx.Folder, "the model states")
                ["frozen_param_fragments"], modelNames[r], ctx.Folder, "frozen_param_fragments")).ToList();
            foreach (System.Collections.DictionaryEntry f in frozenShapes)
            {
                string name = Name(f.Key, modelNames[0], ctx.Folder);
                var shape = Shape(f.Value, name, modelNames[0], ctx.Folder);
                var parts = fragments.Select((d, r) => d.Contains(name)
                    ? Flat1(d[name], name, modelNames[r], ctx.Folder)
                    : throw Invalid(ctx.Folder, $"'{modelNames[r]}' has no fragment of frozen parameter '{name}'"));
                var run = new FlatRun(parts.ToList());
                long numel = shape.Aggregate(1L, (a, b) => checked(a * b));
                if (numel > run.Length)
                    throw Invalid(ctx.Folder, $"frozen parameter '{name}' has {numel} elements but its fragments " +
                        $"hold {run.Length}");
                state.SetItem(name, Assemble(name, shape, run.Pieces(0, numel, 0), ctx));
            }
        }
        var flats = optims.Select((o, r) => new FlatRun(List(o, "fp32_flat_groups", optimNames[r], ctx.Folder)
            .Select((_, g) => Flat(List(o, "fp32_flat_groups", optimNames[r], ctx.Folder), g, optimNames[r],
                ctx.Folder)).ToList())).ToList();
        long offset = 0;
        foreach (var g in List(model0, "param_shapes", modelNames[0], ctx.Folder))
            foreach (System.Collections.DictionaryEntry p in Dict(g, modelNames[0], ctx.Folder, "a param_shapes group"))
            {
                string name = Name(p.Key, modelNames[0], ctx.Folder);
                var shape = Shape(p.Value, name, modelNames[0], ctx.Folder);
                long numel = shape.Aggregate(1L, (a, b) => checked(a * b));
                long part = (numel + ctx.World - 1) / ctx.World;
                var pieces = new List<TensorPiece>();
                for (int r = 0; r < ctx.World; r++)
                {
                    long count = Math.Max(0, Math.Min(part, numel - r * part));
                    if (offset + part > flats[r].Length)
                        throw Invalid(ctx.Folder, $"parameter '{name}' needs elements {offset}..{offset + part} of " +
                            $"rank {r}'s partition, which holds {flats[r].Length} ('{optimNames[r]}')");
                    if (count > 0) pieces.AddRange(flats[r].Pieces(offset, count, r * part));
                }
                state.SetItem(name, Assemble(name, shape, pieces, ctx));
                offset += part;
            }
        if (offset != flats[0].Length)
            throw Invalid(ctx.Folder, $"the parameters consumed {offset} elements of each rank's partition, which " +
                $"holds {flats[0].Length} (zero_to_fp32: \"consumed N numels out of M - something is wrong\"): the " +
                "model and optimizer files do not belong together");
    }

    /// <summary>1-D tensors laid end to end (a rank's sub-groups, or every rank's partitions of a group).</summary>
    private sealed class FlatRun(List<Tensor> parts)
    {
        public long Length { get; } = parts.Sum(p => p.NumElements);

        /// <summary>Elements <paramref name="start"/>.. of the run, as pieces placed from <paramref name="at"/> on in
        /// a 1-D tensor; a range that crosses from one part to the next gives one piece each.</summary>
        public IEnumerable<TensorPiece> Pieces(long start, long count, long at)
        {
            long partStart = 0;
            foreach (var p in parts)
            {
                long partEnd = partStart + p.NumElements;
                long from = Math.Max(start, partStart), to = Math.Min(start + count, partEnd);
                if (from < to)
                {
                    long n = to - from;
                    var view = new Tensor(p.Storage, p.DTypeInfo, p.StorageOffset + (from - partStart) * p.Stride[0],
                        new[] { n }, new[] { p.Stride[0] });
                    yield return new TensorPiece(new[] { at + from - start }, new[] { n }, view);
                }
                partStart = partEnd;
            }
        }
    }

    private static Tensor Assemble(string name, long[] shape, IEnumerable<TensorPiece> pieces, Context ctx)
    {
        var list = pieces.ToList();
        long numel = shape.Aggregate(1L, (a, b) => checked(a * b));
        var dtype = list.Count > 0 ? list[0].Source.DTypeInfo : DType.Float32;
        return ctx.Tensors.Make(name, dtype, shape, new[] { numel }, list, $"Parameter '{name}' of '{ctx.Folder}'");
    }

    private static PyDict OptimizerState(Checkpoint c, string name, string folder)
        => Dict(Dict(c.Root, name, folder, "the optimizer file")["optimizer_state_dict"], name, folder,
            "'optimizer_state_dict'");

    /// <summary>The ZeRO stage (<c>ZeroStageEnum</c>, pickled as a call with its value or, by Python 3.11+, as a member
    /// lookup) and the number of ranks the optimizer was partitioned over.</summary>
    private static (int Stage, int World) StageAndWorld(PyDict optim, string name, string folder)
    {
        if (!optim.Contains("zero_stage"))
            throw Invalid(folder, $"'{name}' has no zero_stage: it was written by DeepSpeed's BF16_Optimizer (bf16 " +
                "without ZeRO, or ZeRO-1 with fp32 gradient accumulation), which zero_to_fp32 cannot convert either " +
                "(\"is not a zero checkpoint\")");
        int stage = optim["zero_stage"] switch
        {
            long l => (int)l,
            PyObject { ConstructedBy: "getattr" } o => (o.Args[0] as string) switch
            {
                "disabled" => 0, "optimizer_states" => 1, "gradients" => 2, "weights" => 3,
                var other => throw Invalid(folder, $"'{name}' has the unknown zero_stage '{other}'"),
            },
            PyObject { Args.Count: 1 } o when o.Args[0] is long v => (int)v,
            var other => throw Invalid(folder, $"'{name}' has a zero_stage of {other}"),
        };
        if (stage is < 1 or > 3)
            throw Invalid(folder, $"'{name}' is a ZeRO stage {stage} checkpoint; only stages 1 to 3 partition the " +
                "fp32 weights (zero_to_fp32: \"unknown zero stage\")");
        long world = optim.Contains("partition_count") ? optim["partition_count"] switch
        {
            long l => l,
            PyList list when list.Count > 0 && list.All(x => x is long) => list.Cast<long>().Max(),
            _ => -1,
        } : -1;
        if (world is < 1 or > 1 << 20) throw Invalid(folder, $"'{name}' has no usable partition_count");
        return (stage, (int)world);
    }

    private static Tensor Flat(PyList groups, int g, string name, string folder)
        => g < groups.Count ? Flat1(groups[g], $"group {g}", name, folder)
            : throw Invalid(folder, $"'{name}' has {groups.Count} partition groups, but param_shapes has more");

    private static Tensor Flat1(object? value, string what, string name, string folder)
        => value is Tensor { Rank: 1 } t ? t
            : throw Invalid(folder, $"the partition of {what} in '{name}' is not a 1-D tensor");

    private static long[] Shape(object? value, string param, string name, string folder)
    {
        var shape = Dims(value, param, name, folder);
        return shape.All(d => d >= 0) ? shape
            : throw Invalid(folder, $"the shape of '{param}' in '{name}' is negative");
    }

    private static long[] Dims(object? value, string param, string name, string folder) => value switch
    {
        TorchSize s => s.ToArray(),
        PyTuple or PyList => ((System.Collections.IEnumerable)value).Cast<object>().Select(x => x is long l ? l
            : throw Invalid(folder, $"the shape of '{param}' in '{name}' is not a list of sizes")).ToArray(),
        _ => throw Invalid(folder, $"the shape of '{param}' in '{name}' is {value}"),
    };

    private static string Name(object key, string file, string folder)
        => key as string ?? throw Invalid(folder, $"'{file}' names a parameter {PyRepr.Of(key)}, not a string");

    private static PyDict Dict(object? value, string name, string folder, string what)
        => value as PyDict ?? throw Invalid(folder, $"{what} in '{name}' is not a dict");

    private static PyList List(PyDict dict, string key, string name, string folder)
        => dict.Contains(key) && dict[key] is PyList list ? list
            : throw Invalid(folder, $"'{name}' has no list '{key}'");

    private static string NaturalKey(string name) => Digits().Replace(name, m => m.Value.PadLeft(20, '0'));

    private static TorchSerialException Invalid(string folder, string problem)
        => Fail.Data(ErrorIds.DeepSpeedCheckpointInvalid,
            $"The DeepSpeed checkpoint '{folder}' cannot be rebuilt: {problem}.", folder);

    [GeneratedRegex(@"\d+", RegexOptions.CultureInvariant)]
    private static partial Regex Digits();
}
