using TorchSerial.Provenance;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>The model walk's progress: counted in files and bytes on the caller's thread, ending at the
/// totals.</summary>
public class ModelManifestTests
{
    [Fact]
    public void Progress_counts_files_and_bytes_on_the_callers_thread_and_ends_at_the_totals()
    {
        string folder = Path.Combine(Path.GetTempPath(), "manifest-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        try
        {
            var sizes = new[] { 3 << 20, 1, 0, 5000 };
            for (int i = 0; i < sizes.Length; i++)
                File.WriteAllBytes(Path.Combine(folder, i == 1 ? "sub" : "", $"f{i}"), new byte[sizes[i]]);
            var statement = new SignedStatement { Method = "files", HashType = "sha256",
                IgnorePaths = [], Resources = [] };
            var calls = new List<(int Files, int Total, long Bytes, long TotalBytes, int Thread)>();
            var digests = ModelManifest.Describe(folder, statement, [], CancellationToken.None,
                (f, t, b, tb) => calls.Add((f, t, b, tb, Environment.CurrentManagedThreadId)));
            Assert.Equal(4, digests.Count);
            Assert.Equal((4, 4, sizes.Sum(s => (long)s), sizes.Sum(s => (long)s)),
                (calls[^1].Files, calls[^1].Total, calls[^1].Bytes, calls[^1].TotalBytes));
            Assert.All(calls, c => Assert.Equal(Environment.CurrentManagedThreadId, c.Thread));
            Assert.Equal(calls.Select(c => c.Bytes).Order(), calls.Select(c => c.Bytes));
            Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", digests["f2"]);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
