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

