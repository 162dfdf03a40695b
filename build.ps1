#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests and demonstrates the TorchSerial module.
.DESCRIPTION
    Build  assembles the module at out/TorchSerial (psd1, format views, help and every DLL it needs).
    Test   builds and packages, runs the xunit suite and the Pester suite (in a child pwsh), prints one closing
           line "N passed, N failed, N skipped" and exits non-zero on any failure or when no test ran.
    Package  builds, then packs out/TorchSerial into out/packages/TorchSerial.<version>.nupkg with PSResourceGet's
           Compress-PSResource (PowerShell 7.4+), ready for a file or NuGet repository and Install-PSResource.
    Demo   builds, imports the module and shows a real torch checkpoint shipped in the repository.
    Bench  builds, then times TorchSerial and Debian's torch side by side over a matrix of checkpoint shapes
           (21 MB / 360 tensors, resnet-like 47 MB, 10,000 small, 40,000 tiny, GPT-2 small 0.5 GB, a 5.4 GB
           shard, one 2.3 GB storage) against read and pipeline floors, plus cold start, and prints the ratios
           (build/bench/Invoke-Bench.ps1). Needs /usr/bin/python3 with torch; -BenchRows picks rows.
    MicroBench  runs the BenchmarkDotNet project (build/bench/TorchSerial.Benchmarks) over the core's hot
           paths: pickle parsing, lazy open, storage reads and the zip writer (several minutes).
    GpuCheck  on a CUDA machine: places a 1 GiB state_dict on cuda:0, reads it back, checks the bytes and reports
           host->device GB/s next to a raw ILGPU copy (build/Invoke-GpuCheck.ps1; under 5 minutes).
    Clean  removes out/ and the build outputs.
.EXAMPLE
    dotnet tool restore && dotnet pwsh -NoProfile -File ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Package', 'Test', 'Demo', 'Bench', 'MicroBench', 'GpuCheck', 'Clean')]
    [string] $Task = 'Build',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    # Bench only: a comma-separated subset of the matrix's files (effnet.pt, resnet.pt, small10k.pt, tiny40k.pt,
    # gpt2.pt, shard5g.pt, bigstorage.pt); all rows when empty.
    [string] $BenchRows = ''
)
$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$out = Join-Path $root 'out'
$moduleOut = Join-Path $out 'TorchSerial'
$results = Join-Path $out 'TestResults'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
# Redirected output (CI logs, files) gets no colour codes, from this script or the processes it starts.
if ([Console]::IsOutputRedirected) { $PSStyle.OutputRendering = 'PlainText'; $env:NO_COLOR = '1' }

function Invoke-Native([string] $what, [scriptblock] $command) {
    & $command
    if ($LASTEXITCODE -ne 0) { throw "$what failed with exit code $LASTEXITCODE." }
}

function Invoke-Build {
    $version = (Import-PowerShellDataFile (Join-Path $root 'module/TorchSerial.psd1')).ModuleVersion
    Invoke-Native 'dotnet build' { dotnet build (Join-Path $root 'TorchSerial.PowerShell.sln') -c $Configuration -nologo -v quiet "-p:Version=$version" }
    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    # ReadyToRun: the module's code is compiled ahead of time for this platform (the IL stays, so other platforms
    # JIT it as before). The runtime uses such code only on the .NET it was compiled for, so the core and its
    # dependencies ship twice, in lib/net8.0 (pwsh 7.4/7.5) and lib/net10.0 (pwsh 7.6), and the module's loader
    # (Loading/ModuleDependencies.cs) picks one at import. Measured on pwsh 7.6: a first lazy open JITs 286
    # methods with the net8.0 image and 11 with the net10.0 one. See docs/performance.md.
    $rid = [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier
    $lib = Join-Path $moduleOut 'lib'
    $staging = Join-Path $out 'staging'
    if (Test-Path $staging) { Remove-Item $staging -Recurse -Force }
    $r2r = @('-r', $rid, '--self-contained', 'false', '-p:PublishReadyToRun=true')
    dotnet publish (Join-Path $root 'src/TorchSerial.PowerShell') -c $Configuration -o $moduleOut @r2r `
        "-p:Version=$version" -nologo -v quiet
    $readyToRun = $LASTEXITCODE -eq 0
    if ($readyToRun) {
        dotnet publish (Join-Path $root 'src/TorchSerial.Core') -c $Configuration -f net10.0 -o (Join-Path $staging 'net10.0') @r2r `
            "-p:Version=$version" -nologo -v quiet
        $readyToRun = $LASTEXITCODE -eq 0
    }
    if (-not $readyToRun) {
        Write-Warning "ReadyToRun publish for $rid failed; assembling the module from the portable build instead."
        if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
        Invoke-Native 'dotnet publish' { dotnet publish (Join-Path $root 'src/TorchSerial.PowerShell') -c $Configuration -o $moduleOut --no-build -nologo -v quiet }
    }
    # The core and its dependencies move out of the module's folder, where PowerShell would load them itself.
    $dependencies = 'TorchSerial.Core', 'ILGPU', 'System.IO.Hashing', 'ZstdSharp'
    $null = New-Item -ItemType Directory (Join-Path $lib 'net8.0')
    Get-ChildItem $moduleOut -File | Where-Object { $_.BaseName -in $dependencies } |
        Move-Item -Destination (Join-Path $lib 'net8.0')
    if ($readyToRun) {
        $null = New-Item -ItemType Directory (Join-Path $lib 'net10.0')
        Get-ChildItem (Join-Path $staging 'net10.0') -File | Where-Object { $_.BaseName -in $dependencies } |
            Move-Item -Destination (Join-Path $lib 'net10.0')
        Remove-Item $staging -Recurse -Force
    }
    Get-ChildItem $moduleOut -Filter *.deps.json | Remove-Item
    Copy-Item (Join-Path $root 'module/*') $moduleOut -Recurse -Force
    Copy-Item (Join-Path $root 'LICENSE'), (Join-Path $root 'CHANGELOG.md') $moduleOut
    $null = Test-ModuleManifest (Join-Path $moduleOut 'TorchSerial.psd1')
    Write-Host "Module assembled at $moduleOut"
}

