<#
.SYNOPSIS
    Runs the Pester suite against the assembled module, in its own pwsh process.
.DESCRIPTION
    A binary module cannot be unloaded, so the suite never runs inside the build's session.
    Counts go to pester-counts.json for build.ps1; the exit code is 1 on any failure or when no test ran.
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $TestsPath,
    [Parameter(Mandatory)] [string] $ResultDirectory
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
$env:TORCHSERIAL_MODULE = (Resolve-Path (Join-Path $ModulePath 'TorchSerial.psd1')).Path

$config = New-PesterConfiguration
$config.Run.Path = $TestsPath
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Normal'
$config.Output.RenderMode = 'Plaintext'
# The NUnit report is written after the run, not by Pester's plugin: a failure message holding a character XML cannot
# carry (an escape code from a child process) made the plugin throw at the end and lose the counts of the whole run.
$config.TestResult.Enabled = $false
$PSStyle.OutputRendering = 'PlainText'
$result = Invoke-Pester -Configuration $config

# A failed BeforeAll or a broken file shows up as a failed container, not as failed tests: count it.
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
[pscustomobject]@{ Passed = $result.PassedCount; Failed = $failed; Skipped = $result.SkippedCount + $result.NotRunCount } |
    ConvertTo-Json | Set-Content (Join-Path $ResultDirectory 'pester-counts.json')
try { $result | Export-NUnitReport -Path (Join-Path $ResultDirectory 'pester.xml') }
catch { Write-Host "The NUnit report could not be written ($($_.Exception.Message)); the counts above stand." }
if ($failed -gt 0 -or $result.PassedCount -eq 0) { exit 1 }
exit 0
