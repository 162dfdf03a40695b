namespace TorchSerial.Torch;

/// <summary>Plain-words reasons for globals that are well-known attack vectors, shown in refusals.</summary>
internal static class DangerousGlobals
{
    private static readonly (string Prefix, string Reason)[] Known =
    {
        ("os.system", "executes a shell command"),
        ("posix.system", "executes a shell command"),
        ("nt.system", "executes a shell command"),
        ("os.popen", "executes a shell command"),
        ("subprocess.", "starts a process"),
        ("builtins.eval", "evaluates Python code"),
        ("builtins.exec", "executes Python code"),
        ("builtins.compile", "compiles Python code"),
        ("builtins.__import__", "imports arbitrary modules"),
        ("builtins.getattr", "reaches arbitrary attributes"),
        ("builtins.open", "opens files"),
        ("importlib.", "imports arbitrary modules"),
        ("runpy.", "runs Python modules"),
        ("pickle.", "runs a nested unpickler"),
        ("socket.", "opens network connections"),
        ("shutil.", "changes files"),
    };

    /// <summary>" (executes a shell command)" for a known-dangerous global, or an empty string.</summary>
    public static string Explain(string fullName)
    {
        foreach (var (prefix, reason) in Known)
            if (prefix.EndsWith('.') ? fullName.StartsWith(prefix, StringComparison.Ordinal) : fullName == prefix)
                return $" ({reason})";
        return "";
    }
}
