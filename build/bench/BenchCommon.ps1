# Shared by the bench's measuring scripts (dot-sourced).

# The median of N timings after one warm-up run: what a user lives with, where the best run is what they rarely get.
function Measure-Median([scriptblock] $work, [int] $n, [scriptblock] $before = {}) {
    & $before
    $null = & $work
    $times = for ($i = 0; $i -lt $n; $i++) {
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        & $before  # untimed: the same preparation the torch side gets
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $null = & $work
        $sw.Elapsed.TotalSeconds
    }
    Get-Median $times
}

function Get-Median([double[]] $values) {
    $sorted = @($values | Sort-Object)
    if ($sorted.Count % 2) { $sorted[($sorted.Count - 1) / 2] }
    else { ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2 }
}

# Removes a timed run's output and flushes dirty pages, untimed, so each run writes to a fresh file as the torch side's
# does.
function Clear-Output([string] $path) {
    Remove-Item -LiteralPath $path -ErrorAction SilentlyContinue
    & sync
}
