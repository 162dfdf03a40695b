using TorchSerial.Buffers.Remote;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Torch;
using System.IO.Hashing;

namespace TorchSerial.Scanning;

/// <summary>
/// Diagnoses a checkpoint without loading its tensor data. It runs the very parser Import uses, without reading
/// storages: once with the caller's policy (so the verdict is exactly what a load would do), and, where that refused
/// a global, again admitting every global as inert data (so every global and the opcodes applying it are listed, not
/// just the first refused one). Nothing is executed in either pass. Optionally it streams each
/// zip record through CRC-32 in fixed-size chunks.
/// </summary>
public static class CheckpointScanner
{
    /// <summary>Scans a file. CRCs are checked as the load would check them (<see
    /// cref="LoadOptions.VerifyCrc"/>).</summary>
    /// <param name="path">The file (or a sharded set's index).</param>
    /// <param name="options">The load the scan predicts.</param>
    /// <param name="cancellationToken">Stops the scan between records and tensors.</param>
    /// <param name="checkFinite">Also reads every tensor's values and reports those holding NaN or ±Inf
    /// (NonFiniteTensor).</param>
    public static ScanReport Scan(string path, LoadOptions? options = null,
        CancellationToken cancellationToken = default, bool checkFinite = false)
    {
        options = (options ?? new LoadOptions()) with { DeferDevices = true };
        if (Directory.Exists(path)) return ScanFolder(path, options, cancellationToken, checkFinite);
        var stream = CheckpointFile.OpenRead(path, options, cancellationToken);
        using (stream) return Scan(stream, path, options, cancellationToken, checkFinite);
    }

