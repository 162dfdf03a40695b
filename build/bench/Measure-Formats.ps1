<#
.SYNOPSIS
    The TorchSerial side of the formats rows of build.ps1 -Task Bench, on one .pt file (GPT-2 small), in this one
    process after a warm-up (the median of N): the file converted to safetensors and to a set of 100 MB shards (the
    conversions are timed as a user runs them: Import-TorchCheckpoint -Lazy | Save-Tensor), then an eager load and
    -Lazy listings of the safetensors file and of the set. Prints one JSON object of seconds.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $Source, [Parameter(Mandatory)] [string] $OutDir,
    [int] $Repeats = 3)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1')
$st = Join-Path $OutDir 'ours.safetensors'
$setDir = Join-Path $OutDir 'ours-set'
$null = New-Item -ItemType Directory -Force $setDir
. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
$r = [ordered]@{}
$r.convert_s = Measure-Median { Import-TorchCheckpoint -LiteralPath $Source -Lazy | Save-Tensor -LiteralPath $st } $Repeats { sync }
$r.reshard_s = Measure-Median { Import-TorchCheckpoint -LiteralPath $st -Lazy | Save-Tensor -LiteralPath (Join-Path $setDir 'model.safetensors') -MaxShardSize '100MB' -Force } $Repeats { sync }
$index = Join-Path $setDir 'model.safetensors.index.json'
$r.st_eager_s = Measure-Median { Import-TorchCheckpoint -LiteralPath $st | Measure-Object } $Repeats { sync }
$r.st_list_s = Measure-Median { Import-TorchCheckpoint -LiteralPath $st -Lazy | Measure-Object } $Repeats { sync }
$r.set_list_s = Measure-Median { Import-TorchCheckpoint -LiteralPath $index -Lazy | Measure-Object } $Repeats { sync }
$r.shards = (Get-ChildItem $setDir -Filter 'model-*').Count
$r | ConvertTo-Json -Compress
