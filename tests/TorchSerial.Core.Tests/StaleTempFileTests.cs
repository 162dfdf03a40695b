using TorchSerial.Python;
using TorchSerial.Tensors;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>A save killed mid-write leaves a hidden temporary file; the next save to that target removes it, but never
/// one a live writer still holds.</summary>
public class StaleTempFileTests
{
    private static string NewFolder()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ts-stale-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string Leftover(string dir, string target, string id, bool old = true)
    {
        var temp = Path.Combine(dir, "." + target + "." + id + ".tmp");
        File.WriteAllBytes(temp, new byte[4096]);
        if (old) File.SetLastWriteTimeUtc(temp, DateTime.UtcNow.AddMinutes(-5));
        return temp;
    }

    [Fact]
    public void The_next_save_removes_what_a_dead_writer_left_and_keeps_everything_else()
    {
        var dir = NewFolder();
        try
        {
            var dead = Leftover(dir, "model.pt", "0a1b2c3d");
            var fresh = Leftover(dir, "model.pt", "99999999", old: false);
            var otherTarget = Leftover(dir, "other.pt", "0a1b2c3d");
            var notOurs = Leftover(dir, "model.pt", "notahex!");
            var held = Leftover(dir, "model.pt", "feedf00d");
            using (new FileStream(held, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            {
                var root = PyDict.FromPairs(new[] { KeyValuePair.Create("w", Tensor.FromValues(new object[] { 1f, 2f },
                    DType.Float32)) });
                CheckpointWriter.SaveFile(root, Path.Combine(dir, "model.pt"));
                Assert.False(File.Exists(dead));
                Assert.True(File.Exists(held), "a temporary file another writer holds open must survive");
                Assert.True(File.Exists(fresh), "a temporary file created a moment ago may be about to be locked");
            }
            Assert.True(File.Exists(otherTarget));
            Assert.True(File.Exists(notOurs));
            Assert.Equal(2f, ((float[])Reading.CheckpointReader.Load(Path.Combine(dir, "model.pt")).Tensors[0]
                .ToArray())[1]);
            File.SetLastWriteTimeUtc(held, DateTime.UtcNow.AddMinutes(-5));
            Assert.Equal(1, AtomicFile.RemoveStale(Path.Combine(dir, "model.pt")));
            Assert.False(File.Exists(held));
            Assert.Empty(Directory.GetFiles(dir, ".model.pt.*.tmp").Except(new[] { fresh, notOurs }));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public async Task A_save_over_a_named_pipe_replaces_it_without_waiting_for_a_writer()
    {
        if (OperatingSystem.IsWindows()) return;
        var dir = NewFolder();
        try
        {
            string pipe = Path.Combine(dir, "model.pt");
            using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", pipe)) mkfifo.WaitForExit();
            Assert.True(File.Exists(pipe));
            var root = PyDict.FromPairs(new[] { KeyValuePair.Create("w", Tensor.FromValues(new object[] { 1f, 2f },
                DType.Float32)) });
            // A save that opened the pipe to hold it would wait here for a writer that never comes.
            var save = Task.Run(() => CheckpointWriter.SaveFile(root, pipe));
            Assert.Same(save, await Task.WhenAny(save, Task.Delay(TimeSpan.FromSeconds(30))));
            await save;
            Assert.Equal(new[] { 1f, 2f }, Reading.CheckpointReader.Load(pipe).Tensors[0].ToArray());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
