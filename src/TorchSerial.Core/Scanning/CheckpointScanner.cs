using System.IO.Hashing;
using TorchSerial.Containers;
using TorchSerial.Pickle;

namespace TorchSerial;

/// <summary>
/// Diagnoses a checkpoint without loading its tensor data. It runs the very parser Import uses, twice
/// and without reading storages: once with the caller's policy (so the verdict is exactly what a load
/// would do), once admitting every global as inert data (so every global and the opcodes applying it are
/// listed, not just the first refused one). Nothing is executed in either pass. Optionally it streams each
/// zip record through CRC-32 in fixed-size chunks.
/// </summary>
public static class CheckpointScanner
{
    public static ScanReport Scan(string path, LoadOptions? options = null, bool verifyCrc = true, CancellationToken cancellationToken = default)
    {
        options ??= new LoadOptions();
        var stream = CheckpointFile.OpenRead(path);
        using (stream) return Scan(stream, path, options, verifyCrc, cancellationToken);
    }

    private static ScanReport Scan(Stream stream, string path, LoadOptions options, bool verifyCrc, CancellationToken ct)
    {
        var problems = new List<ScanProblem>();
        CheckpointFormat? format = null;
        try { format = FormatSniffer.Detect(stream); }
        catch (TorchSerialException ex) { return Report(path, null, ex, problems, new GlobalRecorder(options.Policy), null, null); }

        // Pass 1: exactly what Import-TorchCheckpoint would do, minus reading storage bytes.
        TorchSerialException? verdict = null;
        (LoadedGraph Graph, List<Tensor> Tensors)? structure = null;
        try { structure = CheckpointReader.LoadStructure(stream, options); }
        catch (TorchSerialException ex) { verdict = ex; }
        ct.ThrowIfCancellationRequested();

        // Pass 2: every global, admitted as inert data, with the opcodes that use it.
        var recorder = new GlobalRecorder(options.Policy);
        var admitAll = new LoadOptions
        {
            Policy = new GlobalPolicy(new[] { "*" }), Encoding = options.Encoding, MapLocation = "cpu",
            MaxPickleValues = options.MaxPickleValues, Observer = recorder,
        };
        try { CheckpointReader.LoadStructure(stream, admitAll); }
        catch (TorchSerialException ex) when (verdict is null || ex.ErrorId != verdict.ErrorId) { problems.Add(Problem(ex)); }
        catch (TorchSerialException) { }
        ct.ThrowIfCancellationRequested();

        IReadOnlyList<string>? records = structure?.Graph.Records;
        if (format == CheckpointFormat.Zip)
        {
            try
            {
                records ??= ZipRecords(stream);
                if (verifyCrc) VerifyCrcs(stream, problems, ct);
            }
            catch (TorchSerialException ex) when (verdict is not null) { _ = ex; } // the container error is already the verdict
        }
        return Report(path, format, verdict, problems, recorder, structure, records);
    }

    private static ScanReport Report(string path, CheckpointFormat? format, TorchSerialException? verdict, List<ScanProblem> problems,
        GlobalRecorder recorder, (LoadedGraph Graph, List<Tensor> Tensors)? structure, IReadOnlyList<string>? records)
    {
        if (verdict is not null) problems.Insert(0, Problem(verdict));
        var status = verdict is null
            ? problems.Count == 0 ? ScanStatus.Ok : ScanStatus.Warning
            : verdict.Kind switch
            {
                ErrorKind.SecurityError => ScanStatus.Unsafe,
                ErrorKind.NotImplemented or ErrorKind.ResourceUnavailable => ScanStatus.Unsupported,
                _ => ScanStatus.Invalid,
            };
        return new ScanReport
        {
            Path = path, Format = format, Status = status, ErrorId = verdict?.ErrorId, Message = verdict?.Message,
            Records = records ?? Array.Empty<string>(), Globals = recorder.References(), Problems = problems,
            TensorCount = structure?.Tensors.Count ?? 0, StorageCount = structure?.Graph.Storages.Count ?? 0,
            StorageBytes = structure?.Graph.Storages.Sum(s => s.NumBytes) ?? 0,
        };
    }

    private static ScanProblem Problem(TorchSerialException ex)
        => new() { ErrorId = ex.ErrorId, Record = ex.Record, Offset = ex.Offset, Message = ex.Message };

    /// <summary>Record names without the root folder, as <see cref="Checkpoint.Records"/> lists them.</summary>
    private static IReadOnlyList<string> ZipRecords(Stream stream)
    {
        var names = ZipDirectory.Read(stream).Entries.Select(e => e.Name).ToList();
        int slash = names.Count > 0 ? names[0].IndexOf('/') : -1;
        string prefix = slash > 0 ? names[0][..(slash + 1)] : "";
        return names.Select(n => n.StartsWith(prefix, StringComparison.Ordinal) ? n[prefix.Length..] : n).ToList();
    }

    /// <summary>Streams each record through CRC-32 with one 1 MiB buffer. A stored CRC of 0 means "not computed" (torch's opt-out).</summary>
    private static void VerifyCrcs(Stream stream, List<ScanProblem> problems, CancellationToken ct)
    {
        var dir = ZipDirectory.Read(stream);
        var buffer = new byte[1 << 20];
        foreach (var e in dir.Entries)
        {
            if (e.Method != ZipEntry.Stored || e.Crc32 == 0 || e.UncompressedSize == 0) continue;
            long at = dir.DataOffset(e), left = e.UncompressedSize;
            var crc = new Crc32();
            stream.Position = at;
            while (left > 0)
            {
                ct.ThrowIfCancellationRequested();
                int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (n == 0) break;
                crc.Append(buffer.AsSpan(0, n));
                left -= n;
            }
            if (crc.GetCurrentHashAsUInt32() != e.Crc32)
                problems.Add(new ScanProblem
                {
                    ErrorId = "CrcMismatch", Record = e.Name,
                    Message = $"Record '{e.Name}' does not match its CRC-32 (stored {e.Crc32:x8}, computed {crc.GetCurrentHashAsUInt32():x8}): its bytes changed after it was written. torch.load does not check CRCs, so it would load the damaged data silently.",
                });
        }
    }

    /// <summary>Collects globals in first-reference order with the opcodes that apply them.</summary>
    private sealed class GlobalRecorder(GlobalPolicy policy) : IPickleObserver
    {
        private readonly Dictionary<string, (string Record, long Offset, List<string> Ops)> _seen = new(StringComparer.Ordinal);
        private readonly List<string> _order = new();

        public void GlobalReferenced(string fullName, string record, long offset)
        {
            if (_seen.ContainsKey(fullName)) return;
            _seen[fullName] = (record, offset, new List<string>());
            _order.Add(fullName);
        }

        public void GlobalUsed(string fullName, string opcode, string record, long offset)
        {
            if (_seen.TryGetValue(fullName, out var s) && !s.Ops.Contains(opcode)) s.Ops.Add(opcode);
        }

        public IReadOnlyList<GlobalReference> References() => _order.Select(name =>
        {
            var (record, offset, ops) = _seen[name];
            var verdict = policy.Check(name);
            string? reason = verdict != GlobalVerdict.Refused ? null
                : DangerousGlobals.Explain(name) is { Length: > 0 } r ? r.Trim(' ', '(', ')') : "not on the allow-list";
            return new GlobalReference { FullName = name, Verdict = verdict, Reason = reason, Opcodes = ops, Record = record, Offset = offset };
        }).ToList();
    }
}
