using System.Text.RegularExpressions;

namespace TorchSerial.Torch;

/// <summary>What a TorchScript module class declares about its tensors: which attributes are parameters and
/// buffers.</summary>
internal sealed record ScriptModuleClass(string QualifiedName, IReadOnlyList<string> Parameters,
    IReadOnlyList<string> Buffers);

/// <summary>
/// Reads the class headers of a TorchScript archive's <c>code/</c> records, and nothing else: the
/// <c>__parameters__</c> and <c>__buffers__</c> lists that PythonPrint writes first in every module class
/// (formats-next.md §4.2). The source is text to us; no line of it is ever run, and methods are skipped unread.
/// </summary>
internal static class TorchScriptClasses
{
    private static readonly Regex ClassLine = new(@"^class\s+([A-Za-z_][A-Za-z0-9_]*)\s*[(:]",
        RegexOptions.CultureInvariant);
    // PythonPrint indents class bodies by two spaces and writes these lists before any method.
    private static readonly Regex ListLine = new(@"^  (__parameters__|__buffers__)\s*=\s*\[(.*)\]\s*$",
        RegexOptions.CultureInvariant);
    private static readonly Regex Quoted = new("\"((?:[^\"\\\\]|\\\\.)*)\"", RegexOptions.CultureInvariant);

    /// <summary>The module name of a code record: <c>code/__torch__/a/b.py</c> holds the classes of
    /// <c>__torch__.a.b</c>.</summary>
    public static string? ModuleOf(string record)
    {
        if (!record.StartsWith("code/", StringComparison.Ordinal) || !record.EndsWith(".py",
            StringComparison.Ordinal)) return null;
        return record["code/".Length..^".py".Length].Replace('/', '.');
    }

    /// <summary>Adds the module classes of one code record to <paramref name="classes"/>.</summary>
    public static void Read(string module, string source, Dictionary<string, ScriptModuleClass> classes)
    {
        string? current = null;
        bool inMethods = false;
        List<string>? parameters = null, buffers = null;
        void Close()
        {
            if (current is not null && parameters is not null)
                classes[current] = new ScriptModuleClass(current, parameters, buffers ?? new List<string>());
            current = null;
            inMethods = false;
            parameters = buffers = null;
        }
        foreach (var line in source.Split('\n'))
        {
            if (line.Length == 0 || line[0] is ' ' or '\t')
            {
                if (current is null || inMethods) continue;
                if (line.StartsWith("  def ", StringComparison.Ordinal)) { inMethods = true; continue; }
                var m = ListLine.Match(line);
                if (!m.Success) continue;
                var names = Quoted.Matches(m.Groups[2].Value).Select(q => Regex.Unescape(q.Groups[1].Value)).ToList();
                if (m.Groups[1].Value == "__parameters__") parameters = names; else buffers = names;
                continue;
            }
            Close();
            var c = ClassLine.Match(line);
            if (c.Success) current = module + "." + c.Groups[1].Value;
        }
        Close();
    }
}
