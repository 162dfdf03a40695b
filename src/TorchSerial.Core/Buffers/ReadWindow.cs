using Microsoft.Win32.SafeHandles;

namespace TorchSerial.Buffers;

/// <summary>
/// Positional reads of a file, the small ones served from a window of the file that each thread keeps. A zip of
/// 10,000 small tensors is 10,000 local headers and 10,000 records of a few hundred bytes, side by side: read one
/// by one that is 20,000 system calls; through the window it is a few dozen. Large reads go straight to their
/// destination. The window is per thread, so parallel loads share nothing, and is tied to the handle it came
/// from; a closed handle is never served from it.
/// </summary>
internal static class ReadWindow
{
    // 64 KiB: a 10,000-tensor zip still reads in ~60 system calls, and the two windows of a parallel load stay
    // small beside the data (256 KiB ones were 2.4% of the peak of loading a 21 MB file).
    private const int WindowSize = 64 << 10;
    /// <summary>Reads up to this size go through the window; larger ones go straight to their destination.</summary>
    public const int SmallRead = 16 << 10;

    [ThreadStatic] private static byte[]? t_window;
    [ThreadStatic] private static SafeFileHandle? t_handle;
    [ThreadStatic] private static long t_start;
    [ThreadStatic] private static int t_length;

    /// <summary>Reads up to <paramref name="destination"/>.Length bytes at <paramref name="offset"/>; fewer only at the
    /// end of the file.</summary>
    public static int Read(SafeFileHandle handle, Span<byte> destination, long offset)
    {
        if (destination.Length > SmallRead || handle.IsClosed) return RandomAccess.Read(handle, destination, offset);
        if (!ReferenceEquals(t_handle, handle) || offset < t_start || offset + destination.Length > t_start + t_length)
        {
            var window = t_window ??= new byte[WindowSize];
            t_handle = null;
            int filled = 0;
            while (filled < window.Length)
            {
                int n = RandomAccess.Read(handle, window.AsSpan(filled), offset + filled);
                if (n == 0) break;
                filled += n;
            }
            (t_handle, t_start, t_length) = (handle, offset, filled);
        }
        int available = (int)Math.Min(destination.Length, t_start + t_length - offset);
        t_window.AsSpan((int)(offset - t_start), Math.Max(0, available)).CopyTo(destination);
        return Math.Max(0, available);
    }
}
