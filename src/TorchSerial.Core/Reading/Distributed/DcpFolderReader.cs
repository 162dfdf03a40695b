using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Tensors;
using TorchSerial.Torch;

namespace TorchSerial.Reading;

/// <summary>
/// Opens a torch.distributed.checkpoint folder (distributed-checkpoints.md §1) as the one object
/// <c>dcp_to_torch_save</c> would write: every tensor put together from its chunks (each chunk a torch.save archive at
/// a range of a <c>.distcp</c> file), every bytes item unpickled, the 2.x flattening undone from planner_data, keys in
/// <c>.metadata</c> order. Nothing is read whole: a tensor's bytes come from its chunks when used.
/// </summary>
internal static class DcpFolderReader
{
    public static Checkpoint Open(string folder, LoadOptions options, bool eager, CancellationToken ct)
    {
        options = options with { Policy = options.Policy.WithDataClasses(DistributedGlobals.Dcp1) };
        var (metadata, protocol, metadataFiles) = ReadMetadata(folder, options);
        var files = new DataFiles(folder, lazy: !eager);
        var assembled = new AssembledTensors(options, metadata.Entries.Count);
        try
        {
            var root = new PyDict();
            foreach (var entry in metadata.Entries)
            {
                ct.ThrowIfCancellationRequested();
                object? value = entry.DType is null ? ReadObject(entry, metadata, files, options)
                    : Assemble(entry, metadata, files, options, assembled);
                if (metadata.Paths.TryGetValue(entry.Fqn, out var path) && path.Length > 0)
                    Place(root, path, value, metadata.Entries.Count);
                else root.SetItem(entry.Fqn, value);
            }
            var tensors = TensorCollector.Collect(root, metadata.Entries.Count);
            var storages = tensors.Select(t => t.Storage).Distinct(ReferenceEqualityComparer.Instance).Cast<Storage>()
                .ToList();
            var graph = new LoadedGraph(CheckpointFormat.DistributedCheckpoint, root, storages,
                metadataFiles.Concat(files.Names).ToList())
            {
                PickleProtocol = protocol,
                Metadata = metadata.Version is { } v ? PyDict.FromPairs(new[] { KeyValuePair.Create("version", v) })
                    : null,
            };
            return CheckpointReader.Finish(folder, graph, tensors, files, eager, options, ct);
        }
        catch
        {
            files.Dispose();
            throw;
        }
    }

    /// <summary>The folder's <c>.metadata</c>, or the per-rank <c>__&lt;rank&gt;.metadata</c> files of a save without
    /// collectives (2.9+), merged into one.</summary>
    private static (DcpMetadata Metadata, int Protocol, List<string> Files) ReadMetadata(string folder,
        LoadOptions options)
    {
        var names = File.Exists(Path.Combine(folder, ".metadata")) ? new List<string> { ".metadata" }
            : DistributedFolder.PerRankMetadata(folder);
        var parts = new List<DcpMetadata>();
        int protocol = 0;
        foreach (var name in names)
        {
            string path = Path.Combine(folder, name);
            byte[] bytes;
            using (var stream = CheckpointFile.OpenRead(path))
            {
                if (stream.Length > int.MaxValue)
                    throw Fail.Data(ErrorIds.DistributedMetadataInvalid,
                        $"The DCP metadata '{path}' is {stream.Length} bytes, larger than any metadata pickle.", name);
                bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
            }
            protocol = bytes.Length > 1 && bytes[0] == 0x80 ? bytes[1] : 1;
            object? root;
            try { root = PickleRunner.Run(bytes, bytes.Length, name, options); }
            catch (TorchSerialException ex) when (ex.Record is null)
            {
                throw new TorchSerialException(ex.ErrorId, ex.Kind, $"'{path}': {ex.Message}", ex) { Record = name };
            }
            parts.Add(DcpMetadata.Parse(root, path));
        }
        return (parts.Count == 1 ? parts[0] : Merge(parts, folder), protocol, names);
    }

