using System.Text;
using System.Text.RegularExpressions;
using TorchSerial.Containers;

namespace TorchSerial.Scanning;

/// <summary>One thing a TorchScript archive's code would do when torch.jit.load loads it or its methods run.</summary>
public sealed class CodeFinding
{
    /// <summary>Dangerous (reaches files, processes or the network), Suspicious (native code from a library outside
    /// torch) or Info (a <c>__setstate__</c> body: code torch.jit.load runs, shown so it can be read).</summary>
    public string Severity { get; init; } = "";

    /// <summary>The family of what it reaches: file access, network access, native code, or code run at load.</summary>
    public string Family { get; init; } = "";

    /// <summary>The call as the archive's code writes it (<c>torch.from_file</c>, <c>ops.evil.run</c>), or
    /// <c>__setstate__</c>.</summary>
    public string Call { get; init; } = "";

    /// <summary>Why it matters, and when it runs.</summary>
    public string Reason { get; init; } = "";

    /// <summary>The code record (<c>code/__torch__.py</c>), the 1-based line, and the class and method it is
    /// in.</summary>
    public string Record { get; init; } = "";
    public int Line { get; init; }
    public string Method { get; init; } = "";

    /// <summary>The line itself, or for a <c>__setstate__</c> finding the method's whole body (at most 4 KB).</summary>
    public string Code { get; init; } = "";

    public override string ToString() => $"{Severity} {Call} ({Record}:{Line})";
}

/// <summary>
/// Reads a TorchScript archive's <c>code/</c> records as text (never compiling or running them) and reports what
/// torch.jit.load and the archive's methods would run: every <c>__setstate__</c> (torch.jit.load calls it on each
/// object that defines it while it loads, as does torch.load before 2.6 even with weights_only=True, CVE-2025-32434),
/// and calls that reach the outside: files (<c>torch.from_file</c>, which with shared=True creates a file,
/// <c>torch.save</c>), the network (RPC), and native code in operators and classes of libraries other than torch's
/// own. PythonPrint writes one statement a line, classes unindented and methods at two spaces (formats-next.md
/// §4.2), so a line-by-line reading finds each call and the method holding it.
/// </summary>
public static class TorchScriptCode
{
    /// <summary>More code than any real archive holds is not read further (the load refuses it too).</summary>
    private const long MaxCodeBytes = 64L << 20;

    private const int MaxBodyChars = 4096;

    /// <summary>Operator and class namespaces torch itself ships (aten, prim, quantized, …): native code, but torch's
    /// own, which any loader already trusts.</summary>
    private static readonly HashSet<string> TorchNamespaces = new(StringComparer.Ordinal)
    {
        "aten", "prim", "prims", "quantized", "_quantized", "quantized_decomposed", "sparse", "profiler",
        "prepacked", "mkldnn", "mkldnn_prepacked", "onednn", "_nnapi", "xnnpack", "cuda", "c10d", "_c10d_functional",
        "c10d_functional", "_dtensor", "inductor", "higher_order", "_caffe2", "_test",
    };

    private static readonly (Regex Pattern, string Severity, string Family, string What)[] Calls =
    [
        (new(@"\b(torch\.from_file|ops\.aten\.from_file)\s*\("), "Dangerous", "file access",
            "maps a file into a tensor, and with shared=True creates it"),
        (new(@"\b(torch\.save|ops\.aten\.save)\s*\("), "Dangerous", "file access", "writes a file"),
        (new(@"\b(torch\.load|torch\.jit\.load|ops\.aten\.load)\s*\("), "Dangerous", "file access",
            "reads and unpickles a file"),
        (new(@"\b(ops\.prim\.rpc_async|ops\.prim\.rpc_sync|ops\.prim\.rpc_remote|rpc_async|rpc_sync|rpc\.remote)\s*\("),
            "Dangerous", "network access", "calls a function on another process over torch.distributed.rpc"),
        (new(@"\bops\.(?<ns>[A-Za-z_][A-Za-z0-9_]*)\.[A-Za-z_][A-Za-z0-9_]*"), "Suspicious", "native code",
            "calls a custom operator, native code from a library the loading program must have loaded"),
        (new(@"\b(?:__torch__\.)?torch\.classes\.(?<ns>[A-Za-z_][A-Za-z0-9_]*)\.[A-Za-z_][A-Za-z0-9_]*"),
            "Suspicious", "native code", "uses a custom class, native code from a library the loading program must " +
                "have loaded"),
    ];

