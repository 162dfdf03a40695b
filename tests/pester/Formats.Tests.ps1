# safetensors, sharded sets and TorchScript archives through the cmdlets; real torch judges what we write.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasTorch = [bool](Find-TorchPython)
    $script:FormatsExpected = Get-Content (Join-Path $FixtureDir 'formats.json') -Raw | ConvertFrom-Json -AsHashtable
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasTorch = [bool](Find-TorchPython)
    $script:Formats = Join-Path $FixtureDir 'formats'
    $script:FormatsExpected = Get-Content (Join-Path $FixtureDir 'formats.json') -Raw | ConvertFrom-Json -AsHashtable
}

Describe 'Reading safetensors' {
    It 'detects the format from the bytes, whatever the file is called' {
        $copy = Join-Path $TestDrive 'weights.bin'
        Copy-Item (Join-Path $Formats 'st_dtypes.safetensors') $copy
        $t = Import-TorchCheckpoint -LiteralPath $copy
        $t.Count | Should -Be 23
        $t.Name | Should -Be ($FormatsExpected.safetensors['st_dtypes.safetensors'].tensors | ForEach-Object name)
        ($t | Where-Object Name -eq 'bf16').DType | Should -Be 'bfloat16'
    }

    It 'lists lazily, every tensor saying which file it came from' {
        $t = Import-TorchCheckpoint (Join-Path $Formats 'st_dtypes.safetensors') -Lazy
        $t | ForEach-Object { $_.Storage.IsLoaded } | Should -Not -Contain $true
        ($t | Group-Object SourceFile).Name | Should -Be (Join-Path $Formats 'st_dtypes.safetensors')
        [float[]] $t.Where({ $_.Name -eq 'scalar' })[0].ToArray() | Should -Be @(2.5)
    }

    It 'reports <_> with its own error id and the file' -ForEach @($FormatsExpected.safetensors_errors.Keys | Sort-Object) {
        $file = Join-Path $Formats $_
        $err = $null
        Import-TorchCheckpoint -LiteralPath $file -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike "$($FormatsExpected.safetensors_errors[$_]),*"
        $err[0].TargetObject | Should -Be $file
    }

    It 'scans a safetensors file as Ok and a polyglot one as Invalid' {
        (Test-TorchCheckpoint (Join-Path $Formats 'st_dtypes.safetensors')).Status | Should -Be 'Ok'
        $r = Test-TorchCheckpoint (Join-Path $Formats 'st_err_trailing.safetensors')
        "$($r.Status)" | Should -Be 'Invalid'
        $r.ErrorId | Should -Be 'SafeTensorsTrailingBytes'
    }
}

Describe 'Sharded sets' {
    It 'opens a set by its index as one checkpoint in index order, for <_>' -ForEach @('set_bin/pytorch_model.bin.index.json', 'set_st/model.safetensors.index.json') {
        $want = $FormatsExpected.sets[$_].tensors
        $t = Import-TorchCheckpoint (Join-Path $Formats $_)
        $t.Name | Should -Be ($want | ForEach-Object name)
        $t | ForEach-Object { Split-Path $_.SourceFile -Leaf } | Should -Be ($want | ForEach-Object file)
        ($t | Group-Object { Split-Path $_.SourceFile -Leaf }).Count | Should -Be (@($want.file | Select-Object -Unique)).Count
        $obj = Import-TorchCheckpoint (Join-Path $Formats $_) -AsObject
        @($obj.Keys) | Should -Be ($want | ForEach-Object name)
    }

    It 'refuses the damaged set <_> with its error id' -ForEach @($FormatsExpected.set_errors.Keys | Sort-Object) {
        $err = $null
        Import-TorchCheckpoint (Join-Path $Formats $_) -Lazy -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike "$($FormatsExpected.set_errors[$_]),*"
    }

    It 'scans a set whole: Ok for a good one, Invalid with the consistency error for a damaged one' {
        $ok = Test-TorchCheckpoint (Join-Path $Formats 'set_st/model.safetensors.index.json')
        "$($ok.Status)", "$($ok.Format)", $ok.TensorCount | Should -Be @('Ok', 'ShardedSet', 4)
        $bad = Test-TorchCheckpoint (Join-Path $Formats 'set_bad_duplicate/pytorch_model.bin.index.json')
        "$($bad.Status)", $bad.ErrorId | Should -Be @('Invalid', 'ShardDuplicateTensor')
        Test-TorchCheckpoint (Join-Path $Formats 'set_bad_missing_shard/pytorch_model.bin.index.json') -Quiet | Should -BeFalse
    }

    It 'takes what the shards hold with -SkipIndexCheck, each problem a warning' {
        $w = $null
        $t = Import-TorchCheckpoint (Join-Path $Formats 'set_bad_unlisted/pytorch_model.bin.index.json') -SkipIndexCheck -WarningVariable w 3>$null
        $w.Count | Should -Be 1
        "$w" | Should -BeLike '*layer.1.bias*'
        $t.Name | Should -Be @('layer.0.weight', 'layer.0.bias', 'layer.1.weight')
    }
}

Describe 'TorchScript archives' {
    It 'gives the state_dict of <_> without running its code' -ForEach @('ts_script.pt', 'ts_traced.pt') {
        $t = Import-TorchCheckpoint (Join-Path $Formats $_)
        $t.Name | Should -Be ($FormatsExpected.torchscript[$_].state_dict | ForEach-Object name)
        "$((Test-TorchCheckpoint (Join-Path $Formats $_)).Format)" | Should -Be 'TorchScript'
        foreach ($i in 0..($t.Count - 1)) {
            Get-Sha256 $t[$i].GetBytes() | Should -Be $FormatsExpected.torchscript[$_].state_dict[$i].sha256
        }
    }
}

