<#
.SYNOPSIS
    Peak memory of one eager load in a fresh process, over the same process just before the load.
.DESCRIPTION
    On Linux the kernel's high-water mark is reset first (/proc/self/clear_refs 5), as the torch side does after
    `import torch`, so start-up transients are not counted; elsewhere the peak working set after a bare import
    is the baseline (the caller subtracts the same script's figure without -Load).
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $Checkpoint, [switch] $Load,
    # Instead of an eager load: a streaming conversion of the checkpoint to this file (-Lazy | Save-Tensor).
    [string] $ConvertTo = '', [string] $MaxShardSize = '',
    # Instead of an eager load: Measure-Tensor over every tensor (-Lazy unless -Load), or a comparison with this file.
    [switch] $Measure, [string] $CompareWith = '', [string] $CastTo = '',
    # Instead of an eager load: this LoRA adapter merged into the checkpoint and saved to -ConvertTo.
    [string] $AdapterPath = '')
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1')
$null = [TorchSerial.Tensors.DType]::Float32   # touch the core assembly, as a load would
$status = '/proc/self/status'
function Get-Kb([string] $field) {
    [long][regex]::Match([IO.File]::ReadAllText($status), "(?m)^$field" + ':\s+(\d+)').Groups[1].Value * 1024
}
if (Test-Path $status) {
    [GC]::Collect()
    [IO.File]::WriteAllText('/proc/self/clear_refs', '5')
    $before = Get-Kb 'VmRSS'
    if ($Load) { $ckpt = Import-TorchCheckpoint -LiteralPath $Checkpoint; $null = $ckpt.Count }
    if ($CastTo) { Import-TorchCheckpoint -LiteralPath $Checkpoint -Lazy | Convert-Tensor bfloat16 | Save-Tensor -LiteralPath $CastTo }
    if ($Measure) { $null = Import-TorchCheckpoint -LiteralPath $Checkpoint -Lazy | Measure-Tensor | Measure-Object }
    if ($CompareWith) { $null = Compare-TorchCheckpoint -ReferencePath $Checkpoint -DifferencePath $CompareWith | Measure-Object }
    if ($AdapterPath) {
        Merge-TorchCheckpoint -LiteralPath $Checkpoint -AdapterPath $AdapterPath | Save-Tensor -LiteralPath $ConvertTo
    }
    elseif ($ConvertTo) {
        $shard = if ($MaxShardSize) { @{ MaxShardSize = $MaxShardSize; Force = $true } } else { @{} }
        Import-TorchCheckpoint -LiteralPath $Checkpoint -Lazy | Save-Tensor -LiteralPath $ConvertTo @shard
    }
    [pscustomobject]@{ peak = (Get-Kb 'VmHWM') - $before; relative = $true } | ConvertTo-Json -Compress
    return
}
if ($Load) { $ckpt = Import-TorchCheckpoint -LiteralPath $Checkpoint; $null = $ckpt.Count }
$p = [Diagnostics.Process]::GetCurrentProcess(); $p.Refresh()
[pscustomobject]@{ peak = $p.PeakWorkingSet64; relative = $false } | ConvertTo-Json -Compress
