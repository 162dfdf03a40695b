using System.Management.Automation;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Output files the way Export-Csv treats them: a wildcard must match one existing file, only FileSystem
/// paths, replaced by default, refused with -NoClobber, and read-only files replaced only with -Force.
/// Failures are ErrorRecords with stable ids, given to <c>fail</c>: terminating by default, or written as
/// non-terminating (WriteError) by a cmdlet whose -ErrorAction must be able to hold them back, as Set-Content's are.
/// </summary>
internal static class OutputFile
{
    public static string? Resolve(PSCmdlet cmdlet, string input, bool literal, Action<ErrorRecord>? fail = null)
    {
        fail ??= cmdlet.ThrowTerminatingError;
        try
        {
            ProviderInfo provider;
            string resolved;
            if (!literal && WildcardPattern.ContainsWildcardCharacters(input))
            {
                var matches = cmdlet.GetResolvedProviderPathFromPSPath(input, out provider);
                if (matches.Count != 1)
                {
                    fail(ErrorRecords.AmbiguousPath(input, matches.Count));
                    return null;
                }
                resolved = matches[0];
            }
            else resolved = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(input, out provider, out _);
            if (provider.Name != "FileSystem")
            {
                fail(ErrorRecords.NotFileSystem(input, provider.Name));
                return null;
            }
            if (Directory.Exists(resolved))
            {
                fail(ErrorRecords.OutputIsDirectory(input));
                return null;
            }
            return resolved;
        }
        catch (Exception ex) when (ex is ItemNotFoundException or ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or PSArgumentException)
        {
            fail(ErrorRecords.PathNotFound(input, ex));
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
    public static bool MayReplace(PSCmdlet cmdlet, string path, bool force, bool noClobber,
        Action<ErrorRecord>? fail = null)
    {
        fail ??= cmdlet.ThrowTerminatingError;
        if (!File.Exists(path)) return true;
        if (noClobber)
        {
            fail(ErrorRecords.FileAlreadyExists(path));
            return false;
        }
        if (!force && new FileInfo(path).IsReadOnly)
        {
            fail(ErrorRecords.ReadOnlyFile(path));
            return false;
        }
        return true;
    }

    /// <summary>
    /// The output's folder exists, or is created when -Force is given (as New-Item -Force creates parents); false
    /// (after <paramref name="fail"/>) when it is missing and -Force was not given.
    /// </summary>
    public static bool EnsureFolder(string path, bool force, Action<ErrorRecord> fail)
    {
        string folder = System.IO.Path.GetDirectoryName(path)!;
        if (Directory.Exists(folder)) return true;
        if (force)
        {
            try
            {
                Directory.CreateDirectory(folder);
                return true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                fail(ErrorRecords.FolderNotCreated(folder, ex));
                return false;
            }
        }
        fail(ErrorRecords.MissingFolder(folder, path));
        return false;
    }
}
