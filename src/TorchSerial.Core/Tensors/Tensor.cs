using TorchSerial.Buffers;
using TorchSerial.Errors;
using System.Collections;

namespace TorchSerial.Tensors;

/// <summary>
/// A tensor as torch.load returns it: a typed, strided view (<see cref="Shape"/>, <see cref="Stride"/>,
/// <see cref="StorageOffset"/>, all in elements) over a <see cref="Storage"/>.
/// </summary>
public sealed class Tensor
{
    internal Tensor(Storage storage, DType dtype, long storageOffset, long[] shape, long[] stride)
    {
        Storage = storage;
        DTypeInfo = dtype;
        StorageOffset = storageOffset;
        Shape = shape;
        Stride = stride;
        NumElements = TensorGeometry.Validate(storage, dtype, storageOffset, shape, stride);
        Name = "";
    }

    /// <summary>A tensor with no data, as torch's meta device has (shape, dtype and stride only).</summary>
    internal static Tensor Meta(DType dtype, long[] shape, long[] stride, bool requiresGrad)
    {
        if (shape.Length != stride.Length || shape.Any(s => s < 0) || stride.Any(s => s < 0))
            throw Fail.Data(ErrorIds.PickleStructure,
                "A meta tensor has an invalid size " +
                    $"[{string.Join(", ", shape)}] or stride [{string.Join(", ", stride)}].");
        long numel;
        try { numel = shape.Aggregate(1L, (n, s) => checked(n * s)); }
        catch (OverflowException)
        {
            throw Fail.Data(ErrorIds.ArithmeticOverflow, $"A meta tensor's size [{string.Join(", ", shape)}] overflows.");
        }
        var storage = new Storage("", dtype, 0, "meta", untyped: false, new NoDataBuffer());
        return new Tensor(storage, dtype, shape, stride, numel) { RequiresGrad = requiresGrad };
    }

    private Tensor(Storage storage, DType dtype, long[] shape, long[] stride, long numel)
    {
        Storage = storage;
        DTypeInfo = dtype;
        Shape = shape;
        Stride = stride;
        NumElements = numel;
        Name = "";
    }

    // What few tensors have (sparse parts, quantization, math bits, Python attributes and subclasses), kept aside:
    // a lazy listing of many small tensors holds one Tensor each, and every field here would be paid by all of them.
    private sealed class RareParts
    {
        public SparseTensor? Sparse;
        public Quantization? Quantization;
        public IDictionary? Metadata;
        public object? PythonState;
        public string? PythonType;

        public RareParts Copy() => (RareParts)MemberwiseClone();
    }

    private RareParts? _rare;

    // Where to set a rare part: none is made to hold a null.
    private RareParts? RareFor(object? value) => value is null && _rare is null ? null : _rare ??= new RareParts();

    /// <summary>True for a tensor on torch's meta device: it has a shape, a dtype and strides, and no data.</summary>
    public bool IsMeta => Storage.Buffer is NoDataBuffer;

    /// <summary>The sparse tensor this is a part of (its indices or values), or null for a dense tensor.</summary>
    public SparseTensor? Sparse
    {
        get => _rare?.Sparse; internal set { if (RareFor(value) is { } r) r.Sparse = value; }
    }

    /// <summary>The key path of the tensor inside the checkpoint, joined with '.'.</summary>
    public string Name { get; internal set; }

    /// <summary>
    /// The file the tensor was read from: the checkpoint itself, or for a sharded set the shard that holds it.
    /// Null for tensors made in memory or loaded from a stream.
    /// </summary>
    public string? SourceFile { get; internal set; }

    /// <summary>torch's name of the dtype (<c>float32</c>): what scripts compare, export and log.</summary>
    public string DType => DTypeInfo.Name;

    /// <summary>The dtype itself: item size, whether it is floating point, its storage class.</summary>
    public DType DTypeInfo { get; }

