using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Tensors;
using TorchSerial.Torch;

namespace TorchSerial.Reading;

/// <summary>
/// torch.load for .NET: detects the container, runs the restricted unpickler, places storages and
/// reads every storage's bytes once into its final buffer. Bad input throws <see cref="TorchSerialException"/>.
/// </summary>
public static class CheckpointReader
{
    /// <summary>
    /// Everything a load does except reading storage bytes: container, pickle, placement, geometry
    /// checks and naming. The scanner uses it to predict a load without loading tensor data. The container is
    /// sniffed here unless the caller already did (<paramref name="format"/>).
    /// </summary>
    internal static (LoadedGraph Graph, List<Tensor> Tensors) LoadStructure(Stream stream, LoadOptions options,
        string? path = null, CheckpointFormat? format = null)
    {
        format ??= FormatSniffer.Detect(stream, path);
        if (format == CheckpointFormat.ShardedSet)
        {
            if (path is null)
                throw new TorchSerialException(ErrorIds.NotACheckpoint, ErrorKind.InvalidArgument,
                    "The stream holds a shard index; a sharded set must be opened by the index's path, so its shards " +
                        "can be found.");
            using var set = ShardedSetReader.Open(path, stream, options, eager: false, CancellationToken.None);
            var g = new LoadedGraph(set.Format, set.Root, set.Storages, set.Records) { Metadata = set.Metadata,
                PickleProtocol = 0 };
            return (g, set.Tensors.ToList());
        }
        var graph = format switch
        {
            CheckpointFormat.Zip => ZipCheckpointSource.Load(stream, options),
            CheckpointFormat.LegacyTar => LegacyTarSource.Load(stream, options),
            CheckpointFormat.SafeTensors => SafeTensorsSource.Load(stream, options),
            _ => LegacyStreamSource.Load(stream, options),
        };
        return (graph, graph.Tensors ?? TensorCollector.Collect(graph.Root, graph.Storages.Count));
    }

    /// <summary>Loads a checkpoint file (or a sharded set, by its index; or a folder written by distributed
    /// training). The file is closed when this returns.</summary>
    public static Checkpoint Load(string path, LoadOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new LoadOptions();
        if (Directory.Exists(path)) return DistributedReader.Open(path, options, eager: true, cancellationToken);
        var stream = CheckpointFile.OpenRead(path, options, cancellationToken);
        using (stream)
        {
            var format = FormatSniffer.Detect(stream, path);
            if (format == CheckpointFormat.ShardedSet)
                return ShardedSetReader.Open(path, stream, options, eager: true, cancellationToken);
            return Load(stream, path, options, cancellationToken, format);
        }
    }

    /// <summary>
    /// Opens a checkpoint lazily: names, dtypes, shapes, strides, sharing and locations are all there, but no
    /// tensor data is read until first used (GetBytes, ToArray, a save). The file stays open until the result
    /// is disposed (or collected). Reads check that the file was not changed in place since it was opened
    /// (size, modification time, and the zip CRC-32 of each record) and fail with CheckpointChanged if it was;
    /// replacing the file by rename (as Save-Tensor does) is safe, since the open handle keeps the original.
    /// </summary>
    /// <param name="path">The file, a sharded set's index, or a folder written by distributed training.</param>
    /// <param name="options">The load's options.</param>
    /// <param name="cancellationToken">Stops opening a folder between its files and chunks (a file opens at once).
    /// </param>
    public static Checkpoint Open(string path, LoadOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new LoadOptions();
        if (Directory.Exists(path)) return DistributedReader.Open(path, options, eager: false, cancellationToken);
        var stream = CheckpointFile.OpenRead(path, options, cancellationToken);
        try
        {
            var format = FormatSniffer.Detect(stream, path);
            if (format == CheckpointFormat.ShardedSet)
                using (stream) return ShardedSetReader.Open(path, stream, options, eager: false,
                    cancellationToken);
            // A remote file pins its identity itself (ETag, size), and checks it on every range.
            var lazy = stream is FileStream file ? options.WithSnapshot(new FileSnapshot(file.SafeFileHandle))
                : options;
            var (graph, tensors) = LoadStructure(stream, lazy, path, format);
            return new Checkpoint(path, graph, tensors, owner: stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Loads a checkpoint from a seekable stream (as torch.load needs a seekable file-like object).</summary>
    public static Checkpoint Load(Stream stream, LoadOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        if (!stream.CanSeek || !stream.CanRead)
            throw new TorchSerialException(ErrorIds.NotACheckpoint, ErrorKind.InvalidArgument,
                "The stream must be readable and seekable; copy it into a MemoryStream first.");
        return Load(stream, null, options ?? new LoadOptions(), cancellationToken);
    }

    private static Checkpoint Load(Stream stream, string? path, LoadOptions options, CancellationToken ct,
        CheckpointFormat? format = null)
    {
        try
        {
            var (graph, tensors) = LoadStructure(stream, options, path, format);
            LoadAll(graph.Storages, options, ct);
            return new Checkpoint(path, graph, tensors, owner: null);
        }
        catch (EndOfStreamException ex)
        {
            throw new TorchSerialException(ErrorIds.PickleTruncated, ErrorKind.InvalidData,
                "The file ends unexpectedly: it is truncated.", ex);
        }
    }

    /// <summary>
    /// The last step of opening a checkpoint made of other files (a set's shards, a folder's files): lazily, they stay
    /// open as long as it is; eagerly, every storage (and <paramref name="alsoLoad"/>'s) is read and they are closed.
    /// </summary>
    internal static Checkpoint Finish(string path, LoadedGraph graph, IReadOnlyList<Tensor> tensors, IDisposable parts,
        bool eager, LoadOptions options, CancellationToken ct, IEnumerable<Storage>? alsoLoad = null)
    {
        if (!eager) return new Checkpoint(path, graph, tensors, owner: parts);
        var storages = alsoLoad is null ? graph.Storages
            : graph.Storages.Concat(alsoLoad).Distinct(ReferenceEqualityComparer.Instance).Cast<Storage>().ToList();
        LoadAll(storages, options, ct);
        parts.Dispose();
        return new Checkpoint(path, graph, tensors, owner: null);
    }

    /// <summary>Reads every storage's bytes into its final place, on every core unless a device is involved.</summary>
    internal static void LoadAll(IReadOnlyList<Storage> storages, LoadOptions options, CancellationToken ct)
    {
        try
        {
            long total = storages.Sum(s => s.NumBytes), done = 0;
            var progress = options.Progress;
            // Storages load on every core (the large ones split further into chunks). Progress is counted from all
            // of them but reported on this thread only, since a PowerShell host takes progress from its own thread.
            int caller = Environment.CurrentManagedThreadId;
            Action<int>? report = progress is null ? null : n =>
            {
                long now = Interlocked.Add(ref done, n);
                if (Environment.CurrentManagedThreadId == caller) progress(now, total);
            };
            // Storages bound for a device load on this thread: an accelerator's context (CUDA's) belongs to the
            // thread that uses it, and uploads are bound by the bus, not the cores.
            if (storages.Any(s => s.Device != DeviceNames.Cpu))
                foreach (var storage in storages) storage.Load(report, ct);
            else ParallelChunks.Each(storages.Count, i => storages[i].Load(report, ct), ct);
            if (progress is not null) progress(total, total);
        }
        catch (OperationCanceledException ex)
        {
            throw new TorchSerialException(ErrorIds.Stopped, ErrorKind.OperationStopped, "The load was cancelled.", ex);
        }
    }
}
