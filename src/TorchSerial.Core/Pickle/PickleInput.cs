using TorchSerial.Errors;
using System.Buffers.Binary;

namespace TorchSerial.Pickle;

/// <summary>
/// Bounded reads from a pickle byte stream. Every length a file claims is checked against the bytes
/// actually left before anything is allocated, so a forged length cannot exhaust memory.
/// </summary>
internal sealed class PickleInput
{
    private readonly Stream _stream;
    private readonly long _end;
    private readonly string _record;

    public PickleInput(Stream stream, long end, string record)
    {
        _stream = stream;
        _end = end;
        _record = record;
    }

    public long Position => _stream.Position;
    public long Remaining => _end - _stream.Position;
    public string Record => _record;

    public bool TryReadByte(out byte b)
    {
        if (Remaining <= 0) { b = 0; return false; }
        int v = _stream.ReadByte();
        b = (byte)v;
        return v >= 0;
    }

    public byte ReadByte()
    {
        if (!TryReadByte(out var b)) throw Truncated(1);
        return b;
    }

    public byte[] ReadBytes(long count)
    {
        if (count < 0 || count > Remaining || count > Array.MaxLength) throw Truncated(count);
        var buffer = GC.AllocateUninitializedArray<byte>((int)count);
        _stream.ReadExactly(buffer);
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
        var line = new List<byte>();
        while (true)
        {
            byte b = ReadByte();
            if (b == (byte)'\n') return line.ToArray();
            line.Add(b);
        }
    }

    public void Skip(long count)
    {
        if (count < 0 || count > Remaining) throw Truncated(count);
        _stream.Seek(count, SeekOrigin.Current);
    }

    private ReadOnlySpan<byte> Fixed(Span<byte> buffer)
    {
        if (Remaining < buffer.Length) throw Truncated(buffer.Length);
        _stream.ReadExactly(buffer);
        return buffer;
    }

    private TorchSerialException Truncated(long wanted) => Fail.Data(ErrorIds.PickleTruncated,
        $"The pickle in '{_record}' ends early: {wanted} more bytes were needed at offset {Position} but only {Math.Max(0, Remaining)} remain. " +
        "The file is truncated or corrupt; download or copy it again.", _record, Position);
}
