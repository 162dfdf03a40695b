BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasTorch = [bool](Find-TorchPython)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    # The folders are written at test time: real torch 1.13 from a gloo group on 127.0.0.1, and the crafted torch 2.x,
    # Megatron and DeepSpeed forms (tests/fixtures/distributed.py says which is which, and who judges each).
    $script:Python = Find-TorchPython
    $script:Dist = Join-Path $TestDrive 'dist'
    $script:Script = Join-Path $FixtureDir 'distributed.py'
    if ($Python) {
        $out = & $Python $Script $Dist 2>&1
        if ($LASTEXITCODE -ne 0) { throw "distributed.py failed: $out" }
        $script:DistExpected = Get-Content (Join-Path $Dist 'expected.json') -Raw | ConvertFrom-Json -AsHashtable
    }

    function Get-TensorRow($t) {
        '{0} {1} [{2}] {3}' -f $t.Name, $t.DType, ($t.Shape -join ','), (Get-Sha256 $t.GetBytes())
    }
    function Get-ExpectedRow($form) {
        $DistExpected[$form] | Where-Object { $_.ContainsKey('sha256') } |
            ForEach-Object { '{0} {1} [{2}] {3}' -f $_.name, $_.dtype, ($_.shape -join ','), $_.sha256 }
    }
    # Real torch (or, for crafted forms, the script's own zero_to_fp32) judges a consolidated file.
    function Test-Consolidated($form, $file) {
        (& $Python $Script check (Join-Path $Dist 'expected.json') $form $file | ConvertFrom-Json)
    }
}

