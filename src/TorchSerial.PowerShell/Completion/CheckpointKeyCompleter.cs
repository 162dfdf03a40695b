using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using TorchSerial.Reading;

namespace TorchSerial.PowerShell.Completion;

/// <summary>
/// -Key completes from the checkpoint's own top-level keys ('model', 'optimizer', 'state_dict', …): the file named by
/// the command's -Path, -LiteralPath or -ReferencePath is opened lazily (its pickle only, no tensor data, under the
/// default safety policy). Anything that cannot be read completes nothing: a completer never throws.
/// </summary>
public sealed class CheckpointKeyCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var typed = (wordToComplete ?? "").Trim('\'', '"');
        var pattern = new WildcardPattern(typed + "*", WildcardOptions.IgnoreCase);
        return KeysOf(FileOf(fakeBoundParameters)).Where(pattern.IsMatch)
            .Select(k => new CompletionResult(k.Any(c => c is ' ' or '\'' or '$' or '*') ? $"'{k.Replace("'", "''")}'"
                : k, k, CompletionResultType.ParameterValue, k))
            .ToList();
    }

    private static string? FileOf(IDictionary bound)
    {
        foreach (var name in new[] { "LiteralPath", "Path", "ReferencePath" })
        {
            if (!bound.Contains(name)) continue;
            var value = bound[name] is PSObject ps ? ps.BaseObject : bound[name];
            string? input = value is IEnumerable list and not string ? list.Cast<object>().FirstOrDefault()?.ToString()
                : value?.ToString();
            if (string.IsNullOrEmpty(input)) continue;
            string path = System.IO.Path.GetFullPath(System.IO.Path.Combine(CurrentFolder(), input));
            return File.Exists(path) ? path : null;
        }
        return null;
    }

    /// <summary>PowerShell's current folder (not the process's): a completer runs inside the pipeline that asked,
    /// so it asks Get-Location in a nested command of the same runspace.</summary>
    private static string CurrentFolder()
    {
        try
        {
            using var ps = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
            var location = ps.AddCommand("Microsoft.PowerShell.Management\\Get-Location").Invoke<PathInfo>();
            if (location.Count == 1 && location[0].Provider.Name == "FileSystem") return location[0].ProviderPath;
        }
        catch (Exception ex) when (ex is PSInvalidOperationException or RuntimeException) { }
        return Environment.CurrentDirectory;
    }

    private static IReadOnlyList<string> KeysOf(string? path)
    {
        if (path is null) return Array.Empty<string>();
        try
        {
            using var checkpoint = CheckpointReader.Open(path, new LoadOptions { MapLocation = "cpu" });
            return checkpoint.Root is IDictionary dict
                ? dict.Keys.OfType<string>().ToList() : Array.Empty<string>();
        }
        catch (Exception)
        {
            return Array.Empty<string>();
        }
    }
}
