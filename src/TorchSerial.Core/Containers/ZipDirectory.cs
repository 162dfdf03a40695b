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

    // Taken once, while one thread opens the archive: a buffered FileStream's SafeFileHandle and Length getters
    // touch its buffer, which a deflated record's inflater may be moving on another thread.
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle? _handle;

    // Where the archive starts in the file of _handle: non-zero for an archive inside another file (a DCP item).
    private readonly long _handleBase;
    private readonly long _length;
    private FileSnapshot? _snapshot;
    private readonly Dictionary<string, ZipEntry> _byName;

    // Forensic reads (the scanner looking into an archive the load refused) skip the ambiguity checks: every
    // record, duplicates included, and the bytes after the end record are there to be looked at, never loaded.
    private readonly bool _forensic;

    /// <summary>Where the archive's end record ends; bytes from here to the file's end are not part of the
    /// zip.</summary>
    public long ArchiveEnd { get; private init; }

    private ZipDirectory(Stream stream, List<ZipEntry> entries, bool forensic = false)
    {
        _forensic = forensic;
        _stream = stream;
        (_handle, _handleBase) = stream switch
        {
            WindowStream window => (window.Handle, window.Start),
            FileStream file => (file.SafeFileHandle, 0L),
            _ => (null, 0L),
        };
        _length = stream.Length;
        Entries = entries;
        _byName = new Dictionary<string, ZipEntry>(entries.Count, StringComparer.Ordinal);
        // Two records of one name are read one way by one reader and another way by the next (Python's zipfile takes
        // the last, others the first): refused, so no scanner and no loader can disagree about what the file holds.
        foreach (var e in entries)
        {
            e.Directory = this;
            if (!_byName.TryAdd(e.Name, e) && !forensic)
                throw Fail.Data(ErrorIds.ZipDuplicateRecord,
                    $"The zip archive holds two records named '{e.Name}'; readers disagree on which one is meant, so " +
                        "TorchSerial refuses the file (torch.save never writes one).", e.Name);
        }
    }

    public IReadOnlyList<ZipEntry> Entries { get; }

    public ZipEntry? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The record named <paramref name="prefix"/> + <paramref name="name"/>, found without building that
    /// name where the runtime allows (one lookup per storage: two strings a tensor saved).</summary>
    public ZipEntry? Find(string prefix, string name)
    {
#if NET9_0_OR_GREATER
        int length = prefix.Length + name.Length;
        Span<char> full = length <= 256 ? stackalloc char[length] : new char[length];
        prefix.AsSpan().CopyTo(full);
        name.AsSpan().CopyTo(full[prefix.Length..]);
        return _byName.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(full, out var entry) ? entry : null;
#else
        return Find(prefix + name);
#endif
    }

    public static ZipDirectory Read(Stream stream, FileSnapshot? snapshot)
    {
        var dir = Read(stream);
        dir._snapshot = snapshot;
        return dir;
    }

    public static ZipDirectory Read(Stream stream) => Read(stream, forensic: false);

    /// <summary>The directory of an archive a load refuses as ambiguous, for a scan to look into: duplicate names,
    /// stray bytes and disagreeing local headers are let through, and encrypted records are left out.</summary>
    public static ZipDirectory ReadForensic(Stream stream) => Read(stream, forensic: true);

    private static ZipDirectory Read(Stream stream, bool forensic)
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
        long archiveEnd = eocdPos + 22 + BinaryPrimitives.ReadUInt16LittleEndian(e[20..]);
        long count = BinaryPrimitives.ReadUInt16LittleEndian(e[10..]);
        long cdSize = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
        long cdOffset = BinaryPrimitives.ReadUInt32LittleEndian(e[16..]);

        long directoryEnd = eocdPos;
        if (eocdPos >= 20)
        {
            var loc = ReadAt(stream, eocdPos - 20, 20);
            if (BinaryPrimitives.ReadUInt32LittleEndian(loc) == Zip64LocatorSig)
            {
                long z64Pos = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(loc.AsSpan(8)), long.MaxValue);
                if (z64Pos < 0 || z64Pos > length - 56)
                    throw Corrupt("its zip64 end-of-directory locator points outside the file");
                var z = ReadAt(stream, z64Pos, 56);
                if (BinaryPrimitives.ReadUInt32LittleEndian(z) != Zip64EocdSig)
                    throw Corrupt("its zip64 end-of-directory record is missing");
                count = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(z.AsSpan(32)));
                cdSize = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(z.AsSpan(40)));
                cdOffset = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(z.AsSpan(48)));
                directoryEnd = z64Pos;
            }
        }
        if (count < 0 || cdOffset < 0 || cdSize < 0 || cdOffset > length || cdSize > length - cdOffset
            || count > cdSize / 46)
            throw Fail.Data(ErrorIds.TruncatedZip,
                $"The zip central directory claims {count} entries in {cdSize} bytes at offset {cdOffset}, which " +
                    $"does not fit the {length}-byte file: the file is truncated or corrupt.");
        if (cdSize > int.MaxValue) throw Corrupt("its central directory is larger than 2 GiB");
        // Bytes after the end record, or a directory that does not end where the end record begins (bytes put before
        // the archive shift it), are content a zip reader skips and another tool may read: refused.
        if (!forensic && (archiveEnd != length || cdOffset + cdSize != directoryEnd))
            throw Fail.Data(ErrorIds.ZipStrayData,
                archiveEnd != length
                    ? $"The zip archive is followed by {length - archiveEnd} byte(s) after its end record; torch.save " +
                        "never writes them, and what they hold is read by some tools and not others, so TorchSerial " +
                        "refuses the file."
                    : $"The zip archive's central directory ({cdSize} bytes at offset {cdOffset}) does not end where " +
                        $"its end record begins ({directoryEnd}): bytes were added before or inside the archive.");

        // Pooled: a directory of 40,000 records is megabytes, and a fresh large array per open costs a full GC.
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent((int)cdSize);
        try
        {
            var cd = rented.AsSpan(0, (int)cdSize);
            ReadAt(stream, cdOffset, cd);
            return new ZipDirectory(stream, Parse(cd, count, forensic), forensic) { ArchiveEnd = archiveEnd };
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(rented); }
    }

    private static List<ZipEntry> Parse(ReadOnlySpan<byte> cd, long count, bool forensic)
    {
        var entries = new List<ZipEntry>((int)Math.Min(count, 1 << 16));
        int p = 0;
        for (long i = 0; i < count; i++)
        {
            if (p + 46 > cd.Length || BinaryPrimitives.ReadUInt32LittleEndian(cd[p..]) != CentralSig)
                throw Corrupt($"central directory entry {i} is damaged");
            var h = cd[p..];
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]);
            ushort method = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(h[16..]);
            long csize = BinaryPrimitives.ReadUInt32LittleEndian(h[20..]);
            long usize = BinaryPrimitives.ReadUInt32LittleEndian(h[24..]);
            int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
            int extraLen = BinaryPrimitives.ReadUInt16LittleEndian(h[30..]);
            int commentLen = BinaryPrimitives.ReadUInt16LittleEndian(h[32..]);
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(h[42..]);
            // A forensic read keeps records flagged as encrypted: a flag over plain bytes is read by lenient readers.
            if ((flags & 0x41) != 0 && !forensic)
                throw Fail.Unsupported(ErrorIds.ZipEncrypted,
                    $"Zip record {i} is flagged as encrypted; torch refuses encrypted records, and so does " +
                        "TorchSerial " +
                        "(reading them as plain bytes would be wrong).");
            if (p + 46 + nameLen + extraLen + commentLen > cd.Length)
                throw Corrupt($"central directory entry {i} runs past the directory");
            string name = Encoding.UTF8.GetString(h.Slice(46, nameLen));
            ApplyZip64Extra(h.Slice(46 + nameLen, extraLen), ref usize, ref csize, ref offset);
            entries.Add(new ZipEntry(name, method, flags, crc, csize, usize, offset));
            p += 46 + nameLen + extraLen + commentLen;
        }
        return entries;
    }

    /// <summary>Offset of the entry's first data byte, read from its local header (torch aligns it with an 'FB' extra
    /// field).</summary>
    public long DataOffset(ZipEntry e)
    {
        if (e.LocalHeaderOffset < 0 || e.LocalHeaderOffset > _length - 30)
            throw Corrupt($"the local header of '{e.Name}' lies outside the file");
        // The header and its name in one read: the name must be the central directory's, byte for byte.
        int nameBytes = Encoding.UTF8.GetByteCount(e.Name);
        int want = (int)Math.Min(30 + nameBytes, _length - e.LocalHeaderOffset);
        Span<byte> h = want <= 512 ? stackalloc byte[want] : new byte[want];
        // The window pays off only where records are small and side by side; a large record's header read through it
        // would copy the window's worth of data for 30 bytes. Lazy loads never use it: they read the file as it is now.
        ReadAt(_handle, _handleBase, _stream, e.LocalHeaderOffset, h, windowed: _snapshot is null
            && e.CompressedSize <= ReadWindow.SmallRead);
        if (BinaryPrimitives.ReadUInt32LittleEndian(h) != LocalSig)
            throw Corrupt($"the local header of '{e.Name}' is damaged");
        if (!_forensic && (BinaryPrimitives.ReadUInt16LittleEndian(h[26..]) != nameBytes || want < 30 + nameBytes
            || !SameName(h.Slice(30, nameBytes), e.Name)
            || BinaryPrimitives.ReadUInt16LittleEndian(h[8..]) != e.Method
            || (BinaryPrimitives.ReadUInt16LittleEndian(h[6..]) & 1) != 0))
            throw Fail.Data(ErrorIds.ZipHeaderMismatch,
                $"The local header of record '{e.Name}' disagrees with the central directory (name, compression or " +
                    "encryption): readers that trust one or the other see different files, so TorchSerial refuses it.",
                e.Name);
        long start = e.LocalHeaderOffset + 30 + BinaryPrimitives.ReadUInt16LittleEndian(h[26..])
            + BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
        if (e.CompressedSize < 0 || e.UncompressedSize < 0 || e.CompressedSize > _length - start)
            throw Fail.Data(ErrorIds.RecordSizeMismatch,
                $"Record '{e.Name}' claims {e.CompressedSize} bytes at offset {start}, past the end of the " +
                    $"{_length}-byte file: the file is truncated.", e.Name);
        return start;
    }

    private static bool SameName(ReadOnlySpan<byte> local, string central)
    {
        Span<byte> expected = local.Length <= 256 ? stackalloc byte[local.Length] : new byte[local.Length];
        return Encoding.UTF8.GetBytes(central, expected) == local.Length && local.SequenceEqual(expected);
    }

    /// <summary>The entry's uncompressed bytes, read on use (its CRC is <see cref="ZipEntry.RecordedCrc"/>).</summary>
    public StorageBuffer Open(ZipEntry e)
    {
        Check(e);
        var start = new LocalHeader(this, e);
        return e.Method == ZipEntry.Stored
            ? new FileRangeBuffer(_stream, start, e.UncompressedSize, e.Name, _snapshot, _handle)
                { HandleBase = _handleBase }
            : new DeflatedBuffer(_stream, start, e.CompressedSize, e.UncompressedSize, e.Name);
    }

    /// <summary>
    /// Everything <see cref="Open"/> refuses, found without opening anything: what the central directory says must
    /// fit the file now (the local header is read with the bytes, later), and the record must be one torch writes.
    /// </summary>
    public void Check(ZipEntry e)
    {
        if (e.CompressedSize < 0 || e.UncompressedSize < 0 || e.LocalHeaderOffset < 0
            || e.CompressedSize > _length - e.LocalHeaderOffset - 30)
            throw Fail.Data(ErrorIds.RecordSizeMismatch,
                $"Record '{e.Name}' claims {e.CompressedSize} bytes at offset {e.LocalHeaderOffset}, past the end of " +
                    $"the {_length}-byte file: the file is truncated.", e.Name);
        switch (e.Method)
        {
            case ZipEntry.Stored when e.CompressedSize != e.UncompressedSize:
                throw Corrupt($"stored record '{e.Name}' has different compressed ({e.CompressedSize}) and " +
                    $"uncompressed ({e.UncompressedSize}) sizes");
            case ZipEntry.Stored: return;
            // Deflate cannot expand data more than 1032:1; a larger claim is a bomb, refused before any allocation.
            case ZipEntry.Deflated when e.UncompressedSize > e.CompressedSize * 1032 + 1024:
                throw Fail.Data(ErrorIds.ZipBomb,
                    $"Record '{e.Name}' claims to inflate from {e.CompressedSize} to {e.UncompressedSize} bytes, " +
                        "more than deflate can expand; the archive is a zip bomb or corrupt.", e.Name);
            case ZipEntry.Deflated: return;
            default:
                throw Fail.Unsupported(ErrorIds.UnsupportedCompression,
                    $"Record '{e.Name}' uses zip compression method {e.Method}; torch checkpoints use only stored " +
                        "(0) or deflate (8).");
        }
    }

    /// <summary>Reads a small record (data.pkl, version, byteorder) fully into memory.</summary>
    public byte[] ReadAll(ZipEntry e)
    {
        var (source, length) = Checked(e);
        var buffer = new byte[length];
        ReadInto(e, source, buffer);
        return buffer;
    }

    /// <summary>
    /// Reads a record into an array rented from the shared pool (return it when done): the pickle of a checkpoint
    /// of many tensors is megabytes, and a fresh large array for every load costs a full collection.
    /// </summary>
    public byte[] Rent(ZipEntry e, out int length)
    {
        (var source, length) = Checked(e);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        try { ReadInto(e, source, buffer.AsSpan(0, length)); }
        catch
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        return buffer;
    }

    /// <summary>The record's bytes and size; opening checks the claim against the file (and deflate's ratio) before
    /// anything is allocated.</summary>
    private (StorageBuffer Source, int Length) Checked(ZipEntry e)
    {
        var source = Open(e);
        if (e.UncompressedSize > Array.MaxLength)
            throw Fail.Unsupported(ErrorIds.TensorTooLarge, $"Record '{e.Name}' is larger than 2 GiB.");
        return (source, (int)e.UncompressedSize);
    }

    /// <summary>
    /// Whether the small records read whole (data.pkl, constants.pkl, version, byteorder) are checked against their
    /// CRC-32 (storages have their own check). On by default; the load turns it off with -SkipCrc.
    /// </summary>
    public bool VerifyRecordCrc { get; set; } = true;

    private void ReadInto(ZipEntry e, StorageBuffer source, Span<byte> buffer)
    {
        using (var reader = source.OpenReader())
        {
            reader.ReadExactly(buffer);
            reader.Finish();
        }
        if (!VerifyRecordCrc || e.Crc32 == 0 || buffer.IsEmpty) return;
        uint crc = System.IO.Hashing.Crc32.HashToUInt32(buffer);
        if (crc != e.Crc32)
            throw Fail.Data(ErrorIds.CrcMismatch,
                $"The bytes of record '{e.Name}' do not match the CRC-32 recorded for them (stored {e.Crc32:x8}, " +
                    $"computed {crc:x8}): the file was damaged after it was written. Fetch it again; -SkipCrc reads " +
                    "it anyway.", e.Name);
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
                if (usize == 0xFFFFFFFF
                    && q + 8 <= z.Length) { usize = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(z[q..])); q += 8; }
                if (csize == 0xFFFFFFFF
                    && q + 8 <= z.Length) { csize = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(z[q..])); q += 8; }
                if (offset == 0xFFFFFFFF
                    && q + 8 <= z.Length) { offset = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(z[q..])); }
                return;
            }
            p += 4 + size;
        }
    }

    private static long ToLong(ulong v) => v > long.MaxValue ? -1 : (long)v;

    internal static byte[] ReadAt(Stream s, long offset, int count)
    {
        var buffer = new byte[count];
        ReadAt(s, offset, buffer);
        return buffer;
    }

    /// <summary>
    /// A positional read. Files are read on their handle: a buffered FileStream would refill its whole buffer
    /// for every small header, which made opening a checkpoint of 40,000 records copy gigabytes.
    /// </summary>
    internal static void ReadAt(Stream s, long offset, Span<byte> destination, bool windowed = false)
        => ReadAt((s as FileStream)?.SafeFileHandle, 0, s, offset, destination, windowed);

    /// <summary>A positional read on a handle taken beforehand (safe beside other threads using the stream).</summary>
    private static void ReadAt(Microsoft.Win32.SafeHandles.SafeFileHandle? handle, long handleBase, Stream s,
        long offset, Span<byte> destination, bool windowed)
    {
        if (handle is not null)
        {
            int done = 0;
            while (done < destination.Length)
            {
                int n = windowed ? ReadWindow.Read(handle, destination[done..], handleBase + offset + done)
                    : RandomAccess.Read(handle, destination[done..], handleBase + offset + done);
                if (n == 0) throw new EndOfStreamException();
                done += n;
            }
            return;
        }
        lock (s)
        {
            s.Position = offset;
            s.ReadExactly(destination);
        }
    }

    private static TorchSerialException Corrupt(string what) => Fail.Data(ErrorIds.CorruptZip, $"The zip archive is corrupt: {what}.");

    /// <summary>Where a record's data starts: after its local header, read when the data is.</summary>
    private sealed class LocalHeader(ZipDirectory directory, ZipEntry entry) : IRangeStart
    {
        public long Locate() => directory.DataOffset(entry);
    }
}
