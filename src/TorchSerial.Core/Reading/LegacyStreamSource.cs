using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Tensors;
using TorchSerial.Torch;
using System.Buffers.Binary;
using System.Numerics;

namespace TorchSerial.Reading;

/// <summary>
/// Reads the legacy stacked-pickle stream (torch 0.1.10–1.5, torch-format.md §4): magic, protocol
/// version, sys_info, the object pickle, the storage key list, then each storage's raw bytes.
/// </summary>
internal static class LegacyStreamSource
{
    public static LoadedGraph Load(Stream stream, LoadOptions options)
    {
        long end = stream.Length;
        stream.Position = 0;
        var magic = PickleRunner.Run(stream, end, "magic number", options);
        if (magic is not BigInteger m || m != LegacyStreamFormat.Magic)
            throw Fail.Data(ErrorIds.InvalidMagicNumber,
                "Invalid magic number; corrupt file? The file is a pickle, but its first value is " +
                    $"{PickleArgs.Describe(magic)}, not torch's legacy magic number. " +
                "It may be a plain Python pickle rather than a torch.save checkpoint.", "magic number");
        var protocol = PickleRunner.Run(stream, end, "protocol version", options);
        if (protocol is not long p || p != LegacyStreamFormat.ProtocolVersion)
            throw Fail.Data(ErrorIds.InvalidProtocolVersion, $"Invalid protocol version: {PyRepr.Str(protocol)} (expected {LegacyStreamFormat.ProtocolVersion}).", "protocol version");
        PickleRunner.Run(stream, end, "sys_info", options);

        var resolver = new StorageResolver(options.Storages());

        // The data follows the pickle, so storages are made without bytes and attached once the key list is read.
        object? PersistentLoad(object? pid)
        {
            // A whole-model pickle names its module classes by persistent id; their class globals were admitted to
            // get here (the policy refused them otherwise), so the id becomes an inert record of class and source.
            if (ModuleSource.TryParse(pid, "object pickle") is { } module) return module;
            var claim = StorageClaim.Parse(pid, 6, "object pickle");
            var root = resolver.Resolve(claim, _ => null);
            if (claim.ViewMetadata is not { } view) return root;
            // (view_key, offset, view_size): the storage is a slice of the root, in elements.
            if (view.Count != 3) throw PickleArgs.Bad("A legacy storage view should be (view_key, offset, size).");
            string viewKey = PickleArgs.String(view[0], "view key");
            if (resolver.TryGet(viewKey, out var existing)) return existing;
            long offset = PickleArgs.Long(view[1], "view offset"), size = PickleArgs.Long(view[2], "view size");
            int item = claim.Type.DType.ItemSize;
            if (offset < 0 || size < 0 || offset > root.NumElements || size > root.NumElements - offset)
                throw Fail.Data(ErrorIds.ViewOutOfBounds,
                    $"Storage view '{viewKey}' covers elements {offset}..{offset + size} of storage '{claim.Key}', " +
                        $"which has {root.NumElements}.");
            return resolver.View(viewKey, root, offset * item, size * item);
        }

        long objectStart = stream.Position;
        int pickleProtocol = stream.ReadByte() == 0x80 ? stream.ReadByte() : 1;
        stream.Position = objectStart;
        var rootObject = PickleRunner.Run(stream, end, "object pickle", options, PersistentLoad);
        var keys = PickleRunner.Run(stream, end, "storage key list", options) as PyList
            ?? throw Fail.Data(ErrorIds.PickleStructure, "The legacy stream's storage key list is not a list.",
                "storage key list");

        var header = new byte[8];
        var handle = (stream as FileStream)?.SafeFileHandle; // once: the getter flushes the stream each time
        foreach (var k in keys)
        {
            string key = PickleArgs.String(k, "storage key");
            if (!resolver.TryGet(key, out var storage) || !resolver.Storages.Contains(storage))
                throw Fail.Data(ErrorIds.MissingRecord, $"The storage key list names '{key}', which the object pickle never referenced.", key);
            long at = stream.Position;
            if (end - at < 8) throw Truncated(key, at);
            stream.ReadExactly(header);
            long count = BinaryPrimitives.ReadInt64LittleEndian(header);
            if (count != storage.NumElements)
                throw Fail.Data(ErrorIds.RecordSizeMismatch,
                    $"storage has wrong byte size: storage '{key}' should hold {storage.NumElements} elements but " +
                        $"the stream says {count}.", key, at);
            if (end - stream.Position < storage.NumBytes) throw Truncated(key, at);
            resolver.Attach(storage, new StorageBytes(new FileRangeBuffer(stream, stream.Position, storage.NumBytes,
                $"storage '{key}'", options.Snapshot, handle), null));
            stream.Seek(storage.NumBytes, SeekOrigin.Current);
        }
        return new LoadedGraph(CheckpointFormat.LegacyStream, rootObject, resolver.Storages,
            Array.Empty<string>()) { PickleProtocol = pickleProtocol };
    }

    private static TorchSerialException Truncated(string key, long at) => Fail.Data(ErrorIds.TruncatedLegacyStream,
        $"The legacy checkpoint ends inside the data of storage '{key}' (offset {at}): the file is truncated. Copy " +
            "or download it again.", key, at);
}
