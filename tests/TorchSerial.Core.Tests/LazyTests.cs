using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>Lazy opens: the same answers as eager loads, data read on first use, and files changed underneath
/// caught.</summary>
public class LazyTests
{
    public static IEnumerable<object[]> LoadableFixtures() => HostileCorpusTests.EveryFixture()
        .Where(f => Record.Exception(() => CheckpointReader.Load(Path.Combine(Fixtures.Dir, (string)f[0]))) is null);

    [Theory]
    [MemberData(nameof(LoadableFixtures))]
    public void Lazy_and_eager_loads_agree(string file)
    {
        var path = Path.Combine(Fixtures.Dir, file);
        var eager = CheckpointReader.Load(path);
        using var lazy = CheckpointReader.Open(path);
        Assert.True(lazy.IsLazy);
        Assert.False(eager.IsLazy);
        Assert.All(lazy.Storages, s => Assert.False(s.IsLoaded));
        Assert.Equal(eager.Tensors.Select(t => (t.Name, t.DType, string.Join(",", t.Shape), string.Join(",", t.Stride), t.StorageOffset, t.SavedLocation)),
            lazy.Tensors.Select(t => (t.Name, t.DType, string.Join(",", t.Shape), string.Join(",", t.Stride), t.StorageOffset, t.SavedLocation)));
        for (int i = 0; i < eager.Tensors.Count; i++) Assert.Equal(eager.Tensors[i].GetBytes(), lazy.Tensors[i].GetBytes());
        Assert.Equal(eager.Storages.Count, lazy.Storages.Count);
    }

    [Fact]
    public void Data_is_read_on_first_use_only()
    {
        using var lazy = CheckpointReader.Open(Fixtures.Torch("views.pt"));
        var row = lazy.Tensors.Single(t => t.Name == "row");
        Assert.False(row.Storage.IsLoaded);
        Assert.Equal(new float[] { 3, 4, 5 }, row.ToArray());
        Assert.True(row.Storage.IsLoaded);
        Assert.False(lazy.Tensors.Single(t => t.Name == "tied_a").Storage.IsLoaded);
    }

    [Fact]
    public void A_file_changed_in_place_is_refused_never_read()
    {
        var path = Copy("views.pt");
        using var lazy = CheckpointReader.Open(path);
        // Overwrite one payload byte in place (same length): the CRC and the modification time both catch it.
        var bytes = File.ReadAllBytes(path);
        using (var f = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            f.Position = bytes.Length / 3;
            f.WriteByte((byte)(bytes[bytes.Length / 3] ^ 0xFF));
        }
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        var ex = Assert.Throws<TorchSerialException>(() => { foreach (var t in lazy.Tensors) t.GetBytes(); });
        Assert.Equal(ErrorIds.CheckpointChanged, ex.ErrorId);
        File.Delete(path);
    }

    [Fact]
    public void A_crc_catches_a_change_that_keeps_size_and_time()
    {
        var path = Copy("views.pt");
        var time = File.GetLastWriteTimeUtc(path);
        var payload = CheckpointReader.Load(path).Tensors.Single(t => t.Name == "base").Storage.GetBytes();
        using var lazy = CheckpointReader.Open(path);
        var target = lazy.Tensors.Single(t => t.Name == "base");
        int at = IndexOf(File.ReadAllBytes(path), payload);
        using (var f = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite)) { f.Position = at; f.WriteByte(0x7F); }
        File.SetLastWriteTimeUtc(path, time);
        Assert.Equal(ErrorIds.CrcMismatch, Assert.Throws<TorchSerialException>(() => target.GetBytes()).ErrorId);
        File.Delete(path);
    }

    [Fact]
    public void Replacing_the_file_by_rename_keeps_lazy_data_correct_and_saving_over_it_works()
    {
        var path = Copy("checkpoint.pt");
        var expected = CheckpointReader.Load(path).Tensors.Select(t => t.GetBytes()).ToList();
        using var lazy = CheckpointReader.Open(path);
        // Save the lazy checkpoint over its own file: atomic replace, streamed from the still-open original.
        CheckpointWriter.SaveFile(lazy.Root, path);
        Assert.Equal(expected, lazy.Tensors.Select(t => t.GetBytes()).ToList());
        Assert.Equal(expected, CheckpointReader.Load(path).Tensors.Select(t => t.GetBytes()).ToList());
        File.Delete(path);
    }

    [Fact]
    public void A_disposed_lazy_checkpoint_says_so()
    {
        var lazy = CheckpointReader.Open(Fixtures.Torch("params.pt"));
        var t = lazy.Tensors[0];
        lazy.Dispose();
        Assert.Equal(ErrorIds.CheckpointClosed, Assert.Throws<TorchSerialException>(() => t.GetBytes()).ErrorId);
    }

    [Fact]
    public void Saving_a_lazy_checkpoint_streams_without_reading_it_into_memory()
    {
        using var lazy = CheckpointReader.Open(Fixtures.Torch("checkpoint.pt"));
        using var ms = new MemoryStream();
        long reported = 0;
        CheckpointWriter.Save(lazy.Root, ms, new SaveOptions { Progress = (done, total) => reported = done });
        Assert.All(lazy.Storages, s => Assert.False(s.IsLoaded)); // streamed from the file, not cached
        Assert.Equal(lazy.Storages.Sum(s => s.NumBytes), reported);
        ms.Position = 0;
        var again = CheckpointReader.Load(ms);
        var eager = CheckpointReader.Load(Fixtures.Torch("checkpoint.pt"));
        Assert.Equal(eager.Tensors.Select(t => t.GetBytes()), again.Tensors.Select(t => t.GetBytes()));
    }

    [Fact]
    public void Eager_loads_report_progress_up_to_the_total()
    {
        var seen = new List<(long Done, long Total)>();
        var ckpt = CheckpointReader.Load(Fixtures.Torch("dtypes.pt"), new LoadOptions { Progress = (d, t) => seen.Add((d, t)) });
        long total = ckpt.Storages.Sum(s => s.NumBytes);
        Assert.NotEmpty(seen);
        Assert.Equal((total, total), seen[^1]);
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.Done <= p.Second.Done));
    }

    [Fact]
    public void Parallel_loads_of_different_files_do_not_interfere()
    {
        var files = new[] { "views.pt", "dtypes.pt", "checkpoint.pt", "legacy_views.pt", "params.pt", "state_dict.pt" };
        var expected = files.ToDictionary(f => f, f => CheckpointReader.Load(Fixtures.Torch(f)).Tensors.Select(t => (t.Name, Fixtures.Sha256(t.GetBytes()))).ToList());
        Parallel.For(0, 60, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var f = files[i % files.Length];
            var got = (i % 2 == 0 ? CheckpointReader.Load(Fixtures.Torch(f)) : CheckpointReader.Open(Fixtures.Torch(f)))
                .Tensors.Select(t => (t.Name, Fixtures.Sha256(t.GetBytes()))).ToList();
            Assert.Equal(expected[f], got);
        });
    }

    private static string Copy(string fixture)
    {
        var path = Path.Combine(Path.GetTempPath(), $"lazy-{Guid.NewGuid():N}-{fixture}");
        File.Copy(Fixtures.Torch(fixture), path);
        return path;
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("not found");
    }
}
