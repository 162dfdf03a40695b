using System.IO.Hashing;
using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// A streamed save reads large storages on every core, a few chunks at a time, CRC-checked and cast by the chunk, and
/// writes them in order: the file must hold what a front-to-back stream writes, and damage must still be found.
/// </summary>
public class ParallelCopyTests
{
    private static Python.PyDict StateDict(IEnumerable<Tensor> tensors) => PipedStateDict.Build(tensors.ToList());

    private static string Temp(string name) => Path.Combine(Path.GetTempPath(), $"{name}-{Guid.NewGuid():N}.pt");

    [Fact]
    public void A_lazy_storage_saved_again_holds_its_exact_bytes_under_its_crc()
    {
        var (path, bytes) = ParallelFillTests.WriteBig("copy-src");
        string copy = Temp("copy-out");
        try
        {
            using (var lazy = CheckpointReader.Open(path)) CheckpointWriter.SaveFile(StateDict(lazy.Tensors), copy);
            var back = CheckpointReader.Load(copy); // checks the CRC the copy recorded
            Assert.Equal(bytes, back.Tensors[0].GetBytes());
            Assert.Equal(Crc32.HashToUInt32(bytes), back.Storages[0].Buffer.KnownCrc);
        }
        finally { File.Delete(path); File.Delete(copy); }
    }

    [Theory]
    [InlineData("bfloat16")]
    [InlineData("float16")]
    [InlineData("float64")]
    [InlineData("int8")]
    public void A_cast_streamed_in_parallel_chunks_equals_the_cast_read_front_to_back(string dtype)
    {
        var (path, _) = ParallelFillTests.WriteBig("cast-src");
        string cast = Temp("cast-out");
        try
        {
            var target = DType.FromName(dtype)!;
            using (var lazy = CheckpointReader.Open(path))
                CheckpointWriter.SaveFile(StateDict(lazy.Tensors.Select(new TensorCaster(target).Cast)), cast);
            byte[] frontToBack;
            using (var lazy = CheckpointReader.Open(path))
            {
                var buffer = new TensorCaster(target).Cast(lazy.Tensors[0]).Storage.Buffer;
                using var reader = buffer.OpenReader();
                frontToBack = new byte[buffer.Length];
                reader.ReadExactly(frontToBack);
                reader.Finish();
            }
            var back = CheckpointReader.Load(cast);
            Assert.Equal(dtype, back.Tensors[0].DType);
            Assert.Equal(frontToBack, back.Tensors[0].GetBytes());
        }
        finally { File.Delete(path); File.Delete(cast); }
    }

    [Theory]
    [InlineData(false, 100)]
    [InlineData(true, 100)]
    [InlineData(false, -3)]
    [InlineData(true, -3)]
    public void One_damaged_byte_fails_a_streamed_save_and_leaves_no_file(bool cast, int fromEnd)
    {
        var (path, bytes) = ParallelFillTests.WriteBig("damaged-src");
        string output = Temp("damaged-out");
        try
        {
            ParallelFillTests.Damage(path, bytes, fromEnd < 0 ? bytes.Length + fromEnd : fromEnd);
            using var lazy = CheckpointReader.Open(path);
            var tensors = cast ? lazy.Tensors.Select(new TensorCaster(DType.BFloat16).Cast) : lazy.Tensors;
            var ex = Assert.Throws<TorchSerialException>(() => CheckpointWriter.SaveFile(StateDict(tensors), output));
            Assert.Equal(ErrorIds.CrcMismatch, ex.ErrorId);
            Assert.False(File.Exists(output));
            Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(output)!,
                "." + Path.GetFileName(output) + ".*"));
        }
        finally { File.Delete(path); File.Delete(output); }
    }

    [Fact]
    public void A_lazily_cast_storage_loaded_whole_is_checked_against_its_source_crc()
    {
        var (path, bytes) = ParallelFillTests.WriteBig("damaged-fill");
        try
        {
            ParallelFillTests.Damage(path, bytes, bytes.Length / 2);
            using var lazy = CheckpointReader.Open(path);
            var half = new TensorCaster(DType.Float16).Cast(lazy.Tensors[0]);
            Assert.Equal(ErrorIds.CrcMismatch, Assert.Throws<TorchSerialException>(() => half.GetBytes()).ErrorId);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_save_that_replaces_a_file_leaves_the_new_bytes_and_frees_the_old_name()
    {
        var (path, bytes) = ParallelFillTests.WriteBig("replace-src");
        string target = Temp("replace-out");
        try
        {
            File.WriteAllBytes(target, new byte[3 << 20]);
            using (var lazy = CheckpointReader.Open(path)) CheckpointWriter.SaveFile(StateDict(lazy.Tensors), target);
            Assert.Equal(bytes, CheckpointReader.Load(target).Tensors[0].GetBytes());
            CheckpointWriter.SaveFile(StateDict(CheckpointReader.Load(path).Tensors), target);
            Assert.Equal(bytes, CheckpointReader.Load(target).Tensors[0].GetBytes());
        }
        finally { File.Delete(path); File.Delete(target); }
    }

    [Fact]
    public void Loaded_and_unread_storages_interleaved_in_one_save_land_in_order()
    {
        // Past the first 64 MiB the writing thread takes blocks of unread storages, while loaded ones go straight to
        // the file after the queued blocks: each switch must keep the bytes in order.
        var (path, bytes) = ParallelFillTests.WriteBig("mixed-src");
        string output = Temp("mixed-out");
        try
        {
            using var lazy = CheckpointReader.Open(path);
            var random = new Random(5);
            var state = new Python.PyDict { PythonType = "collections.OrderedDict" };
            var expected = new List<(string Name, byte[] Bytes)>();
            for (int i = 0; i < 6; i++)
            {
                var unread = lazy.Tensors[0].Recast(new Storage("u" + i, DType.Float32, bytes.Length, "cpu", false,
                    lazy.Tensors[0].Storage.Buffer), DType.Float32);
                state.SetItem("unread" + i, unread);
                expected.Add(("unread" + i, bytes));
                var loaded = new byte[(3 << 20) + 4 * i];
                random.NextBytes(loaded);
                state.SetItem("loaded" + i, Tensor.FromBytes(loaded, DType.UInt8, new long[] { loaded.Length }));
                expected.Add(("loaded" + i, loaded));
            }
            CheckpointWriter.SaveFile(state, output);
            var back = CheckpointReader.Load(output).Tensors.ToDictionary(t => t.Name);
            foreach (var (name, want) in expected) Assert.Equal(want, back[name].GetBytes());
        }
        finally { File.Delete(path); File.Delete(output); }
    }
}