Describe 'Folders written by distributed training' -Skip:(-not $HasTorch) {
    It 'reads <form> eagerly with exactly the tensors its judge reassembles' -ForEach @(
        @{ form = 'dcp113_2rank' }, @{ form = 'dcp113_3rank' }, @{ form = 'dcp23' }, @{ form = 'dcp29' },
        @{ form = 'dcp_per_rank' }, @{ form = 'dcp_zstd' }, @{ form = 'dcp_hf' }, @{ form = 'megatron' },
        @{ form = 'zero2' },
        @{ form = 'zero1_bf16' },
        @{ form = 'zero3' }, @{ form = 'zero3_3rank' }
    ) {
        $rows = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist $form) | ForEach-Object { Get-TensorRow $_ }
        $rows | Should -Be @(Get-ExpectedRow $form)
    }

    It 'reads <form> lazily: nothing is read until used, then the same bytes' -ForEach @(
        @{ form = 'dcp113_3rank' }, @{ form = 'dcp29' }, @{ form = 'zero3_3rank' }
    ) {
        $lazy = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist $form) -Lazy
        $lazy | ForEach-Object { $_.Storage.IsLoaded | Should -BeFalse }
        $lazy | ForEach-Object { Get-TensorRow $_ } | Should -Be @(Get-ExpectedRow $form)
    }

    It 'gives the object dcp_to_torch_save writes: bytes items unpickled, 2.4 flattening undone, .metadata order' {
        $o = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'dcp29') -AsObject
        @($o.Keys) | Should -Be @('model', 'optim', 'epoch', 'extra')
        @($o['model'].Keys) | Should -Be @('embed.weight', 'layers', 'norm')
        $o['model']['layers']['0']['w'].Shape | Should -Be @(4, 6)
        $o['optim']['param_groups'][0]['lr'] | Should -Be 0.5
        $o['extra']['tag'] | Should -Be 'run-1'
        $o['epoch'] | Should -Be 3
        $real = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'dcp113_2rank') -AsObject
        @($real.Keys) | Should -Be @($DistExpected['dcp113_2rank'].name)
        $real['config']['names'] | Should -Be @('a', 'b')
        $real['epoch'] | Should -Be 7
        # The ≤2.3 rule kept a dict without tensors whole, as one bytes item.
        $old = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'dcp23') -AsObject
        $old['extra']['seed'] | Should -Be 11
    }

    It 'selects a sub-object of a folder with -Key' {
        $t = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'dcp29') -Key model.layers
        $t.Name | Should -Be @('0.w', '0.b')
    }

    It 'places the put-together tensors by -MapLocation, as any storage' {
        $placed = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'dcp113_3rank') -MapLocation ilgpu-cpu
        $placed.Device | Sort-Object -Unique | Should -Be 'ilgpu-cpu'
        $placed | ForEach-Object { Get-TensorRow $_ } | Should -Be @(Get-ExpectedRow 'dcp113_3rank')
        $zero = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'zero3') -MapLocation ilgpu-cpu -Lazy
        $zero.Device | Sort-Object -Unique | Should -Be 'ilgpu-cpu'
    }

    It 'says which files held a tensor''s chunks' {
        $t = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'dcp113_2rank') -Lazy | Where-Object Name -EQ 'emb'
        $t.SourceFile -split '; ' | Split-Path -Leaf | Should -Be @('__0_0.distcp', '__1_0.distcp')
    }

    It 'opens a DeepSpeed save folder by its latest tag, and a Megatron folder by its tracker' {
        $viaLatest = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'zero2') | ForEach-Object { Get-TensorRow $_ }
        $viaLatest | Should -Be @(Get-ExpectedRow 'zero2')
        (Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'zero2/global_step8')).Count | Should -Be $viaLatest.Count
        (Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'megatron/iter_0000010')).Count | Should -Be 2
    }

    It 'keeps DeepSpeed''s shared parameters as one storage, integer buffers as integers, and the 16-bit module' {
        $ts = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'zero3')
        $tied = $ts | Where-Object Name -EQ 'tied.weight'
        $embed = $ts | Where-Object Name -EQ 'embed.weight'
        [object]::ReferenceEquals($tied.Storage, $embed.Storage) | Should -BeTrue
        ($ts | Where-Object Name -EQ 'norm.num_batches_tracked').DType | Should -Be 'int64'
        $module = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'zero1_bf16') -Key module
        ($module | Where-Object Name -EQ 'layer.weight').DType | Should -Be 'bfloat16'
        ($module | Where-Object Name -EQ 'frozen.weight').Shape | Should -Be @(3, 3)
    }

    It 'consolidates <form> to <ext> one tensor at a time, and real torch reads the file' -ForEach @(
        @{ form = 'dcp113_3rank'; ext = '.safetensors' }, @{ form = 'dcp29'; ext = '.pt' },
        @{ form = 'zero3_3rank'; ext = '.safetensors' }, @{ form = 'zero2'; ext = '.pt' }
    ) {
        $out = Join-Path $TestDrive "$form$ext"
        $lazy = Import-TorchCheckpoint -LiteralPath (Join-Path $Dist $form) -Lazy
        # safetensors holds no shared tensors: the tied alias is written as a copy of its own, so every name is there.
        $lazy | Save-Tensor -LiteralPath $out -Force -CopySharedTensors:($ext -eq '.safetensors')
        $lazy | ForEach-Object { $_.Storage.IsLoaded | Should -BeFalse } # streamed from the chunks, nothing kept
        $verdict = Test-Consolidated $form $out
        $verdict.problems | Should -BeNullOrEmpty
        $verdict.ok | Should -BeTrue
    }

    It 'consolidates a folder into a sharded set, and every shard holds what the folder does' {
        $set = Join-Path $TestDrive 'zero3-set/model.safetensors'
        Import-TorchCheckpoint -LiteralPath (Join-Path $Dist 'zero3') -Lazy |
            Save-Tensor -LiteralPath $set -MaxShardSize '100B' -CopySharedTensors -Force
        $index = Join-Path $TestDrive 'zero3-set/model.safetensors.index.json'
        (Get-ChildItem (Join-Path $TestDrive 'zero3-set') -Filter '*.safetensors').Count | Should -BeGreaterThan 2
        Import-TorchCheckpoint -LiteralPath $index | Sort-Object Name | ForEach-Object { Get-TensorRow $_ } |
            Should -Be @(Get-ExpectedRow 'zero3' | Sort-Object)
    }

    It 'takes a folder in every cmdlet that reads checkpoints' {
        $folder = Join-Path $Dist 'dcp113_2rank'
        $pt = Join-Path $TestDrive 'dcp113.pt'
        Import-TorchCheckpoint -LiteralPath $folder -Lazy | Save-Tensor -LiteralPath $pt -Force
        $report = Test-TorchCheckpoint -LiteralPath $folder
        $report.Status | Should -Be 'Ok'
        $report.Format | Should -Be 'DistributedCheckpoint'
        (Test-TorchCheckpoint -LiteralPath (Join-Path $Dist 'zero3')).Format | Should -Be 'DeepSpeed'
        $report.TensorCount | Should -Be 5
        $report.UnsafeGlobals | Should -BeNullOrEmpty
        Test-TorchCheckpoint -Path $folder -Quiet | Should -BeTrue
        (Get-TensorHash -LiteralPath $folder).Hash | Should -Be (Get-TensorHash -LiteralPath $pt).Hash
        (Measure-Tensor -LiteralPath $folder | Where-Object Name -EQ 'emb').Mean |
            Should -Be (Measure-Tensor -LiteralPath $pt | Where-Object Name -EQ 'emb').Mean
        $rows = Compare-TorchCheckpoint -ReferencePath $pt -DifferencePath $folder
        $rows | Should -HaveCount 5
        $rows | Where-Object Status -NE 'Equal' | Should -BeNullOrEmpty
        { Assert-TorchCheckpoint -LiteralPath $folder -Finite -ReferencePath $pt -Shape @{ proj = 3, 7 } } |
            Should -Not -Throw
        { Assert-TorchCheckpoint -LiteralPath $folder -Shape @{ proj = 7, 3 } -ErrorAction Stop } | Should -Throw
        Test-TorchCheckpoint -LiteralPath (Join-Path $Dist 'zero3') | ForEach-Object Status | Should -Be 'Ok'
    }

    It 'refuses the hostile folder <name> with <id>, and runs nothing' -ForEach @(
        @{ name = 'metadata_system'; id = 'UnsafeGlobal' }, @{ name = 'bytes_system'; id = 'UnsafeGlobal' },
        @{ name = 'getattr_dunder'; id = 'UnsafeGlobal' }, @{ name = 'overlap'; id = 'DistributedChunkInvalid' },
        @{ name = 'hole'; id = 'DistributedChunkInvalid' }, @{ name = 'truncated'; id = 'DistributedDataMissing' },
        @{ name = 'missing_rank'; id = 'DistributedDataMissing' },
        @{ name = 'latest_missing'; id = 'DeepSpeedTagMissing' },
        @{ name = 'rank_missing'; id = 'DeepSpeedCheckpointInvalid' },
        @{ name = 'per_rank_conflict'; id = 'DistributedMetadataConflict' },
        @{ name = 'numels'; id = 'DeepSpeedCheckpointInvalid' }, @{ name = 'zero0'; id = 'DeepSpeedCheckpointInvalid' },
        @{ name = 'bf16_optimizer'; id = 'DeepSpeedCheckpointInvalid' }
    ) {
        $DistExpected['hostile'][$name] | Should -Be $id
        $folder = Join-Path $Dist "hostile/$name"
        $err = $null
        $null = Import-TorchCheckpoint -LiteralPath $folder -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike "$id,*"
        $err[0].TargetObject | Should -Be $folder
        $report = Test-TorchCheckpoint -LiteralPath $folder
        $report.ErrorId | Should -Be $id
        $report.Status | Should -BeIn @(if ($id -eq 'UnsafeGlobal') { 'Unsafe' } else { 'Invalid' })
        Join-Path $Dist 'ran-code' | Should -Not -Exist
    }

    It 'answers every damaged .metadata with an ErrorRecord of its own ids, never a crash' {
        $ids = [TorchSerial.Errors.ErrorIds].GetFields() | ForEach-Object { $_.GetValue($null) }
        $folder = Join-Path $TestDrive 'fuzzed'
        Copy-Item (Join-Path $Dist 'dcp29') $folder -Recurse
        $metadata = Join-Path $folder '.metadata'
        $original = [IO.File]::ReadAllBytes($metadata)
        $random = [Random]::new(24)
        $outcomes = @{}
        for ($i = 0; $i -lt 300; $i++) {
            $bytes = $original.Clone()
            for ($k = 0; $k -le $random.Next(3); $k++) { $bytes[$random.Next($bytes.Length)] = [byte]$random.Next(256) }
            [IO.File]::WriteAllBytes($metadata, $bytes)
            $err = $null
            $null = Import-TorchCheckpoint -LiteralPath $folder -ErrorVariable err -ErrorAction SilentlyContinue
            $id = if ($err) { ($err[0].FullyQualifiedErrorId -split ',')[0] } else { 'loaded' }
            $outcomes[$id] = 1 + $outcomes[$id]
        }
        @($outcomes.Keys | Where-Object { $_ -ne 'loaded' -and $_ -notin $ids }) | Should -BeNullOrEmpty
        $outcomes.Keys.Count | Should -BeGreaterThan 2 # the damage reached more than one kind of check
        Join-Path $Dist 'ran-code' | Should -Not -Exist
    }

    It 'names the dangerous global of a hostile folder in the scan' {
        $report = Test-TorchCheckpoint -LiteralPath (Join-Path $Dist 'hostile/metadata_system')
        $report.UnsafeGlobals.FullName | Should -Contain 'posix.system'
        $dunder = Test-TorchCheckpoint -LiteralPath (Join-Path $Dist 'hostile/getattr_dunder')
        ($dunder.Globals | Where-Object FullName -EQ 'builtins.getattr').Verdict | Should -Be 'Refused'
    }

    It 'refuses a transform it does not know by naming it' {
        $folder = Join-Path $TestDrive 'unknown-transform'
        Copy-Item (Join-Path $Dist 'dcp_zstd') $folder -Recurse
        $metadata = Join-Path $folder '.metadata'
        $bytes = [IO.File]::ReadAllBytes($metadata)
        $text = [Text.Encoding]::Latin1.GetString($bytes).Replace('stream.zstd/1', 'stream.lz4x/1')
        [IO.File]::WriteAllBytes($metadata, [Text.Encoding]::Latin1.GetBytes($text))
        $err = $null
        $null = Import-TorchCheckpoint -LiteralPath $folder -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'DistributedTransformUnsupported,*'
        $err[0].Exception.Message | Should -BeLike '*stream.lz4x/1*'
    }

    It 'says why FSDP''s LOCAL_STATE_DICT files (written by real torch) cannot be put together' {
        $file = Join-Path $Dist 'dcp113_2rank_fsdp_local/pytorch_model_fsdp_rank0.bin'
        $err = $null
        $null = Import-TorchCheckpoint -LiteralPath $file -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'FsdpLocalShardsUnsupported,*'
        $err[0].Exception.Message | Should -BeLike '*LOCAL_STATE_DICT*'
        $err[0].TargetObject | Should -Be $file
        (Test-TorchCheckpoint -LiteralPath $file).Status | Should -Be 'Unsupported'
    }

    It 'takes checkpoint folders a wildcard matches, and folders piped from Get-ChildItem' {
        $byPattern = Import-TorchCheckpoint -Path (Join-Path $Dist 'zero*') -Lazy
        $folders = $byPattern.SourceFile | ForEach-Object { $_ -replace "^$([regex]::Escape($Dist))/([^/;]+).*", '$1' }
        $folders | Sort-Object -Unique | Should -Be @('zero1_bf16', 'zero2', 'zero3', 'zero3_3rank')
        # Seven DCP folders, and one folder of LOCAL_STATE_DICT files, which is no checkpoint folder.
        $err = $null
        $reports = Get-ChildItem (Join-Path $Dist 'dcp*') -Directory |
            Test-TorchCheckpoint -ErrorVariable err -ErrorAction SilentlyContinue
        $reports.Status | Sort-Object -Unique | Should -Be 'Ok'
        @($reports).Count | Should -Be 7
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'PathIsDirectory,*'
        $err[0].TargetObject | Should -BeLike '*dcp113_2rank_fsdp_local'
    }

    It 'still calls any other folder a folder' {
        $plain = Join-Path $TestDrive 'plain'
        $null = New-Item -ItemType Directory $plain
        $err = $null
        $null = Import-TorchCheckpoint -LiteralPath $plain -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'PathIsDirectory,*'
    }
}
