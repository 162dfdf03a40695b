using System.Collections;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Reading;
using TorchSerial.Torch;

namespace TorchSerial.Scanning;

/// <summary>
/// Pickles a load never runs but other code would: a zip record of another name that holds one
/// (<c>archive/config.json</c>, which <c>torch.load(pickle_file='config.json')</c> runs), and pickled bytes handed to a
/// nested unpickler (<c>pickle.loads(b'…')</c>, <c>torch.storage._load_from_bytes</c>). Each is walked by the same
/// VM, every global admitted as inert data, and its globals are listed with the record they are in.
/// </summary>
internal static class HiddenPickles
{
    private const int MaxRecordBytes = 64 << 20, MaxDepth = 4;

    private static readonly HashSet<string> Unpicklers = new(StringComparer.Ordinal)
    {
        "pickle.loads", "pickle._loads", "dill.loads", "cloudpickle.loads", "torch.load",
        "torch.storage._load_from_bytes", "torch.serialization._load_from_bytes", "joblib.load",
    };

    /// <summary>Zip records other than the checkpoint's own that hold a pickle, each walked and reported.</summary>
    public static IEnumerable<ScanProblem> InRecords(Stream stream, LoadOptions inventory, CancellationToken ct)
    {
        var dir = ZipDirectory.Read(stream);
        dir.VerifyRecordCrc = false; // a damaged record is reported by the load; here only what it says matters
        string root = dir.Entries[0].Name[..(dir.Entries[0].Name.IndexOf('/') + 1)];
        var problems = new List<ScanProblem>();
        foreach (var e in dir.Entries)
        {
            ct.ThrowIfCancellationRequested();
            string name = e.Name.StartsWith(root, StringComparison.Ordinal) ? e.Name[root.Length..] : e.Name;
            // The checkpoint's own pickles run in the load; storages are data; nothing else should be a pickle.
            if (name is "data.pkl" or "constants.pkl" || name.StartsWith("data/", StringComparison.Ordinal)
                || name.StartsWith("code/", StringComparison.Ordinal) || e.UncompressedSize > MaxRecordBytes
                || e.UncompressedSize < 2)
                continue;
            byte[] bytes;
            try { bytes = dir.ReadAll(e); }
            catch (TorchSerialException) { continue; }
            problems.AddRange(Examine(bytes, name, $"Record '{name}'", inventory));
        }
        return problems;
    }

