namespace TorchSerial.Errors;

/// <summary>
/// Every ErrorId the core can produce. They are public API: scripts match on them
/// (<c>-ErrorAction</c> handlers, <c>Should -Throw -ErrorId</c>), so never rename one.
/// </summary>
public static class ErrorIds
{
    // Opening and stopping.
    public const string FileNotFound = "FileNotFound";
    public const string FileOpenFailed = "FileOpenFailed";
    public const string Stopped = "Stopped";
    public const string CheckpointClosed = "CheckpointClosed";
    public const string CheckpointChanged = "CheckpointChanged";

    // What the file is, when it is not a checkpoint we can read.
    public const string EmptyFile = "EmptyFile";
    public const string GitLfsPointer = "GitLfsPointer";
    public const string HtmlOrTextFile = "HtmlOrTextFile";
    public const string NotACheckpoint = "NotACheckpoint";
    public const string TorchScriptArchive = "TorchScriptArchive";
    public const string PreviewArchive = "PreviewArchive";

    // Container structure.
    public const string TruncatedZip = "TruncatedZip";
    public const string CorruptZip = "CorruptZip";
    public const string UnsupportedCompression = "UnsupportedCompression";
    public const string ZipBomb = "ZipBomb";
    public const string CrcMismatch = "CrcMismatch";
    public const string UnsupportedFormatVersion = "UnsupportedFormatVersion";
    public const string MissingRecord = "MissingRecord";
    public const string RecordSizeMismatch = "RecordSizeMismatch";
    public const string TruncatedLegacyStream = "TruncatedLegacyStream";
    public const string InvalidMagicNumber = "InvalidMagicNumber";
    public const string InvalidProtocolVersion = "InvalidProtocolVersion";
    public const string CorruptTar = "CorruptTar";

    // Pickle machine.
    public const string UnknownOpcode = "UnknownOpcode";
    public const string MemoKeyMissing = "MemoKeyMissing";
    public const string PickleTruncated = "PickleTruncated";
    public const string PickleStructure = "PickleStructure";
    public const string PickleTooDeep = "PickleTooDeep";
    public const string PickleTooLarge = "PickleTooLarge";
    public const string InvalidPersistentId = "InvalidPersistentId";
    public const string StringDecodeFailed = "StringDecodeFailed";

    // Safety policy.
    public const string UnsafeGlobal = "UnsafeGlobal";

    // Tensors and storages.
    public const string NegativeSize = "NegativeSize";
    public const string ArithmeticOverflow = "ArithmeticOverflow";
    public const string ViewOutOfBounds = "ViewOutOfBounds";
    public const string UnsupportedTensorFeature = "UnsupportedTensorFeature";
    public const string UnknownDType = "UnknownDType";
    public const string TensorTooLarge = "TensorTooLarge";

    // Saving.
    public const string InvalidSaveOption = "InvalidSaveOption";
    public const string InvalidSaveInput = "InvalidSaveInput";
    public const string UnsupportedValue = "UnsupportedValue";
    public const string WriteFailed = "WriteFailed";
    public const string InvalidTensorData = "InvalidTensorData";

    // Locations.
    public const string DeviceUnavailable = "DeviceUnavailable";
    public const string UnknownLocation = "UnknownLocation";
    public const string InvalidMapLocation = "InvalidMapLocation";
}
