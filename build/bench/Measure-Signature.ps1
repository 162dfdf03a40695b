<#
.SYNOPSIS
    The signature row of build.ps1 -Task Bench: Test-ModelSignature over a 5 GiB model folder (five 1 GiB files,
    signed once with a P-256 key, untimed) against `sha256sum` of the same files run in parallel (one process a core,
    `xargs -P`), both from a warm page cache, interleaved, medians of N. Prints one JSON object (seconds, and the
    verification's peak memory over the process before it).
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $OutDir, [int] $Repeats = 5)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1')
. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
$model = Join-Path $OutDir 'signed-5g'
$null = New-Item -ItemType Directory -Force $model
foreach ($i in 1..5) {
    $file = Join-Path $model "model-0000$i-of-00005.safetensors"
    if (-not (Test-Path $file) -or (Get-Item $file).Length -ne 1GB) {
        & dd if=/dev/urandom of=$file bs=16M count=64 status=none
    }
}
$key = [Security.Cryptography.ECDsa]::Create([Security.Cryptography.ECCurve+NamedCurves]::nistP256)
Set-Content (Join-Path $OutDir 'bench-key.pem') $key.ExportPkcs8PrivateKeyPem()
Set-Content (Join-Path $OutDir 'bench-key-pub.pem') $key.ExportSubjectPublicKeyInfoPem()
Set-ModelSignature $model -PrivateKeyPath (Join-Path $OutDir 'bench-key.pem') -Force
$verify = { Test-ModelSignature $model -PublicKeyPath (Join-Path $OutDir 'bench-key-pub.pem') -Quiet }
$cores = [Environment]::ProcessorCount
$sha256sum = {
    & bash -c "find '$model' -type f ! -name model.sig -print0 | xargs -0 -P $cores -n 1 sha256sum >/dev/null" }
if (-not (& $verify)) { throw 'The bench model does not verify.' }
$null = & $sha256sum
$ours = [Collections.Generic.List[double]]::new(); $theirs = [Collections.Generic.List[double]]::new()
for ($i = 0; $i -lt $Repeats; $i++) {
    $sw = [Diagnostics.Stopwatch]::StartNew(); $null = & $verify; $ours.Add($sw.Elapsed.TotalSeconds)
    $sw = [Diagnostics.Stopwatch]::StartNew(); $null = & $sha256sum; $theirs.Add($sw.Elapsed.TotalSeconds)
}
$status = '/proc/self/status'
$kb = { param($f)
    [long][regex]::Match([IO.File]::ReadAllText($status), "(?m)^$f" + ':\s+(\d+)').Groups[1].Value * 1024 }
[GC]::Collect()
[IO.File]::WriteAllText('/proc/self/clear_refs', '5')
$before = & $kb 'VmRSS'
$null = & $verify
[ordered]@{ bytes = 5GB; verify_s = Get-Median $ours; sha256sum_s = Get-Median $theirs;
    verify_peak_bytes = (& $kb 'VmHWM') - $before } | ConvertTo-Json -Compress
