using TorchSerial.Buffers;
using TorchSerial.Errors;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace TorchSerial.Containers;

/// <summary>
/// Writes torch's zip container (torch-format.md §2.4) to any writable stream, seekable or not: every
/// record STORED, its payload aligned to 64 bytes by an 'FB' extra field, sizes and CRC in a data
/// descriptor, zip64 extras past 4 GiB and a zip64 trailer always, as miniz does for torch.
/// </summary>
internal sealed class ZipRecordWriter
{
    private const long Zip64Limit = 0xFFFFFFFF;
    private const int Alignment = 64;
    private readonly Stream _out;
    private readonly string _root;
    private readonly List<(byte[] Name, ushort Flags, uint Crc, long Size, long Offset)> _central = new();
    private long _position;

    public ZipRecordWriter(Stream output, string archiveName)
    {
        _out = output;
        _root = archiveName;
    }

    /// <summary>CRCs of the records with data, in write order (torch hashes them into
    /// .data/serialization_id).</summary>
    public List<uint> Crcs { get; } = new();

    public List<string> Names { get; } = new();

    public void Write(string record, ReadOnlySpan<byte> data)
    {
        var copy = data.ToArray(); // small metadata records only
        Write(record, copy.Length, sink => { sink(copy); return Crc32.HashToUInt32(copy); });
    }

