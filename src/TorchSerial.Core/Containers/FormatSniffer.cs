using TorchSerial.Errors;
using System.Text;

namespace TorchSerial.Containers;

/// <summary>
/// Decides what a file is from its first bytes, as torch.load does (zip magic, then tar, then the
/// legacy pickle stream), and names the usual impostors (Git LFS pointers, HTML error pages).
/// </summary>
internal static class FormatSniffer
{
    public static CheckpointFormat Detect(Stream stream, string? name = null)
    {
        long length = stream.Length;
        if (length == 0)
            throw Fail.Data(ErrorIds.EmptyFile,
                "The file is empty (0 bytes): the save or the download did not complete.");
        var head = ZipDirectory.ReadAt(stream, 0, (int)Math.Min(length, 512));
        var span = head.AsSpan();

        if (ForeignFormats.Recognise(span, name) is { } foreign) throw foreign;
        if (span.StartsWith("PK\x03\x04"u8)) return CheckpointFormat.Zip;
        if (span.StartsWith("PYTORCH1"u8))
            throw Fail.Unsupported(ErrorIds.PreviewArchive,
                "The file is an unsupported archive format from the PyTorch 1.0 preview release (it starts with " +
                    "'PYTORCH1').");
        if (span.StartsWith("version https://git-lfs"u8))
            throw Fail.Data(ErrorIds.GitLfsPointer,
                $"The file is a Git LFS pointer ({length} bytes of text), not the checkpoint itself. Run 'git lfs " +
                    $"pull' (or download the real file) and load it again.");
        if (span.StartsWith("PK"u8))
            throw Fail.Data(ErrorIds.CorruptZip,
                "The file starts like a zip archive but not with a local file header; torch.load would not read it " +
                    "either.");
        if (TarDirectory.IsHeader(span)) return CheckpointFormat.LegacyTar;
        if (LooksLikeSafeTensors(span, name)) return CheckpointFormat.SafeTensors;
        if (ShardIndex.LooksLikeIndex(span)) return CheckpointFormat.ShardedSet;
        // A bare pickle of any protocol (protocol 0 is printable text) is read as torch.load reads it: as the legacy
        // stream's first pickle, which names its globals (and refuses unsafe ones) before the magic number is checked.
        if (BarePickle.Recognise(span, whole: length <= span.Length)) return CheckpointFormat.LegacyStream;
        if (LooksLikeMarkup(span) || LooksLikeText(span))
            throw Fail.Data(ErrorIds.HtmlOrTextFile,
                $"The file is {(LooksLikeMarkup(span) ? "an HTML or XML page" : "plain text")}, not a checkpoint: " +
                    $"often an error page saved in place of a download. It starts with: '{Preview(span)}'.");
        // A protocol 2+ header whose opcodes did not walk cleanly: the unpickler says exactly what is wrong.
        if (span[0] == 0x80) return CheckpointFormat.LegacyStream;
        throw Fail.Data(ErrorIds.NotACheckpoint,
            $"The file is not a PyTorch checkpoint: it is neither a zip archive, a tar archive nor a pickle stream " +
                $"(first bytes {Convert.ToHexString(span[..Math.Min(8, span.Length)])}).");
    }

    /// <summary>
    /// An 8-byte length whose high bytes are zero, then a JSON object. A file named .safetensors that is no other
    /// format is read as one too, so that its header's own error (too large, truncated) is what the user sees.
    /// </summary>
    private static bool LooksLikeSafeTensors(ReadOnlySpan<byte> s, string? name)
    {
        bool named = name is not null && name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
        if (s.Length < 10) return named;
        if (s[4] == 0 && s[5] == 0 && s[6] == 0 && s[7] == 0 && s[8..].TrimStart(" \t\r\n"u8) is { Length: > 0 } json
            && json[0] == '{')
            return true;
        return named && !(s[0] is 0x80 && s[1] <= 5);
    }

    private static bool LooksLikeMarkup(ReadOnlySpan<byte> s)
    {
        var t = s.TrimStart(" \t\r\n\uFEFF"u8);
        return t.Length > 0 && t[0] == '<';
    }

    private static bool LooksLikeText(ReadOnlySpan<byte> s)
    {
        // A protocol-0 pickle is text too, so only call it text when it cannot start a pickle.
        foreach (byte b in s)
            if (b < 0x09 || (b > 0x0D && b < 0x20) || b == 0x7F) return false;
        return true;
    }

    private static string Preview(ReadOnlySpan<byte> s)
    {
        var text = Encoding.UTF8.GetString(s[..Math.Min(60, s.Length)]);
        return new string(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
    }
}
