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

    // Files of other tools, named so the user knows what they hold (Containers/ForeignFormats.cs).
    public const string GgufFile = "GgufFile";
    public const string NumpyFile = "NumpyFile";
    public const string GzipFile = "GzipFile";
    public const string Hdf5File = "Hdf5File";
    public const string KerasFile = "KerasFile";
    public const string OnnxFile = "OnnxFile";

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

    // safetensors (formats-next.md §1.4): one id per rule of the reference reader, plus what it lacks.
    public const string SafeTensorsHeaderTooSmall = "SafeTensorsHeaderTooSmall";
    public const string SafeTensorsHeaderTooLarge = "SafeTensorsHeaderTooLarge";
    public const string SafeTensorsInvalidHeaderLength = "SafeTensorsInvalidHeaderLength";
    public const string SafeTensorsInvalidHeader = "SafeTensorsInvalidHeader";
    public const string SafeTensorsDuplicateName = "SafeTensorsDuplicateName";
    public const string SafeTensorsInvalidName = "SafeTensorsInvalidName";
    public const string SafeTensorsUnknownDType = "SafeTensorsUnknownDType";
    public const string SafeTensorsUnsupportedDType = "SafeTensorsUnsupportedDType";
    public const string SafeTensorsOffsetReversed = "SafeTensorsOffsetReversed";
    public const string SafeTensorsOffsetOverlap = "SafeTensorsOffsetOverlap";
    public const string SafeTensorsOffsetGap = "SafeTensorsOffsetGap";
    public const string SafeTensorsSizeMismatch = "SafeTensorsSizeMismatch";
    public const string SafeTensorsMisalignedSize = "SafeTensorsMisalignedSize";
    public const string SafeTensorsOverflow = "SafeTensorsOverflow";
    public const string SafeTensorsTrailingBytes = "SafeTensorsTrailingBytes";
    public const string SafeTensorsTruncated = "SafeTensorsTruncated";
    public const string SafeTensorsSharedStorage = "SafeTensorsSharedStorage";

    // Sharded sets (*.index.json).
    public const string ShardIndexInvalid = "ShardIndexInvalid";
    public const string ShardMissing = "ShardMissing";
    public const string ShardPathOutsideSet = "ShardPathOutsideSet";
    public const string ShardTensorMissing = "ShardTensorMissing";
    public const string ShardUnlistedTensor = "ShardUnlistedTensor";
    public const string ShardDuplicateTensor = "ShardDuplicateTensor";
    public const string ShardTotalSizeMismatch = "ShardTotalSizeMismatch";
    public const string ShardSetExists = "ShardSetExists";

    // TorchScript archives (their weights are read; their code never runs).
    public const string TorchScriptStructure = "TorchScriptStructure";
    /// <summary>A scan finding: the archive's code reaches files, the network or native code outside torch.</summary>
    public const string TorchScriptCode = "TorchScriptCode";

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

    /// <summary>Data was asked of a meta tensor, which has a shape and a dtype but no values.</summary>
    public const string MetaTensorHasNoData = "MetaTensorHasNoData";

    /// <summary>A pickle read across a protocol-4 frame boundary, or began a frame inside another (CPython refuses
    /// both).</summary>
    public const string PickleFraming = "PickleFraming";

    /// <summary>Two zip records share a name.</summary>
    public const string ZipDuplicateRecord = "ZipDuplicateRecord";

    /// <summary>A record's local header disagrees with the central directory (name, compression, encryption).</summary>
    public const string ZipHeaderMismatch = "ZipHeaderMismatch";

    /// <summary>A zip record lies outside the archive's root folder (torch refuses these too).</summary>
    public const string ZipRecordOutsideRoot = "ZipRecordOutsideRoot";

    /// <summary>Bytes after the zip's end record, or before or inside the archive where the directory does not
    /// fit.</summary>
    public const string ZipStrayData = "ZipStrayData";

    /// <summary>A zip record flagged as encrypted.</summary>
    public const string ZipEncrypted = "ZipEncrypted";

    // Saving.
    public const string InvalidSaveOption = "InvalidSaveOption";
    public const string InvalidSaveInput = "InvalidSaveInput";
    public const string UnsupportedValue = "UnsupportedValue";
    public const string WriteFailed = "WriteFailed";
    public const string InvalidTensorData = "InvalidTensorData";
    public const string UnsupportedSaveFormat = "UnsupportedSaveFormat";
    public const string VerifyFailed = "VerifyFailed";

    // The toolbox.
    public const string KeyNotFound = "KeyNotFound";
    public const string TensorNameCollision = "TensorNameCollision";
    public const string NonFiniteTensor = "NonFiniteTensor";
    public const string UnsupportedCast = "UnsupportedCast";

    // Locations.
    public const string DeviceUnavailable = "DeviceUnavailable";
    public const string UnknownLocation = "UnknownLocation";
    public const string InvalidMapLocation = "InvalidMapLocation";

    // Folders written by distributed training (DCP, Megatron, DeepSpeed ZeRO).
    public const string DistributedMetadataInvalid = "DistributedMetadataInvalid";
    public const string DistributedMetadataConflict = "DistributedMetadataConflict";
    public const string DistributedChunkInvalid = "DistributedChunkInvalid";
    public const string DistributedDataMissing = "DistributedDataMissing";
    public const string DistributedTransformUnsupported = "DistributedTransformUnsupported";
    public const string DeepSpeedCheckpointInvalid = "DeepSpeedCheckpointInvalid";
    public const string DeepSpeedTagMissing = "DeepSpeedTagMissing";
    public const string FsdpLocalShardsUnsupported = "FsdpLocalShardsUnsupported";
    // Merging checkpoints.
    public const string MergeInputsDisagree = "MergeInputsDisagree";
    public const string MergeWeightsInvalid = "MergeWeightsInvalid";
    public const string AdapterInvalid = "AdapterInvalid";
    public const string AdapterUnsupported = "AdapterUnsupported";
    // Checkpoints read over HTTP(S) and from the Hugging Face Hub (Buffers/Remote).
    public const string RemoteAddressInvalid = "RemoteAddressInvalid";
    public const string RemoteNotFound = "RemoteNotFound";
    public const string RemoteAccessDenied = "RemoteAccessDenied";
    public const string RemoteRangeNotSupported = "RemoteRangeNotSupported";
    public const string RemoteRedirectRefused = "RemoteRedirectRefused";
    public const string RemoteTimeout = "RemoteTimeout";
    public const string RemoteRequestFailed = "RemoteRequestFailed";
    public const string RemoteResponseInvalid = "RemoteResponseInvalid";
    public const string DownloadMismatch = "DownloadMismatch";
    public const string DownloadRefused = "DownloadRefused";
    // Model signatures (Provenance).
    public const string SignatureKeyInvalid = "SignatureKeyInvalid";
}
