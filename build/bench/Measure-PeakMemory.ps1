<#
.SYNOPSIS
    Peak working set of one eager load in a fresh process, against the same process after a bare module import.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $Checkpoint, [switch] $Load)
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1')
$null = [TorchSerial.Tensors.DType]::Float32   # touch the core assembly, as a load would
if ($Load) { $ckpt = Import-TorchCheckpoint -LiteralPath $Checkpoint; $null = $ckpt.Count }
$p = [Diagnostics.Process]::GetCurrentProcess(); $p.Refresh()
[pscustomobject]@{ peak = $p.PeakWorkingSet64 } | ConvertTo-Json -Compress
