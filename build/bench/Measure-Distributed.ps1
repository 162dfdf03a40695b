<#
.SYNOPSIS
    The TorchSerial side of the distributed rows of build.ps1 -Task Bench: each folder (a 2-rank DCP and a 2-rank
    ZeRO-3, written by distributed_torch.py) consolidated to one .safetensors file, `Import-TorchCheckpoint <folder>
    -Lazy | Save-Tensor`, in this one process: the median of N runs after a warm-up, the output removed and the page
    cache's dirty pages flushed before each (untimed, as on the torch side). Prints one JSON object of seconds.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string[]] $Folder,
    [Parameter(Mandatory)] [string] $OutDir, [int] $Repeats = 5)
$ErrorActionPreference = 'Stop'
$Folder = $Folder -split ','  # one argument through pwsh -File
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1')
. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
$target = Join-Path $OutDir 'dist_ours.safetensors'
$fresh = { Clear-Output $target }
$r = [ordered]@{}
foreach ($f in $Folder) {
    $r[(Split-Path $f -Leaf)] = Measure-Median { Import-TorchCheckpoint -LiteralPath $f -Lazy |
        Save-Tensor -LiteralPath $target -Force } $Repeats $fresh
}
& $fresh
$r | ConvertTo-Json -Compress