    /// <summary>The size of each dimension; written as <c>[3, 4]</c>.</summary>
    public DimList Shape { get; }

    /// <summary>Elements to step over in the storage for each dimension; written as <c>[4, 1]</c>.</summary>
    public DimList Stride { get; }
    public long StorageOffset { get; }
    public long NumElements { get; }
    public int Rank => Shape.Length;
    public bool RequiresGrad { get; internal set; }

    /// <summary>True when the tensor was saved as a <c>torch.nn.Parameter</c>.</summary>
    public bool IsParameter { get; internal set; }

    /// <summary>Where the data is now, e.g. <c>cpu</c>.</summary>
    public string Device => Storage.Device;

    /// <summary>The location tag stored in the file, e.g. <c>cuda:1</c>.</summary>
    public string SavedLocation => Storage.SavedLocation;

    /// <summary>The storage; the same object for every tensor sharing it in the file.</summary>
    public Storage Storage { get; private set; }

    /// <summary>Quantization parameters for quantized dtypes; null otherwise.</summary>
    public Quantization? Quantization
    {
        get => _rare?.Quantization; internal set { if (RareFor(value) is { } r) r.Quantization = value; }
    }

    /// <summary>Math bits torch 2.x may save (e.g. <c>conj</c>, <c>neg</c>); null when none were saved.</summary>
    public IDictionary? Metadata
    {
        get => _rare?.Metadata; internal set { if (RareFor(value) is { } r) r.Metadata = value; }
    }

    /// <summary>Python attributes saved with the tensor (<c>t.foo = 1</c>), or null.</summary>
    public object? PythonState
    {
        get => _rare?.PythonState; internal set { if (RareFor(value) is { } r) r.PythonState = value; }
    }

    /// <summary>The Python class when it is a subclass recorded by <c>_rebuild_from_type_v2</c>; null for plain
    /// tensors.</summary>
    public string? PythonType
    {
        get => _rare?.PythonType; internal set { if (RareFor(value) is { } r) r.PythonType = value; }
    }

    /// <summary>True when the elements sit row-major and back to back in the storage.</summary>
    public bool IsContiguous => TensorGeometry.IsContiguous(Shape.Items, Stride.Items);

    /// <summary>Bytes of the logical elements: <see cref="NumElements"/> × the dtype's item size.</summary>
    public long NumBytes => DTypeInfo.ValuesPerByte is var per and > 1 ? (NumElements + per - 1) / per
        : NumElements * DTypeInfo.ItemSize;

    /// <summary>The logical elements, row-major, little-endian (up to one .NET array's size; see <see
    /// cref="CopyTo(Stream, CancellationToken)"/> beyond).</summary>
    public byte[] GetBytes()
    {
        if (NumBytes > Array.MaxLength)
            throw Fail.Unsupported(ErrorIds.TensorTooLarge,
                $"Tensor '{Name}' holds {NumBytes} bytes, more than one .NET array can hold ({Array.MaxLength}). " +
                    $"Read it in pieces: " +
                "CopyTo(stream) writes every byte, ReadBytes(start, count) reads a range of elements, " +
                    "EnumerateChunks() yields it chunk by chunk.");
        return ReadBytes(0, NumElements);
    }

    /// <summary>The bytes of <paramref name="count"/> logical elements from element <paramref name="start"/> (row-major
    /// order).</summary>
    public byte[] ReadBytes(long start, long count)
    {
        if (IsMeta)
            throw Fail.Unsupported(ErrorIds.MetaTensorHasNoData,
                $"Tensor '{Name}' is a meta tensor: torch saved its shape, dtype and strides but no data, so there " +
                    "are no " +
                    "values to read.");
        if (start < 0 || count < 0 || start > NumElements - count)
            throw new TorchSerialException(ErrorIds.InvalidTensorData, ErrorKind.InvalidArgument,
                $"Elements {start}..{start + count} are outside tensor '{Name}', which has {NumElements}.");
        if (DTypeInfo.ValuesPerByte > 1) return ReadPacked(start, count);
        if (count * DTypeInfo.ItemSize > Array.MaxLength)
            throw Fail.Unsupported(ErrorIds.TensorTooLarge,
                $"{count} elements of {DType} do not fit in one .NET array; read fewer at a time.");
        var bytes = GC.AllocateUninitializedArray<byte>((int)(count * DTypeInfo.ItemSize));
        TensorGeometry.Gather(Storage.Buffer, DTypeInfo.ItemSize, StorageOffset, Shape.Items, Stride.Items, start,
            bytes);
        return bytes;
    }

