using System.Text.RegularExpressions;
using TorchSerial.Errors;

namespace TorchSerial.Reading;

/// <summary>What a folder written by distributed training is, recognised by its content.</summary>
public enum DistributedFolderKind
{
    /// <summary>Not a checkpoint folder.</summary>
    None,
    /// <summary>A torch.distributed.checkpoint folder (<c>.metadata</c> and <c>__r_n.distcp</c> files), Megatron's
    /// <c>torch_dist</c> and the safetensors files of DCP's Hugging Face storage included.</summary>
    Dcp,
    /// <summary>A DeepSpeed checkpoint: the tag folder of <c>*_model_states.pt</c> and <c>*_optim_states.pt</c>
    /// files, or the folder whose <c>latest</c> names it.</summary>
    DeepSpeed,
}

/// <summary>Recognises checkpoint folders (distributed-checkpoints.md §1.1, §3.1, §4) and finds the folder that holds
/// the data when a tracker file (<c>latest</c>, <c>latest_checkpointed_iteration.txt</c>) points to it.</summary>
public static partial class DistributedFolder
{
    /// <summary>What <paramref name="folder"/> is; <see cref="DistributedFolderKind.None"/> for any other
    /// folder.</summary>
    public static DistributedFolderKind Recognise(string folder)
    {
        if (!Directory.Exists(folder)) return DistributedFolderKind.None;
        if (File.Exists(Path.Combine(folder, ".metadata")) || PerRankMetadata(folder).Count > 0)
            return DistributedFolderKind.Dcp;
        if (File.Exists(Path.Combine(folder, "latest"))) return DistributedFolderKind.DeepSpeed;
        if (DcpSafeTensorsReader.Files(folder).Count > 0) return DistributedFolderKind.Dcp;
        if (File.Exists(Path.Combine(folder, "latest_checkpointed_iteration.txt"))) return DistributedFolderKind.Dcp;
        if (Directory.EnumerateFiles(folder, "*_optim_states.pt").Any()
            || Directory.EnumerateFiles(folder, "*_model_states.pt").Any()) return DistributedFolderKind.DeepSpeed;
        return DistributedFolderKind.None;
    }

    /// <summary>Per-rank metadata files (<c>__&lt;rank&gt;.metadata</c>, written without collectives) in rank
    /// order.</summary>
    internal static List<string> PerRankMetadata(string folder)
        => Directory.EnumerateFiles(folder, "__*.metadata").Select(Path.GetFileName).OfType<string>()
            .Select(n => (Name: n, Match: RankMetadata().Match(n))).Where(m => m.Match.Success)
            .OrderBy(m => long.Parse(m.Match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .Select(m => m.Name).ToList();

    /// <summary>
    /// The folder a tracker points to: DeepSpeed's <c>latest</c> names the tag folder beside it, Megatron's
    /// <c>latest_checkpointed_iteration.txt</c> the iteration (<c>iter_0000010</c>). A folder without a tracker is
    /// itself.
    /// </summary>
    internal static string Resolve(string folder)
    {
        string deepSpeed = Path.Combine(folder, "latest"), megatron = Path.Combine(folder,
            "latest_checkpointed_iteration.txt");
        string? tag = null, tracker = null;
        if (File.Exists(deepSpeed) && !File.Exists(Path.Combine(folder, ".metadata")))
            (tracker, tag) = (deepSpeed, ReadTracker(deepSpeed).Trim());
        else if (File.Exists(megatron) && !File.Exists(Path.Combine(folder, ".metadata")))
        {
            string text = ReadTracker(megatron).Trim();
            tracker = megatron;
            tag = long.TryParse(text, System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out long iteration)
                ? $"iter_{iteration:D7}" : text; // "release" names its own folder
        }
        if (tracker is null) return folder;
        if (tag!.Length == 0 || tag.IndexOfAny(new[] { '/', '\\' }) >= 0 || tag is "." or ".."
            || !Directory.Exists(Path.Combine(folder, tag)))
            throw Fail.Data(ErrorIds.DeepSpeedTagMissing,
                $"'{tracker}' names the checkpoint '{tag}', but the folder '{folder}' has no such subfolder: the " +
                    "checkpoint it points to was deleted or not copied. Give the folder of a checkpoint that is there.",
                Path.GetFileName(tracker));
        return Path.Combine(folder, tag);
    }

    private static string ReadTracker(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > 4096)
            throw Fail.Data(ErrorIds.DeepSpeedTagMissing,
                $"'{path}' is {info.Length} bytes; a tracker file holds one checkpoint's name.", info.Name);
        return File.ReadAllText(path);
    }

    [GeneratedRegex(@"^__(\d{1,9})\.metadata$", RegexOptions.CultureInvariant)]
    private static partial Regex RankMetadata();
}
