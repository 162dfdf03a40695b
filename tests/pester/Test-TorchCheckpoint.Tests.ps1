BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasTorch = [bool](Find-TorchPython)
    $script:Hostile = $CraftedExpected.hostile.GetEnumerator() | ForEach-Object { @{ File = $_.Key; Id = $_.Value } }
    $script:AllFixtures = Get-ChildItem (Join-Path $FixtureDir 'crafted'), (Join-Path $FixtureDir 'torch') -Filter *.pt |
        ForEach-Object { @{ File = $_.FullName; Leaf = $_.Name } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Crafted = Join-Path $FixtureDir 'crafted'
}

Describe 'Test-TorchCheckpoint' {
    It 'agrees with Import-TorchCheckpoint on <Leaf>' -ForEach $AllFixtures {
        $null = Import-TorchCheckpoint -LiteralPath $File -ErrorVariable err -ErrorAction SilentlyContinue
        $report = Test-TorchCheckpoint -LiteralPath $File
        $report | Should -BeOfType ([TorchSerial.Scanning.ScanReport])
        if ($err -and $err[0].FullyQualifiedErrorId -like 'DeviceUnavailable,*') {
            # A GPU-saved file on a CPU machine: a load needs -MapLocation, a scan needs no device (locations are data).
            $report.Status | Should -Be 'Ok'
            $report.Locations | Should -Match '^cuda'
        } elseif ($err) {
            $report.ErrorId | Should -Be ($err[0].FullyQualifiedErrorId -split ',')[0]
            $report.IsLoadable | Should -BeFalse
        } else {
            $report.ErrorId | Should -BeNullOrEmpty
            $report.IsLoadable | Should -BeTrue
        }
    }

    It 'names the hostile file <File> with <Id>' -ForEach $Hostile {
        $report = Test-TorchCheckpoint -LiteralPath (Join-Path $Crafted $File)
        if ($Id) { $report.ErrorId | Should -Be $Id } else { $report.IsLoadable | Should -BeTrue }
    }

    It 'reports each unsafe global with its reason and opcode' {
        $g = (Test-TorchCheckpoint -LiteralPath (Join-Path $Crafted 'os_system.pt')).Globals
        $g | Should -HaveCount 1
        $g[0].FullName | Should -Be 'os.system'
        "$($g[0].Verdict)" | Should -Be 'Refused'
        $g[0].Reason | Should -Be 'executes a shell command'
        $g[0].Opcodes | Should -Be @('REDUCE')
        (Test-TorchCheckpoint -LiteralPath (Join-Path $Crafted 'os_system.pt')).Status | Should -Be 'Unsafe'
    }

    It 'lists allowed globals of a normal checkpoint and counts its tensors without loading them' {
        $r = Test-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/state_dict.pt')
        $r.Status | Should -Be 'Ok'
        "$($r.Format)" | Should -Be 'Zip'
        $r.TensorCount | Should -Be 9
        $r.Records | Should -Contain 'data.pkl'
        $r.Globals.FullName | Should -Contain 'torch._utils._rebuild_tensor_v2'
        ($r.Globals | Where-Object Verdict -NE 'Allowed') | Should -BeNullOrEmpty
    }

    It '-AllowGlobal turns the verdict into AllowedByUser and the status into Ok' {
        $r = Test-TorchCheckpoint -LiteralPath (Join-Path $Crafted 'os_system.pt') -AllowGlobal 'os.*'
        "$($r.Globals[0].Verdict)" | Should -Be 'AllowedByUser'
        $r.Status | Should -Be 'Ok'
    }

    It 'catches a CRC mismatch that torch.load would not notice, as Import does' {
        $r = Test-TorchCheckpoint -LiteralPath (Join-Path $Crafted 'crc_mismatch.pt')
        $r.Status | Should -Be 'Invalid'
        $r.ErrorId | Should -Be 'CrcMismatch'
        (Test-TorchCheckpoint -LiteralPath (Join-Path $Crafted 'crc_mismatch.pt') -SkipCrc).Status | Should -Be 'Ok'
        Import-TorchCheckpoint -LiteralPath (Join-Path $Crafted 'crc_mismatch.pt') -SkipCrc | Should -HaveCount 15
    }

    It '-Quiet answers one Boolean for all the files given, for CI gates' {
        Test-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/params.pt') -Quiet | Should -BeExactly $true
        Test-TorchCheckpoint -LiteralPath (Join-Path $Crafted 'lfs_pointer.pt') -Quiet | Should -BeExactly $false
        $answers = @(Get-ChildItem $Crafted -Filter 'os_*.pt' | Test-TorchCheckpoint -Quiet)
        $answers | Should -Be @($false)
        @(Get-ChildItem (Join-Path $FixtureDir 'torch') -Filter 'params.pt' | Test-TorchCheckpoint -Quiet) | Should -Be @($true)
    }

    It 'loads and displays a pickle nested 100,000 deep without overflowing the stack' {
        $deep = Import-TorchCheckpoint -LiteralPath (Join-Path $Crafted 'deep_nesting.pt') -AsObject
        ($deep | Out-String).Length | Should -BeLessThan 2000
        ($deep | Format-Custom | Out-String).Length | Should -BeGreaterThan 0
        ($deep | ConvertTo-Json -WarningAction SilentlyContinue).Length | Should -BeGreaterThan 0
        "$deep" | Should -BeLike '*…*'
    }

    It 'judges a GPU-saved file healthy on a CPU-only machine, and lists its saved locations' {
        $r = Test-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/cuda_mixed.pt')
        $r.Status | Should -BeExactly 'Ok'
        $r.IsLoadable | Should -BeTrue
        @($r.Locations) | Should -Be @('cuda:0', 'cuda:1')
        $r.TensorCount | Should -Be $Expected.located['cuda_mixed.pt'].tensors.Count
        Test-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/cuda0.pt') -Quiet | Should -BeExactly $true
        (Test-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/params.pt')).Locations | Should -Be @('cpu')
    }

    It 'serializes verdicts, formats and devices by name in JSON and CSV' {
        $json = Test-TorchCheckpoint -LiteralPath (Join-Path $Crafted 'os_system.pt') | ConvertTo-Json -Depth 3 | ConvertFrom-Json
        $json.Status | Should -BeExactly 'Unsafe'
        $json.Format | Should -BeExactly 'Zip'
        ($json.Globals | Where-Object FullName -EQ 'os.system').Verdict | Should -BeExactly 'Refused'
        $json.UnsafeGlobals.Count | Should -Be 1
        $csv = Test-TorchCheckpoint -LiteralPath (Join-Path $Crafted 'os_system.pt') | ConvertTo-Csv | ConvertFrom-Csv
        $csv.Status | Should -BeExactly 'Unsafe'
        $csv.UnsafeGlobals | Should -BeLike 'os.system (dangerous: executes a shell command)*'
        $json.UnsafeGlobals[0].Severity | Should -BeExactly 'Dangerous'
        $json.UnsafeGlobals[0].Family | Should -BeExactly 'process execution'
        (Get-TorchDevice | ConvertTo-Json | ConvertFrom-Json)[0].Type | Should -BeExactly 'Host'
        $cmp = Compare-TorchCheckpoint (Join-Path $FixtureDir 'torch/params.pt') (Join-Path $FixtureDir 'torch/params.pt') |
            Select-Object -First 1 | ConvertTo-Json | ConvertFrom-Json
        $cmp.Status | Should -BeExactly 'Equal'
        $t = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/params.pt') | Select-Object -First 1 |
            ConvertTo-Json -Depth 2 -WarningAction SilentlyContinue | ConvertFrom-Json
        $t.DType | Should -BeExactly 'float32'
        $t.DTypeInfo.PSObject.Properties.Name | Should -Not -Contain 'Kind'
    }

    It 'scans a folder from Get-ChildItem and shows a table' {
        $text = Get-ChildItem $Crafted -Filter '*.pt' | Test-TorchCheckpoint | Out-String -Width 200
        $text | Should -Match 'Unsafe\s+Zip\s+0\s+os\.system'
        $text | Should -Match 'Invalid.*GitLfsPointer'
    }
}

Describe 'Test-TorchCheckpoint -AsSarif' {
    It 'writes one SARIF 2.1.0 log for all files, with each dangerous global at its file, record and offset' {
        $crafted = Join-Path $FixtureDir 'crafted'
        $text = Test-TorchCheckpoint -LiteralPath (Join-Path $crafted 'os_system.pt'), (Join-Path $crafted 'hidden_record.pt'), (Join-Path $FixtureDir 'torch/params.pt') -AsSarif
        @($text).Count | Should -Be 1
        $log = $text | ConvertFrom-Json
        $log.version | Should -Be '2.1.0'
        $log.runs.Count | Should -Be 1
        $log.runs[0].tool.driver.name | Should -Be 'TorchSerial'
        $log.runs[0].artifacts.Count | Should -Be 3
        $errors = @($log.runs[0].results | Where-Object { $_.ruleId -eq 'DangerousGlobal' })
        $errors.Count | Should -Be 2
        $errors | ForEach-Object { $_.level | Should -Be 'error'; $_.message.text | Should -BeLike 'os.system: executes a shell command*' }
        $errors[0].locations[0].physicalLocation.artifactLocation.uri | Should -BeLike '*crafted/os_system.pt'
        $errors[0].locations[0].logicalLocations[0].fullyQualifiedName | Should -Match '^data\.pkl@\d+$'
        $errors[1].locations[0].logicalLocations[0].fullyQualifiedName | Should -BeLike 'config.json@*'
        ($log.runs[0].results.ruleId) | Should -Contain 'HiddenPickle'
        @($log.runs[0].tool.driver.rules.id) | Should -Contain 'DangerousGlobal'
    }
}

# torch 1.13 scripts one archive per call family (tests/fixtures/torchscript_code.py); the scan reads their code as
# text. Each call is checked to be real by what torch itself does with the archive.
Describe 'Test-TorchCheckpoint on TorchScript code' -Skip:(-not $HasTorch) {
    BeforeAll {
        $script:Code = Join-Path $TestDrive 'code'
        $script:Created = Join-Path $TestDrive 'created_by_setstate'
        & (Find-TorchPython) (Join-Path $FixtureDir 'torchscript_code.py') $Code $Created
        $script:Reports = @{}
        foreach ($f in Get-ChildItem $Code -Filter *.pt) {
            $Reports[$f.BaseName] = Test-TorchCheckpoint -LiteralPath $f.FullName
        }
    }

    It 'finds torch.from_file in a __setstate__, which torch.jit.load really runs (it creates the file)' {
        $report = $Reports['setstate_from_file']
        $report.Status | Should -Be 'Warning'
        $report.IsLoadable | Should -BeTrue
        $finding = $report.Code | Where-Object Severity -eq 'Dangerous'
        $finding.Call | Should -Be 'torch.from_file'
        $finding.Family | Should -Be 'file access'
        $finding.Method | Should -Be 'SetStateFromFile.__setstate__'
        $finding.Record | Should -Be 'code/__torch__.py'
        $finding.Reason | Should -BeLike '*creates it; it runs when torch.jit.load loads the archive'
        $finding.Code | Should -BeLike '*torch.from_file(path, True, 3)*'
        $setState = $report.Code | Where-Object Call -eq '__setstate__'
        $setState.Severity | Should -Be 'Info'
        $setState.Code | Should -BeLike '*def __setstate__(self*torch.from_file*return None'
        $setState.Line | Should -BeLessThan $finding.Line
        $report.Problems.ErrorId | Should -Be 'TorchScriptCode'
        $report.Problems[0].Message | Should -BeLike "Line $($finding.Line) of 'code/__torch__.py'*torch.from_file*"

        # The judge of the claim: torch.jit.load runs that code and the file appears; TorchSerial's load does not.
        $null = Import-TorchCheckpoint -LiteralPath (Join-Path $Code 'setstate_from_file.pt') -AsObject
        Test-Path $Created | Should -BeFalse
        & (Find-TorchPython) -c "import torch; torch.jit.load('$(Join-Path $Code 'setstate_from_file.pt')')" 2>$null
        Test-Path $Created | Should -BeTrue
    }

    It 'finds <Call> (<Family>) in forward, and -Quiet answers false' -ForEach @(
        @{ File = 'forward_save'; Call = 'torch.save'; Family = 'file access'; Severity = 'Dangerous' }
        @{ File = 'custom_op'; Call = 'ops.evil.run'; Family = 'native code'; Severity = 'Suspicious' }
        @{ File = 'rpc'; Call = 'ops.prim.rpc_async'; Family = 'network access'; Severity = 'Dangerous' }
    ) {
        $report = $Reports[$File]
        $report.Status | Should -Be 'Warning'
        $report.Code.Call | Should -Be $Call
        $report.Code.Family | Should -Be $Family
        $report.Code.Severity | Should -Be $Severity
        $report.Code.Reason | Should -BeLike '*it runs when *.forward is called'
        Test-TorchCheckpoint -LiteralPath (Join-Path $Code "$File.pt") -Quiet | Should -BeFalse
        # Its weights still load, inert.
        (Import-TorchCheckpoint -LiteralPath (Join-Path $Code "$File.pt")).Name | Should -Contain 'w'
    }

    It 'reports a __setstate__ that only restores attributes, and leaves the archive Ok' {
        $report = $Reports['benign_setstate']
        $report.Status | Should -Be 'Ok'
        @($report.Code).Count | Should -Be 1
        $report.Code[0].Call | Should -Be '__setstate__'
        $report.Code[0].Severity | Should -Be 'Info'
        Test-TorchCheckpoint -LiteralPath (Join-Path $Code 'benign_setstate.pt') -Quiet | Should -BeTrue
    }

    It 'writes each finding to SARIF with its record and line, at the level of its severity' {
        $sarif = Test-TorchCheckpoint -LiteralPath (Join-Path $Code 'setstate_from_file.pt'),
            (Join-Path $Code 'custom_op.pt') -AsSarif -SarifRoot $TestDrive | ConvertFrom-Json
        $results = $sarif.runs[0].results
        $file = $results | Where-Object ruleId -eq 'TorchScriptFileAccess'
        $file.level | Should -Be 'error'
        $line = ($Reports['setstate_from_file'].Code | Where-Object Severity -eq 'Dangerous').Line
        $file.locations[0].logicalLocations[0].fullyQualifiedName | Should -Be "code/__torch__.py:$line"
        ($results | Where-Object ruleId -eq 'TorchScriptNativeCode').level | Should -Be 'warning'
        ($results | Where-Object ruleId -eq 'TorchScriptSetState').level | Should -Be 'note'
        $results.ruleId | Should -Not -Contain 'TorchScriptCode'
    }

    It 'shows the findings in the table view' {
        $table = $Reports['custom_op'] | Format-Table | Out-String -Width 200
        $table | Should -BeLike '*Warning*TorchScriptCode*'
        $rows = $Reports['custom_op'].Code | Format-Table | Out-String -Width 200
        $rows | Should -BeLike '*Suspicious*native code*ops.evil.run*CustomOp.forward*code/__torch__.py:*'
    }

    It 'keeps a report with code findings a plain object for ConvertTo-Json' {
        $json = $Reports['forward_save'] | ConvertTo-Json -Depth 4 | ConvertFrom-Json
        $json.Code[0].Severity | Should -Be 'Dangerous'
        $json.Code[0].Line | Should -BeGreaterThan 0
    }
}
