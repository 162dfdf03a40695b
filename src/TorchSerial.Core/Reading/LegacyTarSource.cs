using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Tensors;
using TorchSerial.Torch;
using System.Buffers.Binary;

namespace TorchSerial.Reading;

/// <summary>
/// Reads the pre-2017 tar checkpoint (torch ≤ 0.1.9, torch-format.md §5): members 'storages',
/// 'tensors' and 'pickle'. Storages and tensors share one key space that the object pickle refers to.
/// </summary>
internal static class LegacyTarSource
{
    public static LoadedGraph Load(Stream stream, LoadOptions options)
    {
        var tar = TarDirectory.Read(stream);
        (long Offset, long Size) Member(string name) => tar.Find(name) ?? throw Fail.Data(ErrorIds.MissingRecord,
            $"The tar checkpoint has no '{name}' member (it has: {string.Join(", ", tar.Names)}).", name);

        var objects = new Dictionary<string, object>(StringComparer.Ordinal);
        var resolver = new StorageResolver(options.Storages());
        var header = new byte[8];

        // Both data members open with a pickled count, then one pickled 3-tuple header per item.
        long OpenMember(string name, out long end)
        {
            var (offset, size) = Member(name);
            end = offset + size;
            stream.Position = offset;
            return PickleArgs.Long(PickleRunner.Run(stream, end, name, options), name + " count");
        }
        PyTuple Header(string member, long end, string shape)
        {
            var entry = PickleArgs.Tuple(PickleRunner.Run(stream, end, member, options), member + " header");
            return entry.Count == 3 ? entry : throw PickleArgs.Bad($"A tar {member} header should be {shape}.");
        }

        long count = OpenMember("storages", out long sEnd);
        var handle = (stream as FileStream)?.SafeFileHandle; // once: the getter flushes the stream each time
        for (long i = 0; i < count; i++)
        {
            var entry = Header("storages", sEnd, "(key, location, storage_type)");
            string key = PyRepr.Str(entry[0]);
            string location = PickleArgs.String(entry[1], "storage location");
            var type = entry[2] as StorageType ?? throw PickleArgs.Bad($"Storage '{key}' names {PickleArgs.Describe(entry[2])} instead of a storage class.");
            if (sEnd - stream.Position < 8) throw Truncated("storages");
            stream.ReadExactly(header);
            long numel = BinaryPrimitives.ReadInt64LittleEndian(header);
            if (numel < 0)
                throw Fail.Data(ErrorIds.NegativeSize, $"Storage '{key}' claims a negative size " +
                    $"({numel}).", "storages");
            long nbytes = numel > (sEnd - stream.Position) / type.DType.ItemSize ? -1 : numel * type.DType.ItemSize;
            if (nbytes < 0) throw Truncated("storages");
            if (resolver.TryGet(key, out _))
                throw Fail.Data(ErrorIds.PickleStructure, $"The tar checkpoint lists storage '{key}' " +
                    "twice.", "storages");
            var bytes = new StorageBytes(new FileRangeBuffer(stream, stream.Position, nbytes, $"storage '{key}'", options.Snapshot,
                handle), null);
            objects[key] = resolver.Add(key, type, nbytes, location, bytes);
            stream.Seek(nbytes, SeekOrigin.Current);
        }
        var views = PickleRunner.Run(stream, sEnd, "storages", options) as PyList
            ?? throw PickleArgs.Bad("The tar storage view list is not a list.");
        foreach (var v in views)
        {
            var view = PickleArgs.Tuple(v, "storage view");
            if (view.Count != 4)
                throw PickleArgs.Bad("A tar storage view should be (target_key, root_key, offset, numel).");
            string target = PyRepr.Str(view[0]), rootKey = PyRepr.Str(view[1]);
            var root = objects.GetValueOrDefault(rootKey) as Storage ?? throw Fail.Data(ErrorIds.MissingRecord, $"Storage view '{target}' refers to unknown storage '{rootKey}'.", "storages");
            long offset = PickleArgs.Long(view[2], "view offset"), numel = PickleArgs.Long(view[3], "view size");
            if (offset < 0 || numel < 0 || offset > root.NumElements || numel > root.NumElements - offset)
                throw Fail.Data(ErrorIds.ViewOutOfBounds, $"Storage view '{target}' covers elements {offset}..{offset + numel} of storage '{rootKey}', which has {root.NumElements}.");
            objects[target] = resolver.View(target, root, offset * root.DType.ItemSize, numel * root.DType.ItemSize);
        }

        long tensorCount = OpenMember("tensors", out long tEnd);
        for (long i = 0; i < tensorCount; i++)
        {
            var entry = Header("tensors", tEnd, "(key, storage_key, tensor_type)");
            string key = PyRepr.Str(entry[0]), storageKey = PyRepr.Str(entry[1]);
            var storage = objects.GetValueOrDefault(storageKey) as Storage ?? throw Fail.Data(ErrorIds.MissingRecord, $"Tensor '{key}' refers to unknown storage '{storageKey}'.", "tensors");
            if (tEnd - stream.Position < 8) throw Truncated("tensors");
            stream.ReadExactly(header);
            int ndim = BinaryPrimitives.ReadInt32LittleEndian(header); // followed by 4 bytes of padding
            if (ndim < 0 || (long)ndim * 16 + 8 > tEnd - stream.Position) throw Truncated("tensors");
            var raw = new byte[ndim * 16 + 8];
            stream.ReadExactly(raw);
            var shape = new long[ndim];
            var stride = new long[ndim];
            for (int d = 0; d < ndim; d++)
            {
                shape[d] = BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(8 * d));
                stride[d] = BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(8 * (ndim + d)));
            }
            long storageOffset = BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(16 * ndim));
            objects[key] = new Tensor(storage, storage.DType, storageOffset, shape, stride);
        }

        var (pOff, pSize) = Member("pickle");
        stream.Position = pOff;
        object? PersistentLoad(object? pid)
        {
            // A tuple id names a container class and its source (for source-change warnings): the class itself is the
            // value.
            if (pid is PyTuple t && t.Count > 0) return t[0];
            string key = PyRepr.Str(pid);
            return objects.TryGetValue(key, out var o) ? o : throw Fail.Data(ErrorIds.MissingRecord, $"The object pickle refers to key '{key}', which no storage or tensor has.", "pickle");
        }
        var rootObject = PickleRunner.Run(stream, pOff + pSize, "pickle", options, PersistentLoad);
        return new LoadedGraph(CheckpointFormat.LegacyTar, rootObject, resolver.Storages, tar.Names.ToList());
    }

    private static TorchSerialException Truncated(string member) => Fail.Data(ErrorIds.CorruptTar,
        $"The tar member '{member}' ends before the data it announces: the file is truncated or corrupt.", member);
}