    private static ScanReport Scan(Stream stream, string path, LoadOptions options, CancellationToken ct,
        bool checkFinite)
    {
        var problems = new List<ScanProblem>();
        CheckpointFormat? format = null;
        try { format = FormatSniffer.Detect(stream, path); }
        catch (TorchSerialException ex)
        {
            // Not a checkpoint; but a NumPy array of objects is a pickle numpy.load(allow_pickle=True) runs.
            var found = new GlobalRecorder(options.Policy);
            problems.AddRange(HiddenPickles.InNumpyFile(stream, options.ForInventory(found)));
            // A NumPy archive (.npz) is a zip of .npy records, each of which numpy.load may unpickle.
            if (ex.ErrorId == ErrorIds.NumpyFile && IsZip(stream))
                try { problems.AddRange(HiddenPickles.InAmbiguousArchive(stream, options.ForInventory(found), ct)); }
                catch (TorchSerialException) { } // a damaged archive: its own error is already the verdict
            return Report(path, null, ex, problems, found, null, null);
        }

        // Pass 1: exactly what Import-TorchCheckpoint would do, minus reading storage bytes and asking for devices.
        // It records the globals it meets; where it loaded, it has met every one a second pass would.
        TorchSerialException? verdict = null;
        (LoadedGraph Graph, List<Tensor> Tensors)? structure = null;
        var recorder = new GlobalRecorder(options.Policy);
        try { structure = CheckpointReader.LoadStructure(stream, options with { Observer = recorder }, path); }
        catch (TorchSerialException ex) { verdict = ex; }
        ct.ThrowIfCancellationRequested();

        // Pass 2, where pass 1 stopped (a refused global, a damaged record): every global, admitted as inert data,
        // with the opcodes using it. A spent budget would stop it at the same byte, so it is not run again.
        object? inventoryRoot = structure?.Graph.Root;
        bool secondPass = verdict is not null
            && verdict.ErrorId is not (ErrorIds.PickleTooLarge or ErrorIds.PickleTooDeep or ErrorIds.ZipBomb);
        if (secondPass) recorder = new GlobalRecorder(options.Policy);
        var admitAll = options.ForInventory(recorder);
        (LoadedGraph Graph, List<Tensor> Tensors)? inventory = null;
        if (secondPass)
        {
            try
            {
                inventory = CheckpointReader.LoadStructure(stream, admitAll, path);
                inventoryRoot = inventory.Value.Graph.Root;
            }
            catch (TorchSerialException ex) when (ex.ErrorId != verdict!.ErrorId) { problems.Add(Problem(ex)); }
            catch (TorchSerialException) { }
            ct.ThrowIfCancellationRequested();
        }

        // Pass 3: pickles the load never runs but other code would (records of other names, nested unpicklers' bytes).
        problems.AddRange(HiddenPickles.InArguments(inventoryRoot, format == CheckpointFormat.Zip ? "data.pkl"
            : "object pickle", admitAll));
        if (format == CheckpointFormat.Zip)
        {
            try
            {
                // Where the load refused the archive itself, every record is looked into, its own data.pkl too.
                problems.AddRange(verdict?.ErrorId is ErrorIds.ZipDuplicateRecord or ErrorIds.ZipRecordOutsideRoot
                        or ErrorIds.ZipStrayData or ErrorIds.ZipHeaderMismatch or ErrorIds.ZipEncrypted
                        or ErrorIds.CorruptZip
                    ? HiddenPickles.InAmbiguousArchive(stream, admitAll, ct)
                    : HiddenPickles.InRecords(stream, admitAll, ct));
            }
            catch (TorchSerialException) { } // a directory the load cannot read is already the verdict
        }
        else if (format == CheckpointFormat.LegacyStream && verdict?.ErrorId == ErrorIds.InvalidMagicNumber)
            problems.AddRange(HiddenPickles.AfterFirstPickle(stream, admitAll, ct)); // a plain pickle file
        else if (format == CheckpointFormat.LegacyTar)
        {
            try { problems.AddRange(HiddenPickles.InTarMembers(stream, admitAll, ct)); }
            catch (TorchSerialException) { }
        }
        ct.ThrowIfCancellationRequested();

        // Pass 4: a TorchScript archive's code, read as text: what torch.jit.load and its methods would run. Loading
        // its weights here stays inert; the findings are for whoever hands the file to torch.
        // Only an archive with code records is read again (a zip of 40,000 records takes 13 ms a directory read).
        IReadOnlyList<CodeFinding> code = Array.Empty<CodeFinding>();
        var known = structure?.Graph.Records ?? inventory?.Graph.Records;
        if (format is CheckpointFormat.Zip or CheckpointFormat.TorchScript
            && (known is null || known.Any(r => r.StartsWith("code/", StringComparison.Ordinal))))
        {
            try { code = TorchScriptCode.Scan(stream, ct); }
            catch (TorchSerialException) { } // a directory the load cannot read is already the verdict
            problems.AddRange(code.Where(f => f.Severity != "Info").Select(f => new ScanProblem
            {
                ErrorId = ErrorIds.TorchScriptCode, Record = f.Record,
                Message = $"Line {f.Line} of '{f.Record}' ({f.Method}) calls {f.Call}: {f.Reason}. torch.jit.load " +
                    "would run it (and torch.load before 2.6, even with weights_only=True); TorchSerial reads the " +
                    "weights without running any of it.",
            }));
        }

        IReadOnlyList<string>? records = structure?.Graph.Records;
        if (format == CheckpointFormat.Zip)
        {
            try
            {
                records ??= ZipRecords(stream);
                // The load checks storage CRCs as it reads them, so a mismatch is the load's verdict too. A remote
                // file's scan reads its pickles only, never its storages: their CRCs are checked when a load or a
                // download reads them.
                if (options.VerifyCrc && verdict is null && !RemoteAddress.IsRemote(path))
                    verdict = FirstCrcMismatch(stream, structure!.Value.Graph, options.Progress, ct);
                if (verdict is null) problems.AddRange(UnreferencedRecords(structure!.Value.Graph));
            }
            // The container error is already the verdict.
            catch (TorchSerialException) when (verdict is not null) { }
        }
        if (checkFinite && verdict is null && structure is { } loaded)
        {
            // A set's structure closes its shards once it is known; its values are read through a fresh lazy open.
            if (format == CheckpointFormat.ShardedSet)
            {
                using var set = CheckpointReader.Open(path, options with { Progress = null });
                problems.AddRange(NonFinite(set.Tensors, ct));
            }
            else problems.AddRange(NonFinite(loaded.Tensors, ct));
        }
        // A refused file still has the tensors the inventory pass built: the report counts them (a row that says 0
        // tensors for a file of 122 misleads), though a load would give none of them.
        return Report(path, structure?.Graph.Format ?? format, verdict, problems, recorder, structure ?? inventory,
            records ?? inventory?.Graph.Records, code);
    }

