<#
.SYNOPSIS
    The device check for a lent GPU machine: places a 1 GiB state_dict on a device, reads it back, checks
    every byte and reports host->device throughput next to a raw ILGPU copy of the same bytes.
.DESCRIPTION
    build.ps1 -Task GpuCheck runs it against cuda:0 and fails at once where no CUDA device exists.
    -Device ilgpu-cpu -SizeMiB 64 runs the same steps on ILGPU's CPU accelerator, to check the script itself.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $Device = 'cuda:0',
    [int] $SizeMiB = 1024
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1')
$clock = [Diagnostics.Stopwatch]::StartNew()
if (-not (Get-TorchDevice $Device -Available)) {
    Get-TorchDevice | Format-Table | Out-String | Write-Host
    throw "GpuCheck needs the device '$Device', which is not available here."
}
$target = Get-TorchDevice $Device
Write-Host "Device: $($target.Name) ($($target.Description), $([math]::Round($target.MemoryBytes / 1GB, 1)) GiB)"

# 1. A 1 GiB state_dict: four float32 tensors of random bytes.
$parts = 4
$bytesPer = [long]$SizeMiB * 1MB / $parts
$random = [Random]::new(20261129)
$tensors = foreach ($i in 0..($parts - 1)) {
    $b = [byte[]]::new($bytesPer); $random.NextBytes($b)
    [TorchSerial.Tensors.Tensor]::FromBytes($b, [TorchSerial.Tensors.DType]::Float32, [long[]]@($bytesPer / 4), "layer$i.weight")
}
$expected = $tensors | ForEach-Object { [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($_.GetBytes())) }

# 2. Place on the device (one warm-up on a small tensor first: accelerator creation is not a transfer).
$null = ,$tensors[0] | Select-Object -First 1 | ForEach-Object { [TorchSerial.Tensors.Tensor]::FromBytes([byte[]]::new(4), [TorchSerial.Tensors.DType]::Float32, [long[]]@(1), 'warm') } | Convert-DeviceMap -MapLocation $Device
$sw = [Diagnostics.Stopwatch]::StartNew()
$placed = $tensors | Convert-DeviceMap -MapLocation $Device
$placeSeconds = $sw.Elapsed.TotalSeconds
$placed | ForEach-Object { if ($_.Device -ne $Device) { throw "$($_.Name) is on $($_.Device), not $Device." } }

# 3. Read back and check every byte.
$sw.Restart()
$actual = $placed | ForEach-Object { [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($_.GetBytes())) }
$readSeconds = $sw.Elapsed.TotalSeconds
for ($i = 0; $i -lt $parts; $i++) { if ($actual[$i] -ne $expected[$i]) { throw "Bytes of layer$i differ after the round trip." } }

# 4. Raw ILGPU copy of the same bytes, for comparison.
$raw = ($tensors | ForEach-Object { [TorchSerial.Devices.DeviceDiagnostics]::MeasureRawUpload($Device, $_.GetBytes()) } | Measure-Object -Sum).Sum
$gib = $SizeMiB / 1024
Write-Host ("Placed {0:N2} GiB on {1}: {2:N2} GB/s host->device (Convert-DeviceMap), raw ILGPU copy {3:N2} GB/s; read back {4:N2} GB/s; all bytes identical." -f `
    $gib, $Device, ($SizeMiB * 1MB / 1e9 / $placeSeconds), ($SizeMiB * 1MB / 1e9 / $raw), ($SizeMiB * 1MB / 1e9 / $readSeconds))
Write-Host ("GpuCheck finished in {0:N1} s." -f $clock.Elapsed.TotalSeconds)
