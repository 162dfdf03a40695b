namespace TorchSerial.Containers;

/// <summary>The container a checkpoint uses.</summary>
public enum CheckpointFormat
{
    /// <summary>The zip archive of torch ≥ 1.6 (<c>_use_new_zipfile_serialization=True</c>).</summary>
    Zip,
    /// <summary>The stacked-pickle stream of torch 0.1.10–1.5 (and
    /// <c>_use_new_zipfile_serialization=False</c>).</summary>
    LegacyStream,
    /// <summary>The tar archive of torch ≤ 0.1.9.</summary>
    LegacyTar,
    /// <summary>A safetensors file: a JSON header, then raw little-endian tensor data.</summary>
    SafeTensors,
    /// <summary>A sharded set: a <c>*.index.json</c> naming the shard file of every tensor (Hugging Face's
    /// layout).</summary>
    ShardedSet,
    /// <summary>A TorchScript archive (torch.jit.save): its parameters and buffers, read without running its
    /// code.</summary>
    TorchScript,
    /// <summary>A folder written by torch.distributed.checkpoint (FSDP, torchtitan, accelerate, Megatron's
    /// torch_dist): its chunks put together as <c>dcp_to_torch_save</c> would.</summary>
    DistributedCheckpoint,
    /// <summary>A DeepSpeed ZeRO checkpoint folder: the fp32 weights rebuilt from the optimizer partitions as
    /// <c>zero_to_fp32</c> would.</summary>
    DeepSpeed,
}