    /// <summary>
    /// A folder written by distributed training: the lazy open runs every pickle the load would (the metadata, each
    /// chunk's and bytes item's archive, each DeepSpeed file) and records their globals; where it stops, a second open
    /// admits everything as inert data to list what the folder references.
    /// </summary>
    private static ScanReport ScanFolder(string path, LoadOptions options, CancellationToken ct, bool checkFinite)
    {
        var problems = new List<ScanProblem>();
        var recorder = new GlobalRecorder(options.Policy);
        TorchSerialException? verdict = null;
        Checkpoint? folder = null, inventory = null;
        try { folder = CheckpointReader.Open(path, options with { Observer = recorder, Progress = null }); }
        catch (TorchSerialException ex) { verdict = ex; }
        try
        {
            if (verdict is not null
                && verdict.ErrorId is not (ErrorIds.PickleTooLarge or ErrorIds.PickleTooDeep or ErrorIds.ZipBomb))
            {
                recorder = new GlobalRecorder(options.Policy);
                try { inventory = CheckpointReader.Open(path, options.ForInventory(recorder)); }
                catch (TorchSerialException) { } // the first verdict stands
            }
            ct.ThrowIfCancellationRequested();
            if (checkFinite && folder is not null) problems.AddRange(NonFinite(folder.Tensors, ct));
            var found = folder ?? inventory;
            (LoadedGraph, List<Tensor>)? structure = found is null ? null
                : (new LoadedGraph(found.Format, found.Root, found.Storages, found.Records), found.Tensors.ToList());
            return Report(path, found?.Format, verdict, problems, recorder, structure, found?.Records);
        }
        finally
        {
            folder?.Dispose();
            inventory?.Dispose();
        }
    }

    /// <summary>Every tensor's values, streamed from the file: one problem per tensor that holds NaN or an
    /// infinity.</summary>
    private static IEnumerable<ScanProblem> NonFinite(IReadOnlyList<Tensor> tensors, CancellationToken ct)
        => HostStatistics.NonFinite(tensors, ct).Select(s => new ScanProblem
        {
            ErrorId = ErrorIds.NonFiniteTensor, Record = s.Name,
            Message = $"Tensor '{s.Name}' holds {s.NaN} NaN, {s.PositiveInfinity} +Inf and {s.NegativeInfinity} -Inf " +
                $"of its {s.Count} values.",
        }).ToList();

