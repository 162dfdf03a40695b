<#
.SYNOPSIS
    The TorchSerial side of build.ps1 -Task Bench: times Import-TorchCheckpoint and Save-Tensor in this
    process after a warm-up (best of N), and prints one JSON line of seconds and peak working set.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Checkpoint,
    [Parameter(Mandatory)] [string] $OutDir,
    [int] $Repeats = 3
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1')

function Measure-Best([scriptblock] $work) {
    & $work | Out-Null
    $best = [double]::MaxValue
    for ($i = 0; $i -lt $Repeats; $i++) {
        [GC]::Collect(); [GC]::WaitForPendingFinalizers()
        $sw = [Diagnostics.Stopwatch]::StartNew()
        & $work | Out-Null
        $best = [math]::Min($best, $sw.Elapsed.TotalSeconds)
    }
    $best
}

$proc = [Diagnostics.Process]::GetCurrentProcess()
$load = Measure-Best { [TorchSerial.CheckpointReader]::Load($Checkpoint) }
$obj = [TorchSerial.CheckpointReader]::Load($Checkpoint).Root
$saveOut = Join-Path $OutDir 'torchserial_saved.pt'
$save = Measure-Best { Save-Tensor -InputObject $obj -LiteralPath $saveOut }
$cmdletLoad = Measure-Best { Import-TorchCheckpoint -LiteralPath $Checkpoint -AsObject }
$proc.Refresh()
[pscustomobject]@{ load_s = $load; cmdlet_load_s = $cmdletLoad; save_s = $save; peak_working_set = $proc.PeakWorkingSet64 } | ConvertTo-Json -Compress
