# Shared by the bench's measuring scripts (dot-sourced): best of N timings after one warm-up run.
function Measure-Best([scriptblock] $work, [int] $n, [scriptblock] $before = {}) {
    & $before
    $null = & $work
    $best = [double]::MaxValue
    for ($i = 0; $i -lt $n; $i++) {
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        & $before  # untimed: the same preparation the torch side gets
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $null = & $work
        $best = [math]::Min($best, $sw.Elapsed.TotalSeconds)
    }
    $best
}

# How many timed runs a row gets, the same on both sides: small rows take milliseconds and this VM's noise is
# +-30-50% there, so they get three times as many; files over 1 GB get one fewer.
function Get-RowRepeats($row, [int] $repeats) {
    if ($row.tensor_bytes -lt 1e8) { 3 * $repeats } elseif ($row.tensor_bytes -lt 1e9) { $repeats } else { [math]::Max(1, $repeats - 1) }
}