    private static readonly Regex ClassLine = new(@"^class\s+([A-Za-z_][A-Za-z0-9_]*)", RegexOptions.CultureInvariant);
    private static readonly Regex MethodLine = new(@"^  def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(",
        RegexOptions.CultureInvariant);

    /// <summary>The findings of every code record of the archive in <paramref name="stream"/>, in record and line
    /// order; none for a zip that has no <c>code/</c> records.</summary>
    public static IReadOnlyList<CodeFinding> Scan(Stream stream, CancellationToken ct = default)
    {
        var dir = ZipDirectory.Read(stream);
        var findings = new List<CodeFinding>();
        long read = 0;
        foreach (var entry in dir.Entries)
        {
            ct.ThrowIfCancellationRequested();
            int slash = entry.Name.IndexOf('/');
            string record = slash < 0 ? entry.Name : entry.Name[(slash + 1)..];
            if (!record.StartsWith("code/", StringComparison.Ordinal)
                || !record.EndsWith(".py", StringComparison.Ordinal)) continue;
            read += entry.UncompressedSize;
            if (read > MaxCodeBytes) break;
            findings.AddRange(Read(record, Encoding.UTF8.GetString(dir.ReadAll(entry))));
        }
        return findings;
    }

    /// <summary>The findings of one code record's source text.</summary>
    public static IEnumerable<CodeFinding> Read(string record, string source)
    {
        var lines = source.Split('\n');
        string cls = "", method = "";
        CodeFinding? setState = null;
        var body = new StringBuilder();
        var findings = new List<CodeFinding>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (ClassLine.Match(line) is { Success: true } c) { Close(); cls = c.Groups[1].Value; method = ""; }
            else if (MethodLine.Match(line) is { Success: true } m)
            {
                Close();
                method = m.Groups[1].Value;
                if (method == "__setstate__")
                    setState = new CodeFinding
                    {
                        Severity = "Info", Family = "code run at load", Call = "__setstate__", Record = record,
                        Line = i + 1, Method = Qualified(cls, method),
                        Reason = $"torch.jit.load runs {cls}.__setstate__ on every {cls} it loads",
                    };
            }
            if (setState is not null && body.Length < MaxBodyChars) body.Append(line).Append('\n');
            foreach (var (pattern, severity, family, what) in Calls)
            {
                var match = pattern.Match(line);
                if (!match.Success) continue;
                if (match.Groups["ns"] is { Success: true } ns && TorchNamespaces.Contains(ns.Value)) continue;
                findings.Add(new CodeFinding
                {
                    Severity = severity, Family = family, Call = match.Value.TrimEnd('(', ' '), Record = record,
                    Line = i + 1, Method = Qualified(cls, method), Code = line.Trim(),
                    Reason = $"{what}; it runs {When(cls, method)}",
                });
                break;
            }
        }
        Close();
        return findings.OrderBy(f => f.Line);

        void Close()
        {
            if (setState is null) return;
            findings.Add(new CodeFinding
            {
                Severity = setState.Severity, Family = setState.Family, Call = setState.Call, Record = setState.Record,
                Line = setState.Line, Method = setState.Method, Reason = setState.Reason,
                Code = body.ToString().TrimEnd(),
            });
            setState = null;
            body.Clear();
        }
    }

    private static string Qualified(string cls, string method)
        => method.Length == 0 ? cls : cls.Length == 0 ? method : $"{cls}.{method}";

    private static string When(string cls, string method) => method switch
    {
        "__setstate__" => "when torch.jit.load loads the archive",
        "" => "when torch.jit.load compiles the archive's code",
        _ => $"when {Qualified(cls, method)} is called",
    };
}
