namespace TorchSerial.Reading;

/// <summary>Keeps the checkpoints a combined one reads from (a set's shards, a folder's files) open while it is, and
/// closes them all with it.</summary>
internal sealed class CheckpointOwners(IReadOnlyList<Checkpoint> parts) : IDisposable
{
    public void Dispose()
    {
        foreach (var c in parts) c.Dispose();
    }
}
