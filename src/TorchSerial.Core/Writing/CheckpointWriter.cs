using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Tensors;
using TorchSerial.Torch;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace TorchSerial.Writing;

/// <summary>
/// torch.save for .NET: pickles the object (tensors as persistent ids), then writes each storage once,
/// streaming its bytes to the output. Writes to any writable stream; <see cref="SaveFile"/> adds the
/// atomic temporary-file-then-replace that leaves an old file untouched on failure or cancellation.
/// </summary>
public static class CheckpointWriter
{
    private const int ChunkSize = 1 << 20;

    /// <summary>Writes <paramref name="root"/> to a stream (seekable or not), as torch.save does to a file-like
    /// object.</summary>
    public static void Save(object? root, Stream output, SaveOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new SaveOptions();
        options.Validate();
        if (!output.CanWrite) throw new TorchSerialException(ErrorIds.InvalidSaveOption, ErrorKind.InvalidArgument,
            "The output stream is not writable.");
        if (options.MaxShardSize is not null)
            throw new TorchSerialException(ErrorIds.InvalidSaveOption, ErrorKind.InvalidArgument,
                "Sharding writes files: use SaveFile.");
        if (options.Layout == SaveLayout.SafeTensors)
        {
            SaveSafeTensors(root, output, options, null, cancellationToken);
            return;
        }
        var storages = new StorageTable();
        bool legacy = options.Layout == SaveLayout.Legacy;
        var tag = options.LocationTag ?? options.Registry.Tag;
        // A state_dict's size says how large the memo will grow; anything else starts small.
        int expected = Math.Min((options.Normalize?.Invoke(root) ?? root) is System.Collections.ICollection c ? c.Count
            : 0, 1 << 20);
        var pickle = new TorchPickler(options.PickleProtocol, storages.Record, tag, legacy, options.Normalize,
            expected, libTorch: options.Layout == SaveLayout.ZipLibTorch).Dump(root);
        if (legacy) WriteLegacy(output, pickle, storages, options, cancellationToken);
        else WriteZip(output, pickle, storages, options, cancellationToken);
        output.Flush();
    }

    /// <summary>
    /// Writes a checkpoint file atomically: into a temporary file in the target folder, then moved over the
    /// target. The zip root folder is the file name without its last extension, as torch names it. With
    /// <see cref="SaveOptions.MaxShardSize"/> it writes a sharded set instead (Toolbox.SaveVerifier proves either).
    /// </summary>
    /// <returns>The files written: the one file, or a set's index followed by its shards.</returns>
    public static IReadOnlyList<string> SaveFile(object? root, string path, SaveOptions? options = null,
        bool overwrite = true,
        CancellationToken cancellationToken = default)
    {
        options ??= new SaveOptions();
        options.Validate();
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new TorchSerialException(ErrorIds.WriteFailed, ErrorKind.ObjectNotFound,
                $"Parent directory {folder} does not exist.");
        IReadOnlyList<string> written;
        if (options.MaxShardSize is not null)
        {
            var format = options.Layout == SaveLayout.SafeTensors ? "safetensors" : "a sharded set";
            written = ShardedWriter.Save(FlatStateDict.From(root, options.Normalize, format), full, options, overwrite,
                cancellationToken);
        }
        else
        {
            WriteOne(root, full, options, null, overwrite, cancellationToken);
            written = new[] { full };
        }
        return written;
    }

    /// <summary>
    /// One file, atomically. <paramref name="removed"/> is a safetensors save's shared-tensor plan when the caller made
    /// it (a set plans once for all its shards).
    /// </summary>
    internal static void WriteOne(object? root, string full, SaveOptions options,
        IReadOnlyList<KeyValuePair<string, string>>? removed, bool overwrite, CancellationToken ct)
    {
        if (options.Layout == SaveLayout.SafeTensors)
        {
            AtomicFile.Write(full, overwrite, stream => SaveSafeTensors(root, stream, options, removed, ct));
            return;
        }
        string stem = Path.GetFileNameWithoutExtension(full);
        if (stem.Length == 0) throw new TorchSerialException(ErrorIds.InvalidSaveOption, ErrorKind.InvalidArgument,
            $"invalid file name: {full}");
        // torch routes non-ASCII paths through a Python file object, which names the root 'archive'.
        var effective = options with { ArchiveName = IsAscii(stem) ? stem : "archive" };
        AtomicFile.Write(full, overwrite, stream => Save(root, stream, effective, ct));
    }

    /// <summary>A flat dict of tensors as safetensors, planning shared tensors unless <paramref name="removed"/> is
    /// given.</summary>
    private static void SaveSafeTensors(object? root, Stream output, SaveOptions options,
        IReadOnlyList<KeyValuePair<string, string>>? removed, CancellationToken ct)
    {
        IReadOnlyList<KeyValuePair<string, Tensor>> tensors = FlatStateDict.From(root, options.Normalize,
            "safetensors");
        if (removed is null)
        {
            var plan = SharedTensorPlan.Make(tensors, options);
            (tensors, removed) = (plan.Kept, plan.Removed);
        }
        var progress = new SaveProgress(options, tensors.Sum(t => t.Value.NumBytes), tensors.Count);
        SafeTensorsWriter.Write(tensors, SafeTensorsWriter.Metadata(removed, options.Metadata), output, progress.Add,
            ct, progress.Written);
        output.Flush();
    }

    private static bool IsAscii(string s) => s.All(c => c < 128);

