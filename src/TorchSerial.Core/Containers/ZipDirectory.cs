using TorchSerial.Buffers;
using TorchSerial.Errors;
using System.Buffers.Binary;
using System.Text;

namespace TorchSerial.Containers;

/// <summary>
/// Reads a zip archive's central directory (zip64 included) the way torch's miniz reader does:
/// sizes and offsets come from the central directory, since torch's local headers hold zeros.
/// Record bytes are never read here; <see cref="Open"/> hands back a lazy source.
/// </summary>
internal sealed class ZipDirectory
{
    private const uint EocdSig = 0x06054b50, Zip64LocatorSig = 0x07064b50, Zip64EocdSig = 0x06064b50;
    private const uint CentralSig = 0x02014b50, LocalSig = 0x04034b50;
    private readonly Stream _stream;
    private FileSnapshot? _snapshot;
    private readonly Dictionary<string, ZipEntry> _byName = new(StringComparer.Ordinal);

    private ZipDirectory(Stream stream, List<ZipEntry> entries)
    {
        _stream = stream;
        Entries = entries;
        foreach (var e in entries) _byName.TryAdd(e.Name, e);
    }

    public IReadOnlyList<ZipEntry> Entries { get; }

    public ZipEntry? Find(string name) => _byName.GetValueOrDefault(name);

    public static ZipDirectory Read(Stream stream, FileSnapshot? snapshot)
    {
        var dir = Read(stream);
        dir._snapshot = snapshot;
        return dir;
    }

    public static ZipDirectory Read(Stream stream)
    {
        long length = stream.Length;
        int tailLen = (int)Math.Min(length, 22 + 0xFFFF);
        var tail = ReadAt(stream, length - tailLen, tailLen);
        int eocd = -1;
        for (int i = tail.Length - 22; i >= 0; i--)
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EocdSig) { eocd = i; break; }
        if (eocd < 0)
            throw Fail.Data(ErrorIds.TruncatedZip,
                "The zip archive has no central directory (failed finding central directory): the file is truncated, " +
                "probably by an interrupted download or copy. Fetch it again.");

        long eocdPos = length - tailLen + eocd;
        var e = tail.AsSpan(eocd);
        long count = BinaryPrimitives.ReadUInt16LittleEndian(e[10..]);
        long cdSize = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
        long cdOffset = BinaryPrimitives.ReadUInt32LittleEndian(e[16..]);

