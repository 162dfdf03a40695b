using System.Diagnostics;
using System.Management.Automation;

namespace TorchSerial.PowerShell;

/// <summary>
/// Turns the core's (bytes done, bytes total) callbacks into Write-Progress: nothing for work that ends
/// within a second, then at most four updates a second, and a Completed record at the end. The core calls
/// back on the pipeline thread, so writing progress from the callback is allowed.
/// </summary>
internal sealed class ProgressReporter
{
    private static int _nextId = 7100;
    private readonly Cmdlet _cmdlet;
    private readonly ProgressRecord _record;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastMs = -1000;
    private bool _shown;
    private int _items = -1, _itemsTotal;
    private string _noun = "";

    public ProgressReporter(Cmdlet cmdlet, string activity, string target)
    {
        _cmdlet = cmdlet;
        _record = new ProgressRecord(Interlocked.Increment(ref _nextId), activity, target);
    }

    /// <summary>Items (tensors) done of how many, shown before the bytes in the next update.</summary>
    public void ReportItems(int done, int total, string noun)
    {
        (_items, _itemsTotal, _noun) = (done, total, noun);
    }

    public void Report(long done, long total)
    {
        long now = _clock.ElapsedMilliseconds;
        if (now < 1000 || (now - _lastMs < 250 && done < total)) return;
        _lastMs = now;
        _record.PercentComplete = total > 0 ? (int)Math.Min(100, done * 100 / total) : -1;
        string items = _items >= 0 ? $"{_items:N0} of {_itemsTotal:N0} {_noun}, " : "";
        _record.StatusDescription = $"{items}{done / 1048576.0:N0} of {total / 1048576.0:N0} MiB";
        _record.RecordType = ProgressRecordType.Processing;
        _cmdlet.WriteProgress(_record);
        _shown = true;
    }

    /// <summary>A callback for work counted in files and bytes (hashing a model's files).</summary>
    public Action<int, int, long, long> Files => (files, total, bytes, totalBytes) =>
    {
        ReportItems(files, total, "files");
        Report(bytes, totalBytes);
    };

    public void Complete()
    {
        if (!_shown) return;
        _record.RecordType = ProgressRecordType.Completed;
        _cmdlet.WriteProgress(_record);
    }
}
