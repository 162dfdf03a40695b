using TorchSerial.Errors;
using System.Management.Automation;

namespace TorchSerial.PowerShell;

/// <summary>
/// The one place ErrorRecords are made. Core failures keep the core's stable ErrorId; the ids
/// below are the module's own. Scripts match on <c>FullyQualifiedErrorId</c>, which PowerShell
/// forms as "&lt;ErrorId&gt;,&lt;cmdlet class&gt;".
/// </summary>
internal static class ErrorRecords
{
    public const string NotFileSystemPath = "NotFileSystemPath";
    public const string FileNotFound = "FileNotFound";
    public const string InvalidMapLocation = ErrorIds.InvalidMapLocation;
    public const string UnexpectedFailure = "UnexpectedFailure";
    public const string FileExists = "FileExists";
    public const string FileReadOnly = "FileReadOnly";
    public const string PathIsDirectoryId = "PathIsDirectory";
    public const string AmbiguousPathId = "AmbiguousPath";
    public const string InvalidPattern = "InvalidPattern";
    public const string MissingHandler = "MissingHandler";
    public const string LocationHandlerNotFound = "LocationHandlerNotFound";
    public const string CheckpointAssertionFailed = "CheckpointAssertionFailed";
    public const string DestinationCollision = "DestinationCollision";
    public const string InvalidDestination = "InvalidDestination";
    public const string NoCheckpoint = "NoCheckpoint";
    public const string NoModelPathId = "NoModelPath";

    public static ErrorRecord From(TorchSerialException ex, object? target)
        => new(ex, ex.ErrorId, Category(ex.Kind), target);

    /// <summary>
    /// A failure reading one file of several: the shown message starts with the file, so a multi-file load's errors
    /// say which file each is about (the exception's own message and TargetObject are unchanged).
    /// </summary>
    public static ErrorRecord ForFile(TorchSerialException ex, string path)
    {
        var record = From(ex, path);
        if (!ex.Message.Contains(path, StringComparison.Ordinal))
            record.ErrorDetails = new ErrorDetails($"{path}: {ex.Message}");
        return record;
    }

    public static ErrorRecord NoModelPath()
        => BadArgument(NoModelPathId, "Give the model to verify: -Path or -LiteralPath (a model folder or file).", null);

    public static ErrorRecord PathIsDirectory(string path)
        => BadArgument(PathIsDirectoryId, $"'{path}' is a folder, not a checkpoint file, and not a folder that " +
            "distributed training writes (a DCP folder with .metadata, a DeepSpeed folder). To read every checkpoint in " +
            $"it, pipe its files: Get-ChildItem '{path}' -File | Import-TorchCheckpoint.", path);

    /// <summary>An output path that names a folder where a file is needed.</summary>
    public static ErrorRecord OutputIsDirectory(string path)
        => BadArgument(PathIsDirectoryId, $"'{path}' is a folder; give a file name such as model.pt.", path);

    public static ErrorRecord AmbiguousPath(string input, int count)
        => BadArgument(AmbiguousPathId, $"'{input}' matches {count} files; give exactly one.", input);

    public static ErrorRecord FileAlreadyExists(string path)
        => new(new IOException($"The file '{path}' already exists and -NoClobber was given."), FileExists,
            ErrorCategory.ResourceExists, path);

    public static ErrorRecord ReadOnlyFile(string path)
        => new(new UnauthorizedAccessException($"The file '{path}' is read-only. Use -Force to replace it."),
            FileReadOnly, ErrorCategory.PermissionDenied, path);

    public static ErrorRecord UnusablePath(string input, Exception ex)
        => new(ex, FileNotFound, ErrorCategory.InvalidArgument, input);

    public static ErrorRecord NoSuchLocationHandler(string name)
        => new(new ItemNotFoundException($"No location handler named '{name}' is registered in this runspace."),
            LocationHandlerNotFound, ErrorCategory.ObjectNotFound, name);

