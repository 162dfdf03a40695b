using TorchSerial.Errors;
using System.Buffers.Binary;

namespace TorchSerial.Pickle;

/// <summary>
/// Bounded reads from a pickle byte stream. Every length a file claims is checked against the bytes
/// actually left before anything is allocated, so a forged length cannot exhaust memory.
/// </summary>
internal sealed class PickleInput
{
    private readonly Stream? _stream;
    private readonly long _end;
    private readonly string _record;

    // A pickle already in memory (a zip's data.pkl) is read straight from its array: most of a load's time is
    // spent here, one opcode or short string at a time, and a stream adds a virtual call and checks to each.
    private readonly byte[]? _bytes;
    private int _at;

    public PickleInput(Stream stream, long end, string record)
    {
        _stream = stream;
        _end = end;
        _record = record;
    }

    public PickleInput(byte[] bytes, int length, string record)
    {
        _bytes = bytes;
        _end = length;
        _record = record;
    }

    // Protocol 4 frames: where the current frame ends, or -1 outside one.
    private long _frameEnd = -1;

    public long Position => _bytes is not null ? _at : _stream!.Position;
    public long Remaining => _end - Position;
    public string Record => _record;

    /// <summary>
    /// Enters a frame of <paramref name="length"/> bytes (the FRAME opcode), by CPython's rules: a new frame may start
    /// only where the current one has been read to its end, and the frame must be there in full.
    /// </summary>
    public void BeginFrame(ulong length, long opOffset)
    {
        if (_frameEnd >= 0 && Position != _frameEnd)
            throw Fail.Data(ErrorIds.PickleFraming,
                $"The pickle in '{_record}' begins a new frame at offset {opOffset} before the end of the current " +
                    "one " +
                    $"(at {_frameEnd}); CPython refuses such a pickle.", _record, opOffset);
        if (length > (ulong)Math.Max(0, Remaining)) throw Truncated((long)Math.Min(length, long.MaxValue));
        _frameEnd = Position + (long)length;
    }

    /// <summary>
    /// CPython's rule for every read inside a frame: it must end within the frame; one that starts exactly at the
    /// frame's end leaves the frame and reads on. A read that crosses the end is the differential a scanner must not
    /// have (the same bytes read two ways), so it is an error, as it is to CPython.
    /// </summary>
    private void InFrame(long count)
    {
        if (_frameEnd < 0) return;
        long at = Position;
        if (at == _frameEnd && count > 0) { _frameEnd = -1; return; }
        if (at + count > _frameEnd)
            throw Fail.Data(ErrorIds.PickleFraming,
                $"The pickle in '{_record}' reads {count} byte(s) at offset {at} across the end of its frame (at " +
                    $"{_frameEnd}): CPython stops such a pickle with 'pickle exhausted before end of " +
                        "frame'.", _record, at);
    }

    public bool TryReadByte(out byte b)
    {
        if (_frameEnd >= 0 && Position < _end) InFrame(1);
        if (_bytes is not null)
        {
            if (_at >= _end) { b = 0; return false; }
            b = _bytes[_at++];
            return true;
        }
        if (Remaining <= 0) { b = 0; return false; }
        int v = _stream!.ReadByte();
        b = (byte)v;
        return v >= 0;
    }

    /// <summary>The bytes not read yet, when the pickle is in memory; empty (and false) for a stream.</summary>
    public bool TryGetRest(out ReadOnlySpan<byte> rest)
    {
        rest = _bytes is null ? default : _bytes.AsSpan(_at, (int)(_end - _at));
        return _bytes is not null;
    }

    /// <summary>The next <paramref name="count"/> bytes, to decode at once (a view of the array where there is
    /// one).</summary>
    public ReadOnlySpan<byte> ReadSpan(long count)
    {
        if (_bytes is null) return ReadBytes(count);
        InFrame(count);
        if (count < 0 || count > Remaining) throw Truncated(count);
        var span = _bytes.AsSpan(_at, (int)count);
        _at += (int)count;
        return span;
    }

    public byte ReadByte()
    {
        if (!TryReadByte(out var b)) throw Truncated(1);
        return b;
    }

    public byte[] ReadBytes(long count)
    {
        if (count < 0 || count > Remaining || count > Array.MaxLength) throw Truncated(count);
        if (_bytes is not null) return ReadSpan(count).ToArray();
        InFrame(count);
        var buffer = GC.AllocateUninitializedArray<byte>((int)count);
        _stream!.ReadExactly(buffer);
        return buffer;
    }

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Fixed(stackalloc byte[2]));
    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Fixed(stackalloc byte[4]));
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Fixed(stackalloc byte[4]));
    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Fixed(stackalloc byte[8]));
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Fixed(stackalloc byte[8]));
    public double ReadDoubleBigEndian() => BinaryPrimitives.ReadDoubleBigEndian(Fixed(stackalloc byte[8]));

    /// <summary>Reads a text line (protocol 0 arguments) up to and without the '\n'.</summary>
    public byte[] ReadLine()
    {
        // A line begun in a frame must end in it too (CPython reads the line from the frame, or stops).
        long frameEnd = _frameEnd >= 0 && Position < _frameEnd ? _frameEnd : -1;
        var line = new List<byte>();
        while (true)
        {
            if (frameEnd >= 0 && Position >= frameEnd)
                throw Fail.Data(ErrorIds.PickleFraming,
                    $"The pickle in '{_record}' has a text line that runs past the end of its frame (at {frameEnd}): " +
                        "CPython stops such a pickle with 'pickle exhausted before end of frame'.", _record, Position);
            byte b = ReadByte();
            if (b == (byte)'\n') return line.ToArray();
            line.Add(b);
        }
    }

    public void Skip(long count)
    {
        if (count < 0 || count > Remaining) throw Truncated(count);
        InFrame(count);
        if (_bytes is not null) _at += (int)count;
        else _stream!.Seek(count, SeekOrigin.Current);
    }

    private ReadOnlySpan<byte> Fixed(Span<byte> buffer)
    {
        if (Remaining < buffer.Length) throw Truncated(buffer.Length);
        InFrame(buffer.Length);
        if (_bytes is not null)
        {
            var span = _bytes.AsSpan(_at, buffer.Length);
            _at += buffer.Length;
            return span;
        }
        _stream!.ReadExactly(buffer);
        return buffer;
    }

    private TorchSerialException Truncated(long wanted) => Fail.Data(ErrorIds.PickleTruncated,
        $"The pickle in '{_record}' ends early: {wanted} more bytes were needed at offset {Position} but only " +
            $"{Math.Max(0, Remaining)} remain. " +
        "The file is truncated or corrupt; download or copy it again.", _record, Position);
}
