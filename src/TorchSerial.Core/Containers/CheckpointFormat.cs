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
}
