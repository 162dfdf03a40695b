<#
.SYNOPSIS
    The TorchSerial side of the merge rows of build.ps1 -Task Bench (merge_torch.py writes the inputs): a rank-16
    LoRA merged into the GPT-2 file and saved (`Merge-TorchCheckpoint -AdapterPath | Save-Tensor`), and three
    GPT-2-sized checkpoints averaged and saved (`Merge-TorchCheckpoint a, b, c | Save-Tensor`), in this one process:
    the median of N runs after a warm-up, the output removed and dirty pages flushed before each (untimed, as on the
    torch side, whose save replaces its file); and the adapter row's floor, the same file streamed to the same output
    with nothing merged. Prints one JSON object of seconds.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string[]] $Inputs,
    [Parameter(Mandatory)] [string] $Adapter, [Parameter(Mandatory)] [string] $OutDir, [int] $Repeats = 5)
$ErrorActionPreference = 'Stop'
$Inputs = $Inputs -split ','  # one argument through pwsh -File
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1')
. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
$target = Join-Path $OutDir 'merge_ours.pt'
$fresh = { Clear-Output $target }
$r = [ordered]@{}
$r.adapter_s = Measure-Median { Merge-TorchCheckpoint -LiteralPath $Inputs[0] -AdapterPath $Adapter |
    Save-Tensor -LiteralPath $target -Force } $Repeats $fresh
# The floor of the adapter row: the same file streamed to the same output without merging anything.
$r.copy_s = Measure-Median {
    Import-TorchCheckpoint -LiteralPath $Inputs[0] -Lazy | Save-Tensor -LiteralPath $target -Force } $Repeats $fresh
$r.average_s = Measure-Median { Merge-TorchCheckpoint -LiteralPath $Inputs | Save-Tensor -LiteralPath $target -Force } `
    $Repeats $fresh
& $fresh
$r | ConvertTo-Json -Compress
