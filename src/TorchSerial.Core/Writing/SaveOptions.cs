using TorchSerial.Errors;
using TorchSerial.Tensors;
using TorchSerial.Torch;
namespace TorchSerial.Writing;

/// <summary>The container <see cref="CheckpointWriter"/> writes.</summary>
public enum SaveLayout
{
    /// <summary>The zip archive of current torch (record set and order of torch ≥ 2.7).</summary>
    Zip,
    /// <summary>The zip archive exactly as torch 1.6–2.0 wrote it: data.pkl, data/&lt;keys sorted as strings&gt;,
    /// version.</summary>
    ZipTorch1,
    /// <summary>The legacy stacked-pickle stream of <c>_use_new_zipfile_serialization=False</c>.</summary>
    Legacy,
    /// <summary>
    /// The zip archive as LibTorch's C++ writer lays it out (torch::pickle_save, TorchScript's torch.save), for C++
    /// programs that read with torch::pickle_load: every dtype as a typed storage through <c>_rebuild_tensor_v2</c>
    /// (<c>torch.Float8_e4m3fnStorage</c>, <c>torch.UInt16Storage</c>), which LibTorch reads and Python's torch.load
    /// does not for those dtypes (it reads <see cref="Zip"/>); records data/N, data.pkl, version, byteorder and
    /// .data/serialization_id.
    /// </summary>
    ZipLibTorch,
    /// <summary>
    /// safetensors, byte for byte as the reference writer lays it out; shared tensors as <c>save_model</c> treats them.
    /// The object must be a flat dict of name → tensor.
    /// </summary>
    SafeTensors,
}

/// <summary>The knobs of a save; the counterparts of torch.save's arguments.</summary>
public sealed record SaveOptions
{
    public SaveLayout Layout { get; init; } = SaveLayout.Zip;

    /// <summary>Pickle protocol 2 to 5 (torch's <c>pickle_protocol</c>, default 2).</summary>
    public int PickleProtocol { get; init; } = 2;

    /// <summary>The zip root folder; torch uses the file name without its last extension, or 'archive' for
    /// streams.</summary>
    public string ArchiveName { get; init; } = "archive";

    /// <summary>
    /// Turns a caller's wrapper objects into plain values before they are pickled (the PowerShell layer
    /// passes one that unwraps PSObject); null leaves values as they are.
    /// </summary>
    public Func<object?, object?>? Normalize { get; init; }

    /// <summary>The location taggers (torch's register_package): which tag each storage is saved with.</summary>
    public LocationRegistry Registry { get; init; } = LocationRegistry.BuiltIn;

    /// <summary>The tag each storage is saved with instead of the registry's answer (rewriting a file's tags); null
    /// asks the registry.</summary>
    public Func<Storage, string>? LocationTag { get; init; }

    /// <summary>
    /// safetensors metadata to add to <c>{"format": "pt"}</c> (the user's keys win); for a sharded set, it goes into
    /// the
    /// index's metadata, as huggingface_hub puts it.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Metadata { get; init; }

    /// <summary>
    /// safetensors only: every tensor is written under its own name as its own contiguous copy, identical aliases
    /// (tied weights) included, so no name is recorded as removed.
    /// </summary>
    public bool CopySharedTensors { get; init; }

    /// <summary>
    /// safetensors only: identical aliases are written once (as by default), and a view that would have to be
    /// written as a copy of part of another tensor's memory is refused instead, naming it.
    /// </summary>
    public bool DeduplicateOnly { get; init; }

    /// <summary>safetensors: told the name of each view written as its own copy (its sharing cannot be kept).</summary>
    public Action<string>? Copied { get; init; }

    /// <summary>
    /// Splits the save into shards of at most this many bytes (huggingface_hub's greedy split; a larger tensor gets a
    /// shard of its own) plus a <c>*.index.json</c>; null writes one file.
    /// </summary>
    public long? MaxShardSize { get; init; }

    /// <summary>A sharded save replaces an existing set and deletes stale shards of the same name; without it an
    /// existing set is refused.</summary>
    public bool ReplaceSet { get; init; }

    /// <summary>Reports storage bytes written so far and the total.</summary>
    public Action<long, long>? Progress { get; init; }

    /// <summary>Reports how many tensors (safetensors) or storages (torch.save) are written so far, and how
    /// many there are.</summary>
    public Action<int, int>? ItemProgress { get; init; }

    internal void Validate()
    {
        if (PickleProtocol is < 2 or > 5)
            throw new TorchSerialException(ErrorIds.InvalidSaveOption, ErrorKind.InvalidArgument,
                $"Pickle protocol {PickleProtocol} is not supported: torch.save writes protocols 2 to 5.");
        if (MaxShardSize is <= 0)
            throw new TorchSerialException(ErrorIds.InvalidSaveOption, ErrorKind.InvalidArgument,
                $"The shard size must be positive, not {MaxShardSize}.");
        if (CopySharedTensors && DeduplicateOnly)
            throw new TorchSerialException(ErrorIds.InvalidSaveOption, ErrorKind.InvalidArgument,
                "-CopySharedTensors writes every alias as a copy and -DeduplicateOnly refuses copies; give one.");
        if (string.IsNullOrEmpty(ArchiveName) || ArchiveName.Contains('/'))
            throw new TorchSerialException(ErrorIds.InvalidSaveOption, ErrorKind.InvalidArgument,
                $"invalid archive name: '{ArchiveName}'.");
    }
}
