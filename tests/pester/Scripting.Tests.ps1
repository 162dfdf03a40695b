# Objects and errors that behave in scripts and CI: counts, CSV, -Quiet in an if, folders, file names in errors.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasTorch = [bool](Find-TorchPython)
}

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

    It 'gives PathIsDirectory for a folder from <Name>, by -<Parameter>' -ForEach @(
        @{ Name = 'Import-TorchCheckpoint'; Parameter = 'Path' }, @{ Name = 'Import-TorchCheckpoint'; Parameter = 'LiteralPath' }
        @{ Name = 'Test-TorchCheckpoint'; Parameter = 'Path' }, @{ Name = 'Test-TorchCheckpoint'; Parameter = 'LiteralPath' }
        @{ Name = 'Assert-TorchCheckpoint'; Parameter = 'Path' }, @{ Name = 'Assert-TorchCheckpoint'; Parameter = 'LiteralPath' }
        @{ Name = 'Convert-DeviceMap'; Parameter = 'Path'; Extra = @{ Destination = 'x.pt'; MapLocation = 'cpu' } }
        @{ Name = 'Convert-DeviceMap'; Parameter = 'LiteralPath'; Extra = @{ Destination = 'x.pt'; MapLocation = 'cpu' } }
        @{ Name = 'Compare-TorchCheckpoint'; Parameter = 'ReferencePath'; Extra = @{ DifferencePath = 'GOOD' } }
        @{ Name = 'Compare-TorchCheckpoint'; Parameter = 'DifferencePath'; Extra = @{ ReferencePath = 'GOOD' } }
        @{ Name = 'Save-Tensor'; Parameter = 'Path'; Piped = $true }, @{ Name = 'Save-Tensor'; Parameter = 'LiteralPath'; Piped = $true }
    ) {
        $arguments = @{ $Parameter = $FixtureDir }
        if ($Extra) { foreach ($k in $Extra.Keys) { $arguments[$k] = if ($Extra[$k] -eq 'GOOD') { $Good } else { $Extra[$k] } } }
        $err = $null; $thrown = $null
        try {
            if ($Piped) { Import-TorchCheckpoint $Good | & $Name @arguments -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null }
            else { & $Name @arguments -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null }
        } catch { $thrown = $_ }
        # Reading cmdlets report a non-terminating error per input (an assertion then fails as well); writers throw.
        $records = @(@($err) + @($thrown) | ForEach-Object { if ($_ -is [Management.Automation.ErrorRecord]) { $_ } elseif ($_.ErrorRecord) { $_.ErrorRecord } })
        $first = $records | Where-Object FullyQualifiedErrorId -Like 'PathIsDirectory,*' | Select-Object -First 1
        $first | Should -Not -BeNullOrEmpty -Because (@($records.FullyQualifiedErrorId) -join ', ')
        "$first" | Should -BeLike "*$FixtureDir*folder*"
    }

    It 'fails an assertion on a path that checked nothing: a folder, a missing file, a damaged file' {
        foreach ($bad in $FixtureDir, (Join-Path $TestDrive 'missing.pt'), $Truncated) {
            { Assert-TorchCheckpoint -LiteralPath $bad -ErrorAction SilentlyContinue } |
                Should -Throw -ErrorId 'CheckpointAssertionFailed,*' -Because $bad
        }
        { Assert-TorchCheckpoint -LiteralPath $Good } | Should -Not -Throw
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

    It 'completes torch device names with the present ones first, and registered handler names, never file names' {
        Register-TorchLocation -Name npu -Priority 35 -Deserializer { param($s, $l) if ($l -like 'npu*') { 'cpu' } }
        try {
            $line = 'Import-TorchCheckpoint x.pt -MapLocation '
            $all = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText)
            $present = @(Get-TorchDevice -Available | ForEach-Object Name)
            $all[0..($present.Count - 1)] | Should -Be $present
            foreach ($name in 'cpu', 'cuda', 'cuda:0', 'cuda:7', 'mps', 'meta', 'npu') { $all | Should -Contain $name }
            $all | Where-Object { $_ -match '[\\/]|\.pt$' } | Should -BeNullOrEmpty
            $line = 'Import-TorchCheckpoint x.pt -MapLocation m'
            @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be @('mps', 'meta')
            $line = 'Unregister-TorchLocation '
            @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be @('npu')
        } finally { Unregister-TorchLocation npu }
        $line = 'Unregister-TorchLocation '
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches) | Should -BeNullOrEmpty
    }

    It 'shows a location handler by what it does, not as .NET delegate type names' {
        $h = Register-TorchLocation -Name tagonly -Priority 36 -Tagger { $null } -PassThru
        try {
            $text = $h | Format-List * | Out-String
            $text | Should -Not -Match 'System\.Func'
            $h.HasTagger | Should -BeTrue
            $h.HasDeserializer | Should -BeFalse
            ($h | ConvertTo-Json | ConvertFrom-Json).HasTagger | Should -BeTrue
        } finally { Unregister-TorchLocation tagonly }
    }

    It 'returns written files as Get-Item does, so their Mode and PSPath are filled in' {
        $out = Join-Path $TestDrive 'passthru.pt'
        $item = Import-TorchCheckpoint $Good | Save-Tensor -LiteralPath $out -PassThru
        $item.Mode | Should -Not -BeNullOrEmpty
        $item.PSPath | Should -BeLike '*FileSystem::*passthru.pt'
        $item.Length | Should -Be (Get-Item $out).Length
    }
}

