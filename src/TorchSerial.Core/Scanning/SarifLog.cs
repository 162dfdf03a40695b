using System.Text;
using System.Text.Json;
using TorchSerial.Torch;

namespace TorchSerial.Scanning;

/// <summary>
/// Scan reports as one SARIF 2.1.0 log, the format CI systems read for code-scanning results: a rule per finding kind
/// (each dangerous, suspicious or unknown global, and each problem ErrorId), a result per finding with the file, the
/// pickle record and the byte offset, at level error (dangerous globals, files a load refuses), warning or note.
/// </summary>
public static class SarifLog
{
    /// <summary>The base id code-scanning services resolve against the repository's checkout.</summary>
    public const string SourceRootId = "%SRCROOT%";

    /// <param name="reports">The scans, one artifact each.</param>
    /// <param name="toolVersion">TorchSerial's version.</param>
    /// <param name="sourceRoot">The folder artifact URIs are relative to (the repository root, for GitHub code
    /// scanning); a file outside it keeps an absolute file URI.</param>
    public static string Write(IEnumerable<ScanReport> reports, string toolVersion, string sourceRoot)
    {
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(sourceRoot)) + Path.DirectorySeparatorChar;
        var list = reports.ToList();
        var results = new List<(string Rule, string Level, string Message, string File, string? Record,
            long? Offset)>();
        foreach (var r in list)
        {
            foreach (var g in r.Globals.Where(g => g.Threat.Severity != GlobalSeverity.Safe))
                results.Add(($"{g.Severity}Global", g.Threat.Severity == GlobalSeverity.Dangerous ? "error" : "warning",
                    $"{g.FullName}{(g.ResolvedName != g.FullName ? $" (it is {g.ResolvedName})" : "")}: {g.Reason}; " +
                        $"{g.Family}; {(g.Decision == GlobalVerdict.Refused ? "refused by the load" : "admitted")}" +
                        (g.Opcodes.Count > 0 ? $"; applied by {string.Join(", ", g.Opcodes)}" : ""),
                    r.Path, g.Record, g.Offset));
            // TorchScript code findings carry their line; their summary problems would say the same again.
            foreach (var p in r.Problems.Where(p => p.ErrorId is not (Errors.ErrorIds.UnsafeGlobal
                         or Errors.ErrorIds.TorchScriptCode)))
                results.Add((p.ErrorId, r.IsLoadable ? "warning" : "error", p.Message, r.Path, p.Record, p.Offset));
            foreach (var c in r.Code)
                results.Add((CodeRule(c), c.Severity switch { "Dangerous" => "error", "Suspicious" => "warning",
                        _ => "note" },
                    c.Call == "__setstate__" ? $"{c.Reason}:\n{c.Code}" : $"{c.Method} calls {c.Call}: {c.Reason}. " +
                        $"Line: {c.Code}",
                    r.Path, $"{c.Record}:{c.Line}", null));
        }
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
            w.WriteString("version", "2.1.0");
            w.WriteStartArray("runs");
            w.WriteStartObject();
            w.WriteStartObject("tool");
            w.WriteStartObject("driver");
            w.WriteString("name", "TorchSerial");
            w.WriteString("version", toolVersion);
            w.WriteStartArray("rules");
            foreach (var rule in results.Select(x => x.Rule).Distinct(StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteString("id", rule);
                w.WriteStartObject("shortDescription");
                w.WriteString("text", Describe(rule));
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("originalUriBaseIds");
            w.WriteStartObject(SourceRootId);
            w.WriteString("uri", new Uri(root).AbsoluteUri);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartArray("artifacts");
            foreach (var r in list)
            {
                w.WriteStartObject();
                w.WriteStartObject("location");
                WriteLocation(w, r.Path, root);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("results");
            foreach (var x in results)
            {
                w.WriteStartObject();
                w.WriteString("ruleId", x.Rule);
                w.WriteString("level", x.Level);
                w.WriteStartObject("message");
                w.WriteString("text", x.Message);
                w.WriteEndObject();
                w.WriteStartArray("locations");
                w.WriteStartObject();
                w.WriteStartObject("physicalLocation");
                w.WriteStartObject("artifactLocation");
                WriteLocation(w, x.File, root);
                w.WriteEndObject();
                w.WriteEndObject();
                if (x.Record is not null)
                {
                    w.WriteStartArray("logicalLocations");
                    w.WriteStartObject();
                    w.WriteString("fullyQualifiedName", x.Offset is { } o ? $"{x.Record}@{o}" : x.Record);
                    w.WriteString("kind", "resource");
                    w.WriteEndObject();
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static string CodeRule(CodeFinding c) => c.Family switch
    {
        "file access" => "TorchScriptFileAccess",
        "network access" => "TorchScriptNetworkAccess",
        "native code" => "TorchScriptNativeCode",
        _ => "TorchScriptSetState",
    };

    private static string Describe(string rule) => rule switch
    {
        "TorchScriptFileAccess" => "TorchScript code reads, writes or creates files.",
        "TorchScriptNetworkAccess" => "TorchScript code calls other processes over torch.distributed.rpc.",
        "TorchScriptNativeCode" => "TorchScript code calls native operators or classes of a library outside torch.",
        "TorchScriptSetState" => "TorchScript code torch.jit.load runs while it loads the archive (__setstate__).",
        "DangerousGlobal" => "The pickle names a global that runs code, processes, files, network or nested " +
            "unpicklers.",
        "SuspiciousGlobal" => "The pickle names a global that is harmless alone but a building block of attacks.",
        "UnknownGlobal" => "The pickle names a class or function outside the allow-list.",
        _ => $"TorchSerial found {rule} (see about_TorchSerial for the ErrorId).",
    };

    /// <summary>A relative URI under %SRCROOT% for a file below the root, else an absolute file URI.</summary>
    private static void WriteLocation(Utf8JsonWriter w, string path, string root)
    {
        string full = Path.GetFullPath(path);
        if (full.StartsWith(root, StringComparison.Ordinal))
        {
            var segments = full[root.Length..].Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
            w.WriteString("uri", string.Join("/", segments.Select(System.Uri.EscapeDataString)));
            w.WriteString("uriBaseId", SourceRootId);
        }
        else w.WriteString("uri", new Uri(full).AbsoluteUri);
    }
}