    /// <summary>
    /// Packed values (quint4x2, quint2x4) as the bytes that hold them, which is what torch's int_repr() gives for
    /// them: a contiguous run starting on a byte boundary, since a byte's values cannot be split or re-strided.
    /// </summary>
    private byte[] ReadPacked(long start, long count)
    {
        int per = DTypeInfo.ValuesPerByte;
        long first = StorageOffset + start;
        if (!IsContiguous || first % per != 0 || (count % per != 0 && start + count != NumElements))
            throw Fail.Unsupported(ErrorIds.UnsupportedTensorFeature,
                $"Tensor '{Name}' is {DType}, {per} values to a byte; only whole bytes of a contiguous tensor can be " +
                    $"read (elements {start}..{start + count} of {NumElements}, storage offset {StorageOffset}).");
        long bytes = (count + per - 1) / per;
        if (bytes > Array.MaxLength)
            throw Fail.Unsupported(ErrorIds.TensorTooLarge,
                $"{count} values of {DType} do not fit in one .NET array; read fewer at a time.");
        var result = GC.AllocateUninitializedArray<byte>((int)bytes);
        TensorGeometry.Gather(Storage.Buffer, 1, first / per, new[] { bytes }, new[] { 1L }, 0, result);
        return result;
    }

    /// <summary>
    /// The logical elements in pieces of about <paramref name="chunkBytes"/> (whole elements), row-major, for tensors
    /// of any size. A contiguous tensor over a whole storage not read yet is streamed from its file (CRC-checked) and
    /// not kept.
    /// </summary>
    public IEnumerable<byte[]> EnumerateChunks(int chunkBytes = Buffers.StorageBuffer.ChunkSize)
    {
        if (IsMeta) ReadBytes(0, 0); // the named MetaTensorHasNoData error
        int item = DTypeInfo.ItemSize;
        long per = Math.Max(1, chunkBytes / item);
        if (StreamsWholeStorage)
        {
            foreach (var chunk in StreamStorage((int)(per * item))) yield return chunk;
            yield break;
        }
        for (long at = 0; at < NumElements; at += per) yield return ReadBytes(at, Math.Min(per, NumElements - at));
    }

    /// <summary>Writes the logical elements (row-major, little-endian) to <paramref name="destination"/>, chunk by
    /// chunk.</summary>
    public void CopyTo(Stream destination, CancellationToken cancellationToken = default)
        => CopyTo(chunk => destination.Write(chunk), new byte[1 << 20], cancellationToken);

