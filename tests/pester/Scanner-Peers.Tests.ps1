# The attack and evasion cases picklescan, modelscan and fickling test themselves against, re-created by
# tests/fixtures/peers.py: the scan must name each one's dangerous global with a severity and a specific reason, a
# load must refuse each, and docs/security.md must compare every case with what that scanner reports.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $peers = Get-Content (Join-Path $FixtureDir 'peers.json') -Raw | ConvertFrom-Json -AsHashtable
    $script:PeerCases = $peers.GetEnumerator() | Sort-Object Key |
        ForEach-Object { @{ File = $_.Key; Global = $_.Value.global; Source = $_.Value.source } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:PeerDir = Join-Path $FixtureDir 'peers'
    $script:SecurityDoc = Get-Content (Join-Path $PSScriptRoot '../../docs/security.md') -Raw
}

Describe "The peers' own test cases" {
    It 'names <Global> in <File> (<Source>) as Dangerous, with a specific reason' -ForEach $PeerCases {
        $report = Test-TorchCheckpoint -LiteralPath (Join-Path $PeerDir $File)
        $report.IsLoadable | Should -BeFalse
        $found = @($report.Globals | Where-Object ResolvedName -eq $Global)
        $found | Should -Not -BeNullOrEmpty -Because "the scan lists $(($report.Globals.ResolvedName) -join ', ')"
        $found[0].Severity | Should -Be 'Dangerous'
        $found[0].Family | Should -Not -Be 'unknown'
        $found[0].Reason | Should -Not -BeLike 'not on the allow-list*'
    }

    It 'refuses to load <File>' -ForEach $PeerCases {
        $out = Import-TorchCheckpoint -LiteralPath (Join-Path $PeerDir $File) -ErrorVariable err `
            -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $err | Should -Not -BeNullOrEmpty
    }

    It 'compares <File> with its scanner in docs/security.md' -ForEach $PeerCases {
        $SecurityDoc | Should -Match ([regex]::Escape("``$File``"))
    }

    It 'reports the second pickle of a file after the first one''s STOP, with its offset' {
        $report = Test-TorchCheckpoint -LiteralPath (Join-Path $PeerDir 'ps_second_pickle.pkl')
        $report.ErrorId | Should -Be 'InvalidMagicNumber'
        $hidden = @($report.Problems | Where-Object ErrorId -eq 'HiddenPickle')
        $hidden | Should -HaveCount 1
        $hidden[0].Offset | Should -Be 14
        $hidden[0].Record | Should -Be 'pickle 2 (offset 14)'
        ($report.Globals | Where-Object ResolvedName -eq 'requests.api.get').Record | Should -Be 'pickle 2 (offset 14)'
    }

    It 'grades os.system by its real name when it is pickled as posix.system' {
        $g = (Test-TorchCheckpoint -LiteralPath (Join-Path $PeerDir 'ps_system_v4.pkl')).Globals
        $g.FullName | Should -Be 'posix.system'
        $g.ResolvedName | Should -Be 'os.system'
        $g.Reason | Should -Be 'executes a shell command (it is os.system)'
    }
}

Describe 'The hostile corpus within its budgets' {
    It 'loads, shows and scans every hostile file in one process under 1.5 GB, no call over 2 s' {
        $env:TORCHSERIAL_MODULE = $ModuleManifest
        $budget = Join-Path $PSScriptRoot 'hostile-budget.ps1'
        $json = & $Pwsh @PwshPrefix -NoProfile -File $budget -Fixtures $FixtureDir
        $LASTEXITCODE | Should -Be 0
        $cost = $json | Select-Object -Last 1 | ConvertFrom-Json
        $cost.Files | Should -BeGreaterThan 100
        $summary = Join-Path $PSScriptRoot '../../out/TestResults/hostile-budget.json'
        New-Item -ItemType Directory -Force (Split-Path $summary) | Out-Null
        $json | Select-Object -Last 1 | Set-Content $summary
        $cost.PeakKiB | Should -BeLessThan (1.5GB / 1KB)
        $cost.SlowestMs | Should -BeLessThan 2000 -Because "the slowest call was $($cost.Slowest)"
    }
}
