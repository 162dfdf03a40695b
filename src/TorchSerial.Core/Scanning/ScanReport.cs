using TorchSerial.Containers;
using TorchSerial.Torch;

namespace TorchSerial.Scanning;

/// <summary>The overall verdict of a scan.</summary>
public enum ScanStatus
{
    /// <summary>Import-TorchCheckpoint would load it, and nothing looks wrong.</summary>
    Ok,
    /// <summary>It would load, but something is off (for example a CRC mismatch, which torch ignores too, or a
    /// TorchScript archive whose code reaches files, the network or native code).</summary>
    Warning,
    /// <summary>It references a global the policy refuses; Import-TorchCheckpoint would stop with
    /// UnsafeGlobal.</summary>
    Unsafe,
    /// <summary>It is damaged or not a checkpoint; Import-TorchCheckpoint would fail.</summary>
    Invalid,
    /// <summary>It is a valid file of a kind TorchSerial does not load (TorchScript, sparse tensors, a device that is
    /// missing …).</summary>
    Unsupported,
}

/// <summary>What <see cref="CheckpointScanner"/> found in one file.</summary>
public sealed class ScanReport
{
    public string Path { get; init; } = "";
    /// <summary>The container's name (Zip, LegacyStream, SafeTensors, …), or null when it is none of them.</summary>
    public string? Format => FormatKind?.ToString();

    /// <summary>The verdict's name: Ok, Warning, Unsafe, Invalid or Unsupported (<see cref="ScanStatus"/>).</summary>
    public string Status => Outcome.ToString();

    // Enum-valued facts are published as their names: ConvertTo-Json writes an enum as its number, and scripts
    // compare, export and log these values. The typed value stays for the core's own use.
    internal CheckpointFormat? FormatKind { get; init; }
    internal ScanStatus Outcome { get; init; }

    /// <summary>The ErrorId Import-TorchCheckpoint would report, or null when it would load the file.</summary>
    public string? ErrorId { get; init; }

    /// <summary>Import-TorchCheckpoint's error message, or null.</summary>
    public string? Message { get; init; }

    public IReadOnlyList<string> Records { get => _records; init => _records = new ReportList<string>(value); }
    public IReadOnlyList<GlobalReference> Globals { get => _globals; init =>
        _globals = new ReportList<GlobalReference>(value); }
    public IReadOnlyList<ScanProblem> Problems { get => _problems; init =>
        _problems = new ReportList<ScanProblem>(value); }

    private readonly ReportList<string> _records = new(Array.Empty<string>());
    private readonly ReportList<GlobalReference> _globals = new(Array.Empty<GlobalReference>());
    private readonly ReportList<ScanProblem> _problems = new(Array.Empty<ScanProblem>());
    public int TensorCount { get; init; }
    public int StorageCount { get; init; }

    /// <summary>Bytes of tensor data the file holds (not read by the scan).</summary>
    public long StorageBytes { get; init; }

    /// <summary>The distinct locations its storages were saved on ('cpu', 'cuda:0', …), in order of first use: data,
    /// so no device is needed to read them.</summary>
    public IReadOnlyList<string> Locations { get => _locations; init => _locations = new ReportList<string>(value); }
    private readonly ReportList<string> _locations = new(Array.Empty<string>());

    /// <summary>What a TorchScript archive's code would run (<see cref="TorchScriptCode"/>): every __setstate__, and
    /// calls that reach files, the network or native code outside torch; empty for every other file.</summary>
    public IReadOnlyList<CodeFinding> Code { get => _code; init => _code = new ReportList<CodeFinding>(value); }
    private readonly ReportList<CodeFinding> _code = new(Array.Empty<CodeFinding>());

    /// <summary>The globals the policy refuses: a list, so <c>.Count</c> is 0 for a clean file in any script.</summary>
    public IReadOnlyList<GlobalReference> UnsafeGlobals => new ReportList<GlobalReference>(Globals.Where(g =>
        g.Decision == GlobalVerdict.Refused));

    /// <summary>True when Import-TorchCheckpoint would load the file.</summary>
    public bool IsLoadable => Outcome is ScanStatus.Ok or ScanStatus.Warning;
}

/// <summary>One global a pickle references, with the policy's verdict and the opcodes that apply it.</summary>
public sealed class GlobalReference
{
    public string FullName { get; init; } = "";
    /// <summary>Allowed or Refused (<see cref="GlobalVerdict"/>), by name.</summary>
    public string Verdict => Decision.ToString();
    internal GlobalVerdict Decision { get; init; }

    /// <summary>Safe, Unknown, Suspicious or Dangerous (<see cref="GlobalSeverity"/>), by name.</summary>
    public string Severity => Threat.Severity.ToString();

    /// <summary>The family of harm: process execution, code evaluation, file access, network access, deserialization,
    /// import machinery, attribute access, process control; "data" for safe globals, "unknown" for the rest.</summary>
    public string Family => Threat.Family;

    /// <summary>The real name an alias or attribute chain resolves to (pathlib.os.system is os.system).</summary>
    public string ResolvedName => Threat.ResolvedName;

    internal GlobalThreat Threat { get; init; } = new(GlobalSeverity.Safe, "data", "", "");

    /// <summary>Why it is refused or flagged ("executes a shell command"), or null when allowed by default.</summary>
    public string? Reason { get; init; }

    /// <summary>Opcodes that applied it (REDUCE, NEWOBJ, BUILD, …), in order; empty when only referenced.</summary>
    public IReadOnlyList<string> Opcodes { get; init; } = Array.Empty<string>();

    /// <summary>Where it is first referenced: the pickle and the byte offset in it.</summary>
    public string Record { get; init; } = "";
    public long Offset { get; init; }

    public override string ToString() => Decision == GlobalVerdict.Refused
        ? $"{FullName} ({Severity.ToLowerInvariant()}: {Reason})" : FullName;
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

/// <summary>
/// A report's list: read-only, and written by <see cref="ToString"/> as its items joined by "; ", so Export-Csv and
/// string interpolation show the items, not a .NET type name.
/// </summary>
public sealed class ReportList<T> : System.Collections.ObjectModel.ReadOnlyCollection<T>
{
    public ReportList(IEnumerable<T> items) : base(items.ToList()) { }

    public override string ToString() => string.Join("; ", this);
}
