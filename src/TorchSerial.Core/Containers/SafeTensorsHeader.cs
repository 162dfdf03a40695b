using System.Buffers.Binary;
using TorchSerial.Errors;

namespace TorchSerial.Containers;

/// <summary>
/// The header of a safetensors file, validated once when it is read or built and immutable after: every rule of
/// the reference reader holds (formats-next.md §1.4), each broken rule has its own ErrorId. Entries are kept in
/// data-offset order, which for a file this writer made is also the order the reference writer chooses.
/// </summary>
public sealed class SafeTensorsHeader
{
    private SafeTensorsHeader(IReadOnlyList<SafeTensorsEntry> entries, IReadOnlyList<KeyValuePair<string,
        string>>? metadata,
        long jsonLength)
    {
        Entries = entries;
        Metadata = metadata;
        JsonLength = jsonLength;
    }

    /// <summary>The tensors, in the order of their data.</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> pairs in file order; null when the header has none.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Metadata { get; }

    /// <summary>N, the length of the JSON header (padding included).</summary>
    public long JsonLength { get; }

    /// <summary>Where the data starts in the file: after the 8-byte length and the JSON.</summary>
    public long DataStart => 8 + JsonLength;

    /// <summary>Bytes of tensor data the header covers.</summary>
    public long DataLength => Entries.Count == 0 ? 0 : Entries[^1].End;