    /// <summary>
    /// An archive the load refused as ambiguous (two records of one name, records outside its folder, bytes after its
    /// end, a local header that names another record), looked into as every reader might see it: each record and the
    /// stray bytes that hold a pickle are walked, so the global the ambiguity hides is named.
    /// </summary>
    public static IEnumerable<ScanProblem> InAmbiguousArchive(Stream stream, LoadOptions inventory,
        CancellationToken ct)
    {
        var dir = ZipDirectory.ReadForensic(stream);
        dir.VerifyRecordCrc = false;
        var problems = new List<ScanProblem>();
        var copies = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in dir.Entries)
        {
            ct.ThrowIfCancellationRequested();
            int copy = copies[e.Name] = copies.GetValueOrDefault(e.Name) + 1;
            if (e.UncompressedSize is < 2 or > MaxRecordBytes) continue;
            byte[] bytes;
            try { bytes = dir.ReadAll(e); }
            catch (TorchSerialException) { continue; }
            string record = copy > 1 ? $"{e.Name} (copy {copy})" : e.Name;
            if (NumpyArray.PickleStart(bytes) is { } start) problems.AddRange(InNumpy(bytes, start, record, inventory));
            else if (IsPickle(bytes))
                problems.AddRange(Walk(bytes, record, inventory, 0));
        }
        long stray = stream.Length - dir.ArchiveEnd;
        if (stray is >= 2 and <= MaxRecordBytes)
        {
            var bytes = ZipDirectory.ReadAt(stream, dir.ArchiveEnd, (int)stray);
            if (IsPickle(bytes))
                problems.AddRange(Walk(bytes, "bytes after the zip's end record", inventory, 0));
        }
        return problems;
    }

    /// <summary>
    /// A plain pickle file (not torch's legacy stream) with more pickles after the first one's STOP: pickle.load reads
    /// the first only, but a loader that calls it in a loop (as torch's legacy format does) runs the rest, so each is
    /// walked and reported with its offset.
    /// </summary>
    public static IEnumerable<ScanProblem> AfterFirstPickle(Stream stream, LoadOptions inventory, CancellationToken ct)
    {
        const int MaxPickles = 16;
        var problems = new List<ScanProblem>();
        long end = stream.Length;
        stream.Position = 0;
        try { PickleRunner.Run(stream, end, "pickle 1", inventory); }
        catch (TorchSerialException) { return problems; } // the load has said what is wrong with the first
        for (int n = 2; n <= MaxPickles && stream.Position < end - 1; n++)
        {
            ct.ThrowIfCancellationRequested();
            long at = stream.Position;
            var head = ZipDirectory.ReadAt(stream, at, (int)Math.Min(512, end - at));
            if (!BarePickle.Recognise(head, whole: at + head.Length == end)) break;
            string record = $"pickle {n} (offset {at})";
            problems.Add(new ScanProblem
            {
                ErrorId = "HiddenPickle", Record = record, Offset = at,
                Message = $"The file holds another pickle at offset {at}, after the first one's STOP: pickle.load " +
                    "reads only the first, but a loader that reads several (a loop of pickle.load, torch's legacy " +
                    "format) runs it; its globals are listed with it.",
            });
            stream.Position = at;
            try { PickleRunner.Run(stream, end, record, inventory); }
            catch (TorchSerialException ex)
            {
                problems.Add(new ScanProblem { ErrorId = ex.ErrorId, Record = record, Offset = ex.Offset,
                    Message = ex.Message });
                break;
            }
        }
        return problems;
    }

    /// <summary>Members of a legacy tar checkpoint other than its own four that hold a pickle (or a NumPy object
    /// array), each walked and reported.</summary>
    public static IEnumerable<ScanProblem> InTarMembers(Stream stream, LoadOptions inventory, CancellationToken ct)
    {
        var tar = TarDirectory.Read(stream);
        var problems = new List<ScanProblem>();
        foreach (var name in tar.Names)
        {
            ct.ThrowIfCancellationRequested();
            if (name is "sys_info" or "pickle" or "tensors" or "storages") continue;
            if (tar.Find(name) is not var (offset, size) || size is < 2 or > MaxRecordBytes) continue;
            var bytes = ZipDirectory.ReadAt(stream, offset, (int)size);
            problems.AddRange(Examine(bytes, name, $"Member '{name}' of the tar checkpoint", inventory));
        }
        return problems;
    }

    /// <summary>
    /// One record a load does not run: a NumPy object array or a pickle is walked and reported (what is said of it
    /// names it as <paramref name="what"/>); anything else is data and passes.
    /// </summary>
    private static IEnumerable<ScanProblem> Examine(byte[] bytes, string name, string what, LoadOptions inventory)
    {
        if (NumpyArray.PickleStart(bytes) is { } start) return InNumpy(bytes, start, name, inventory);
        if (!IsPickle(bytes))
            return Array.Empty<ScanProblem>();
        var problem = new ScanProblem
        {
            ErrorId = "HiddenPickle", Record = name,
            Message = $"{what} is a pickle that torch.load does not run but other code may (torch.load(f, " +
                "pickle_file=…), a loader reading it by name); its globals are listed with it.",
        };
        return new[] { problem }.Concat(Walk(bytes, name, inventory, 0));
    }

    /// <summary>A whole file that is a NumPy .npy array of objects: its pickle walked, nothing else.</summary>
    public static IEnumerable<ScanProblem> InNumpyFile(Stream stream, LoadOptions inventory)
    {
        if (stream.Length is < 16 or > MaxRecordBytes) return Array.Empty<ScanProblem>();
        var bytes = ZipDirectory.ReadAt(stream, 0, (int)stream.Length);
        return NumpyArray.PickleStart(bytes) is { } start
            ? InNumpy(bytes, start, "numpy object array", inventory) : Array.Empty<ScanProblem>();
    }

    private static IEnumerable<ScanProblem> InNumpy(byte[] bytes, int start, string record, LoadOptions inventory)
    {
        var problem = new ScanProblem
        {
            ErrorId = "NumpyObjectArray", Record = record,
            Message = $"'{record}' is a NumPy array of Python objects, stored as a pickle that " +
                "numpy.load(allow_pickle=True) runs; its globals are listed with it.",
        };
        return new[] { problem }.Concat(Walk(bytes[start..], record, inventory, 0));
    }

    /// <summary>Pickled bytes passed to a nested unpickler anywhere in <paramref name="graph"/>, walked too.</summary>
    public static IEnumerable<ScanProblem> InArguments(object? graph, string record, LoadOptions inventory,
        int depth = 0)
    {
        var problems = new List<ScanProblem>();
        foreach (var (call, bytes) in NestedCalls(graph))
        {
            string where = $"{record} → {call} argument";
            problems.Add(new ScanProblem
            {
                ErrorId = "NestedPickle", Record = where,
                Message = $"A pickle in '{record}' passes {bytes.Length} bytes of pickle to {call}, which would run " +
                    "them; their globals are listed with it.",
            });
            problems.AddRange(Walk(bytes, where, inventory, depth + 1));
        }
        return problems;
    }

    private static IEnumerable<ScanProblem> Walk(byte[] bytes, string record, LoadOptions inventory, int depth)
    {
        if (depth > MaxDepth) return Array.Empty<ScanProblem>();
        object? result;
        try
        {
            result = PickleRunner.Run(bytes, bytes.Length, record, inventory, pid => pid); // ids stay inert data
        }
        catch (TorchSerialException ex)
        {
            return new[] { new ScanProblem { ErrorId = ex.ErrorId, Record = record, Offset = ex.Offset,
                Message = ex.Message } };
        }
        return InArguments(result, record, inventory, depth);
    }

    /// <summary>Whether the whole of <paramref name="bytes"/> is a pickle, judged by walking its first 512.</summary>
    private static bool IsPickle(byte[] bytes)
        => BarePickle.Recognise(bytes.AsSpan(0, Math.Min(512, bytes.Length)), whole: bytes.Length <= 512);

    /// <summary>Inert calls of an unpickler whose first argument is bytes that look like a pickle.</summary>
    private static IEnumerable<(string Call, byte[] Bytes)> NestedCalls(object? root)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<object?>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var value = stack.Pop();
            if (value is null || value is string || value is byte[] || !seen.Add(value)) continue;
            switch (value)
            {
                case PyObject o:
                    string real = GlobalThreats.Resolve(o.Type.FullName);
                    if (Unpicklers.Contains(real) && o.Args.Count > 0 && o.Args[0] is byte[] b && IsPickle(b))
                        yield return (real, b);
                    stack.Push(o.Args); stack.Push(o.State); stack.Push(o.ListItems); stack.Push(o.DictItems);
                    break;
                case IDictionary d:
                    foreach (DictionaryEntry e in d) { stack.Push(e.Key); stack.Push(e.Value); }
                    break;
                case IEnumerable items:
                    foreach (var i in items) stack.Push(i);
                    break;
            }
        }
    }
}
