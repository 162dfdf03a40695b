using System.Management.Automation;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Output files the way Export-Csv treats them: a wildcard must match one existing file, only FileSystem
/// paths, replaced by default, refused with -NoClobber, and read-only files replaced only with -Force.
/// Failures are terminating errors with stable ids.
/// </summary>
internal static class OutputFile
{
    public static string? Resolve(PSCmdlet cmdlet, string input, bool literal)
    {
        try
        {
            ProviderInfo provider;
            string resolved;
            if (!literal && WildcardPattern.ContainsWildcardCharacters(input))
            {
                var matches = cmdlet.GetResolvedProviderPathFromPSPath(input, out provider);
                if (matches.Count != 1)
                {
                    cmdlet.ThrowTerminatingError(ErrorRecords.AmbiguousPath(input, matches.Count));
                    return null;
                }
                resolved = matches[0];
            }
            else resolved = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(input, out provider, out _);
            if (provider.Name != "FileSystem")
            {
                cmdlet.ThrowTerminatingError(ErrorRecords.NotFileSystem(input, provider.Name));
                return null;
            }
            if (Directory.Exists(resolved))
            {
                cmdlet.ThrowTerminatingError(ErrorRecords.OutputIsDirectory(input));
                return null;
            }
            return resolved;
        }
        catch (Exception ex) when (ex is ItemNotFoundException or ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or PSArgumentException)
        {
            cmdlet.ThrowTerminatingError(ErrorRecords.PathNotFound(input, ex));
            return null;
        }
    }

    /// <summary>
    /// A written file as Get-Item returns it (with the provider's Mode, PSPath and the rest), so -PassThru output
    /// formats like any file listing instead of a bare FileInfo with blank columns.
    /// </summary>
    public static object Item(PSCmdlet cmdlet, string path)
    {
        var items = cmdlet.InvokeProvider.Item.Get(new[] { path }, force: true, literalPath: true);
        return items.Count > 0 ? items[0] : new FileInfo(path);
    }

    /// <summary>False (after a terminating error) when an existing file must not be replaced.</summary>
    public static bool MayReplace(PSCmdlet cmdlet, string path, bool force, bool noClobber)
    {
        if (!File.Exists(path)) return true;
        if (noClobber)
        {
            cmdlet.ThrowTerminatingError(ErrorRecords.FileAlreadyExists(path));
            return false;
        }
        if (!force && new FileInfo(path).IsReadOnly)
        {
            cmdlet.ThrowTerminatingError(ErrorRecords.ReadOnlyFile(path));
            return false;
        }
        return true;
    }
}
