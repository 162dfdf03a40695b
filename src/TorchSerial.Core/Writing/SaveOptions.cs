using TorchSerial.Errors;
using TorchSerial.Tensors;
using TorchSerial.Torch;
namespace TorchSerial.Writing;

/// <summary>The container <see cref="CheckpointWriter"/> writes.</summary>
public enum SaveLayout
{
    /// <summary>The zip archive of current torch (record set and order of torch ≥ 2.7).</summary>
    Zip,
    /// <summary>The zip archive exactly as torch 1.6–2.0 wrote it: data.pkl, data/&lt;keys sorted as strings&gt;, version.</summary>
    ZipTorch1,
    /// <summary>The legacy stacked-pickle stream of <c>_use_new_zipfile_serialization=False</c>.</summary>
    Legacy,
}

/// <summary>The knobs of a save; the counterparts of torch.save's arguments.</summary>
public sealed class SaveOptions
{
    public SaveLayout Layout { get; init; } = SaveLayout.Zip;

    /// <summary>Pickle protocol 2 to 5 (torch's <c>pickle_protocol</c>, default 2).</summary>
    public int PickleProtocol { get; init; } = 2;

    /// <summary>The zip root folder; torch uses the file name without its last extension, or 'archive' for streams.</summary>
    public string ArchiveName { get; init; } = "archive";

    /// <summary>
    /// Turns a caller's wrapper objects into plain values before they are pickled (the PowerShell layer
    /// passes one that unwraps PSObject); null leaves values as they are.
    /// </summary>
    public Func<object?, object?>? Normalize { get; init; }

    /// <summary>The location taggers (torch's register_package): which tag each storage is saved with.</summary>
    public LocationRegistry Registry { get; init; } = LocationRegistry.BuiltIn;

    /// <summary>The tag each storage is saved with instead of the registry's answer (rewriting a file's tags); null asks the registry.</summary>
    public Func<Storage, string>? LocationTag { get; init; }

    /// <summary>Reports storage bytes written so far and the total.</summary>
    public Action<long, long>? Progress { get; init; }

    internal void Validate()
    {
        if (PickleProtocol is < 2 or > 5)
            throw new TorchSerialException(ErrorIds.InvalidSaveOption, ErrorKind.InvalidArgument,
                $"Pickle protocol {PickleProtocol} is not supported: torch.save writes protocols 2 to 5.");
        if (string.IsNullOrEmpty(ArchiveName) || ArchiveName.Contains('/'))
            throw new TorchSerialException(ErrorIds.InvalidSaveOption, ErrorKind.InvalidArgument, $"invalid archive name: '{ArchiveName}'.");
    }
}