    private static void WriteZip(Stream output, byte[] pickle, StorageTable storages, SaveOptions options,
        CancellationToken ct)
    {
        var zip = new ZipRecordWriter(output, options.ArchiveName);
        bool libTorch = options.Layout == SaveLayout.ZipLibTorch;
        // LibTorch's writer puts the storages first and the pickle after them.
        if (!libTorch) zip.Write("data.pkl", pickle);
        var entries = storages.Entries.AsEnumerable();
        if (options.Layout == SaveLayout.ZipTorch1)
        {
            // torch ≤ 2.6 wrote storages in string order of their keys: 0, 1, 10, 11, …, 2.
            entries = entries.OrderBy(e => e.Key, StringComparer.Ordinal);
        }
        else if (!libTorch)
        {
            zip.Write(".format_version", "1"u8);
            zip.Write(".storage_alignment", "64"u8);
            zip.Write("byteorder", "little"u8);
        }
        var buffer = new byte[ChunkSize];
        var progress = new SaveProgress(options, storages.Entries.Sum(e => e.Storage.NumBytes),
            storages.Entries.Count);
        foreach (var e in entries)
        {
            BackgroundWriteStream.Expect(output, e.Storage.Buffer);
            zip.Write("data/" + e.Key, e.Storage.NumBytes, sink => StreamStorage(e.Storage, sink, buffer, progress,
                ct), ct);
            progress.Written();
        }
        if (libTorch) zip.Write("data.pkl", pickle);
        zip.Write("version", "3\n"u8);
        if (libTorch) zip.Write("byteorder", "little"u8);
        if (options.Layout != SaveLayout.ZipTorch1) zip.Write(".data/serialization_id", SerializationId(zip.Names,
            zip.Crcs));
        zip.Finish();
    }

    /// <summary>Streams a storage into a record and returns its CRC-32, hashing only when the storage does not know it
    /// yet.</summary>
    private static uint StreamStorage(Storage storage, SpanAction sink, byte[] buffer, SaveProgress progress,
        CancellationToken ct)
    {
        var bytes = storage.Buffer;
        uint value = bytes.CopyTo(chunk =>
        {
            sink(chunk);
            progress.Add(chunk.Length);
        }, buffer, ct, hash: true) ?? throw new InvalidOperationException($"No CRC-32 for storage '{storage.Key}'.");
        // Bytes never change once they exist: the next save of a loaded storage need not hash them again.
        if (bytes.IsResident) bytes.KnownCrc = value;
        return value;
    }

    /// <summary>Adds up bytes and items (tensors, or storages) written and reports them with their totals.</summary>
    private sealed class SaveProgress(SaveOptions options, long total, int items)
    {
        private long _done;
        private int _written;
        public void Add(int n) { _done += n; options.Progress?.Invoke(_done, total); }
        public void Written() => options.ItemProgress?.Invoke(++_written, items);
    }

    /// <summary>
    /// 40 digits like torch's: a hash of the record names and one of their CRCs, combined with boost's
    /// hash_combine. torch hashes names with std::hash (implementation-defined), so no writer outside
    /// libstdc++ can match its digits; readers only log the id.
    /// </summary>
    private static byte[] SerializationId(IEnumerable<string> names, IEnumerable<uint> crcs)
    {
        static ulong Combine(ulong seed, ulong value) => seed ^ (value + 0x9e3779b9UL + (seed << 6) + (seed >> 2));
        ulong nameHash = 0, crcHash = 0;
        foreach (var n in names)
        {
            ulong h = 14695981039346656037UL; // FNV-1a of the UTF-8 name
            foreach (byte b in Encoding.UTF8.GetBytes(n)) h = (h ^ b) * 1099511628211UL;
            nameHash = Combine(nameHash, h);
        }
        foreach (var c in crcs) crcHash = Combine(crcHash, c);
        return Encoding.ASCII.GetBytes(nameHash.ToString("D20", CultureInfo.InvariantCulture) + crcHash.ToString("D20",
            CultureInfo.InvariantCulture));
    }

    /// <summary>The legacy stream (torch-format.md §4): five pickles, then each storage as an int64 count and its
    /// bytes.</summary>
    private static void WriteLegacy(Stream output, byte[] pickle, StorageTable storages, SaveOptions options,
        CancellationToken ct)
    {
        int protocol = options.PickleProtocol;
        var sysInfo = new Python.PyDict();
        sysInfo.Add("protocol_version", LegacyStreamFormat.ProtocolVersion);
        sysInfo.Add("little_endian", true);
        var sizes = new Python.PyDict();
        sizes.Add("short", 2L);
        sizes.Add("int", 4L);
        sizes.Add("long", 4L);
        sysInfo.Add("type_sizes", sizes);
        output.Write(TorchPickler.Plain(protocol).Dump(LegacyStreamFormat.Magic));
        output.Write(TorchPickler.Plain(protocol).Dump(LegacyStreamFormat.ProtocolVersion));
        output.Write(TorchPickler.Plain(protocol).Dump(sysInfo));
        output.Write(pickle);
        var keys = storages.Entries.Select(e => e.Key).OrderBy(k => k, StringComparer.Ordinal).ToList();
        output.Write(TorchPickler.Plain(protocol).Dump(new Python.PyList(keys)));
        var count = new byte[8];
        var buffer = new byte[ChunkSize];
        var progress = new SaveProgress(options, storages.Entries.Sum(e => e.Storage.NumBytes),
            storages.Entries.Count);
        foreach (var e in storages.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            ct.ThrowIfCancellationRequested();
            BackgroundWriteStream.Expect(output, e.Storage.Buffer);
            BinaryPrimitives.WriteInt64LittleEndian(count, e.NumElements);
            output.Write(count);
            e.Storage.Buffer.CopyTo(chunk => { output.Write(chunk); progress.Add(chunk.Length); }, buffer, ct);
            progress.Written();
        }
    }
}
