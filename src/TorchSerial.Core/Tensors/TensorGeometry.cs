namespace TorchSerial;

/// <summary>Checks and walks the strided layout of a tensor over its storage.</summary>
internal static class TensorGeometry
{
    /// <summary>
    /// Validates shape, stride and offset against the storage and returns the element count.
    /// All arithmetic is checked: a crafted file must not overflow its way past the bounds check.
    /// </summary>
    public static long Validate(Storage storage, DType dtype, long offset, long[] shape, long[] stride)
    {
        string where = $"a tensor over storage '{storage.Key}'";
        if (shape.Length != stride.Length)
            throw Fail.Data(ErrorIds.PickleStructure, $"{where} has {shape.Length} sizes but {stride.Length} strides.");
        if (offset < 0)
            throw Fail.Data(ErrorIds.NegativeSize, $"{where} has a negative storage offset ({offset}).");
        long numel = 1, maxIndex = offset;
        try
        {
            for (int i = 0; i < shape.Length; i++)
            {
                if (shape[i] < 0) throw Fail.Data(ErrorIds.NegativeSize, $"{where} has a negative size ({shape[i]}) in dimension {i}.");
                if (stride[i] < 0) throw Fail.Data(ErrorIds.NegativeSize, $"{where} has a negative stride ({stride[i]}) in dimension {i}.");
                numel = checked(numel * shape[i]);
            }
            if (numel == 0) return 0;
            for (int i = 0; i < shape.Length; i++) maxIndex = checked(maxIndex + checked((shape[i] - 1) * stride[i]));
            long needBytes = checked(checked(maxIndex + 1) * dtype.ItemSize);
            if (needBytes > storage.NumBytes)
                throw Fail.Data(ErrorIds.ViewOutOfBounds,
                    $"{where} reaches byte {needBytes} but the storage holds only {storage.NumBytes} bytes " +
                    $"(offset {offset}, shape [{string.Join(", ", shape)}], stride [{string.Join(", ", stride)}], dtype {dtype}).");
        }
        catch (OverflowException)
        {
            throw Fail.Data(ErrorIds.ArithmeticOverflow,
                $"{where} has sizes, strides or an offset whose product overflows 64-bit arithmetic " +
                $"(offset {offset}, shape [{string.Join(", ", shape)}], stride [{string.Join(", ", stride)}]).");
        }
        return numel;
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

    /// <summary>Copies the logical elements of a strided view into a new row-major buffer.</summary>
    public static byte[] Gather(ReadOnlySpan<byte> storage, int itemSize, long offset, long[] shape, long[] stride, long numel)
    {
        long total = numel * itemSize;
        if (total > Array.MaxLength)
            throw Fail.Unsupported(ErrorIds.TensorTooLarge, $"The tensor holds {total} bytes, more than one .NET array can hold.");
        var result = GC.AllocateUninitializedArray<byte>((int)total);
        if (numel == 0) return result;
        if (IsContiguous(shape, stride))
        {
            storage.Slice(checked((int)(offset * itemSize)), (int)total).CopyTo(result);
            return result;
        }
        // Walk the index space with an odometer; the innermost dimension is copied as a run when its stride is 1.
        int rank = shape.Length;
        var index = new long[rank];
        int inner = rank - 1;
        long innerLen = shape[inner];
        bool innerRun = stride[inner] == 1;
        long dst = 0;
        while (true)
        {
            long src = offset;
            for (int d = 0; d < inner; d++) src += index[d] * stride[d];
            if (innerRun)
            {
                storage.Slice((int)(src * itemSize), (int)(innerLen * itemSize)).CopyTo(result.AsSpan((int)dst));
                dst += innerLen * itemSize;
            }
            else
            {
                for (long k = 0; k < innerLen; k++)
                {
                    storage.Slice((int)((src + k * stride[inner]) * itemSize), itemSize).CopyTo(result.AsSpan((int)dst));
                    dst += itemSize;
                }
            }
            int dim = inner - 1;
            while (dim >= 0)
            {
                if (++index[dim] < shape[dim]) break;
                index[dim] = 0;
                dim--;
            }
            if (dim < 0) return result;
        }
    }
}