    /// <summary>Per-rank metadata files each list that rank's chunks; together they are the checkpoint, provided they
    /// agree on every tensor they share.</summary>
    private static DcpMetadata Merge(List<DcpMetadata> parts, string folder)
    {
        var entries = new List<DcpEntry>();
        var byName = new Dictionary<string, DcpEntry>(StringComparer.Ordinal);
        var storage = new Dictionary<(string, string), DcpStorageInfo>();
        var paths = new Dictionary<string, object[]>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            foreach (var e in part.Entries)
            {
                if (!byName.TryGetValue(e.Fqn, out var known))
                {
                    known = e with { Chunks = new List<DcpChunk>() };
                    byName[e.Fqn] = known;
                    entries.Add(known);
                }
                else if (known.DType != e.DType || !known.Size.AsSpan().SequenceEqual(e.Size))
                    throw Fail.Data(ErrorIds.DistributedMetadataConflict,
                        $"The per-rank metadata files of '{folder}' disagree about '{e.Fqn}': " +
                        $"{known.DType?.Name ?? "bytes"} [{string.Join(", ", known.Size)}] against " +
                        $"{e.DType?.Name ?? "bytes"} [{string.Join(", ", e.Size)}]. They are not one checkpoint.",
                        e.Fqn);
                foreach (var c in e.Chunks)
                    if (!known.Chunks.Any(k => k.Offsets.AsSpan().SequenceEqual(c.Offsets)
                        && k.Sizes.AsSpan().SequenceEqual(c.Sizes)))
                        known.Chunks.Add(c);
            }
            foreach (var (key, info) in part.Storage) storage.TryAdd(key, info);
            foreach (var (key, path) in part.Paths) paths.TryAdd(key, path);
        }
        return new DcpMetadata { Entries = entries, Storage = storage, Paths = paths, Version = parts[0].Version };
    }

    private static object? ReadObject(DcpEntry entry, DcpMetadata metadata, DataFiles files, LoadOptions options)
    {
        string what = $"The object '{entry.Fqn}'";
        var graph = LoadItem(Locate(metadata, entry.Fqn, "", what), files, options, what, options.MaxPickleBytes);
        return graph.Root;
    }

    private static Tensor Assemble(DcpEntry entry, DcpMetadata metadata, DataFiles files, LoadOptions options,
        AssembledTensors assembled)
    {
        var pieces = new List<TensorPiece>(entry.Chunks.Count);
        foreach (var chunk in entry.Chunks)
        {
            string what = $"Chunk [{string.Join(", ", chunk.Offsets)}] of tensor '{entry.Fqn}'";
            var info = Locate(metadata, entry.Fqn, DcpMetadata.OffsetsKey(chunk.Offsets), what);
            long bytes = chunk.Sizes.Aggregate((long)entry.DType!.ItemSize, (a, b) => checked(a * b));
            var graph = LoadItem(info, files, options, what, bytes);
            var source = graph.Root as Tensor ?? throw Fail.Data(ErrorIds.DistributedChunkInvalid,
                $"{what} in '{info.RelativePath}' holds {graph.Root?.GetType().Name ?? "None"}, not a tensor.",
                info.RelativePath);
            source.SourceFile = Path.Combine(files.Folder, info.RelativePath);
            pieces.Add(new TensorPiece(chunk.Offsets, chunk.Sizes, source));
        }
        // One chunk that is the whole tensor (a tensor every rank had, saved once) is that chunk's own tensor: its
        // bytes are one zip record, read and CRC-checked as any checkpoint's.
        if (pieces.Count == 1 && pieces[0].Offsets.All(o => o == 0) && pieces[0].Source is { } whole
            && whole.StorageOffset == 0 && whole.IsContiguous
            && whole.NumBytes == whole.Storage.NumBytes && whole.Shape.Items.AsSpan().SequenceEqual(entry.Size)
            && whole.DTypeInfo == entry.DType)
            return whole;
        return assembled.Make(entry.Fqn, entry.DType!, entry.Size, entry.Size, pieces,
            $"Tensor '{entry.Fqn}' of '{files.Folder}'");
    }

    private static DcpStorageInfo Locate(DcpMetadata metadata, string fqn, string offsets, string what)
        => metadata.Storage.TryGetValue((fqn, offsets), out var info) ? info
            : throw Fail.Data(ErrorIds.DistributedDataMissing,
                $"{what} is listed in the metadata, but its storage_data names no file for it: the metadata is " +
                    "incomplete.", fqn);

    /// <summary>The transform DCP's zstd extension records (2.7+); its items are zstd frames of the archive.</summary>
    private const string Zstd = "stream.zstd/1";

    /// <summary>A saved item: a whole torch.save archive at a range of a data file (zstd-compressed when the writer
    /// used DCP's extension). <paramref name="expected"/>: the bytes of tensor data the item holds, which bounds what a
    /// compressed item may expand to.</summary>
    private static LoadedGraph LoadItem(DcpStorageInfo info, DataFiles files, LoadOptions options, string what,
        long expected = 0)
    {
        var unknown = info.Transforms.Where(t => t != Zstd).ToList();
        if (unknown.Count > 0 || info.Transforms.Count > 1)
            throw Fail.Unsupported(ErrorIds.DistributedTransformUnsupported,
                $"{what} in '{info.RelativePath}' was written through the stream transform(s) " +
                    $"{string.Join(", ", info.Transforms.Select(t => $"'{t}'"))} (DCP's experimental extensions); " +
                    $"TorchSerial decodes '{Zstd}' alone.", info.RelativePath);
        var (stream, snapshot) = files.Get(info.RelativePath, what);
        if (info.Offset < 0 || info.Length < 0 || info.Offset > stream.Length - info.Length)
            throw Fail.Data(ErrorIds.DistributedDataMissing,
                $"{what} is stored at bytes {info.Offset}..{info.Offset + info.Length} of '{info.RelativePath}', " +
                    $"but that file holds only {stream.Length} bytes: it is cut short.", info.RelativePath);
        Stream window = new WindowStream(stream, info.Offset, info.Length);
        try
        {
            var itemOptions = snapshot is null ? options : options.WithSnapshot(snapshot);
            if (info.Transforms.Count == 0) return ZipCheckpointSource.Load(window, itemOptions);
            // A compressed item is decoded into memory once (DCP's reader buffers it the same way); its archive's
            // records are then ranges of that memory, so no snapshot applies to them.
            var archive = ZstdDecoder.Decode(window, expected + (64L << 20), $"{what} in '{info.RelativePath}'");
            return ZipCheckpointSource.Load(new MemoryStream(archive, writable: false), options);
        }
        catch (TorchSerialException ex) when (ex.Kind != ErrorKind.SecurityError)
        {
            throw new TorchSerialException(ex.ErrorId, ex.Kind,
                $"{what} in '{info.RelativePath}' (bytes {info.Offset}..{info.Offset + info.Length}) cannot be read: " +
                    ex.Message, ex) { Record = info.RelativePath };
        }
        catch (TorchSerialException ex)
        {
            throw new TorchSerialException(ex.ErrorId, ex.Kind,
                $"{what} in '{info.RelativePath}': {ex.Message}", ex) { Record = info.RelativePath };
        }
    }

    /// <summary>torch's <c>set_element</c>: puts a value at its path, making the dicts (and lists, for int keys) on the
    /// way.</summary>
    private static void Place(PyDict root, object[] path, object? value, int limit)
    {
        object container = root;
        for (int i = 0; i < path.Length; i++)
        {
            object key = path[i];
            bool last = i == path.Length - 1;
            object? next = last ? value : null;
            if (container is PyDict dict)
            {
                if (!last)
                {
                    next = dict.Contains(key) ? dict[key] : null;
                    if (next is not (PyDict or PyList)) dict.SetItem(key, next = NewContainer(path[i + 1]));
                }
                else dict.SetItem(key, value);
            }
            // torch pads a list with None up to an index; past the checkpoint's own entry count that is no list it
            // saved, only a way to allocate without bound.
            else if (container is PyList list && key is long index and >= 0 && index <= list.Count + limit)
            {
                while (list.Count <= index) list.Add(null);
                if (!last)
                {
                    next = list[(int)index];
                    if (next is not (PyDict or PyList)) list[(int)index] = next = NewContainer(path[i + 1]);
                }
                else list[(int)index] = value;
            }
            else throw Fail.Data(ErrorIds.DistributedMetadataInvalid,
                $"The planner_data path [{string.Join(", ", path)}] does not fit the objects before it.");
            if (!last) container = next!;
        }
    }

    private static object NewContainer(object nextKey) => nextKey is long ? new PyList() : new PyDict();
}
