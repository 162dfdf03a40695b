namespace TorchSerial.Buffers;

/// <summary>
/// Reads a buffer's bytes once, front to back. Sequential reading is what a CRC check, an inflater and a
/// byte swap need, so each is a reader that wraps another.
/// </summary>
internal abstract class ChunkReader : IDisposable
{
    /// <summary>Reads up to <paramref name="destination"/>.Length bytes; 0 at the end.</summary>
    public abstract int Read(Span<byte> destination);

    /// <summary>The CRC-32 of the bytes read, once all were read and found equal to the recorded one.</summary>
    public virtual uint? VerifiedCrc => null;

    public void ReadExactly(Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            int n = Read(destination);
            if (n == 0) throw new EndOfStreamException();
            destination = destination[n..];
        }
    }

    /// <summary>Called after the last byte: checks that need the whole run (a CRC) happen here.</summary>
    public virtual void Finish() { }

    public virtual void Dispose() { }
}