# One .nupkg of the assembled module, made by PSResourceGet itself, so what Install-PSResource unpacks is exactly
# out/TorchSerial. The package test (tests/pester/Package.Tests.ps1) installs it from a file repository by name.
function Invoke-Package {
    Invoke-Build
    $packages = Join-Path $out 'packages'
    if (Test-Path $packages) { Remove-Item $packages -Recurse -Force }
    $null = New-Item -ItemType Directory $packages
    Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
    Compress-PSResource -Path $moduleOut -DestinationPath $packages
    $nupkg = Get-ChildItem $packages -Filter 'TorchSerial.*.nupkg'
    if (-not $nupkg) { throw "Compress-PSResource wrote no package to $packages." }
    Write-Host "Package written to $($nupkg.FullName)"
}

# The same PowerShell that runs this script, in a child process. Started as a .NET local tool it is
# 'dotnet pwsh.dll', so the host path alone is not enough.
function Invoke-ChildPwsh([string[]] $arguments) {
    $hostPath = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($hostPath) -eq 'dotnet') {
        & $hostPath (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive @arguments
    } else {
        & $hostPath -NoProfile -NonInteractive @arguments
    }
}

function Get-PesterPath {
    Invoke-Native 'restore of build/tools.csproj' { dotnet restore (Join-Path $root 'build/tools.csproj') -nologo -v quiet }
    $packages = $env:NUGET_PACKAGES
    if (-not $packages) {
        $line = dotnet nuget locals global-packages --list
        $packages = ($line -replace '^global-packages:\s*', '').Trim()
    }
    $pester = Join-Path $packages 'pester/5.7.1/tools/Pester.psd1'
    if (-not (Test-Path $pester)) { throw "Pester was not restored to $pester." }
    $pester
}

