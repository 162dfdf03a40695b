<#
.SYNOPSIS
    The remote rows of build.ps1 -Task Bench: the GPT-2 file (and its safetensors copy) served over loopback by
    tests/fixtures/hubserver.py (a Hub on 127.0.0.1 redirecting to a CDN on 127.0.0.2, as the tests use), read
    through hf:// addresses, against the same work on the local file, in this one process.
.DESCRIPTION
    Listing: requests and bytes the server logged for one -Lazy listing of each file. Eager load and remote ->
    local .safetensors conversion: the remote and the local run interleaved (remote, local, remote, ...) after a
    warm-up of each, medians of N, so the VM's drift hits both alike; the output file removed and dirty pages
    flushed before each conversion, untimed. Prints one JSON object.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $Hub,
    [Parameter(Mandatory)] [string] $LocalZip, [Parameter(Mandatory)] [string] $LocalSafeTensors,
    [Parameter(Mandatory)] [string] $OutDir, [int] $Repeats = 7)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1')
. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
$env:HF_ENDPOINT = $Hub
$zipUrl = 'hf://bench/gpt2/pytorch_model.bin'
$stUrl = 'hf://bench/gpt2/model.safetensors'
$target = Join-Path $OutDir 'remote_ours.safetensors'
$fresh = { Clear-Output $target }

function Get-Listing([string] $url) {
    $null = Invoke-RestMethod "$Hub/_reset" -NoProxy
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $count = @(Import-TorchCheckpoint $url -Lazy).Count
    $seconds = $sw.Elapsed.TotalSeconds
    $log = @(Invoke-RestMethod "$Hub/_log" -NoProxy | ForEach-Object { $_ })  # the JSON array, one row each
    [ordered]@{ tensors = $count; requests = $log.Count; bytes = ($log | Measure-Object bytes -Sum).Sum;
        seconds = $seconds }
}

# Remote and local alternate, so both see the same state of the machine; each gets a warm-up first.
function Measure-Pair([scriptblock] $remote, [scriptblock] $local, [scriptblock] $before = {}) {
    foreach ($work in $remote, $local) { & $before; $null = & $work }
    $times = @{ remote = [Collections.Generic.List[double]]::new(); local = [Collections.Generic.List[double]]::new() }
    for ($i = 0; $i -lt $Repeats; $i++) {
        foreach ($side in 'remote', 'local') {
            [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
            & $before
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $null = & $(if ($side -eq 'remote') { $remote } else { $local })
            $times[$side].Add($sw.Elapsed.TotalSeconds)
        }
    }
    [ordered]@{ remote_s = Get-Median $times.remote; local_s = Get-Median $times.local }
}

$r = [ordered]@{}
# Warm-up: connections, JIT, and the server's SHA-256 of each file (which its Hub computes once, for X-Linked-Etag).
$null = Get-Listing $zipUrl
$null = Get-Listing $stUrl
$r.list_zip = Get-Listing $zipUrl
$r.list_safetensors = Get-Listing $stUrl
$r.file_bytes = (Get-Item $LocalZip).Length
$r.eager = Measure-Pair { Import-TorchCheckpoint $zipUrl -AsObject } {
    Import-TorchCheckpoint -LiteralPath $LocalZip -AsObject }
$r.convert = Measure-Pair { Import-TorchCheckpoint $zipUrl -Lazy | Save-Tensor -LiteralPath $target -Force } {
    Import-TorchCheckpoint -LiteralPath $LocalZip -Lazy | Save-Tensor -LiteralPath $target -Force } $fresh
& $fresh
$r | ConvertTo-Json -Compress -Depth 4