    public static ErrorRecord AssertionFailed(string message, int failures)
        => new(new InvalidOperationException(message), CheckpointAssertionFailed, ErrorCategory.InvalidResult,
            failures);

    /// <summary>Several inputs that would be written to one file: refused before anything is written.</summary>
    public static ErrorRecord SameDestination(string destination, IEnumerable<string> sources)
        => BadArgument(DestinationCollision, $"{string.Join(", ", sources.Select(s => $"'{s}'"))} would all be " +
            $"written to '{destination}'. Give a folder as -Destination, or a script block that names one file " +
            "per input, e.g. -Destination { \"out/$($_.Name)\" }.", destination);

    public static ErrorRecord PathNotFound(string path, Exception? inner = null)
        => new(inner ?? new ItemNotFoundException($"Cannot find path '{path}' because it does not exist."), FileNotFound, ErrorCategory.ObjectNotFound, path);

    /// <summary>
    /// A -Path pattern that matched no file. Brackets are wildcards, so a file literally named 'model [1].pt' is not
    /// found by -Path: when such a file exists, the message says to use -LiteralPath.
    /// </summary>
    public static ErrorRecord PatternMatchedNothing(string pattern, string literalPath)
        => new(new ItemNotFoundException(File.Exists(literalPath)
                ? $"The pattern '{pattern}' matches no file: -Path reads [ ] * ? as wildcards. A file with exactly " +
                    $"this name exists; read it with -LiteralPath '{pattern}'."
                : $"Cannot find path '{pattern}': the pattern matches no file."),
            FileNotFound, ErrorCategory.ObjectNotFound, pattern);

    /// <summary>An assertion or gate that was given no checkpoint at all, so it checked nothing.</summary>
    public static ErrorRecord NothingChecked(string message)
        => new(new InvalidOperationException(message), NoCheckpoint, ErrorCategory.ObjectNotFound, null);

    /// <summary>An output file whose folder does not exist (and -Force, which would create it, was not
    /// given).</summary>
    public static ErrorRecord MissingFolder(string folder, string path)
        => new(new DirectoryNotFoundException($"Cannot write '{path}': the folder '{folder}' does not exist. " +
                "Create it, or add -Force to have it created."), ErrorIds.WriteFailed, ErrorCategory.ObjectNotFound, path);

    public static ErrorRecord FolderNotCreated(string folder, Exception ex)
        => new(new IOException($"Cannot create the folder '{folder}': {ex.Message}", ex), ErrorIds.WriteFailed,
            ErrorCategory.WriteError, folder);

    public static ErrorRecord NotFileSystem(string path, string provider)
        => new(new ArgumentException($"'{path}' is on the {provider} provider; TorchSerial reads and writes files only, so give a FileSystem path."),
            NotFileSystemPath, ErrorCategory.InvalidArgument, path);

    public static ErrorRecord BadArgument(string errorId, string message, object? target)
        => new(new ArgumentException(message), errorId, ErrorCategory.InvalidArgument, target);

    /// <summary>A failure the core did not anticipate: still an ErrorRecord, never a raw exception, but worded as the
    /// bug it is.</summary>
    public static ErrorRecord Unexpected(Exception ex, object? target)
        => new(new InvalidOperationException(
                $"TorchSerial failed unexpectedly on '{target}': {ex.GetType().Name}: {ex.Message} This is a bug in " +
                    "TorchSerial; please report it with the file if you can.", ex),
            UnexpectedFailure, ErrorCategory.NotSpecified, target);

    private static ErrorCategory Category(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        ErrorKind.SecurityError => ErrorCategory.SecurityError,
        ErrorKind.NotImplemented => ErrorCategory.NotImplemented,
        ErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        ErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        ErrorKind.OperationStopped => ErrorCategory.OperationStopped,
        _ => ErrorCategory.InvalidData,
    };
}
