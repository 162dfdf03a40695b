namespace TorchSerial.Buffers;

/// <summary>
/// Finds where a byte range starts, the first time it is read. A zip record's data starts after its local
/// header, whose length only the header itself gives: reading it with the data, not when a checkpoint is opened,
/// keeps a listing of 40,000 records free of 40,000 reads.
/// </summary>
internal interface IRangeStart
{
    long Locate();
}
