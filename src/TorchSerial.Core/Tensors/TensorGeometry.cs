using TorchSerial.Buffers;
using TorchSerial.Errors;

namespace TorchSerial.Tensors;

/// <summary>Checks and walks the strided layout of a tensor over its storage.</summary>
internal static class TensorGeometry
{
    /// <summary>
    /// Validates shape, stride and offset against the storage and returns the element count.
    /// All arithmetic is checked: a crafted file must not overflow its way past the bounds check.
    /// </summary>
    public static long Validate(Storage storage, DType dtype, long offset, long[] shape, long[] stride)
    {
        string Where() => $"a tensor over storage '{storage.Key}'"; // built only for an error
        if (shape.Length != stride.Length)
            throw Fail.Data(ErrorIds.PickleStructure,
                $"{Where()} has {shape.Length} sizes but {stride.Length} strides.");
        if (offset < 0)
            throw Fail.Data(ErrorIds.NegativeSize, $"{Where()} has a negative storage offset ({offset}).");
        long numel = 1, maxIndex = offset;
        try
        {
            for (int i = 0; i < shape.Length; i++)
            {
                if (shape[i] < 0) throw Fail.Data(ErrorIds.NegativeSize,
                    $"{Where()} has a negative size ({shape[i]}) in dimension {i}.");
                if (stride[i] < 0) throw Fail.Data(ErrorIds.NegativeSize,
                    $"{Where()} has a negative stride ({stride[i]}) in dimension {i}.");
                numel = checked(numel * shape[i]);
            }
            if (numel == 0) return 0;
            for (int i = 0; i < shape.Length; i++) maxIndex = checked(maxIndex + checked((shape[i] - 1) * stride[i]));
            long needBytes = dtype.ValuesPerByte > 1
                ? checked(maxIndex + dtype.ValuesPerByte) / dtype.ValuesPerByte // whole bytes of packed values
                : checked(checked(maxIndex + 1) * dtype.ItemSize);
            if (needBytes > storage.NumBytes)
                throw Fail.Data(ErrorIds.ViewOutOfBounds,
                    $"{Where()} reaches byte {needBytes} but the storage holds only {storage.NumBytes} bytes " +
                    $"(offset {offset}, shape [{string.Join(", ", shape)}], stride [{string.Join(", ", stride)}], " +
                        $"dtype {dtype}).");
        }
        catch (OverflowException)
        {
            throw Fail.Data(ErrorIds.ArithmeticOverflow,
                $"{Where()} has sizes, strides or an offset whose product overflows 64-bit arithmetic " +
                $"(offset {offset}, shape [{string.Join(", ", shape)}], stride [{string.Join(", ", stride)}]).");
        }
        return numel;
    }

    /// <summary>The strides of a row-major tensor of <paramref name="shape"/> (size-0 and size-1 dimensions count as
    /// 1).</summary>
    public static long[] ContiguousStrides(long[] shape)
    {
        var stride = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { stride[i] = s; s *= Math.Max(1, shape[i]); }
        return stride;
    }

    public static bool IsContiguous(long[] shape, long[] stride)
    {
        long expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] == 1) continue;
            if (stride[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /// <summary>
    /// Copies logical elements <paramref name="start"/>.. (row-major order) of a strided view into
    /// <paramref name="destination"/>, whose length is a whole number of elements. Works for views of any size:
    /// host bytes are read in place, others (device, native beyond a span) through the buffer.
    /// </summary>
    public static void Gather(StorageBuffer buffer, int itemSize, long offset, long[] shape, long[] stride, long start,
        Span<byte> destination)
    {
        long count = destination.Length / itemSize;
        if (count == 0) return;
        if (IsContiguous(shape, stride))
        {
            buffer.Read((offset + start) * itemSize, destination);
            return;
        }
        long last = offset;
        for (int i = 0; i < shape.Length; i++) last += (shape[i] - 1) * stride[i];
        long extent = (last - offset + 1) * itemSize;
        var walker = new RunWalker(shape, stride, offset, start, count);
        if (extent <= Array.MaxLength)
        {
            // One read of the whole extent, then copies from host memory: strided views are small in practice.
            ReadOnlySpan<byte> span;
            if (!buffer.TryGetSpan(offset * itemSize, (int)extent, out span))
            {
                var copy = GC.AllocateUninitializedArray<byte>((int)extent);
                buffer.Read(offset * itemSize, copy);
                span = copy;
            }
            long dst = 0;
            while (walker.Next(out long src, out long len, out long step))
            {
                src -= offset;
                if (step == 1) span.Slice((int)(src * itemSize), (int)(len * itemSize)).CopyTo(destination[(int)dst..]);
                else
                    for (long k = 0; k < len; k++)
                        span.Slice((int)((src + k * step) * itemSize), itemSize).CopyTo(destination.Slice((int)(dst
                            + k * itemSize), itemSize));
                dst += len * itemSize;
            }
            GC.KeepAlive(buffer); // the span may point into native memory that the buffer's finalizer frees
            return;
        }
        long at = 0;
        while (walker.Next(out long src, out long len, out long step))
        {
            if (step == 1) buffer.Read(src * itemSize, destination.Slice((int)at, (int)(len * itemSize)));
            else
                for (long k = 0; k < len; k++) buffer.Read((src + k * step) * itemSize, destination.Slice((int)(at
                    + k * itemSize), itemSize));
            at += len * itemSize;
        }
    }

    /// <summary>
    /// Walks a strided view in row-major order as runs along the innermost dimension: each run is a first
    /// element index in the storage, a length, and the step between its elements.
    /// </summary>
    private struct RunWalker
    {
        private readonly long[] _shape, _stride, _index;
        private readonly long _offset;
        private long _left;

        public RunWalker(long[] shape, long[] stride, long offset, long start, long count)
        {
            _shape = shape; _stride = stride; _offset = offset; _left = count;
            _index = new long[shape.Length];
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                _index[d] = start % shape[d];
                start /= shape[d];
            }
        }

        public bool Next(out long src, out long length, out long step)
        {
            int inner = _shape.Length - 1;
            src = _offset;
            for (int d = 0; d < _shape.Length; d++) src += _index[d] * _stride[d];
            length = Math.Min(_shape[inner] - _index[inner], _left);
            step = _stride[inner];
            if (_left == 0) return false;
            _left -= length;
            _index[inner] += length;
            for (int d = inner; d > 0 && _index[d] >= _shape[d]; d--)
            {
                _index[d] = 0;
                _index[d - 1]++;
            }
            return true;
        }
    }
}
