using TorchSerial.Buffers;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>What the writer produces, re-read by the module (formats torch 1.13 cannot read are judged here).</summary>
public class WriterTests
{
    private static Checkpoint RoundTrip(object? root, SaveOptions? options = null)
    {
        using var ms = new MemoryStream();
        CheckpointWriter.Save(root, ms, options);
        ms.Position = 0;
        return CheckpointReader.Load(ms);
    }

    [Theory]
    [InlineData("v3_dtypes.pt", SaveLayout.Zip, 2)]
    [InlineData("v3_dtypes.pt", SaveLayout.Legacy, 4)]
    [InlineData("bigendian.pt", SaveLayout.Zip, 2)]
    [InlineData("tar_legacy.pt", SaveLayout.Zip, 5)]
    [InlineData("torch2_objects.pt", SaveLayout.Zip, 3)]
    public void Crafted_formats_survive_a_save(string file, SaveLayout layout, int protocol)
    {
        var loaded = CheckpointReader.Load(Fixtures.Crafted(file));
        var again = RoundTrip(loaded.Root, new SaveOptions { Layout = layout, PickleProtocol = protocol });
        ExpectedTensors.AssertMatch(Fixtures.CraftedExpected.GetProperty(file).GetProperty("tensors"), again.Tensors);
        Assert.Equal("little", again.ByteOrder);
    }

    [Theory]
    [InlineData("bigendian.pt")]
    [InlineData("v3_dtypes.pt")]
    [InlineData("deflated.pt")]
    public void Lazy_sources_are_streamed_swapped_and_checked_on_save(string file)
    {
        using var lazy = CheckpointReader.Open(Fixtures.Crafted(file));
        using var ms = new MemoryStream();
        CheckpointWriter.Save(lazy.Root, ms);
        Assert.All(lazy.Storages, s => Assert.False(s.IsLoaded));
        ms.Position = 0;
        var again = CheckpointReader.Load(ms); // CRCs of the written records are verified here
        var eager = CheckpointReader.Load(Fixtures.Crafted(file));
        Assert.Equal(eager.Tensors.Select(t => t.GetBytes()), again.Tensors.Select(t => t.GetBytes()));
    }

    [Fact]
    public void V3_dtypes_are_written_through_rebuild_tensor_v3_and_untyped_storages()
    {
        var loaded = CheckpointReader.Load(Fixtures.Crafted("v3_dtypes.pt"));
        using var ms = new MemoryStream();
        CheckpointWriter.Save(loaded.Root, ms);
        var text = System.Text.Encoding.Latin1.GetString(ms.ToArray());
        Assert.Contains("ctorch._utils\n_rebuild_tensor_v3\n", text);
        Assert.Contains("ctorch.storage\nUntypedStorage\n", text);
        Assert.DoesNotContain("_rebuild_tensor_v2", text);
    }

    [Fact]
    public void Non_seekable_streams_are_written_like_files()
    {
        var loaded = CheckpointReader.Load(Fixtures.Torch("views.pt"));
        using var seekable = new MemoryStream();
        CheckpointWriter.Save(loaded.Root, seekable);
        using var sink = new MemoryStream();
        using (var forwardOnly = new ForwardOnlyStream(sink)) CheckpointWriter.Save(loaded.Root, forwardOnly);
        Assert.Equal(seekable.ToArray(), sink.ToArray());
    }

    [Fact]
    public void Storages_are_written_once_in_numeric_key_order()
    {
        var loaded = CheckpointReader.Load(Fixtures.Torch("views.pt"));
        var again = RoundTrip(loaded.Root);
        Assert.Equal(7, loaded.Storages.Count); // 15 tensors over 5 non-empty storages and 2 empty ones
        Assert.Equal(7, again.Storages.Count);
        var data = again.Records.Where(r => r.StartsWith("data/", StringComparison.Ordinal)).ToList();
        Assert.Equal(data.Select((_, i) => $"data/{i}"), data);
        Assert.Equal(new[] { "data.pkl", ".format_version", ".storage_alignment", "byteorder" }, again.Records.Take(4));
        Assert.Equal(new[] { "version", ".data/serialization_id" }, again.Records.TakeLast(2));
    }

    [Fact]
    public void Tensors_from_values_round_trip_in_every_dtype()
    {
        foreach (var dtype in DType.All.Where(d => !d.IsQuantized))
        {
            var values = new object[] { 0, 1, 2, 3 };
            var t = Tensor.FromValues(values, dtype, new long[] { 2, 2 }, "t");
            var root = new PyDict { PythonType = "collections.OrderedDict" };
            root.Add("t", t);
            var back = RoundTrip(root).Tensors.Single();
            Assert.Equal(dtype, back.DTypeInfo);
            Assert.Equal(t.GetBytes(), back.GetBytes());
            Assert.Equal(new long[] { 2, 2 }, back.Shape.ToArray());
        }
    }

    [Fact]
    public void Mixed_dtype_views_of_one_storage_are_refused_as_torch_does()
    {
        var t = Tensor.FromValues(new object[] { 1, 2 }, DType.Float32);
        var loaded = CheckpointReader.Load(Fixtures.Torch("views.pt"));
        var f32 = loaded.Tensors[0];
        var asInt = new Tensor(f32.Storage, DType.Int32, 0, new long[] { 2 }, new long[] { 1 });
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointWriter.Save(new PyList(new object?[] { f32, asInt, t }), new MemoryStream()));
        Assert.Equal(ErrorIds.InvalidSaveInput, ex.ErrorId);
        Assert.Contains("view the same data as different types", ex.Message);
    }

    [Fact]
    public void Atomic_save_keeps_the_old_file_when_the_object_cannot_be_saved()
    {
        var dir = Directory.CreateTempSubdirectory();
        var path = Path.Combine(dir.FullName, "model.pt");
        File.WriteAllText(path, "old");
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointWriter.SaveFile(new PyList(new object?[] { new object() }), path));
        Assert.Equal(ErrorIds.UnsupportedValue, ex.ErrorId);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.FullName));
        dir.Delete(true);
    }

    [Fact]
    public void Cancellation_leaves_no_file_behind()
    {
        var dir = Directory.CreateTempSubdirectory();
        var path = Path.Combine(dir.FullName, "model.pt");
        var loaded = CheckpointReader.Load(Fixtures.Torch("views.pt"));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => CheckpointWriter.SaveFile(loaded.Root, path, cancellationToken: cts.Token));
        Assert.Empty(Directory.GetFiles(dir.FullName));
        dir.Delete(true);
    }

    [Fact]
    public void Root_folder_is_the_file_stem()
    {
        var dir = Directory.CreateTempSubdirectory();
        var path = Path.Combine(dir.FullName, "ckpt.pth.tar");
        CheckpointWriter.SaveFile(CheckpointReader.Load(Fixtures.Torch("params.pt")).Root, path);
        using var zip = System.IO.Compression.ZipFile.OpenRead(path);
        Assert.All(zip.Entries, e => Assert.StartsWith("ckpt.pth/", e.FullName));
        dir.Delete(true);
    }

    private sealed class ForwardOnlyStream(Stream inner) : WriteOnlyStream
    {
        public override void Flush() => inner.Flush();
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
    }
}
