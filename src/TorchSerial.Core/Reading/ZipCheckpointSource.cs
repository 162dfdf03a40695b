using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Torch;
using System.Text;

namespace TorchSerial.Reading;

/// <summary>Reads the zip checkpoint of torch ≥ 1.6 (torch-format.md §2–3).</summary>
internal static class ZipCheckpointSource
{
    private const long MinVersion = 1, MaxVersion = 10;

    public static LoadedGraph Load(Stream stream, LoadOptions options)
    {
        var dir = ZipDirectory.Read(stream, options.Snapshot);
        dir.VerifyRecordCrc = options.VerifyCrc;
        if (dir.Entries.Count == 0) throw Fail.Data(ErrorIds.CorruptZip,
            "The zip archive is empty: it holds no records.");
        string first = dir.Entries[0].Name;
        int slash = first.IndexOf('/');
        if (slash <= 0) throw Fail.Data(ErrorIds.CorruptZip,
            $"The zip archive is not a torch checkpoint: its first record '{first}' is not in a subdirectory.");
        string root = first[..slash];
        string folder = first[..(slash + 1)];
        string R(string name) => folder + name;
        // torch's reader refuses records outside the archive's folder ("file in archive is not in a subdirectory"):
        // a top-level constants.pkl beside a normal archive is content one reader runs and another ignores.
        foreach (var entry in dir.Entries)
            if (!entry.Name.StartsWith(folder, StringComparison.Ordinal))
                throw Fail.Data(ErrorIds.ZipRecordOutsideRoot,
                    $"The zip archive's record '{entry.Name}' is outside its folder '{root}/'; torch refuses such a " +
                        "file, and so does TorchSerial.", entry.Name);

        long? version = ReadVersion(dir, R);
        string byteOrder = "little";
        if (dir.Find(R("byteorder")) is { } bo)
        {
            byteOrder = Encoding.ASCII.GetString(dir.ReadAll(bo)).Trim();
            if (byteOrder is not ("little" or "big"))
                throw Fail.Data(ErrorIds.CorruptZip,
                    $"The 'byteorder' record says '{byteOrder}'; it should be 'little' or 'big'.", "byteorder");
        }
        var records = new RecordNames(dir.Entries, root);
        var settings = options.Storages(bigEndian: byteOrder == "big");
        using var burst = AllocationBurst.Begin(dir.Entries.Count, dir.Find(R("data.pkl"))?.UncompressedSize ?? 0);
        if (dir.Find(R("constants.pkl")) is not null) return TorchScriptSource.Load(dir, R, records, settings,
            options) with
        {
            ByteOrder = byteOrder, FormatVersion = version,
        };

        var resolver = new StorageResolver(settings, expected: dir.Entries.Count);
        var (rootObject, protocol) = RunPickle(dir, R, "data.pkl", "data/", resolver, options, null);
        return new LoadedGraph(CheckpointFormat.Zip, rootObject, resolver.Storages, records)
        {
            ByteOrder = byteOrder, FormatVersion = version, PickleProtocol = protocol,
        };
    }

    /// <summary>
    /// Runs one pickle record of the archive whose persistent ids name storages in <paramref name="storageDir"/>; the
    /// zip
    /// says only where a key's bytes are: the record there, which must hold exactly what the pickle claims.
    /// </summary>
    internal static (object? Root, int Protocol) RunPickle(ZipDirectory dir, Func<string, string> r, string pickleName,
        string storageDir,
        StorageResolver resolver, LoadOptions options, Func<Func<object?, object?>, PickleHooks>? hooks)
    {
        var pklEntry = dir.Find(r(pickleName)) ?? throw Fail.Data(ErrorIds.MissingRecord,
            $"The zip archive has no '{r(pickleName)}' record, so it is not a torch.save checkpoint.", pickleName);
        string storagePrefix = r(storageDir);
        StorageBytes? Locate(StorageClaim claim)
        {
            var entry = dir.Find(storagePrefix, claim.Key) ?? throw Fail.Data(ErrorIds.MissingRecord,
                $"The pickle refers to storage '{claim.Key}', but the archive has no record '{storagePrefix}" +
                    $"{claim.Key}'. The file is incomplete or was repacked wrongly.", storageDir + claim.Key);
            if (entry.UncompressedSize != claim.NumBytes)
            {
                string recordName = storageDir + claim.Key; // built only for the message
                throw Fail.Data(ErrorIds.RecordSizeMismatch,
                    $"Record '{recordName}' holds {entry.UncompressedSize} bytes but the pickle says storage " +
                        $"'{claim.Key}' has {claim.NumElements} {claim.Type.DType} elements ({claim.NumBytes} " +
                        "bytes). The file is corrupt.", recordName);
            }
            dir.Check(entry); // refused now, as an open would; opened on first use
            return StorageBytes.OnUse(entry);
        }
        var pkl = dir.Rent(pklEntry, out int pklLength);
        int protocol = pklLength > 1 && pkl[0] == 0x80 ? pkl[1] : 1;
        try
        {
            Func<StorageClaim, StorageBytes?> locate = Locate; // one delegate for every storage, not one each
            // The claim keeps the id's values, never the id tuple itself: the VM may lend it one.
            Func<object?, object?> load = pid => resolver.Resolve(StorageClaim.Parse(pid, 5, pickleName), locate);
            object? value = hooks is null ? PickleRunner.Run(pkl, pklLength, pickleName, options, load,
                    borrowsPersistentId: true)
                : PickleRunner.Run(pkl, pklLength, pickleName, options, hooks(load));
            return (value, protocol);
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(pkl); }
    }

    private static long? ReadVersion(ZipDirectory dir, Func<string, string> r)
    {
        var entry = dir.Find(r(".data/version")) ?? dir.Find(r("version"));
        if (entry is null) return null;
        if (entry.UncompressedSize > 64) throw Fail.Data(ErrorIds.CorruptZip,
            "The 'version' record is implausibly large.", "version");
        var text = Encoding.ASCII.GetString(dir.ReadAll(entry)).Trim();
        if (!long.TryParse(text, System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out long v))
            throw Fail.Data(ErrorIds.UnsupportedFormatVersion, $"The 'version' record holds '{text}', not a number.",
                "version");
        if (v < MinVersion || v > MaxVersion)
            throw Fail.Unsupported(ErrorIds.UnsupportedFormatVersion,
                $"The checkpoint has format version {v}; versions {MinVersion} to {MaxVersion} can be read. " +
                (v > MaxVersion ? "It was written by a newer PyTorch than TorchSerial understands."
                    : "The version record is invalid."), "version");
        return v;
    }
}
