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

function Measure-Best([scriptblock] $work, [scriptblock] $before = {}) {
    & $before
    & $work | Out-Null
    $best = [double]::MaxValue
    for ($i = 0; $i -lt $Repeats; $i++) {
        [GC]::Collect(); [GC]::WaitForPendingFinalizers()
        & $before
        $sw = [Diagnostics.Stopwatch]::StartNew()
        & $work | Out-Null
        $best = [math]::Min($best, $sw.Elapsed.TotalSeconds)
    }
    $best
}

$saveOut = Join-Path $OutDir 'torchserial_saved.pt'
$freshTarget = { if (Test-Path $saveOut) { Remove-Item $saveOut }; sync }
$load = Measure-Best { [TorchSerial.Reading.CheckpointReader]::Load($Checkpoint) }
$cmdletLoad = Measure-Best { Import-TorchCheckpoint -LiteralPath $Checkpoint -AsObject }
$lazyList = Measure-Best { Import-TorchCheckpoint -LiteralPath $Checkpoint -Lazy | Measure-Object NumElements -Sum }
$obj = [TorchSerial.Reading.CheckpointReader]::Load($Checkpoint).Root
$save = Measure-Best { Save-Tensor -InputObject $obj -LiteralPath $saveOut } $freshTarget
$lazyObj = Import-TorchCheckpoint -LiteralPath $Checkpoint -Lazy -AsObject
$lazySave = Measure-Best { Save-Tensor -InputObject $lazyObj -LiteralPath $saveOut } $freshTarget
[pscustomobject]@{ load_s = $load; cmdlet_load_s = $cmdletLoad; lazy_list_s = $lazyList; save_s = $save; lazy_save_s = $lazySave } | ConvertTo-Json -Compress
