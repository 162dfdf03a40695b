using System.Security.Cryptography;
using TorchSerial.Errors;
using TorchSerial.Buffers;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// The storage model on real torch files: storages held in native memory (the home of anything over 2 GiB,
/// forced here for small files by lowering the managed limit to zero) read, gather and save exactly as managed
/// ones; chunked access gives the same bytes as one array.
/// </summary>
public class BufferModelTests
{
    public static IEnumerable<object[]> Checkpoints() => TorchWrittenFixtureTests.Checkpoints();

    private static readonly LoadOptions Native = new() { ManagedLimit = 0 };

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void Native_memory_storages_load_exactly_what_torch_reports(string file)
    {
        var ckpt = CheckpointReader.Load(Fixtures.Torch(file), Native);
        Assert.All(ckpt.Storages.Where(s => s.NumBytes > 0), s => Assert.IsType<NativeBuffer>(((LazyBuffer)s.Buffer).Load()));
        ExpectedTensors.AssertMatch(Fixtures.Expected.GetProperty("checkpoints").GetProperty(file).GetProperty("tensors"), ckpt.Tensors);
    }

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void Native_memory_storages_save_the_same_bytes_as_managed_ones(string file)
    {
        var layout = file.StartsWith("legacy", StringComparison.Ordinal) ? SaveLayout.Legacy : SaveLayout.Zip;
        byte[] Save(LoadOptions options)
        {
            var ckpt = CheckpointReader.Load(Fixtures.Torch(file), options);
            using var ms = new MemoryStream();
            CheckpointWriter.Save(ckpt.Root, ms, new SaveOptions { Layout = layout });
            return ms.ToArray();
        }
        Assert.Equal(Save(new LoadOptions()), Save(Native));
    }

    [Theory]
    [InlineData("views.pt")]
    [InlineData("legacy_views.pt")]
    [InlineData("dtypes.pt")]
    public void Chunks_ranges_and_streams_give_the_bytes_of_GetBytes(string file)
    {
        using var lazy = CheckpointReader.Open(Fixtures.Torch(file));
        foreach (var t in lazy.Tensors)
        {
            var whole = t.GetBytes();
            Assert.Equal(t.NumBytes, whole.LongLength);
            int item = t.DTypeInfo.ItemSize;
            Assert.Equal(whole, t.EnumerateChunks(3 * item).SelectMany(c => c).ToArray());
            using var ms = new MemoryStream();
            t.CopyTo(ms);
            Assert.Equal(whole, ms.ToArray());
            for (long start = 0; start < t.NumElements; start += 5)
            {
                long count = Math.Min(7, t.NumElements - start);
                Assert.Equal(whole.AsSpan((int)(start * item), (int)(count * item)).ToArray(), t.ReadBytes(start, count));
            }
        }
    }

    [Fact]
    public void A_whole_storage_not_read_yet_streams_from_its_file_without_being_kept()
    {
        using var lazy = CheckpointReader.Open(Fixtures.Torch("state_dict.pt"));
        var t = lazy.Tensors.First(x => x.StorageOffset == 0 && x.NumBytes == x.Storage.NumBytes && x.IsContiguous && x.NumElements > 1);
        var expected = Fixtures.Expected.GetProperty("checkpoints").GetProperty("state_dict.pt").GetProperty("tensors")
            .EnumerateArray().First(e => e.GetProperty("name").GetString() == t.Name).GetProperty("sha256").GetString();
        using var ms = new MemoryStream();
        t.CopyTo(ms);
        Assert.Equal(expected, Convert.ToHexString(SHA256.HashData(ms.ToArray())).ToLowerInvariant());
        Assert.False(t.Storage.IsLoaded);
    }

    [Fact]
    public void Reading_a_range_outside_the_tensor_is_an_error_that_names_it()
    {
        var t = CheckpointReader.Load(Fixtures.Torch("params.pt")).Tensors[0];
        var ex = Assert.Throws<TorchSerialException>(() => t.ReadBytes(t.NumElements - 1, 2));
        Assert.Equal(ErrorIds.InvalidTensorData, ex.ErrorId);
        Assert.Contains(t.Name, ex.Message);
    }

    [Fact]
    public void Native_buffers_hold_more_than_one_array_and_read_at_offsets_past_2_GiB()
    {
        long length = (long)int.MaxValue + 4096;
        NativeBuffer buffer;
        try { buffer = new NativeBuffer(length); }
        catch (TorchSerialException) { return; } // no 2 GiB of address space to spare: nothing to prove here
        var tail = buffer.Window(length - 8, 8);
        for (int i = 0; i < 8; i++) tail[i] = (byte)(i + 1);
        var read = new byte[8];
        buffer.Read(length - 8, read);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, read);
        Assert.Equal(length, buffer.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Window(length - 4, 8));
    }

    [Fact]
    public void A_tensor_larger_than_one_array_refuses_GetBytes_and_names_the_chunked_way()
    {
        long numel = (long)Array.MaxLength + 1;
        var storage = new Storage("big", DType.UInt8, numel, "cpu", false, new LazyBuffer("big", numel, null));
        var t = new Tensor(storage, DType.UInt8, 0, new[] { numel }, new[] { 1L }) { Name = "big" };
        Assert.Equal(numel, t.NumBytes);
        var ex = Assert.Throws<TorchSerialException>(() => t.GetBytes());
        Assert.Equal(ErrorIds.TensorTooLarge, ex.ErrorId);
        Assert.Contains("EnumerateChunks", ex.Message);
        Assert.Equal(ErrorIds.TensorTooLarge, Assert.Throws<TorchSerialException>(() => t.ToArray()).ErrorId);
    }
}
