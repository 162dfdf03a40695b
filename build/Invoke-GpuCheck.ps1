<#
.SYNOPSIS
    The device check for a lent GPU machine: places a 1 GiB state_dict on a device, reads it back, checks
    every byte and reports host->device throughput next to a raw ILGPU copy of the same bytes.
    Then merges a rank-16 LoRA adapter into a 4096 x 4096 float32 and a bfloat16 weight with the low-rank product in
    the ILGPU kernel on the device (Merge-TorchCheckpoint -Device) and on the host, and checks that the bytes agree
    (a device that contracts the multiply and add into one FMA would round differently; the check says so).
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

# 5. The adapter merge's kernel: the same merge on the device and on the host, byte for byte.
$work = Join-Path ([IO.Path]::GetTempPath()) "torchserial-gpucheck-$PID"
$null = New-Item -ItemType Directory (Join-Path $work 'adapter') -Force
try {
    # ILGPU's CPU accelerator interprets the kernel (about 40 s for 4096 x 4096), so it checks the script on less.
    $n = if ($Device -like 'cuda*') { 4096 } else { 1024 }; $rank = 16
    function New-Random([long[]] $shape, [string] $name, [double] $spread) {
        $count = 1; foreach ($d in $shape) { $count *= $d }
        $values = [float[]]::new($count)
        for ($i = 0; $i -lt $count; $i++) { $values[$i] = [float](($random.NextDouble() - 0.5) * $spread) }
        $bytes = [byte[]]::new($count * 4); [Buffer]::BlockCopy($values, 0, $bytes, 0, $bytes.Length)
        [TorchSerial.Tensors.Tensor]::FromBytes($bytes, [TorchSerial.Tensors.DType]::Float32, $shape, $name)
    }
    $base = Join-Path $work 'base.pt'
    @((New-Random @($n, $n) 'q.weight' 0.1), (New-Random @($n, $n) 'k.weight' 0.1 | Convert-Tensor bfloat16)) |
        Save-Tensor -LiteralPath $base
    $prefix = 'base_model.model'
    @(foreach ($module in 'q', 'k') {
        New-Random @($rank, $n) "$prefix.$module.lora_A.weight" 0.02
        New-Random @($n, $rank) "$prefix.$module.lora_B.weight" 0.02
    }) | Save-Tensor -LiteralPath (Join-Path $work 'adapter/adapter_model.safetensors')
    @{ peft_type = 'LORA'; r = $rank; lora_alpha = 32; target_modules = @('q', 'k') } | ConvertTo-Json |
        Set-Content (Join-Path $work 'adapter/adapter_config.json')
    $sw.Restart()
    $onHost = Merge-TorchCheckpoint -LiteralPath $base -AdapterPath (Join-Path $work 'adapter') |
        ForEach-Object { [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($_.GetBytes())) }
    $hostSeconds = $sw.Elapsed.TotalSeconds
    $sw.Restart()
    $onDevice = Merge-TorchCheckpoint -LiteralPath $base -AdapterPath (Join-Path $work 'adapter') -Device $Device |
        ForEach-Object { [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($_.GetBytes())) }
    $deviceSeconds = $sw.Elapsed.TotalSeconds
    $same = @(for ($i = 0; $i -lt $onHost.Count; $i++) { $onHost[$i] -eq $onDevice[$i] })
    $line = 'Merged a rank-{0} adapter into two {1}x{1} weights (float32, bfloat16): host {2:N2} s, ' +
        '{3} kernel {4:N2} s; bytes identical: {5}.'
    Write-Host ($line -f $rank, $n, $hostSeconds, $Device, $deviceSeconds, ($same -join ', '))
    if ($same -contains $false) {
        throw "The $Device kernel's merge differs from the host's (an FMA contraction rounds once, the host twice)."
    }
} finally { Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue }

Write-Host ("GpuCheck finished in {0:N1} s." -f $clock.Elapsed.TotalSeconds)
