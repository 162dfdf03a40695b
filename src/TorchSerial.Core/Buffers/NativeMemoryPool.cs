using System.Runtime.InteropServices;

namespace TorchSerial.Buffers;

/// <summary>
/// Keeps the native blocks of freed large buffers for the next buffer of the same length, as torch's allocator keeps
/// freed memory: a script that loads checkpoints in a loop otherwise pays, every load, for page faults on fresh
/// memory (about 100,000 of them for a 0.5 GB file, the larger part of an eager load on the dev VM). Blocks are kept
/// by exact length (a loop over one file, or over checkpoints of one model, asks for the same lengths again), up to
/// an eighth of the machine's memory and at most 2 GiB, and all are given back once nothing has been taken for a few
/// seconds, so an idle session holds nothing.
/// </summary>
internal static unsafe class NativeMemoryPool
{
    /// <summary>Blocks smaller than this go straight back to the C allocator, which reuses them itself.</summary>
    public const long MinLength = 1 << 20;

    private const int IdleMs = 5000;
    private static readonly Dictionary<long, Stack<nint>> Blocks = new();
    private static readonly long Capacity = Math.Min(2L << 30, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 8);
    private static long _held;
    private static Timer? _trim;
    private static long _lastRent;

    /// <summary>A block of <paramref name="length"/> bytes, aligned to 64: a kept one if there is one.</summary>
    public static byte* Rent(long length)
    {
        if (length >= MinLength)
            lock (Blocks)
            {
                _lastRent = Environment.TickCount64;
                if (Blocks.TryGetValue(length, out var stack) && stack.Count > 0)
                {
                    _held -= length;
                    return (byte*)stack.Pop();
                }
            }
        return (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, length), 64);
    }

    /// <summary>Takes a block back (from a finalizer), or frees it when the pool is full.</summary>
    public static void Return(byte* block, long length)
    {
        if (length >= MinLength)
            lock (Blocks)
            {
                if (_held + length <= Capacity)
                {
                    if (!Blocks.TryGetValue(length, out var stack)) Blocks[length] = stack = new Stack<nint>();
                    stack.Push((nint)block);
                    _held += length;
                    _trim ??= new Timer(_ => TrimIfIdle(), null, IdleMs, IdleMs);
                    return;
                }
            }
        NativeMemory.AlignedFree(block);
    }

    /// <summary>Bytes kept now (diagnostics).</summary>
    public static long Held { get { lock (Blocks) return _held; } }

    /// <summary>How many blocks of <paramref name="length"/> bytes are kept now.</summary>
    public static int Kept(long length)
    {
        lock (Blocks) return Blocks.TryGetValue(length, out var stack) ? stack.Count : 0;
    }

    /// <summary>Gives every kept block back to the C allocator.</summary>
    public static void Clear()
    {
        lock (Blocks)
        {
            foreach (var stack in Blocks.Values)
                while (stack.Count > 0) NativeMemory.AlignedFree((void*)stack.Pop());
            Blocks.Clear();
            _held = 0;
            _trim?.Dispose();
            _trim = null;
        }
    }

    private static void TrimIfIdle()
    {
        lock (Blocks)
            if (Environment.TickCount64 - _lastRent < IdleMs) return;
        Clear();
    }
}
