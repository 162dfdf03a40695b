using System.Runtime;

namespace TorchSerial.Reading;

/// <summary>
/// Opening a checkpoint of many small tensors allocates its whole structure in one burst that survives: about 800
/// bytes a tensor (the tensor, its storage, buffer, zip record and name), 32 MB for 40,000 tensors. Collections during
/// that burst find nothing to free and promote everything twice; measured on the 40,000-tensor bench file, they were
/// 41-60 ms of a 127-175 ms lazy open. For such files the burst runs in a no-GC region sized to it, so the heap is
/// collected once, before it (where earlier garbage is freed) instead of repeatedly during it: the open took 70-90 ms.
/// The region is process-wide, so it is only tried where it pays (at least <see cref="MinRecords"/> records), never
/// nested (a concurrent open simply runs without one), and ended only by the open that started it.
/// </summary>
internal sealed class AllocationBurst : IDisposable
{
    /// <summary>Below this many zip records the collections an open meets cost less than the blocking collection
    /// that starts a region.</summary>
    public const int MinRecords = 8192;

    /// <summary>What a region may reserve: more than this and the open runs as any other.</summary>
    private const long MaxBytes = 240L << 20;

    private static int _active;
    private bool _started;

    private AllocationBurst() { }

    /// <summary>Starts a region for an open of <paramref name="records"/> records whose pickle is
    /// <paramref name="pickleBytes"/> long, where that pays; the result ends it when disposed.</summary>
    public static AllocationBurst? Begin(int records, long pickleBytes)
    {
        if (records < MinRecords) return null;
        long bytes = Math.Min(MaxBytes, records * 1024L + pickleBytes * 2);
        if (Interlocked.CompareExchange(ref _active, 1, 0) != 0) return null;
        var burst = new AllocationBurst();
        try
        {
            burst._started = GCSettings.LatencyMode != GCLatencyMode.NoGCRegion && GC.TryStartNoGCRegion(bytes);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
        {
            burst._started = false; // another region is open, or the size is beyond what this runtime allows
        }
        if (!burst._started) Volatile.Write(ref _active, 0);
        return burst;
    }

    public void Dispose()
    {
        if (!_started) return;
        _started = false;
        try
        {
            // Allocations past the reservation (other threads count too) end the region early, by a collection.
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
        catch (InvalidOperationException) { } // it ended already
        finally { Volatile.Write(ref _active, 0); }
    }
}