        if (eocdPos >= 20)
        {
            var loc = ReadAt(stream, eocdPos - 20, 20);
            if (BinaryPrimitives.ReadUInt32LittleEndian(loc) == Zip64LocatorSig)
            {
                long z64Pos = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(loc.AsSpan(8)), long.MaxValue);
                if (z64Pos < 0 || z64Pos > length - 56) throw Corrupt("its zip64 end-of-directory locator points outside the file");
                var z = ReadAt(stream, z64Pos, 56);
                if (BinaryPrimitives.ReadUInt32LittleEndian(z) != Zip64EocdSig) throw Corrupt("its zip64 end-of-directory record is missing");
                count = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(z.AsSpan(32)));
                cdSize = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(z.AsSpan(40)));
                cdOffset = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(z.AsSpan(48)));
            }
        }
        if (count < 0 || cdOffset < 0 || cdSize < 0 || cdOffset > length || cdSize > length - cdOffset || count > cdSize / 46)
            throw Fail.Data(ErrorIds.TruncatedZip,
                $"The zip central directory claims {count} entries in {cdSize} bytes at offset {cdOffset}, which does not fit the {length}-byte file: the file is truncated or corrupt.");
        if (cdSize > int.MaxValue) throw Corrupt("its central directory is larger than 2 GiB");

        var cd = ReadAt(stream, cdOffset, (int)cdSize);
        var entries = new List<ZipEntry>((int)Math.Min(count, 1 << 16));
        int p = 0;
        for (long i = 0; i < count; i++)
        {
            if (p + 46 > cd.Length || BinaryPrimitives.ReadUInt32LittleEndian(cd.AsSpan(p)) != CentralSig)
                throw Corrupt($"central directory entry {i} is damaged");
            var h = cd.AsSpan(p);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]);
            ushort method = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(h[16..]);
            long csize = BinaryPrimitives.ReadUInt32LittleEndian(h[20..]);
            long usize = BinaryPrimitives.ReadUInt32LittleEndian(h[24..]);
            int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
            int extraLen = BinaryPrimitives.ReadUInt16LittleEndian(h[30..]);
            int commentLen = BinaryPrimitives.ReadUInt16LittleEndian(h[32..]);
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(h[42..]);
            if (p + 46 + nameLen + extraLen + commentLen > cd.Length) throw Corrupt($"central directory entry {i} runs past the directory");
            string name = Encoding.UTF8.GetString(h.Slice(46, nameLen));
            ApplyZip64Extra(h.Slice(46 + nameLen, extraLen), ref usize, ref csize, ref offset);
            entries.Add(new ZipEntry(name, method, flags, crc, csize, usize, offset));
            p += 46 + nameLen + extraLen + commentLen;
        }
        return new ZipDirectory(stream, entries);
    }

    /// <summary>Offset of the entry's first data byte, read from its local header (torch aligns it with an 'FB' extra field).</summary>
    public long DataOffset(ZipEntry e)
    {
        if (e.LocalHeaderOffset < 0 || e.LocalHeaderOffset > _stream.Length - 30) throw Corrupt($"the local header of '{e.Name}' lies outside the file");
        var h = ReadAt(_stream, e.LocalHeaderOffset, 30);
        if (BinaryPrimitives.ReadUInt32LittleEndian(h) != LocalSig) throw Corrupt($"the local header of '{e.Name}' is damaged");
        long start = e.LocalHeaderOffset + 30 + BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(26)) + BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(28));
        if (e.CompressedSize < 0 || e.UncompressedSize < 0 || e.CompressedSize > _stream.Length - start)
            throw Fail.Data(ErrorIds.RecordSizeMismatch,
                $"Record '{e.Name}' claims {e.CompressedSize} bytes at offset {start}, past the end of the {_stream.Length}-byte file: the file is truncated.", e.Name);
        return start;
    }

    /// <summary>The entry's uncompressed bytes, read on use (its CRC is <see cref="ZipEntry.RecordedCrc"/>).</summary>
    public StorageBuffer Open(ZipEntry e)
    {
        long start = DataOffset(e);
        return e.Method switch
        {
            ZipEntry.Stored when e.CompressedSize != e.UncompressedSize =>
                throw Corrupt($"stored record '{e.Name}' has different compressed ({e.CompressedSize}) and uncompressed ({e.UncompressedSize}) sizes"),
            ZipEntry.Stored => new FileRangeBuffer(_stream, start, e.UncompressedSize, e.Name, _snapshot),
            // Deflate cannot expand data more than 1032:1; a larger claim is a bomb, refused before any allocation.
            ZipEntry.Deflated when e.UncompressedSize > e.CompressedSize * 1032 + 1024 => throw Fail.Data(ErrorIds.ZipBomb,
                $"Record '{e.Name}' claims to inflate from {e.CompressedSize} to {e.UncompressedSize} bytes, more than deflate can expand; the archive is a zip bomb or corrupt.", e.Name),
            ZipEntry.Deflated => new DeflatedBuffer(_stream, start, e.CompressedSize, e.UncompressedSize, e.Name),
            _ => throw Fail.Unsupported(ErrorIds.UnsupportedCompression,
                $"Record '{e.Name}' uses zip compression method {e.Method}; torch checkpoints use only stored (0) or deflate (8)."),
        };
    }

    /// <summary>Reads a small record (data.pkl, version, byteorder) fully into memory.</summary>
    public byte[] ReadAll(ZipEntry e)
    {
        var source = Open(e); // checks the claim against the file (and deflate's ratio) before anything is allocated
        if (e.UncompressedSize > Array.MaxLength) throw Fail.Unsupported(ErrorIds.TensorTooLarge, $"Record '{e.Name}' is larger than 2 GiB.");
        var buffer = new byte[e.UncompressedSize];
        using var reader = source.OpenReader();
        reader.ReadExactly(buffer);
        reader.Finish();
        return buffer;
    }

    private static void ApplyZip64Extra(ReadOnlySpan<byte> extra, ref long usize, ref long csize, ref long offset)
    {
        int p = 0;
        while (p + 4 <= extra.Length)
        {
            ushort id = BinaryPrimitives.ReadUInt16LittleEndian(extra[p..]);
            ushort size = BinaryPrimitives.ReadUInt16LittleEndian(extra[(p + 2)..]);
            if (p + 4 + size > extra.Length) return;
            if (id == 1)
            {
                var z = extra.Slice(p + 4, size);
                int q = 0;
                if (usize == 0xFFFFFFFF && q + 8 <= z.Length) { usize = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(z[q..])); q += 8; }
                if (csize == 0xFFFFFFFF && q + 8 <= z.Length) { csize = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(z[q..])); q += 8; }
                if (offset == 0xFFFFFFFF && q + 8 <= z.Length) { offset = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(z[q..])); }
                return;
            }
            p += 4 + size;
        }
    }

    private static long ToLong(ulong v) => v > long.MaxValue ? -1 : (long)v;

    internal static byte[] ReadAt(Stream s, long offset, int count)
    {
        var buffer = new byte[count];
        lock (s)
        {
            s.Position = offset;
            s.ReadExactly(buffer);
        }
        return buffer;
    }

    private static TorchSerialException Corrupt(string what) => Fail.Data(ErrorIds.CorruptZip, $"The zip archive is corrupt: {what}.");
}
