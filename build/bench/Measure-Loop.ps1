<#
.SYNOPSIS
    The loop row of build.ps1 -Task Bench: one file loaded eagerly N times in a row in this fresh process, as a
    user's script loops over loads: `$null = Import-TorchCheckpoint <file> -AsObject`, nothing kept between them and
    no forced collection. Prints the total seconds and the peak memory over the process just after the import.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $Checkpoint, [int] $Count = 10)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1')
$null = [TorchSerial.Tensors.DType]::Float32   # touch the core assembly, as a load would
$status = '/proc/self/status'
function Get-Kb([string] $field) {
    [long][regex]::Match([IO.File]::ReadAllText($status), "(?m)^$field" + ':\s+(\d+)').Groups[1].Value * 1024
}
[IO.File]::WriteAllText('/proc/self/clear_refs', '5')
$before = Get-Kb 'VmRSS'
$clock = [Diagnostics.Stopwatch]::StartNew()
for ($i = 0; $i -lt $Count; $i++) { $null = Import-TorchCheckpoint -LiteralPath $Checkpoint -AsObject }
$seconds = $clock.Elapsed.TotalSeconds
[pscustomobject]@{ loop_s = $seconds; peak_bytes = (Get-Kb 'VmHWM') - $before } | ConvertTo-Json -Compress
