using System.Management.Automation;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Base for cmdlets that read files: <c>-Path</c> (wildcards) and <c>-LiteralPath</c> (alias PSPath,
/// so <c>Get-ChildItem | Cmdlet</c> binds), resolved per record like Get-FileHash. Only FileSystem
/// paths are accepted; each failure is a non-terminating error and the next path goes on.
/// </summary>
public abstract class InputPathCmdlet : PSCmdlet
{
    protected const string PathSet = "Path";
    protected const string LiteralPathSet = "LiteralPath";

    /// <summary>Paths to read; wildcards are expanded.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Paths to read exactly as typed.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>
    /// Whether a wildcard pattern that matches no file is an error, as Get-Content makes it (true), or nothing at all,
    /// as Get-ChildItem does (false: Assert-TorchCheckpoint -AllowEmpty, where no file is an accepted answer).
    /// </summary>
    protected virtual bool UnmatchedPatternIsError => true;

    /// <summary>-Path patterns that matched no file (each already reported as an error).</summary>
    protected int UnmatchedPatterns { get; private set; }

    /// <summary>Told about each input that cannot be used (set by callers that count failures, as -Quiet
    /// does).</summary>
    protected Action? PathFailed { get; set; }

    /// <summary>A folder written by distributed training (DCP, Megatron, DeepSpeed) is read as one checkpoint.</summary>
    internal static bool IsCheckpointFolder(string path)
        => Reading.DistributedFolder.Recognise(path) != Reading.DistributedFolderKind.None;

    /// <summary>Resolves this record's paths to file-system paths, reporting the ones that cannot be used.</summary>
    protected IEnumerable<string> ResolveInputPaths()
    {
        bool literal = ParameterSetName == LiteralPathSet;
        foreach (var input in literal ? LiteralPath : Path)
        {
            if (Buffers.Remote.RemoteAddress.IsRemote(input))
            {
                yield return input; // read by ranges where it is; a URL has no wildcards to expand
                continue;
            }
            var resolved = new List<string>();
            ProviderInfo? provider = null;
            try
            {
                if (literal)
                {
                    resolved.Add(SessionState.Path.GetUnresolvedProviderPathFromPSPath(input, out provider, out _));
                    if (provider.Name == "FileSystem" && !File.Exists(resolved[0]) && !IsCheckpointFolder(resolved[0]))
                    {
                        PathFailed?.Invoke();
                        WriteError(Directory.Exists(resolved[0])
                            ? ErrorRecords.PathIsDirectory(input) : ErrorRecords.PathNotFound(input));
                        continue;
                    }
                }
                else
                {
                    resolved.AddRange(GetResolvedProviderPathFromPSPath(input, out provider));
                    if (resolved.Count == 0 && provider.Name == "FileSystem" && UnmatchedPatternIsError)
                    {
                        // Matched nothing, so it names no file that failed: a gate counts it as no input at all.
                        UnmatchedPatterns++;
                        WriteError(ErrorRecords.PatternMatchedNothing(input,
                            SessionState.Path.GetUnresolvedProviderPathFromPSPath(input)));
                        continue;
                    }
                }
            }
            catch (ItemNotFoundException ex)
            {
                PathFailed?.Invoke();
                WriteError(ErrorRecords.PathNotFound(input, ex));
                continue;
            }
            catch (Exception ex) when (ex is ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or PSArgumentException or NotSupportedException)
            {
                PathFailed?.Invoke();
                WriteError(ErrorRecords.UnusablePath(input, ex));
                continue;
            }
            if (provider!.Name != "FileSystem")
            {
                PathFailed?.Invoke();
                WriteError(ErrorRecords.NotFileSystem(input, provider.Name));
                continue;
            }
            foreach (var path in resolved)
            {
                if (Directory.Exists(path) && !IsCheckpointFolder(path))
                {
                    // A wildcard may match folders, which are not checkpoints; a folder named outright is a mistake to
                    // say.
                    if (!WildcardPattern.ContainsWildcardCharacters(input))
                    {
                        PathFailed?.Invoke();
                        WriteError(ErrorRecords.PathIsDirectory(input));
                    }
                    continue;
                }
                yield return path;
            }
        }
    }
}
