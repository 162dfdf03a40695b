<#
.SYNOPSIS
    What a user wants to see first: the listing of a real checkpoint, the model's parameter count, saving the
    weights, a scan of a folder with bad files in it, and a GPU-saved file on a machine without a GPU.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Sample
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1') -Force
$fixtures = Split-Path (Split-Path $Sample)
$work = Join-Path ([IO.Path]::GetTempPath()) ("torchserial-demo-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$null = New-Item -ItemType Directory $work
function Show([string] $title) { Write-Host "`n== $title" -ForegroundColor Cyan }

try {
    Show "Import-TorchCheckpoint $(Split-Path $Sample -Leaf)   (written by real torch: a model and its Adam optimizer)"
    Import-TorchCheckpoint -LiteralPath $Sample | Format-Table | Out-String -Width 140 | Write-Host

    Show "Parameters of the model alone (-Key model: the optimizer's moments are not parameters)"
    $weights = Import-TorchCheckpoint -LiteralPath $Sample -Key model
    $params = $weights | Where-Object { $_.DTypeInfo.IsFloatingPoint } | Measure-Object NumElements -Sum
    # A state_dict keeps parameters and buffers alike (BatchNorm's running statistics are floats too).
    Write-Host ("{0:N0} parameters and float buffers in {1} tensors ({2:N0} bytes); the optimizer's state is not counted" -f
        $params.Sum, $params.Count, ($weights | Measure-Object NumBytes -Sum).Sum)

    Show 'Save the weights: a state_dict model.load_state_dict() accepts, and the same as .safetensors'
    $weights | Save-Tensor -LiteralPath (Join-Path $work 'weights.pt') -PassThru | Out-String | Write-Host
    $weights | Save-Tensor -LiteralPath (Join-Path $work 'weights.safetensors') -Verify -PassThru |
        Format-Table Name, Length | Out-String | Write-Host

    Show 'Scan a folder with a bad file and a hostile one (no tensor data is read, nothing in a file runs)'
    $folder = Join-Path $work 'downloads'
    $null = New-Item -ItemType Directory $folder
    Copy-Item $Sample, (Join-Path $fixtures 'crafted/os_system.pt'), (Join-Path $fixtures 'crafted/truncated_zip.pt') $folder
    Copy-Item (Join-Path $work 'weights.safetensors') $folder
    Push-Location $folder
    try { Get-ChildItem | Test-TorchCheckpoint | Format-Table | Out-String -Width 140 | Write-Host }
    finally { Pop-Location }
    Write-Host ("CI gate over the folder (-Quiet, one answer for all): {0}" -f (Get-ChildItem $folder | Test-TorchCheckpoint -Quiet))

    Show 'A checkpoint saved on two GPUs, on this machine without one'
    $gpu = Join-Path $fixtures 'torch/cuda_mixed.pt'
    $scan = Test-TorchCheckpoint -LiteralPath $gpu
    Write-Host ("Test-TorchCheckpoint: {0}; saved on {1} (locations are data: no device needed)" -f $scan.Status,
        ($scan.Locations -join ', '))
    Import-TorchCheckpoint -LiteralPath $gpu -Lazy | Select-Object -First 3 | Format-Table | Out-String -Width 140 |
        Write-Host
    Import-TorchCheckpoint -LiteralPath $gpu -MapLocation cpu | Select-Object -First 3 | Format-Table | Out-String -Width 140 |
        Write-Host
    Convert-DeviceMap -LiteralPath $gpu -Destination (Join-Path $work 'cpu.pt') -MapLocation cpu
    Write-Host ("Convert-DeviceMap -MapLocation cpu rewrote its tags without reading its data; now saved on: {0}" -f
        ((Test-TorchCheckpoint -LiteralPath (Join-Path $work 'cpu.pt')).Locations -join ', '))
}
finally { Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue }
