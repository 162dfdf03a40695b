using TorchSerial.Containers;
using System.Buffers.Binary;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// Records past 4 GiB: a 4.1 GiB record followed by a small one whose header sits beyond 4 GiB. The zeros
/// go into a sparse file (skipped, not written), so the test is quick and uses almost no disk.
/// </summary>
public class Zip64WriterTests
{
    [Fact]
    public void Sizes_and_offsets_past_4GiB_use_zip64_extras_that_the_reader_follows()
    {
        const long big = 0x1_0600_0000; // 4.1 GiB
        var path = Path.Combine(Path.GetTempPath(), $"zip64-{Guid.NewGuid():N}.pt");
        try
        {
            using (var file = new SparseZeroStream(new FileStream(path, FileMode.CreateNew)))
            {
                var zip = new ZipRecordWriter(file, "big");
                zip.Write("data.pkl", "\u0080\u0002N."u8.ToArray());
                var zeros = new byte[1 << 20];
                zip.Write("data/0", big, sink =>
                {
                    var crc = new System.IO.Hashing.Crc32();
                    for (long done = 0; done < big; done += zeros.Length)
                    {
                        var chunk = zeros.AsSpan(0, (int)Math.Min(zeros.Length, big - done));
                        crc.Append(chunk);
                        sink(chunk);
                    }
                    return crc.GetCurrentHashAsUInt32();
                });
                zip.Write("version", "3\n"u8);
                zip.Finish();
            }
            using var stream = File.OpenRead(path);
            var dir = ZipDirectory.Read(stream);
            Assert.Equal(new[] { "big/data.pkl", "big/data/0", "big/version" }, dir.Entries.Select(e => e.Name));
            var record = dir.Find("big/data/0")!;
            Assert.Equal(big, record.UncompressedSize);
            Assert.Equal(0, dir.DataOffset(record) % 64);
            var version = dir.Find("big/version")!;
            Assert.True(version.LocalHeaderOffset > 0xFFFFFFFFL);
            Assert.Equal(0, dir.DataOffset(version) % 64);
            Assert.Equal("3\n"u8.ToArray(), dir.ReadAll(version));
            // The big record's descriptor is the 24-byte zip64 form: sizes are u64.
            var descriptor = new byte[24];
            stream.Position = dir.DataOffset(record) + big;
            stream.ReadExactly(descriptor);
            Assert.Equal(0x08074B50u, BinaryPrimitives.ReadUInt32LittleEndian(descriptor));
            Assert.Equal((ulong)big, BinaryPrimitives.ReadUInt64LittleEndian(descriptor.AsSpan(8)));
        }
        finally { File.Delete(path); }
    }

    /// <summary>Writes through, except that all-zero chunks only move the position (leaving a hole).</summary>
    private sealed class SparseZeroStream(FileStream inner) : WriteOnlyStream
    {
        private long _length;
        public override void Flush() => inner.Flush();
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (buffer.Length >= 4096 && !buffer.ContainsAnyExcept((byte)0)) inner.Seek(buffer.Length, SeekOrigin.Current);
            else inner.Write(buffer);
            _length += buffer.Length;
        }
        protected override void Dispose(bool disposing)
        {
            if (disposing) { inner.SetLength(_length); inner.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