Describe 'Loaded objects in scripts and on screen' {
    BeforeAll { $script:Checkpoint = Join-Path $FixtureDir 'torch/checkpoint.pt' }

    It 'turns a whole -AsObject result into the JSON Python writes, integer keys and all' -Skip:(-not $HasTorch) {
        $obj = Import-TorchCheckpoint -LiteralPath $Checkpoint -AsObject
        { $obj | ConvertTo-Json -Depth 9 } | Should -Throw   # integer keys: why ToJson() exists
        $py = @'
import json, sys, torch
def default(o):
    if isinstance(o, torch.Tensor):
        return {"dtype": str(o.dtype).replace("torch.", ""), "shape": list(o.shape)}
    if isinstance(o, (bytes, bytearray)):
        return list(o)
    raise TypeError(type(o))
obj = torch.load(sys.argv[1])
sys.stdout.write(json.dumps(obj, indent=2, default=default) + "\n" + json.dumps(obj, default=default))
'@
        $expected = $py | & /usr/bin/python3 - $Checkpoint
        $LASTEXITCODE | Should -Be 0
        ($obj.ToJson() + "`n" + $obj.ToJson($null)) | Should -BeExactly ($expected -join "`n")
        $parsed = $obj.ToJson() | ConvertFrom-Json -AsHashtable
        @($parsed.optimizer.state.Keys) | Should -Match '^\d+$'
        @($parsed.optimizer.state.Keys).Count | Should -BeGreaterThan 0
        $parsed.name | Should -BeExactly 'résumé'
    }

    It 'prints dicts and nested values as Python would show them, not as .NET type names' {
        $obj = Import-TorchCheckpoint -LiteralPath $Checkpoint -AsObject
        "$obj" | Should -BeLike "{'model': {'conv.weight': model.conv.weight float32*"
        "$obj" | Should -Not -Match 'TorchSerial\.Python'
        $text = $obj | Out-String -Width 200
        $text | Should -Not -Match 'TorchSerial\.Python\.PyDict'
        $text | Should -Match "\[state, \{\d+: \{'step'"
        $loop = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/params.pt') -AsObject
        "$loop".Length | Should -BeLessThan 400
    }

    It 'gives tensors a byte size to sum and a short preview of values in the default view' {
        $t = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/state_dict.pt')
        ($t | Measure-Object NumBytes -Sum).Sum | Should -Be (($t | ForEach-Object { $_.GetBytes().Length }) | Measure-Object -Sum).Sum
        $bias = $t | Where-Object Name -EQ 'conv.bias'
        $values = $bias.ToArray()
        $bias.Preview(4) | Should -BeExactly ('[' + (($values | ForEach-Object { $_.ToString('G4', [cultureinfo]::InvariantCulture) }) -join ', ') + ']')
        ($t | Where-Object Name -EQ 'fc.weight').Preview(2) | Should -Match '^\[\S+, \S+, …\]$'
        ($t | Format-Table | Out-String -Width 200) | Should -Match 'conv\.bias\s+float32\s+\[3\]\s+3\s+cpu\s+\[-?\d'
        $lazy = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/state_dict.pt') -Lazy
        $lazy[0].Preview() | Should -BeNullOrEmpty   # showing a lazy listing never reads tensor data
        $lazy[0].Storage.IsLoaded | Should -BeFalse
    }
}

Describe 'Showing hostile objects' {
    It 'shows a list that contains itself 200 times as Python would, in bounded text' {
        $o = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'crafted/self_list.pt') -AsObject
        $o.Count | Should -Be 200
        $one = ,$o | Out-String
        $one.Trim() | Should -BeLike '`[`[...`], `[...`], *'
        $one.Length | Should -BeLessThan 1000
        # Piped, the list unrolls into its 200 items, each shown as itself: 200 bounded lines, not 200^k nested tables.
        $all = $o | Out-String
        ($all -split "`n" | Where-Object { $_.Trim() }).Count | Should -Be 200
        $all.Length | Should -BeLessThan 100KB
    }
}
