# Objects and errors that behave in scripts and CI: counts, CSV, -Quiet in an if, folders, file names in errors.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Good = Join-Path $FixtureDir 'torch/state_dict.pt'
    $script:Unsafe = Join-Path $FixtureDir 'crafted/os_system.pt'
    $script:Truncated = Join-Path $FixtureDir 'crafted/truncated_zip.pt'
}

Describe 'Scan reports in scripts' {
    It 'counts unsafe globals as a list: 0 for a clean file, the number of refused globals otherwise' {
        (Test-TorchCheckpoint $Good).UnsafeGlobals.Count | Should -Be 0
        $r = Test-TorchCheckpoint $Unsafe
        $r.UnsafeGlobals.Count | Should -Be @($r.Globals | Where-Object Verdict -eq 'Refused').Count
        $r.UnsafeGlobals.Count | Should -BeGreaterThan 0
    }

    It 'exports lists as their items, not .NET type names' {
        $csv = Test-TorchCheckpoint $Good | ConvertTo-Csv | Out-String
        $csv | Should -Not -BeLike '*System.Collections*'
        $csv | Should -BeLike '*data.pkl*'
        "$((Test-TorchCheckpoint $Unsafe).UnsafeGlobals)" | Should -BeLike '*system*'
    }

    It 'answers -Quiet once for all the files: $false when any is bad, so an if fails' {
        @(Get-Item $Good, $Good | Test-TorchCheckpoint -Quiet) | Should -Be @($true)
        @(Get-Item $Good, $Unsafe, $Good | Test-TorchCheckpoint -Quiet) | Should -Be @($false)
        if (Get-Item $Good, $Truncated | Test-TorchCheckpoint -Quiet -ErrorAction SilentlyContinue) { throw 'a bad file passed' }
        Test-TorchCheckpoint (Join-Path $TestDrive 'missing.pt') -Quiet -ErrorAction SilentlyContinue | Should -BeFalse
    }

    It 'shows the path relative to the current folder, so sub/good.pt and good.pt differ' {
        Push-Location $FixtureDir
        try { (Test-TorchCheckpoint ./torch/state_dict.pt | Out-String -Width 200) | Should -BeLike "*torch$([IO.Path]::DirectorySeparatorChar)state_dict.pt*" }
        finally { Pop-Location }
    }
}

Describe 'Errors that say what and where' {
    It 'calls a folder a folder, by -Path and by -LiteralPath' {
        foreach ($arguments in @{ Path = $FixtureDir }, @{ LiteralPath = $FixtureDir }) {
            $err = $null
            Import-TorchCheckpoint @arguments -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'PathIsDirectory,*'
            "$($err[0])" | Should -BeLike '*Get-ChildItem*-File*'
        }
    }

    It 'names the file in each error of a multi-file load' {
        $err = $null
        Get-Item $Good, $Truncated, $Unsafe | Import-TorchCheckpoint -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err.Count | Should -Be 2
        "$($err[0])" | Should -BeLike "$Truncated*"
        "$($err[1])" | Should -BeLike "$Unsafe*"
        $err[0].TargetObject | Should -Be $Truncated
    }
}

Describe 'Completion and -PassThru' {
    It 'completes cuda:N for -MapLocation on a machine without a GPU, and protocols for -PickleProtocol' {
        $line = 'Import-TorchCheckpoint x.pt -MapLocation cu'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'cuda:1'
        $line = 'Save-Tensor x.pt -PickleProtocol '
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('2', '3', '4', '5')
    }

    It 'returns written files as Get-Item does, so their Mode and PSPath are filled in' {
        $out = Join-Path $TestDrive 'passthru.pt'
        $item = Import-TorchCheckpoint $Good | Save-Tensor -LiteralPath $out -PassThru
        $item.Mode | Should -Not -BeNullOrEmpty
        $item.PSPath | Should -BeLike '*FileSystem::*passthru.pt'
        $item.Length | Should -Be (Get-Item $out).Length
    }
}
