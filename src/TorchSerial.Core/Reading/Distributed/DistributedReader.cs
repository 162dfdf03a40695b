using TorchSerial.Errors;

namespace TorchSerial.Reading;

/// <summary>Opens a folder written by distributed training as one checkpoint, by what the folder holds.</summary>
internal static class DistributedReader
{
    public static Checkpoint Open(string path, LoadOptions options, bool eager, CancellationToken ct)
    {
        string folder = DistributedFolder.Resolve(path);
        try
        {
            return DistributedFolder.Recognise(folder) switch
            {
                DistributedFolderKind.Dcp when DcpSafeTensorsReader.Files(folder).Count > 0
                    && !File.Exists(Path.Combine(folder, ".metadata"))
                    => DcpSafeTensorsReader.Open(folder, options, eager, ct),
                DistributedFolderKind.Dcp => DcpFolderReader.Open(folder, options, eager, ct),
                DistributedFolderKind.DeepSpeed => DeepSpeedFolderReader.Open(folder, options, eager, ct),
                _ => throw new TorchSerialException(ErrorIds.NotACheckpoint, ErrorKind.InvalidArgument,
                    $"'{path}' is a folder, but not one distributed training writes (no .metadata, no DeepSpeed " +
                        "model or optimizer states): give a checkpoint file, or a folder of one."),
            };
        }
        catch (OperationCanceledException ex)
        {
            throw new TorchSerialException(ErrorIds.Stopped, ErrorKind.OperationStopped, "The load was cancelled.", ex);
        }
        catch (OverflowException ex)
        {
            // Sizes, offsets and shapes come from the folder's metadata: products and sums of them are checked.
            throw Fail.Data(ErrorIds.ArithmeticOverflow,
                $"The folder '{folder}' gives tensor sizes or offsets whose products or sums overflow 64-bit " +
                    $"arithmetic: its metadata is corrupt or crafted. ({ex.Message})");
        }
    }
}
