using TorchSerial.Errors;
using TorchSerial.Reading;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>Every damaged or foreign file ends in one TorchSerialException with a stable ErrorId.</summary>
public class RefusalTests
{
    [Theory]
    [InlineData("crafted/empty.pt", ErrorIds.EmptyFile, "empty")]
    [InlineData("crafted/lfs_pointer.pt", ErrorIds.GitLfsPointer, "git lfs pull")]
    [InlineData("crafted/html_page.pt", ErrorIds.HtmlOrTextFile, "404 Not Found")]
    [InlineData("crafted/truncated_zip.pt", ErrorIds.TruncatedZip, "central directory")]
    [InlineData("crafted/truncated_legacy.pt", ErrorIds.TruncatedLegacyStream, "truncated")]
    [InlineData("crafted/short_record.pt", ErrorIds.RecordSizeMismatch, "holds 8 bytes")]
    [InlineData("crafted/view_out_of_bounds.pt", ErrorIds.ViewOutOfBounds, "storage holds only 16 bytes")]
    [InlineData("crafted/stride_overflow.pt", ErrorIds.ArithmeticOverflow, "overflows")]
    [InlineData("crafted/negative_size.pt", ErrorIds.NegativeSize, "negative size")]
    [InlineData("crafted/missing_record.pt", ErrorIds.MissingRecord, "data/0")]
    [InlineData("crafted/unknown_opcode.pt", ErrorIds.UnknownOpcode, "0xFF at offset 5")]
    [InlineData("crafted/memo_missing.pt", ErrorIds.MemoKeyMissing, "memo entry 7")]
    [InlineData("crafted/no_stop.pt", ErrorIds.PickleTruncated, "ends")]
    [InlineData("crafted/bad_magic.pt", ErrorIds.InvalidMagicNumber, "magic number")]
    [InlineData("crafted/bad_protocol.pt", ErrorIds.InvalidProtocolVersion, "999")]
    [InlineData("crafted/unsafe_global.pt", ErrorIds.UnsafeGlobal, "do not load it with torch.load")]
    [InlineData("kinds/sparse_csr.pt", ErrorIds.UnsafeGlobal, "torch._utils._rebuild_sparse_csr_tensor")]
    [InlineData("crafted/torchscript_like.pt", ErrorIds.TorchScriptStructure, "not a script module")]
    [InlineData("pickles/values_p2.pkl", ErrorIds.InvalidMagicNumber, "plain Python pickle")]
    public void Bad_input_gets_a_stable_error_id(string file, string errorId, string messagePart)
    {
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(Path.Combine(Fixtures.Dir, file)));
        Assert.Equal(errorId, ex.ErrorId);
        Assert.Contains(messagePart, ex.Message);
    }

    [Fact]
    public void Missing_file_is_ObjectNotFound()
    {
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(Path.Combine(Fixtures.Dir,
            "nope.pt")));
        Assert.Equal((ErrorIds.FileNotFound, ErrorKind.ObjectNotFound), (ex.ErrorId, ex.Kind));
    }

    [Fact]
    public void Every_truncation_of_a_real_file_fails_cleanly()
    {
        // Cutting a real checkpoint at every 97th byte must never leak a raw .NET exception.
        foreach (var file in new[] { "torch/views.pt", "torch/legacy_views.pt" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(Fixtures.Dir, file));
            for (int cut = 1; cut < bytes.Length; cut += 97)
            {
                using var ms = new MemoryStream(bytes, 0, cut);
                var ex = Record.Exception(() => CheckpointReader.Load(ms));
                Assert.True(ex is TorchSerialException, $"{file} cut at {cut}: {ex?.GetType().Name}: {ex?.Message}");
            }
        }
    }
}
