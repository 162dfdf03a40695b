using System.IO.Hashing;
using TorchSerial.Buffers;
using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>Large storages are read and CRC-checked in chunks on every core; the result must equal one pass.</summary>
public class ParallelFillTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(4095L)]
    [InlineData(StorageBuffer.ParallelChunk + 17L)]
    [InlineData(3L * StorageBuffer.ParallelChunk)]
    public void Chunk_crcs_combine_into_the_crc_of_the_whole(long secondLength)
    {
        var random = new Random(7);
        var a = new byte[1000];
        var b = new byte[secondLength];
        random.NextBytes(a);
        random.NextBytes(b);
        uint whole = Crc32.HashToUInt32(a.Concat(b).ToArray());
        Assert.Equal(whole, Crc32Combine.Combine(Crc32.HashToUInt32(a), Crc32.HashToUInt32(b), b.Length));
    }

    internal static (string Path, byte[] Bytes) WriteBig(string name)
    {
        // 2.5 chunks of float32 values, so the fill splits into three uneven parts.
        int count = (int)(2.5 * StorageBuffer.ParallelChunk / 4);
        var bytes = new byte[count * 4];
        new Random(11).NextBytes(bytes);
        var t = Tensor.FromBytes(bytes, DType.Float32, new long[] { count }, "w");
        string path = Path.Combine(Path.GetTempPath(), $"{name}-{Guid.NewGuid():N}.pt");
        var dict = new Python.PyDict { PythonType = "collections.OrderedDict" };
        dict.Add("w", t);
        CheckpointWriter.SaveFile(dict, path);
        return (path, bytes);
    }

    [Fact]
    public void A_storage_larger_than_a_chunk_loads_its_exact_bytes_with_its_crc_verified()
    {
        var (path, bytes) = WriteBig("parallel-ok");
        try
        {
            var ckpt = CheckpointReader.Load(path);
            Assert.Equal(bytes, ckpt.Tensors[0].GetBytes());
            Assert.Equal(Crc32.HashToUInt32(bytes), ckpt.Storages[0].Buffer.KnownCrc);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void One_damaged_byte_in_the_last_chunk_of_a_large_storage_is_a_crc_mismatch()
    {
        var (path, bytes) = WriteBig("parallel-bad");
        try
        {
            Damage(path, bytes, bytes.Length - 3);
            var ex = Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(path));
            Assert.Equal(ErrorIds.CrcMismatch, ex.ErrorId);
            Assert.Equal(bytes.Length, CheckpointReader.Load(path, new LoadOptions { VerifyCrc = false }).Tensors[0].GetBytes().Length);
        }
        finally { File.Delete(path); }
    }

    /// <summary>Flips one bit of the stored tensor's byte at <paramref name="at"/>.</summary>
    internal static void Damage(string path, byte[] bytes, int at)
    {
        var file = File.ReadAllBytes(path);
        file[file.AsSpan().IndexOf(bytes.AsSpan(0, 64)) + at] ^= 0x40;
        File.WriteAllBytes(path, file);
    }
}

/// <summary>
/// A deflated record inflates under the stream's lock while stored records locate their headers on other cores; a
/// header lookup once went through the FileStream's SafeFileHandle getter, which flushes its buffer under the
/// inflater's feet ("Invalid argument", about one load in twenty).
/// </summary>
public class DeflatedRaceTests
{
    [Fact]
    public void Loading_a_deflated_archive_on_every_core_never_races_its_inflater()
    {
        var expected = Fixtures.Sha256(CheckpointReader.Load(Fixtures.Crafted("deflated.pt")).Tensors[0].GetBytes());
        for (int i = 0; i < 1500; i++)
        {
            var ckpt = CheckpointReader.Load(Fixtures.Crafted("deflated.pt"));
            Assert.Equal(expected, Fixtures.Sha256(ckpt.Tensors[0].GetBytes()));
        }
    }
}

/// <summary>Freed large native blocks are kept for the next buffer of their length, bounded, and given back. Other
/// tests load files at the same time, so each test uses lengths of its own and counts only those.</summary>
public class NativeMemoryPoolTests
{
    [Fact]
    public unsafe void A_returned_block_serves_the_next_rent_of_its_length()
    {
        long length = NativeMemoryPool.MinLength + 4093 * 64;
        byte* first = NativeMemoryPool.Rent(length);
        NativeMemoryPool.Return(first, length);
        Assert.Equal(1, NativeMemoryPool.Kept(length));
        byte* other = NativeMemoryPool.Rent(length + 64); // another length is a fresh block
        Assert.True(first != other);
        byte* again = NativeMemoryPool.Rent(length);
        Assert.True(first == again);
        Assert.Equal(0, NativeMemoryPool.Kept(length));
        NativeMemoryPool.Return(again, length);
        NativeMemoryPool.Return(other, length + 64);
        NativeMemoryPool.Clear();
        Assert.Equal(0, NativeMemoryPool.Kept(length));
        // Small blocks are the C allocator's to reuse: never kept.
        byte* small = NativeMemoryPool.Rent(4096);
        NativeMemoryPool.Return(small, 4096);
        Assert.Equal(0, NativeMemoryPool.Kept(4096));
    }

    [Fact]
    public void Buffers_of_a_reloaded_file_reuse_the_blocks_of_the_last_load()
    {
        var bytes = new byte[(3 << 20) + 4091 * 64];
        new Random(1).NextBytes(bytes);
        WeakReference Load()
        {
            var buffer = new NativeBuffer(bytes.Length);
            bytes.CopyTo(buffer.Window(0, bytes.Length));
            var copy = new byte[bytes.Length];
            buffer.Read(0, copy);
            Assert.Equal(bytes, copy);
            return new WeakReference(buffer);
        }
        var gone = Load();
        GC.Collect(); GC.WaitForPendingFinalizers();
        Assert.False(gone.IsAlive);
        Assert.Equal(1, NativeMemoryPool.Kept(bytes.Length));
        Load(); // served from the pool, and its bytes are the new ones
        Assert.Equal(0, NativeMemoryPool.Kept(bytes.Length));
    }
}