    /// <summary>
    /// Streams the logical elements to <paramref name="sink"/>: a tensor that is its whole storage streams the storage
    /// (from memory, or from its file CRC-checked); a view is gathered through <paramref name="scratch"/>. Memory stays
    /// at one scratch buffer whatever the size.
    /// </summary>
    internal void CopyTo(SpanAction sink, byte[] scratch, CancellationToken cancellationToken)
    {
        if (IsMeta) ReadBytes(0, 0); // the named MetaTensorHasNoData error
        if (StorageOffset == 0 && NumBytes == Storage.NumBytes && IsContiguous)
        {
            Storage.Buffer.CopyTo(sink, scratch, cancellationToken);
            return;
        }
        int item = DTypeInfo.ItemSize;
        long per = Math.Max(1, scratch.Length / item);
        for (long at = 0; at < NumElements; at += per)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long n = Math.Min(per, NumElements - at);
            var window = scratch.AsSpan(0, (int)(n * item));
            TensorGeometry.Gather(Storage.Buffer, item, StorageOffset, Shape.Items, Stride.Items, at, window);
            sink(window);
        }
    }

    private bool StreamsWholeStorage => !Storage.IsLoaded && StorageOffset == 0 && NumBytes == Storage.NumBytes
        && IsContiguous;

    private IEnumerable<byte[]> StreamStorage(int chunkBytes)
    {
        using var reader = Storage.Buffer.OpenReader();
        for (long at = 0; at < NumBytes; at += chunkBytes)
        {
            int n = (int)Math.Min(chunkBytes, NumBytes - at);
            var chunk = new byte[n];
            reader.ReadExactly(chunk);
            yield return chunk;
        }
        reader.Finish();
    }

    /// <summary>
    /// The logical elements as a typed array: <c>float[]</c>, <c>double[]</c>, <c>Half[]</c>, <c>long[]</c>,
    /// <c>bool[]</c>, <c>Complex[]</c>, … bfloat16 and the float8 types widen exactly to <c>float[]</c>.
    /// </summary>
    public Array ToArray() => ElementDecoder.Decode(DTypeInfo, GetBytes());

    /// <summary>
    /// Makes a new contiguous tensor from values (any .NET numbers, bools or Complex), converted to
    /// <paramref name="dtype"/> with torch's rounding. <paramref name="shape"/> defaults to one dimension;
    /// its product must equal the number of values.
    /// </summary>
    public static Tensor FromValues(IReadOnlyList<object> values, DType dtype, long[]? shape = null, string name = "",
        bool requiresGrad = false, bool isParameter = false)
    {
        if (dtype.IsQuantized)
            throw new TorchSerialException(ErrorIds.InvalidTensorData, ErrorKind.InvalidArgument,
                $"Quantized tensors ({dtype}) cannot be made from plain values; quantize them in torch.");
        shape ??= new[] { (long)values.Count };
        long numel = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new TorchSerialException(ErrorIds.InvalidTensorData, ErrorKind.InvalidArgument,
                $"The shape [{string.Join(", ", shape)}] has a negative size.");
            numel = checked(numel * d);
        }
        if (numel != values.Count)
            throw new TorchSerialException(ErrorIds.InvalidTensorData, ErrorKind.InvalidArgument,
                $"The shape [{string.Join(", ", shape)}] holds {numel} elements but {values.Count} values were given.");
        var bytes = new byte[checked(numel * dtype.ItemSize)];
        for (int i = 0; i < values.Count; i++) ElementEncoder.Encode(dtype, values[i], bytes.AsSpan(i * dtype.ItemSize,
            dtype.ItemSize), i);
        var t = Contiguous(bytes, dtype, shape, name);
        t.RequiresGrad = requiresGrad;
        t.IsParameter = isParameter;
        return t;
    }

    /// <summary>A contiguous tensor over a copy-free wrap of little-endian element bytes (their length must fit the
    /// shape).</summary>
    public static Tensor FromBytes(byte[] bytes, DType dtype, long[] shape, string name = "")
    {
        long numel = shape.Aggregate(1L, (a, d) => checked(a * d));
        if (numel * dtype.ItemSize != bytes.Length)
            throw new TorchSerialException(ErrorIds.InvalidTensorData, ErrorKind.InvalidArgument,
                $"The shape [{string.Join(", ", shape)}] of {dtype} needs {numel * dtype.ItemSize} bytes but " +
                    $"{bytes.Length} were given.");
        return Contiguous(bytes, dtype, shape, name);
    }

    /// <summary>A row-major tensor over its own new storage holding <paramref name="bytes"/>.</summary>
    private static Tensor Contiguous(byte[] bytes, DType dtype, long[] shape, string name)
    {
        var storage = new Storage("new", dtype.IsV3 ? Tensors.DType.UInt8 : dtype, bytes.Length, "cpu", dtype.IsV3,
            new Buffers.ManagedBuffer(bytes));
        return new Tensor(storage, dtype, 0, (long[])shape.Clone(),
            TensorGeometry.ContiguousStrides(shape)) { Name = name };
    }

    /// <summary>The same view (name, dtype, geometry, flags) over another storage holding the same bytes.</summary>
    internal Tensor WithStorage(Storage storage)
    {
        var t = Clone();
        t.Storage = storage;
        return t;
    }

    /// <summary>The same view (name, geometry in elements, flags, Python state) in another dtype over another
    /// storage.</summary>
    internal Tensor Recast(Storage storage, DType dtype)
        => new(storage, dtype, StorageOffset, Shape.Items, Stride.Items)
    {
        Name = Name, RequiresGrad = RequiresGrad, IsParameter = IsParameter, PythonState = PythonState,
            PythonType = PythonType,
        Metadata = Metadata, SourceFile = SourceFile, Sparse = Sparse, // a cast part is still that sparse tensor's part
    };

    /// <summary>A copy of this tensor object under another name, sharing the same storage.</summary>
    // A copy that owns its rare parts: a shared side object would let setting one copy's part set the other's.
    private Tensor Clone()
    {
        var t = (Tensor)MemberwiseClone();
        t._rare = _rare?.Copy();
        return t;
    }

    internal Tensor WithName(string name)
    {
        var t = Clone();
        t.Name = name;
        return t;
    }

    public override string ToString() => $"{Name} {DType}[{string.Join(", ", Shape)}]";

    /// <summary>
    /// The first <paramref name="count"/> values as text, like the start of torch's repr: <c>[0.1, -2, 3.5, …]</c>.
    /// Null when the data has not been read (a lazy tensor, which a display must not read) or cannot be read here.
    /// </summary>
    public string? Preview(int count = 6)
    {
        if (!Storage.IsLoaded || IsMeta || count <= 0) return null;
        try
        {
            long n = Math.Min(count, NumElements);
            var values = ElementDecoder.Decode(DTypeInfo, ReadBytes(0, n));
            var parts = new List<string>((int)n + 1);
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            // Four significant digits, as torch's repr shows by default; complex values as Python writes them.
            foreach (var v in values) parts.Add(v switch
            {
                double d => d.ToString("G4", inv),
                float f => f.ToString("G4", inv),
                Half h => ((float)h).ToString("G4", inv),
                bool b => b ? "True" : "False",
                System.Numerics.Complex c => $"({c.Real.ToString("G4", inv)}{(c.Imaginary < 0 ? "-" : "+")}" +
                    $"{Math.Abs(c.Imaginary).ToString("G4", inv)}j)",
                IFormattable x => x.ToString(null, inv),
                _ => v?.ToString() ?? "",
            });
            if (NumElements > n) parts.Add("…");
            return Rank == 0 ? parts[0] : "[" + string.Join(", ", parts) + "]";
        }
        catch (TorchSerialException) { return null; }
    }
}

/// <summary>Quantization parameters of a quantized tensor (<c>_rebuild_qtensor</c>).</summary>
public sealed class Quantization
{
    public Quantization(string scheme, double? scale, long? zeroPoint, Tensor? scales, Tensor? zeroPoints, long? axis)
    {
        Scheme = scheme; Scale = scale; ZeroPoint = zeroPoint; Scales = scales; ZeroPoints = zeroPoints; Axis = axis;
    }

    /// <summary><c>per_tensor_affine</c> or <c>per_channel_affine</c> (torch's qscheme name).</summary>
    public string Scheme { get; }
    public double? Scale { get; }
    public long? ZeroPoint { get; }
    public Tensor? Scales { get; }
    public Tensor? ZeroPoints { get; }
    public long? Axis { get; }
}