# The second judge (tests/TorchSerial.Judge: LibTorch 2.10 through TorchSharp, linux-x64 only). Where its packages
# cannot be restored or it does not build, the tests that need it are skipped and counted, and this says why.
function Get-JudgePath {
    $project = Join-Path $root 'tests/TorchSerial.Judge'
    if ([System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier -ne 'linux-x64') {
        Write-Host 'LibTorch judge: linux-x64 only; its tests will be skipped.'
        return $null
    }
    dotnet build $project -c $Configuration -nologo -v quiet | Out-Null
    if ($LASTEXITCODE -ne 0) {
        Write-Host "LibTorch judge: the build of $project failed; its tests will be skipped."
        return $null
    }
    Join-Path $project "bin/$Configuration/net10.0/linux-x64/TorchSerial.Judge"
}

function Read-TrxCounts([string] $trx) {
    [xml] $doc = Get-Content $trx -Raw
    $c = $doc.TestRun.ResultSummary.Counters
    [pscustomobject]@{ Passed = [int]$c.passed; Failed = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted; Skipped = [int]$c.notExecuted }
}

function Invoke-Tests {
    Invoke-Package
    if (Test-Path $results) { Remove-Item $results -Recurse -Force }
    $null = New-Item -ItemType Directory $results

    $env:TORCHSERIAL_RESULTS = $results
    dotnet test (Join-Path $root 'tests/TorchSerial.Core.Tests') -c $Configuration --no-build --nologo `
        --logger 'trx;LogFileName=core.trx' --logger 'console;verbosity=minimal' --results-directory $results
    $xunit = if (Test-Path "$results/core.trx") { Read-TrxCounts "$results/core.trx" } else { [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    # One line of the fuzzer's figures; its histogram of outcomes stays in the results folder.
    if (Test-Path "$results/fuzz-summary.txt") {
        Write-Host ((Get-Content "$results/fuzz-summary.txt" -TotalCount 1) + " (outcomes: out/TestResults/fuzz-summary.txt)")
    }
    Write-Host ("xunit: {0} passed, {1} failed, {2} skipped" -f $xunit.Passed, $xunit.Failed, $xunit.Skipped)

    $pesterPath = Get-PesterPath
    # A path that does not exist skips the judge's tests rather than falling back to an older build.
    $env:TORCHSERIAL_JUDGE = (Get-JudgePath) ?? 'unavailable'
    Invoke-ChildPwsh @('-File', (Join-Path $root 'build/Invoke-PesterTests.ps1'),
        '-PesterPath', $pesterPath, '-ModulePath', $moduleOut, '-TestsPath', (Join-Path $root 'tests/pester'), '-ResultDirectory', $results) |
        Tee-Object -Variable pesterLines | Write-Host
    $pesterExit = $LASTEXITCODE
    # The suite's output is progress and results only: a stray "What if:" line, a warning or a colour code is a test
    # that leaks, and counts as a failure so it is fixed rather than read past.
    $noise = @($pesterLines | ForEach-Object { "$_" } | Where-Object { $_ -match '^(What if:|WARNING:)|\x1b\[' })
    if ($noise.Count -gt 0) {
        Write-Host "Test output that is not progress or results ($($noise.Count) line(s)):"
        $noise | Select-Object -First 5 | ForEach-Object { Write-Host "  $_" }
    }
    $countsFile = Join-Path $results 'pester-counts.json'
    $pester = if (Test-Path $countsFile) { Get-Content $countsFile -Raw | ConvertFrom-Json } else { $null }
    # No counts, or a failing exit with none counted (the runner itself broke): the run is red, never green.
    if ($null -eq $pester -or $null -eq $pester.Passed) { $pester = [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    elseif ($pesterExit -ne 0 -and $pester.Failed -eq 0) { $pester.Failed = 1 }
    if ($noise.Count -gt 0) { $pester.Failed += 1 }
    Write-Host ("pester: {0} passed, {1} failed, {2} skipped" -f $pester.Passed, $pester.Failed, $pester.Skipped)

    $passed = $xunit.Passed + $pester.Passed
    $failed = $xunit.Failed + $pester.Failed
    $skipped = $xunit.Skipped + $pester.Skipped
    Write-Host ("{0} passed, {1} failed, {2} skipped" -f $passed, $failed, $skipped)
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    Invoke-ChildPwsh @('-File', (Join-Path $root 'build/Show-Demo.ps1'), '-ModulePath', $moduleOut, '-Sample', (Join-Path $root 'tests/fixtures/torch/checkpoint.pt'))
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

function Invoke-Bench {
    Invoke-Build
    & (Join-Path $root 'build/bench/Invoke-Bench.ps1') -ModulePath $moduleOut -OutDir (Join-Path $out 'bench') -ChildPwsh ${function:Invoke-ChildPwsh} -Only $BenchRows
}

switch ($Task) {
    'Bench' { Invoke-Bench }
    'GpuCheck' {
        Invoke-Build
        Invoke-ChildPwsh @('-File', (Join-Path $root 'build/Invoke-GpuCheck.ps1'), '-ModulePath', $moduleOut)
        if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    }
    'MicroBench' {
        Invoke-Native 'BenchmarkDotNet' { dotnet run -c Release --project (Join-Path $root 'build/bench/TorchSerial.Benchmarks') -- --filter '*' --artifacts (Join-Path $out 'BenchmarkDotNet') }
    }
    'Build' { Invoke-Build }
    'Package' { Invoke-Package }
    'Test' { Invoke-Tests }
    'Demo' { Invoke-Demo }
    'Clean' {
        if (Test-Path $out) { Remove-Item $out -Recurse -Force }
        Invoke-Native 'dotnet clean' { dotnet clean (Join-Path $root 'TorchSerial.PowerShell.sln') -nologo -v quiet }
    }
}
