<#
.SYNOPSIS
    What a user would want to see first: the tensors of a real checkpoint, its object, and a refusal.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Sample
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1') -Force

Write-Host "`n== Import-TorchCheckpoint $Sample   (written by real torch: model + Adam optimizer)" -ForegroundColor Cyan
Import-TorchCheckpoint -LiteralPath $Sample | Format-Table | Out-String -Width 120 | Write-Host

Write-Host '== Parameters per top-level key' -ForegroundColor Cyan
Import-TorchCheckpoint -LiteralPath $Sample | Group-Object { $_.Name.Split('.')[0] } |
    Select-Object Name, Count, @{ n = 'Elements'; e = { [long]($_.Group | Measure-Object NumElements -Sum).Sum } } |
    Format-Table | Out-String | Write-Host

Write-Host '== One tensor in detail, with its values' -ForegroundColor Cyan
$bias = Import-TorchCheckpoint -LiteralPath $Sample | Where-Object Name -EQ 'model.fc.bias'
$bias | Format-List | Out-String | Write-Host
Write-Host ('ToArray(): ' + (($bias.ToArray() | ForEach-Object { $_.ToString('0.####') }) -join ', '))

Write-Host "`n== -AsObject: what torch.load returns" -ForegroundColor Cyan
$ckpt = Import-TorchCheckpoint -LiteralPath $Sample -AsObject
$ckpt.GetEnumerator() | Where-Object { $_.Value -isnot [System.Collections.IDictionary] } |
    Select-Object @{ n = 'Key'; e = { $_.Key } }, @{ n = 'Type'; e = { $_.Value.GetType().Name } }, @{ n = 'Value (Python repr)'; e = { [TorchSerial.Python.PyRepr]::Of($_.Value) } } |
    Format-Table | Out-String | Write-Host

Write-Host '== Safe by default: a pickle that calls posix.system is refused, and nothing runs' -ForegroundColor Cyan
$hostile = Join-Path (Split-Path $Sample) '../crafted/unsafe_global.pt'
Import-TorchCheckpoint -LiteralPath $hostile -ErrorAction SilentlyContinue -ErrorVariable refused
Write-Host ("{0}`n  {1}" -f $refused[0].FullyQualifiedErrorId, $refused[0].Exception.Message)
