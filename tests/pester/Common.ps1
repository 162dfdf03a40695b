# Shared set-up: import the assembled module (never the source folder) and load the fixture expectations.
$script:ModuleManifest = if ($env:TORCHSERIAL_MODULE) { $env:TORCHSERIAL_MODULE } else { Join-Path $PSScriptRoot '../../out/TorchSerial/TorchSerial.psd1' }
Import-Module $script:ModuleManifest -Force
$script:FixtureDir = (Resolve-Path (Join-Path $PSScriptRoot '../fixtures')).Path
# The pwsh running the suite, for child processes: started as a .NET local tool it is 'dotnet pwsh.dll'.
$script:Pwsh = [Environment]::ProcessPath
[string[]] $script:PwshPrefix = @(if ([IO.Path]::GetFileNameWithoutExtension($script:Pwsh) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
$script:Expected = Get-Content (Join-Path $script:FixtureDir 'expected.json') -Raw | ConvertFrom-Json -AsHashtable
$script:CraftedExpected = Get-Content (Join-Path $script:FixtureDir 'crafted.json') -Raw | ConvertFrom-Json -AsHashtable

function Get-Sha256([byte[]] $bytes) {
    [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($bytes)).ToLowerInvariant()
}

function Find-TorchPython {
    # Real torch judges; where it is absent, the tests that need it are skipped (and counted as skipped).
    if (-not (Test-Path /usr/bin/python3)) { return }
    & /usr/bin/python3 -c 'import torch' 2>$null
    if ($LASTEXITCODE -eq 0) { '/usr/bin/python3' }
}

# Runs a script in a PowerShell with no host, with the module imported, and returns its output and streams. -WhatIf
# writes its "What if:" lines straight to the host, so a -WhatIf test run here keeps them out of the suite's output.
function Invoke-Hostless([scriptblock] $Script, [object[]] $ArgumentList = @()) {
    $ps = [powershell]::Create()
    try {
        $null = $ps.AddCommand('Import-Module').AddParameter('Name', $script:ModuleManifest).AddStatement()
        $null = $ps.AddScript($Script.ToString())
        foreach ($a in $ArgumentList) { $null = $ps.AddArgument($a) }
        $output = $ps.Invoke()
        [pscustomobject]@{ Output = $output; Verbose = @($ps.Streams.Verbose | ForEach-Object Message)
            Errors = @($ps.Streams.Error) }
    } finally { $ps.Dispose() }
}