    private static ScanReport Report(string path, CheckpointFormat? format, TorchSerialException? verdict,
        List<ScanProblem> problems,
        GlobalRecorder recorder, (LoadedGraph Graph, List<Tensor> Tensors)? structure, IReadOnlyList<string>? records,
        IReadOnlyList<CodeFinding>? code = null)
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
            Path = path, FormatKind = format, Outcome = status, ErrorId = verdict?.ErrorId, Message = verdict?.Message,
            Records = records ?? Array.Empty<string>(),
            Globals = recorder.References(format, loaded: verdict is null), Problems = problems,
            TensorCount = structure?.Tensors.Count ?? 0, StorageCount = structure?.Graph.Storages.Count ?? 0,
            StorageBytes = structure?.Graph.Storages.Sum(s => s.NumBytes) ?? 0,
            Locations = structure?.Graph.Storages.Select(s => s.SavedLocation).Distinct(StringComparer.Ordinal).ToList()
                ?? new List<string>(),
            Code = code ?? Array.Empty<CodeFinding>(),
        };
    }

    private static bool IsZip(Stream stream)
    {
        var head = ZipDirectory.ReadAt(stream, 0, (int)Math.Min(stream.Length, 4));
        return head.AsSpan().StartsWith("PK\x03\x04"u8);
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

    /// <summary>Streams each storage record through CRC-32 with one 1 MiB buffer, as a load would check it (CRC 0 = not
    /// computed).</summary>
    private static TorchSerialException? FirstCrcMismatch(Stream stream, LoadedGraph graph, Action<long,
        long>? progress, CancellationToken ct)
    {
        var dir = ZipDirectory.Read(stream);
        long total = graph.Storages.Sum(s => s.NumBytes), done = 0;
        string root = dir.Entries[0].Name[..(dir.Entries[0].Name.IndexOf('/') + 1)];
        var buffer = new byte[1 << 20];
        foreach (var storage in graph.Storages)
        {
            var e = dir.Find(root + "data/" + storage.Key);
            if (e is null || e.Crc32 == 0 || e.UncompressedSize == 0) continue;
            var crc = new Crc32();
            dir.Open(e).CopyTo(chunk => { crc.Append(chunk); progress?.Invoke(done += chunk.Length, total); }, buffer,
                ct);
            if (crc.GetCurrentHashAsUInt32() != e.Crc32)
                return Fail.Data(ErrorIds.CrcMismatch,
                    $"The bytes of storage '{storage.Key}' do not match the CRC-32 recorded for them (stored " +
                        $"{e.Crc32:x8}, computed {crc.GetCurrentHashAsUInt32():x8}): " +
                    "the file was damaged after it was written. torch.load would load them silently. Fetch the file " +
                        "again, or load with -SkipCrc to recover what it holds.",
                    e.Name);
        }
        return null;
    }

    /// <summary>Storage records no tensor refers to: harmless to a load, but a sign of a hand-edited or mis-repacked
    /// file.</summary>
    private static IEnumerable<ScanProblem> UnreferencedRecords(LoadedGraph graph)
    {
        var used = graph.Storages.Select(s => "data/" + s.Key).ToHashSet(StringComparer.Ordinal);
        return graph.Records.Where(r => r.StartsWith("data/", StringComparison.Ordinal) && !used.Contains(r))
            .Select(r => new ScanProblem { ErrorId = "UnreferencedRecord", Record = r,
                Message = $"Record '{r}' holds storage bytes that no tensor in the pickle refers to." });
    }

    /// <summary>Collects globals in first-reference order with the opcodes that apply them.</summary>
    private sealed class GlobalRecorder(GlobalPolicy policy) : IPickleObserver
    {
        private readonly Dictionary<string, (string Record, long Offset,
            List<string> Ops)> _seen = new(StringComparer.Ordinal);
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

        /// <param name="format">The container (known only once its structure is read).</param>
        /// <param name="loaded">The load went through: a folder that was refused gets no by-design admissions (its
        /// getattr may be the attack).</param>
        public IReadOnlyList<GlobalReference> References(CheckpointFormat? format, bool loaded) => _order.Select(name =>
        {
            var (record, offset, ops) = _seen[name];
            // A TorchScript archive's own classes, and a distributed folder's metadata classes (with the member lookups
            // of their enums), are admitted by design (their state is inert data); the load does not consult the
            // policy for them, so neither does the report.
            string? byDesign = format == CheckpointFormat.TorchScript && TorchScriptGlobals.AdmitsByDesign(name)
                ? "a TorchScript class: its state is read as data"
                : loaded && format is CheckpointFormat.DistributedCheckpoint or CheckpointFormat.DeepSpeed
                    && DistributedGlobals.AdmitsByDesign(name)
                    ? name == EnumMembers.Getattr ? "looks up enum members of the folder's data classes, nothing else"
                        : "a class distributed training pickles as data: its state is read as data"
                    : null;
            var verdict = byDesign is not null ? GlobalVerdict.Allowed : policy.Check(name);
            // Graded whatever the verdict: a global admitted with -AllowGlobal is still as dangerous as it is.
            var threat = byDesign is not null
                ? new GlobalThreat(GlobalSeverity.Safe, "data", byDesign, name)
                : GlobalThreats.Classify(name, allowed: verdict == GlobalVerdict.Allowed);
            string? reason = verdict == GlobalVerdict.Allowed ? null : threat.Reason;
            return new GlobalReference { FullName = name, Decision = verdict, Reason = reason, Opcodes = ops,
                Record = record, Offset = offset, Threat = threat };
        }).ToList();
    }
}
