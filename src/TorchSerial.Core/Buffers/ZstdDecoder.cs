using TorchSerial.Errors;

namespace TorchSerial.Buffers;

/// <summary>
/// Decodes zstd frames (DCP's <c>stream.zstd/1</c> transform) into memory, never past a stated bound: a frame that
/// would expand beyond what the item can hold is refused as a bomb, not decompressed into the session's memory.
/// </summary>
internal static class ZstdDecoder
{
    public static byte[] Decode(Stream compressed, long maxBytes, string what)
    {
        maxBytes = Math.Min(maxBytes, Array.MaxLength);
        using var output = new MemoryStream();
        try
        {
            using var zstd = new ZstdSharp.DecompressionStream(compressed, leaveOpen: true);
            var buffer = new byte[1 << 16];
            int n;
            while ((n = zstd.Read(buffer)) > 0)
            {
                if (output.Length + n > maxBytes)
                    throw Fail.Data(ErrorIds.ZipBomb,
                        $"{what} decompresses to more than {maxBytes} bytes, more than it can hold: refused as a " +
                            "decompression bomb.");
                output.Write(buffer, 0, n);
            }
        }
        catch (ZstdSharp.ZstdException ex)
        {
            throw new TorchSerialException(ErrorIds.DistributedChunkInvalid, ErrorKind.InvalidData,
                $"{what} is not a valid zstd stream: {ex.Message}", ex);
        }
        catch (IOException ex) when (ex is not EndOfStreamException)
        {
            throw new TorchSerialException(ErrorIds.DistributedChunkInvalid, ErrorKind.InvalidData,
                $"{what} is not a valid zstd stream: {ex.Message}", ex);
        }
        return output.ToArray();
    }
}
