using System.Management.Automation;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// One existing input file named by a parameter that takes a single path (Compare-TorchCheckpoint's two sides): a
/// wildcard must match exactly one file, only FileSystem paths. Failures are terminating errors with stable ids.
/// </summary>
internal static class InputFile
{
    public static string? Resolve(PSCmdlet cmdlet, string input)
    {
        if (Buffers.Remote.RemoteAddress.IsRemote(input)) return input;
        try
        {
            var matches = cmdlet.GetResolvedProviderPathFromPSPath(input, out var provider);
            if (provider.Name != "FileSystem")
            {
                cmdlet.ThrowTerminatingError(ErrorRecords.NotFileSystem(input, provider.Name));
                return null;
            }
            var files = matches.Where(m => File.Exists(m) || InputPathCmdlet.IsCheckpointFolder(m)).ToList();
            if (files.Count == 1) return files[0];
            cmdlet.ThrowTerminatingError(files.Count == 0 && matches.Count > 0
                ? ErrorRecords.PathIsDirectory(input)
                : ErrorRecords.AmbiguousPath(input, files.Count));
            return null;
        }
        catch (Exception ex) when (ex is ItemNotFoundException or ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or PSArgumentException)
        {
            cmdlet.ThrowTerminatingError(ErrorRecords.PathNotFound(input, ex));
            return null;
        }
    }
}