    /// <summary>Reads and validates the header of a file (or seekable stream) against the file's length.</summary>
    public static SafeTensorsHeader Read(Stream stream)
    {
        long length = stream.Length;
        if (length < 8)
            throw Fail.Data(ErrorIds.SafeTensorsHeaderTooSmall,
                $"The file holds {length} bytes; a safetensors file starts with an 8-byte header length.");
        var prefix = ZipDirectory.ReadAt(stream, 0, 8);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > SafeTensorsFormat.MaxHeaderLength)
            throw Fail.Data(ErrorIds.SafeTensorsHeaderTooLarge,
                $"The safetensors header claims {n} bytes; readers refuse headers over " +
                    $"{SafeTensorsFormat.MaxHeaderLength}.", offset: 0);
        if (n < 2)
            throw Fail.Data(ErrorIds.SafeTensorsHeaderTooSmall,
                $"The safetensors header claims {n} bytes, too few for a JSON object.", offset: 0);
        if (8 + (long)n > length)
            throw Fail.Data(ErrorIds.SafeTensorsInvalidHeaderLength,
                $"The safetensors header claims {n} bytes but the file has only {length - 8} after the length: it is " +
                    $"truncated.", offset: 0);
        var json = ZipDirectory.ReadAt(stream, 8, (int)n);
        var (entries, metadata) = SafeTensorsJson.Parse(json);
        var header = Validated(entries, metadata, (long)n);
        long end = header.DataStart + header.DataLength;
        if (end < length)
            throw Fail.Data(ErrorIds.SafeTensorsTrailingBytes,
                $"The file has {length - end} bytes after the last tensor's data (which ends at byte {end}); a " +
                    $"safetensors file " +
                "must end with its data. Extra bytes are how polyglot files hide a second payload.", offset: end);
        if (end > length)
            throw Fail.Data(ErrorIds.SafeTensorsTruncated,
                $"The header says the data ends at byte {end} but the file has only {length} bytes: it is truncated.",
                    offset: length);
        return header;
    }

    /// <summary>
    /// A header for tensors to write, laid out as the reference writer lays them out: sorted by descending dtype
    /// (widest first, so each tensor is aligned) then by name, back to back from offset 0.
    /// </summary>
    public static SafeTensorsHeader Build(IEnumerable<(string Name, SafeTensorsDType DType, long[] Shape)> tensors,
        IReadOnlyList<KeyValuePair<string, string>>? metadata)
    {
        var ordered = tensors.OrderByDescending(t => t.DType.Rank).ThenBy(t => t.Name,
            SafeTensorsFormat.NameOrder).ToList();
        var entries = new List<SafeTensorsEntry>(ordered.Count);
        long at = 0;
        foreach (var (name, dtype, shape) in ordered)
        {
            long bytes = checked(shape.Aggregate(1L, (a, d) => checked(a * d)) * dtype.Bits) / 8;
            entries.Add(new SafeTensorsEntry(name, dtype, shape, at, at + bytes));
            at += bytes;
        }
        int json = SafeTensorsJson.Serialize(entries, metadata).Length;
        return Validated(entries, metadata, json
            + (SafeTensorsFormat.HeaderAlignment - json % SafeTensorsFormat.HeaderAlignment)
            % SafeTensorsFormat.HeaderAlignment);
    }

    /// <summary>The bytes before the data: the 8-byte length, the compact JSON and its space padding.</summary>
    public byte[] ToBytes()
    {
        var json = SafeTensorsJson.Serialize(Entries, Metadata);
        var bytes = new byte[8 + JsonLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)JsonLength);
        json.CopyTo(bytes.AsSpan(8));
        bytes.AsSpan(8 + json.Length).Fill((byte)' ');
        return bytes;
    }

    /// <summary>The offset rules: sorted by offsets, the data is covered from 0 with no holes or overlaps, sizes
    /// match.</summary>
    private static SafeTensorsHeader Validated(List<SafeTensorsEntry> entries, IReadOnlyList<KeyValuePair<string,
        string>>? metadata,
        long jsonLength)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (!names.Add(e.Name))
                throw Fail.Data(ErrorIds.SafeTensorsDuplicateName,
                    $"The safetensors header names tensor '{e.Name}' twice; which one a reader keeps differs between " +
                        $"readers.", e.Name);
            if (e.Name.Length == 0 || e.Name.Contains('\0'))
                throw Fail.Data(ErrorIds.SafeTensorsInvalidName,
                    $"The safetensors header has a tensor named " +
                        $"'{e.Name.Replace("\0", "\\0", StringComparison.Ordinal)}': names must be " +
                    "non-empty and hold no NUL character.", e.Name);
            if (e.End < e.Begin)
                throw Fail.Data(ErrorIds.SafeTensorsOffsetReversed,
                    $"Tensor '{e.Name}' has data_offsets [{e.Begin}, {e.End}]: the end comes before the start.",
                        e.Name);
        }
        // A stable sort: empty tensors share an offset, and their order must stay the writer's.
        entries = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        long expected = 0;
        string? previous = null;
        foreach (var e in entries)
        {
            if (e.Begin < expected)
                throw Fail.Data(ErrorIds.SafeTensorsOffsetOverlap,
                    $"Tensor '{e.Name}' starts at data byte {e.Begin}, inside '{previous}' (which ends at " +
                        $"{expected}): tensors overlap.", e.Name);
            if (e.Begin > expected)
                throw Fail.Data(ErrorIds.SafeTensorsOffsetGap,
                    $"Tensor '{e.Name}' starts at data byte {e.Begin} but the data before it ends at {expected}: the " +
                        $"data has a hole " +
                    $"of {e.Begin - expected} bytes.", e.Name);
            long values, bits;
            try
            {
                values = e.NumValues;
                bits = checked(values * e.DType.Bits);
            }
            catch (OverflowException)
            {
                throw Fail.Data(ErrorIds.SafeTensorsOverflow,
                    $"Tensor '{e.Name}' has the shape [{string.Join(", ", e.Shape)}], whose size overflows 64-bit " +
                        $"arithmetic.", e.Name);
            }
            if (bits % 8 != 0)
                throw Fail.Data(ErrorIds.SafeTensorsMisalignedSize,
                    $"Tensor '{e.Name}' holds {values} values of {e.DType.Code} ({bits} bits), not a whole number of " +
                        $"bytes.", e.Name);
            if (e.ByteLength != bits / 8)
                throw Fail.Data(ErrorIds.SafeTensorsSizeMismatch,
                    $"Tensor '{e.Name}' has data_offsets [{e.Begin}, {e.End}] ({e.ByteLength} bytes), but its shape " +
                    $"[{string.Join(", ", e.Shape)}] of {e.DType.Code} needs {bits / 8} bytes.", e.Name);
            expected = e.End;
            previous = e.Name;
        }
        return new SafeTensorsHeader(entries.AsReadOnly(), metadata, jsonLength);
    }
}
