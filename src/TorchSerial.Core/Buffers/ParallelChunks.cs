using System.Runtime.ExceptionServices;

namespace TorchSerial.Buffers;

/// <summary>
/// Runs work over the chunks of a byte range on every core: reading from the page cache, checking CRCs and
/// swapping bytes are all CPU-bound, so a load of large storages scales with the cores it is given.
/// Errors come out as themselves (the first one), not wrapped in an AggregateException.
/// </summary>
internal static class ParallelChunks
{
    /// <summary>Runs <paramref name="body"/>(index, offset, length) for each chunk of <paramref name="length"/>
    /// bytes.</summary>
    public static void For(long length, int chunkSize, Action<int, long, int> body, CancellationToken cancellationToken)
    {
        int count = checked((int)((length + chunkSize - 1) / chunkSize));
        Each(count, i =>
        {
            long at = (long)i * chunkSize;
            body(i, at, (int)Math.Min(chunkSize, length - at));
        }, cancellationToken);
    }

    /// <summary>Runs <paramref name="body"/> for 0 … count-1, on as many cores as there are.</summary>
    public static void Each(int count, Action<int> body, CancellationToken cancellationToken)
    {
        if (count <= 1 || Environment.ProcessorCount == 1)
        {
            for (int i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                body(i);
            }
            return;
        }
        var options = new ParallelOptions { CancellationToken = cancellationToken,
            MaxDegreeOfParallelism = Environment.ProcessorCount };
        try { Parallel.For(0, count, options, body); }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
        }
    }
}
