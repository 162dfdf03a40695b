using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Errors;
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
        if (dir.Entries.Count == 0) throw Fail.Data(ErrorIds.CorruptZip, "The zip archive is empty: it holds no records.");
        string first = dir.Entries[0].Name;
        int slash = first.IndexOf('/');
        if (slash <= 0) throw Fail.Data(ErrorIds.CorruptZip, $"The zip archive is not a torch checkpoint: its first record '{first}' is not in a subdirectory.");
        string root = first[..slash];
        string R(string name) => root + "/" + name;

        if (dir.Find(R("constants.pkl")) is not null)
            throw Fail.Unsupported(ErrorIds.TorchScriptArchive,
                "The file is a TorchScript archive (written by torch.jit.save), not a torch.save checkpoint. TorchSerial does not run TorchScript; " +
                "in Python, save its weights with torch.save(torch.jit.load(path).state_dict(), 'weights.pt') and load that.");

        long? version = ReadVersion(dir, R);
        string byteOrder = "little";
        if (dir.Find(R("byteorder")) is { } bo)
        {
            byteOrder = Encoding.ASCII.GetString(dir.ReadAll(bo)).Trim();
            if (byteOrder is not ("little" or "big"))
                throw Fail.Data(ErrorIds.CorruptZip, $"The 'byteorder' record says '{byteOrder}'; it should be 'little' or 'big'.", "byteorder");
        }

        var pklEntry = dir.Find(R("data.pkl")) ?? throw Fail.Data(ErrorIds.MissingRecord,
            $"The zip archive has no '{R("data.pkl")}' record, so it is not a torch.save checkpoint.", "data.pkl");
        var resolver = new StorageResolver(options.Storages(bigEndian: byteOrder == "big"), expected: dir.Entries.Count);

        // The zip says only where the bytes of a key are: the record data/<key>, which must hold exactly the claim.
        StorageBytes? Locate(StorageClaim claim)
        {
            string recordName = "data/" + claim.Key;
            var entry = dir.Find(R(recordName)) ?? throw Fail.Data(ErrorIds.MissingRecord,
                $"The pickle refers to storage '{claim.Key}', but the archive has no record '{R(recordName)}'. The file is incomplete or was repacked wrongly.", recordName);
            if (entry.UncompressedSize != claim.NumBytes)
                throw Fail.Data(ErrorIds.RecordSizeMismatch,
                    $"Record '{recordName}' holds {entry.UncompressedSize} bytes but the pickle says storage '{claim.Key}' has {claim.NumElements} " +
                    $"{claim.Type.DType} elements ({claim.NumBytes} bytes). The file is corrupt.", recordName);
            return new StorageBytes(dir.Open(entry), entry.RecordedCrc);
        }

        var pkl = dir.Rent(pklEntry, out int pklLength);
        int protocol = pklLength > 1 && pkl[0] == 0x80 ? pkl[1] : 1;
        object? rootObject;
        try
        {
            Func<StorageClaim, StorageBytes?> locate = Locate; // one delegate for every storage, not one each
            rootObject = PickleRunner.Run(pkl, pklLength, "data.pkl", options, pid => resolver.Resolve(StorageClaim.Parse(pid, 5, "data.pkl"), locate));
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(pkl); }
        var records = dir.Entries.Select(e => e.Name.StartsWith(root + "/", StringComparison.Ordinal) ? e.Name[(root.Length + 1)..] : e.Name).ToList();
        return new LoadedGraph(CheckpointFormat.Zip, rootObject, resolver.Storages, records)
        {
            ByteOrder = byteOrder, FormatVersion = version, PickleProtocol = protocol,
        };
    }

    private static long? ReadVersion(ZipDirectory dir, Func<string, string> r)
    {
        var entry = dir.Find(r(".data/version")) ?? dir.Find(r("version"));
        if (entry is null) return null;
        if (entry.UncompressedSize > 64) throw Fail.Data(ErrorIds.CorruptZip, "The 'version' record is implausibly large.", "version");
        var text = Encoding.ASCII.GetString(dir.ReadAll(entry)).Trim();
        if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v))
            throw Fail.Data(ErrorIds.UnsupportedFormatVersion, $"The 'version' record holds '{text}', not a number.", "version");
        if (v < MinVersion || v > MaxVersion)
            throw Fail.Unsupported(ErrorIds.UnsupportedFormatVersion,
                $"The checkpoint has format version {v}; versions {MinVersion} to {MaxVersion} can be read. " +
                (v > MaxVersion ? "It was written by a newer PyTorch than TorchSerial understands." : "The version record is invalid."), "version");
        return v;
    }
}
