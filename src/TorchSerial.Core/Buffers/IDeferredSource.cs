namespace TorchSerial.Buffers;

/// <summary>
/// Where a storage's bytes are, with the reader over them made only when they are first used: a lazy open of a
/// checkpoint of 40,000 records then builds no reader, no header check and no CRC layer for any of them (three
/// objects a storage, about a tenth of what a lazy open allocated).
/// </summary>
internal interface IDeferredSource
{
    /// <summary>The bytes' reader; called at most once, under the owning buffer's lock.</summary>
    StorageBuffer Open();

    /// <summary>The CRC-32 the container recorded for the bytes, if any.</summary>
    uint? Crc { get; }
}
