namespace TorchSerial.Torch;

/// <summary>
/// The classes distributed-training checkpoints pickle as plain data (distributed-checkpoints.md §1.2 and §3.2): DCP's
/// metadata dataclasses in both of their homes (torch ≤ 2.2 and ≥ 2.3), the pathlib path a StorageMeta keeps,
/// Megatron's metadata subclass, and the DeepSpeed enums and loss scalers its files carry. Inside such a folder they
/// are read as inert objects (never constructed, never called); anywhere else they are refused as usual.
/// </summary>
internal static class DistributedGlobals
{
    private const string Dcp = "torch.distributed.checkpoint.", Shard = "torch.distributed._shard.";

    public static readonly IReadOnlyList<string> Dcp1 = new[]
    {
        Dcp + "metadata.Metadata", Dcp + "metadata.TensorStorageMetadata", Dcp + "metadata.ChunkStorageMetadata",
        Dcp + "metadata.BytesStorageMetadata", Dcp + "metadata.TensorProperties", Dcp + "metadata._MEM_FORMAT_ENCODING",
        Dcp + "metadata.StorageMeta", Dcp + "metadata.MetadataIndex", Dcp + "filesystem._StorageInfo",
        Shard + "checkpoint.metadata.Metadata", Shard + "checkpoint.metadata.TensorStorageMetadata",
        Shard + "checkpoint.metadata.ChunkStorageMetadata", Shard + "checkpoint.metadata.BytesStorageMetadata",
        Shard + "checkpoint.metadata.MetadataIndex", Shard + "checkpoint.filesystem._StorageInfo",
        Shard + "sharded_tensor.metadata.TensorProperties", Shard + "sharded_tensor.metadata.MEM_FORMAT_ENCODING",
        "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePosixPath", "pathlib.PureWindowsPath", "pathlib.Path",
        "pathlib._local.PosixPath", "pathlib._local.WindowsPath", "pathlib._local.PurePosixPath",
        "pathlib._local.PureWindowsPath", "pathlib._local.Path",
        "megatron.core.dist_checkpointing.strategies.torch.MCoreMetadata",
    };

    /// <summary>True for a class these folders pickle as data, and for the enum member lookups Python 3.11+ writes;
    /// a scan of a folder that loaded reports them as admitted by design.</summary>
    public static bool AdmitsByDesign(string fullName)
        => fullName == EnumMembers.Getattr || Dcp1.Contains(fullName) || DeepSpeed.Contains(fullName);

    public static readonly IReadOnlyList<string> DeepSpeed = new[]
    {
        "deepspeed.runtime.zero.config.ZeroStageEnum", "deepspeed.runtime.fp16.loss_scaler.LossScaler",
        "deepspeed.runtime.fp16.loss_scaler.DynamicLossScaler", "deepspeed.utils.tensor_fragment.fragment_address",
    };
}
