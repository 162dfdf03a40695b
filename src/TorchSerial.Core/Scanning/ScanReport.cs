using TorchSerial.Containers;
using TorchSerial.Torch;

namespace TorchSerial.Scanning;

/// <summary>The overall verdict of a scan.</summary>
public enum ScanStatus
{
    /// <summary>Import-TorchCheckpoint would load it, and nothing looks wrong.</summary>
    Ok,
    /// <summary>It would load, but something is off (for example a CRC mismatch, which torch ignores too).</summary>
    Warning,
    /// <summary>It references a global the policy refuses; Import-TorchCheckpoint would stop with UnsafeGlobal.</summary>
    Unsafe,
    /// <summary>It is damaged or not a checkpoint; Import-TorchCheckpoint would fail.</summary>
    Invalid,
    /// <summary>It is a valid file of a kind TorchSerial does not load (TorchScript, sparse tensors, a device that is missing …).</summary>
    Unsupported,
}

/// <summary>What <see cref="CheckpointScanner"/> found in one file.</summary>
public sealed class ScanReport
{
    public string Path { get; init; } = "";
    public CheckpointFormat? Format { get; init; }
    public ScanStatus Status { get; init; }

    /// <summary>The ErrorId Import-TorchCheckpoint would report, or null when it would load the file.</summary>
    public string? ErrorId { get; init; }

    /// <summary>Import-TorchCheckpoint's error message, or null.</summary>
    public string? Message { get; init; }

    public IReadOnlyList<string> Records { get; init; } = Array.Empty<string>();
    public IReadOnlyList<GlobalReference> Globals { get; init; } = Array.Empty<GlobalReference>();
    public IReadOnlyList<ScanProblem> Problems { get; init; } = Array.Empty<ScanProblem>();
    public int TensorCount { get; init; }
    public int StorageCount { get; init; }

    /// <summary>Bytes of tensor data the file holds (not read by the scan).</summary>
    public long StorageBytes { get; init; }

    /// <summary>The globals the policy refuses.</summary>
    public IEnumerable<GlobalReference> UnsafeGlobals => Globals.Where(g => g.Verdict == GlobalVerdict.Refused);

    /// <summary>True when Import-TorchCheckpoint would load the file.</summary>
    public bool IsLoadable => Status is ScanStatus.Ok or ScanStatus.Warning;
}

/// <summary>One global a pickle references, with the policy's verdict and the opcodes that apply it.</summary>
public sealed class GlobalReference
{
    public string FullName { get; init; } = "";
    public GlobalVerdict Verdict { get; init; }

    /// <summary>Why it is refused ("executes a shell command", "not on the allow-list"), or null when allowed.</summary>
    public string? Reason { get; init; }

    /// <summary>Opcodes that applied it (REDUCE, NEWOBJ, BUILD, …), in order; empty when only referenced.</summary>
    public IReadOnlyList<string> Opcodes { get; init; } = Array.Empty<string>();

    /// <summary>Where it is first referenced: the pickle and the byte offset in it.</summary>
    public string Record { get; init; } = "";
    public long Offset { get; init; }

    public override string ToString() => Verdict == GlobalVerdict.Refused ? $"{FullName} (unsafe: {Reason})" : FullName;
}

/// <summary>A problem found by a scan.</summary>
public sealed class ScanProblem
{
    public string ErrorId { get; init; } = "";
    public string? Record { get; init; }
    public long? Offset { get; init; }
    public string Message { get; init; } = "";
    public override string ToString() => $"{ErrorId}: {Message}";
}
