# Loads (as the policy says, then admitting every global), shows and scans every hostile test file in this one
# process, and prints what it cost as JSON: the slowest call and the process's peak resident memory. Run in a fresh
# pwsh by Scanner-Peers.Tests.ps1, so that the peak is this corpus's alone.
param([string] $Fixtures)
Import-Module $env:TORCHSERIAL_MODULE
$hostile = (Get-Content (Join-Path $Fixtures 'crafted.json') -Raw | ConvertFrom-Json -AsHashtable).hostile.Keys
$files = @($hostile | ForEach-Object { Join-Path $Fixtures 'crafted' $_ }) +
    @(Get-ChildItem (Join-Path $Fixtures 'peers') -File | ForEach-Object FullName)
$calls = @(
    { Import-TorchCheckpoint -LiteralPath $f -ErrorAction SilentlyContinue | Out-String -Width 200 },
    { Import-TorchCheckpoint -LiteralPath $f -AllowGlobal '*' -ErrorAction SilentlyContinue | Out-String -Width 200 },
    { Test-TorchCheckpoint -LiteralPath $f | Format-List * | Out-String -Width 200 })
$slowest = @{ Ms = 0; Call = '' }
$clock = [Diagnostics.Stopwatch]::new()
foreach ($f in $files) {
    foreach ($call in $calls) {
        $clock.Restart(); $null = & $call; $clock.Stop()
        if ($clock.ElapsedMilliseconds -gt $slowest.Ms) {
            $slowest = @{ Ms = $clock.ElapsedMilliseconds; Call = "$($call.ToString().Trim()) on $(Split-Path -Leaf $f)" }
        }
    }
}
# The process's high-water mark of resident memory (VmHWM on Linux).
$peak = [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64
[pscustomobject]@{ Files = $files.Count; PeakKiB = $peak / 1KB; SlowestMs = $slowest.Ms; Slowest = $slowest.Call } |
    ConvertTo-Json -Compress
