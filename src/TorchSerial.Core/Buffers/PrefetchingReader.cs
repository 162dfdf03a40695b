namespace TorchSerial.Buffers;

/// <summary>
/// Reads a range front to back in large blocks, the next ones already on their way while the caller works on the
/// current one: for a source where each read is a request (a remote file), so a streaming save overlaps the network
/// with its own writing, keeps two requests in flight, and pays one request per block rather than per 1 MiB chunk.
/// At most <see cref="Depth"/> + 1 blocks are held, their arrays reused.
/// </summary>
internal sealed class PrefetchingReader : ChunkReader
{
    /// <summary>Bytes per request: large enough that a request's round trip is small beside its transfer.</summary>
    public const int Block = 8 << 20;

    /// <summary>Blocks requested ahead of the one being read.</summary>
    public const int Depth = 2;

    private readonly IPositionalRead _source;
    private readonly long _start, _length;
    private long _requested;
    private readonly Queue<Task<(byte[] Bytes, int Length)>> _ahead = new();
    private readonly Stack<byte[]> _spare = new();
    private byte[] _current = Array.Empty<byte>();
    private int _currentLength, _used;

    public PrefetchingReader(IPositionalRead source, long start, long length)
    {
        _source = source;
        _start = start;
        _length = length;
        RequestAhead();
    }

    public override int Read(Span<byte> destination)
    {
        if (_used == _currentLength)
        {
            if (_ahead.Count == 0) return 0;
            if (_current.Length > 0) _spare.Push(_current);
            (_current, _currentLength) = _ahead.Dequeue().GetAwaiter().GetResult();
            _used = 0;
            RequestAhead();
        }
        int n = Math.Min(destination.Length, _currentLength - _used);
        _current.AsSpan(_used, n).CopyTo(destination);
        _used += n;
        return n;
    }

    private void RequestAhead()
    {
        while (_ahead.Count < Depth && _requested < _length)
        {
            long at = _requested;
            int n = (int)Math.Min(Block, _length - at);
            _requested += n;
            var buffer = _spare.Count > 0 ? _spare.Pop() : new byte[Math.Min(Block, _length)];
            _ahead.Enqueue(Task.Run(() =>
            {
                _source.ReadAt(_start + at, buffer.AsSpan(0, n));
                return (buffer, n);
            }));
        }
    }

    /// <summary>Waits for blocks still on their way, so no read outlives the reader (their errors are dropped:
    /// nothing asked for those bytes).</summary>
    public override void Dispose()
    {
        while (_ahead.Count > 0)
        {
            try { _ahead.Dequeue().Wait(); }
            catch (AggregateException) { }
        }
    }
}