    /// <summary>
    /// Writes one record whose bytes <paramref name="produce"/> streams through the sink; the producer returns
    /// the CRC-32 of what it streamed (known already, or computed on the way).
    /// </summary>
    public uint Write(string record, long size, Func<SpanAction, uint> produce, CancellationToken ct = default)
    {
        var name = Encoding.UTF8.GetBytes(_root + "/" + record);
        long cursor = _position;
        bool zip64 = size >= Zip64Limit || cursor >= Zip64Limit;
        int zip64Len = zip64 ? 4 + (size >= Zip64Limit ? 16 : 0) + (cursor >= Zip64Limit ? 8 : 0) : 0;
        long start = cursor + 30 + name.Length + 4 + zip64Len;
        int pad = (int)((Alignment - start % Alignment) % Alignment);
        ushort flags = (ushort)(size > 0 ? 0x0808 : 0x0800);

        Span<byte> h = stackalloc byte[30];
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0x04034B50);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 0);          // version needed: stored
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], flags);
        h[8..26].Clear();                                              // method, time, date, crc, sizes: all 0
        BinaryPrimitives.WriteUInt16LittleEndian(h[26..], (ushort)name.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[28..], (ushort)(zip64Len + 4 + pad));
        Emit(h);
        Emit(name);
        if (zip64)
        {
            Span<byte> z = stackalloc byte[zip64Len];
            BinaryPrimitives.WriteUInt16LittleEndian(z, 1);
            BinaryPrimitives.WriteUInt16LittleEndian(z[2..], (ushort)(zip64Len - 4));
            int q = 4;
            if (size >= Zip64Limit) { BinaryPrimitives.WriteUInt64LittleEndian(z[q..],
                (ulong)size); BinaryPrimitives.WriteUInt64LittleEndian(z[(q + 8)..], 0); q += 16; }
            if (cursor >= Zip64Limit) BinaryPrimitives.WriteUInt64LittleEndian(z[q..], (ulong)cursor);
            Emit(z);
        }
        Span<byte> fb = stackalloc byte[4 + pad];
        fb[0] = (byte)'F'; fb[1] = (byte)'B';
        BinaryPrimitives.WriteUInt16LittleEndian(fb[2..], (ushort)pad);
        fb[4..].Fill((byte)'Z');
        Emit(fb);

        long before = _position;
        uint crcValue = produce(chunk => { ct.ThrowIfCancellationRequested(); Emit(chunk); });
        if (_position - before != size)
            throw new TorchSerialException(ErrorIds.WriteFailed, ErrorKind.InvalidData, $"Record '{record}' produced {_position - before} bytes instead of {size}.");
        if (size > 0)
        {
            Span<byte> d = stackalloc byte[zip64 ? 24 : 16];
            BinaryPrimitives.WriteUInt32LittleEndian(d, 0x08074B50);
            BinaryPrimitives.WriteUInt32LittleEndian(d[4..], crcValue);
            if (zip64) { BinaryPrimitives.WriteUInt64LittleEndian(d[8..],
                (ulong)size); BinaryPrimitives.WriteUInt64LittleEndian(d[16..], (ulong)size); }
            else { BinaryPrimitives.WriteUInt32LittleEndian(d[8..],
                (uint)size); BinaryPrimitives.WriteUInt32LittleEndian(d[12..], (uint)size); }
            Emit(d);
            Crcs.Add(crcValue);
        }
        _central.Add((name, flags, crcValue, size, cursor));
        Names.Add(record);
        return crcValue;
    }

    /// <summary>Writes the central directory and the zip64 + classic end records.</summary>
    public void Finish()
    {
        long cdStart = _position;
        Span<byte> c = stackalloc byte[46];
        Span<byte> zbuf = stackalloc byte[28];
        foreach (var (name, flags, crc, size, offset) in _central)
        {
            bool bigSize = size >= Zip64Limit, bigOffset = offset >= Zip64Limit;
            int zlen = bigSize || bigOffset ? 4 + (bigSize ? 16 : 0) + (bigOffset ? 8 : 0) : 0;
            BinaryPrimitives.WriteUInt32LittleEndian(c, 0x02014B50);
            c[4..10].Clear();                                            // made by, needed: 0
            BinaryPrimitives.WriteUInt16LittleEndian(c[8..], flags);
            c[10..16].Clear();                                           // method, time, date
            BinaryPrimitives.WriteUInt32LittleEndian(c[16..], crc);
            BinaryPrimitives.WriteUInt32LittleEndian(c[20..], (uint)Math.Min(size, Zip64Limit));
            BinaryPrimitives.WriteUInt32LittleEndian(c[24..], (uint)Math.Min(size, Zip64Limit));
            BinaryPrimitives.WriteUInt16LittleEndian(c[28..], (ushort)name.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(c[30..], (ushort)zlen);
            c[32..42].Clear();                                           // comment, disk, attributes
            BinaryPrimitives.WriteUInt32LittleEndian(c[42..], (uint)Math.Min(offset, Zip64Limit));
            Emit(c);
            Emit(name);
            if (zlen > 0)
            {
                var z = zbuf[..zlen];
                BinaryPrimitives.WriteUInt16LittleEndian(z, 1);
                BinaryPrimitives.WriteUInt16LittleEndian(z[2..], (ushort)(zlen - 4));
                int q = 4;
                if (bigSize) { BinaryPrimitives.WriteUInt64LittleEndian(z[q..],
                    (ulong)size); BinaryPrimitives.WriteUInt64LittleEndian(z[(q + 8)..], (ulong)size); q += 16; }
                if (bigOffset) BinaryPrimitives.WriteUInt64LittleEndian(z[q..], (ulong)offset);
                Emit(z);
            }
        }
        long cdSize = _position - cdStart, z64 = _position, n = _central.Count;
        Span<byte> e = stackalloc byte[56 + 20 + 22];
        BinaryPrimitives.WriteUInt32LittleEndian(e, 0x06064B50);
        BinaryPrimitives.WriteUInt64LittleEndian(e[4..], 44);
        BinaryPrimitives.WriteUInt16LittleEndian(e[12..], 0x031E);
        BinaryPrimitives.WriteUInt16LittleEndian(e[14..], 0x002D);
        BinaryPrimitives.WriteUInt32LittleEndian(e[16..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(e[20..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(e[24..], (ulong)n);
        BinaryPrimitives.WriteUInt64LittleEndian(e[32..], (ulong)n);
        BinaryPrimitives.WriteUInt64LittleEndian(e[40..], (ulong)cdSize);
        BinaryPrimitives.WriteUInt64LittleEndian(e[48..], (ulong)cdStart);
        var loc = e[56..];
        BinaryPrimitives.WriteUInt32LittleEndian(loc, 0x07064B50);
        BinaryPrimitives.WriteUInt32LittleEndian(loc[4..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(loc[8..], (ulong)z64);
        BinaryPrimitives.WriteUInt32LittleEndian(loc[16..], 1);
        var eocd = e[76..];
        BinaryPrimitives.WriteUInt32LittleEndian(eocd, 0x06054B50);
        BinaryPrimitives.WriteUInt32LittleEndian(eocd[4..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(eocd[8..], (ushort)Math.Min(n, 0xFFFF));
        BinaryPrimitives.WriteUInt16LittleEndian(eocd[10..], (ushort)Math.Min(n, 0xFFFF));
        BinaryPrimitives.WriteUInt32LittleEndian(eocd[12..], (uint)Math.Min(cdSize, Zip64Limit));
        BinaryPrimitives.WriteUInt32LittleEndian(eocd[16..], (uint)Math.Min(cdStart, Zip64Limit));
        BinaryPrimitives.WriteUInt16LittleEndian(eocd[20..], 0);
        Emit(e);
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        _out.Write(bytes);
        _position += bytes.Length;
    }
}
