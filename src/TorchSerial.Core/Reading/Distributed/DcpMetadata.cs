using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Tensors;

namespace TorchSerial.Reading;

/// <summary>One entry of a DCP checkpoint's <c>state_dict_metadata</c>: a tensor saved in chunks, or a bytes item
/// (a torch.save'd Python object) when <see cref="DType"/> is null.</summary>
internal sealed record DcpEntry(string Fqn, DType? DType, long[] Size, List<DcpChunk> Chunks);

/// <summary>A saved chunk: the box of the tensor it covers.</summary>
internal sealed record DcpChunk(long[] Offsets, long[] Sizes);

/// <summary>Where an item's bytes are (<c>_StorageInfo</c>): a range of a data file, and the stream transforms applied
/// to them when written (2.7's extensions, e.g. <c>stream.zstd/1</c>).</summary>
internal sealed record DcpStorageInfo(string RelativePath, long Offset, long Length, IReadOnlyList<string> Transforms);

/// <summary>
/// A DCP <c>.metadata</c> pickle read as data (distributed-checkpoints.md §1.2): the pickle runs under the checkpoint's
/// policy with DCP's classes admitted as inert objects, and their fields are read here by name, so every on-disk form
/// from torch 1.13 to 2.10 (fields added later simply absent in older files) gives the same model.
/// </summary>
internal sealed class DcpMetadata
{
    public required List<DcpEntry> Entries { get; init; }

    /// <summary>Storage index (fqn and chunk offsets) to where the bytes are.</summary>
    public required Dictionary<(string Fqn, string Offsets), DcpStorageInfo> Storage { get; init; }

    /// <summary>planner_data: each flat key's path in the nested state dict (2.x flattening); empty when
    /// none.</summary>
    public required Dictionary<string, object[]> Paths { get; init; }

    /// <summary>The DCP version string (2.9+), or null.</summary>
    public string? Version { get; init; }

    public static string OffsetsKey(IEnumerable<long> offsets) => string.Join(",", offsets);

    public static DcpMetadata Parse(object? root, string file)
    {
        var state = StateOf(root, "Metadata", file);
        var entries = new List<DcpEntry>();
        foreach (System.Collections.DictionaryEntry item in Field<PyDict>(state, "state_dict_metadata", file))
        {
            string fqn = item.Key as string ?? throw Invalid(file, $"a state_dict_metadata key is {item.Key}");
            var md = item.Value as PyObject ?? throw Invalid(file, $"the entry of '{fqn}' is not a metadata object");
            if (md.Name == "BytesStorageMetadata")
            {
                entries.Add(new DcpEntry(fqn, null, Array.Empty<long>(), new List<DcpChunk>()));
                continue;
            }
            if (md.Name != "TensorStorageMetadata")
                throw Invalid(file, $"the entry of '{fqn}' is a {md.Type.FullName}");
            var t = StateOf(md, "TensorStorageMetadata", file);
            var chunks = new List<DcpChunk>();
            foreach (var c in Field<PyList>(t, "chunks", file))
            {
                var cs = StateOf(c, "ChunkStorageMetadata", file);
                chunks.Add(new DcpChunk(Dims(cs, "offsets", file), Dims(cs, "sizes", file)));
            }
            var dtype = DTypeOf(Field<object>(t, "properties", file), fqn, file);
            entries.Add(new DcpEntry(fqn, dtype, Dims(t, "size", file), chunks));
        }

        var storage = new Dictionary<(string, string), DcpStorageInfo>();
        if (state.Contains("storage_data") && state["storage_data"] is PyDict data)
            foreach (System.Collections.DictionaryEntry item in data)
            {
                var index = StateOf(item.Key, "MetadataIndex", file);
                string fqn = Field<string>(index, "fqn", file);
                string offsets = index.Contains("offset") && index["offset"] is TorchSize o ? OffsetsKey(o) : "";
                var info = StateOf(item.Value, "_StorageInfo", file);
                var transforms = info.Contains("transform_descriptors") && info["transform_descriptors"] is
                    System.Collections.IEnumerable list and not string
                    ? list.Cast<object?>().Select(x => x?.ToString() ?? "").ToList() : new List<string>();
                storage[(fqn, offsets)] = new DcpStorageInfo(Field<string>(info, "relative_path", file),
                    Integer(info, "offset", file), Integer(info, "length", file), transforms);
            }

        var paths = new Dictionary<string, object[]>(StringComparer.Ordinal);
        if (state.Contains("planner_data") && state["planner_data"] is PyDict planner)
            foreach (System.Collections.DictionaryEntry item in planner)
                if (item.Key is string key && item.Value is System.Collections.IEnumerable path and not string)
                    paths[key] = path.Cast<object>().ToArray();
        return new DcpMetadata
        {
            Entries = entries, Storage = storage, Paths = paths,
            Version = state.Contains("version") ? state["version"] as string : null,
        };
    }

    private static DType DTypeOf(object? properties, string fqn, string file)
    {
        var p = properties as PyObject ?? throw Invalid(file, $"the properties of '{fqn}' are missing");
        // TensorProperties pickles its 5-tuple (dtype, layout, requires_grad, memory format, pin_memory); a dataclass
        // without __getstate__ would give its __dict__.
        object? dtype = p.State switch
        {
            PyTuple t when t.Count > 0 => t[0],
            PyDict d when d.Contains("dtype") => d["dtype"],
            _ => null,
        };
        return dtype as DType ?? throw Invalid(file, $"the dtype of '{fqn}' is {PickleArgsDescribe(dtype)}");
    }

    private static string PickleArgsDescribe(object? v) => v is null ? "missing" : v.GetType().Name;

    private static PyDict StateOf(object? value, string cls, string file)
        => value is PyObject { State: PyDict state } o
            && (o.Name == cls || cls == "Metadata" && o.Name == "MCoreMetadata")
            ? state : throw Invalid(file, $"a {cls} was expected but the pickle holds {value?.ToString() ?? "None"}");

    private static T Field<T>(PyDict state, string name, string file)
        => state.Contains(name) && state[name] is T value ? value
            : throw Invalid(file, $"the field '{name}' is missing or not a {typeof(T).Name}");

    private static long Integer(PyDict state, string name, string file) => state.Contains(name) ? state[name] switch
    {
        long l => l, int i => i,
        System.Numerics.BigInteger b when b >= 0 && b <= long.MaxValue => (long)b,
        _ => throw Invalid(file, $"the field '{name}' is not an integer"),
    } : throw Invalid(file, $"the field '{name}' is missing");

    private static long[] Dims(PyDict state, string name, string file)
    {
        var dims = Field<TorchSize>(state, name, file).ToArray();
        return dims.Any(d => d < 0) ? throw Invalid(file, $"the field '{name}' has a negative size") : dims;
    }

    private static TorchSerialException Invalid(string file, string problem)
        => Fail.Data(ErrorIds.DistributedMetadataInvalid,
            $"The DCP metadata '{file}' is not what torch.distributed.checkpoint writes: {problem}.", file);
}