Describe 'Writing safetensors and sets' {
    It 'never writes a torch zip under a .safetensors name' {
        $out = Join-Path $TestDrive 'auto.safetensors'
        Import-TorchCheckpoint (Join-Path $FixtureDir 'torch/state_dict.pt') | Save-Tensor -LiteralPath $out
        $bytes = [IO.File]::ReadAllBytes($out)
        [Text.Encoding]::ASCII.GetString($bytes, 0, 2) | Should -Not -Be 'PK'
        $bytes[8] | Should -Be ([byte][char]'{')
        (Import-TorchCheckpoint -LiteralPath $out).Count | Should -Be 9
        { Import-TorchCheckpoint (Join-Path $FixtureDir 'torch/state_dict.pt') | Save-Tensor (Join-Path $TestDrive 'x.safetensors') -Legacy -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidSaveOption,TorchSerial.PowerShell.Commands.SaveTensorCommand'
    }

    It 'adds -Metadata to format=pt, and -WhatIf writes nothing' {
        $out = Join-Path $TestDrive 'meta.safetensors'
        Import-TorchCheckpoint (Join-Path $FixtureDir 'torch/state_dict.pt') | Save-Tensor $out -Metadata @{ epoch = 3 } -Verify
        $c = [TorchSerial.Reading.CheckpointReader]::Open($out)
        try { $c.Metadata['format'], $c.Metadata['epoch'] | Should -Be @('pt', '3') } finally { $c.Dispose() }
        $run = Invoke-Hostless { param($in, $out) Import-TorchCheckpoint $in | Save-Tensor $out -WhatIf } (Join-Path $FixtureDir 'torch/state_dict.pt'), (Join-Path $TestDrive 'not.safetensors')
        $run.Errors | Should -BeNullOrEmpty
        Test-Path (Join-Path $TestDrive 'not.safetensors') | Should -BeFalse
    }

    It 'writes shards with -MaxShardSize, refuses to overwrite the set, and -Force removes stale shards' {
        $dir = Join-Path $TestDrive 'sets'
        $null = New-Item -ItemType Directory $dir
        $src = Join-Path $FixtureDir 'torch/state_dict.pt'
        $files = Import-TorchCheckpoint $src -Lazy | Save-Tensor (Join-Path $dir 'model.safetensors') -MaxShardSize '200B' -PassThru
        $files.Name | Should -Be @('model.safetensors.index.json', 'model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors')
        { Import-TorchCheckpoint $src | Save-Tensor (Join-Path $dir 'model.safetensors') -MaxShardSize 200 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ShardSetExists,TorchSerial.PowerShell.Commands.SaveTensorCommand'
        Import-TorchCheckpoint $src | Save-Tensor (Join-Path $dir 'model.safetensors') -MaxShardSize 0.3KB -Force
        (Get-ChildItem $dir).Name | Sort-Object | Should -Be @('model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json')
        { Import-TorchCheckpoint $src | Save-Tensor (Join-Path $dir 'y.safetensors') -MaxShardSize 'lots' -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidSaveOption,TorchSerial.PowerShell.Commands.SaveTensorCommand'
    }
}

Describe 'Real torch reads what we write as safetensors and shards' {
    BeforeAll {
        $script:Dir = Join-Path $TestDrive 'st-interop'
        $null = New-Item -ItemType Directory $Dir
        $script:Cases = @(
            foreach ($f in 'state_dict.pt', 'views.pt', 'params.pt') {
                $src = Join-Path $FixtureDir "torch/$f"
                $out = Join-Path $Dir ($f -replace '\.pt$', '.safetensors')
                Import-TorchCheckpoint $src | Save-Tensor -LiteralPath $out
                @{ file = $out; source = $src }
            }
            $src = Join-Path $FixtureDir 'torch/state_dict.pt'
            $sub = New-Item -ItemType Directory (Join-Path $Dir 'st-set')
            Import-TorchCheckpoint $src -Lazy | Save-Tensor (Join-Path $sub 'model.safetensors') -MaxShardSize 250
            @{ file = (Join-Path $sub 'model.safetensors.index.json'); source = $src }
            $sub = New-Item -ItemType Directory (Join-Path $Dir 'bin-set')
            Import-TorchCheckpoint $src | Save-Tensor (Join-Path $sub 'pytorch_model.bin') -MaxShardSize 250
            @{ file = (Join-Path $sub 'pytorch_model.bin.index.json'); source = $src }
            $back = Join-Path $Dir 'roundtrip.pt'
            Import-TorchCheckpoint (Join-Path $Dir 'state_dict.safetensors') | Save-Tensor -LiteralPath $back
            @{ file = $back; source = $src }
        )
        $Cases | ConvertTo-Json -Depth 3 | Set-Content (Join-Path $Dir 'manifest.json')
        $script:Results = @{}
        if ($HasTorch) {
            $null = & /usr/bin/python3 (Join-Path $PSScriptRoot '../interop/check_safetensors.py') (Join-Path $Dir 'manifest.json') (Join-Path $Dir 'result.json') 2>&1
            foreach ($r in (Get-Content (Join-Path $Dir 'result.json') -Raw | ConvertFrom-Json)) { $Results[$r.file] = $r }
        }
    }

    It 'passes every format rule and holds the source tensors: <_>' -ForEach @('state_dict.safetensors', 'views.safetensors', 'params.safetensors',
        'st-set/model.safetensors.index.json', 'bin-set/pytorch_model.bin.index.json', 'roundtrip.pt') -Skip:(-not $HasTorch) {
        $r = $Results[(Join-Path $Dir $_)]
        $r | Should -Not -BeNullOrEmpty
        $r.ok | Should -BeTrue -Because ($r.problems -join '; ')
        $r.tensors | Should -BeGreaterThan 0
    }
}
