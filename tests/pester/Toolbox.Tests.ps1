# The toolbox cmdlets end to end; real torch judges that what they save loads with load_state_dict.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasTorch = [bool](Find-TorchPython)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasTorch = [bool](Find-TorchPython)
    $script:Checkpoint = Join-Path $FixtureDir 'torch/checkpoint.pt'
    $script:StateDict = Join-Path $FixtureDir 'torch/state_dict.pt'
    $script:LoadStateDict = Join-Path $PSScriptRoot '../interop/load_state_dict.py'
    $script:Compare = (Get-Content (Join-Path $FixtureDir 'toolbox.json') -Raw | ConvertFrom-Json -AsHashtable).compare
}

Describe 'Import-TorchCheckpoint -Key' {
    It 'emits the sub-object''s tensors named relative to it, and -AsObject the sub-object' {
        $t = Import-TorchCheckpoint $Checkpoint -Key model
        $t.Name | Should -Be (Import-TorchCheckpoint $StateDict).Name
        (Import-TorchCheckpoint $Checkpoint -Key optimizer.param_groups.0 -AsObject)['lr'] | Should -Be 0.001
    }

    It 'names the keys that are there when the path is wrong' {
        $err = $null
        Import-TorchCheckpoint $Checkpoint -Key model.nope -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'KeyNotFound,*'
        $err[0].Exception.Message | Should -BeLike '*conv.weight*'
    }

    It 'writes what load_state_dict accepts (the README recipe)' -Skip:(-not $HasTorch) {
        $out = Join-Path $TestDrive 'weights.pt'
        Import-TorchCheckpoint $Checkpoint -Key model | Save-Tensor -LiteralPath $out
        & /usr/bin/python3 $LoadStateDict $out | Should -Be 'ok'
    }
}

Describe 'Rename-Tensor' {
    It 'adds and strips a DataParallel prefix, and torch accepts each result for its model' -Skip:(-not $HasTorch) {
        $dp = Join-Path $TestDrive 'dp.pt'
        Import-TorchCheckpoint $StateDict | Rename-Tensor '^' 'module.' | Save-Tensor -LiteralPath $dp
        & /usr/bin/python3 $LoadStateDict $dp module | Should -Be 'ok'
        $plain = Join-Path $TestDrive 'plain.pt'
        Import-TorchCheckpoint $dp | Rename-Tensor '^module\.' | Save-Tensor -LiteralPath $plain
        & /usr/bin/python3 $LoadStateDict $plain | Should -Be 'ok'
    }

    It 'renames a whole state_dict with its _metadata, and torch accepts it' -Skip:(-not $HasTorch) {
        $sd = Import-TorchCheckpoint $StateDict -AsObject
        $renamed = Rename-Tensor -InputObject $sd -Pattern '^' -Replacement 'model.'
        @($renamed.State['_metadata'].Keys) | Should -Contain 'model.conv'
        $out = Join-Path $TestDrive 'wrapped.pt'
        Save-Tensor -InputObject $renamed -LiteralPath $out
        & /usr/bin/python3 $LoadStateDict $out model | Should -Be 'ok'
    }

    It 'stops on a collision, naming both tensors, and renames exactly by -Map' {
        { Import-TorchCheckpoint $StateDict | Rename-Tensor '\..*$' } | Should -Throw -ErrorId 'TensorNameCollision,TorchSerial.PowerShell.Commands.RenameTensorCommand'
        (Import-TorchCheckpoint $StateDict | Rename-Tensor -Map @{ 'fc.bias' = 'head.bias' }).Name | Should -Contain 'head.bias'
    }
}

Describe 'Compare-TorchCheckpoint and Get-TensorHash' {
    It 'reports what torch reports for each name of two checkpoints' {
        $results = Compare-TorchCheckpoint (Join-Path $FixtureDir 'toolbox/compare_a.pt') (Join-Path $FixtureDir 'toolbox/compare_b.pt')
        $results.Name | Should -Be @($Compare.Keys)
        foreach ($r in $results) {
            "$($r.Status)" | Should -Be $Compare[$r.Name].status -Because $r.Name
            if ($Compare[$r.Name].ContainsKey('assert_close')) { $r.IsClose | Should -Be $Compare[$r.Name].assert_close -Because $r.Name }
        }
        (Compare-TorchCheckpoint (Join-Path $FixtureDir 'toolbox/compare_a.pt') (Join-Path $FixtureDir 'toolbox/compare_b.pt') -ExcludeEqual).Status |
            Should -Not -Contain 'Equal'
        $table = $results | Out-String -Width 160
        $table | Should -BeLike '*MaxAbsDiff*IsClose*'
    }

    It 'finds a .pt and its safetensors conversion equal, and their tensor hashes identical' {
        $st = Join-Path $TestDrive 'sd.safetensors'
        Import-TorchCheckpoint $StateDict -Lazy | Save-Tensor -LiteralPath $st
        (Compare-TorchCheckpoint $StateDict $st).Status | Select-Object -Unique | Should -Be 'Equal'
        $a = Import-TorchCheckpoint $StateDict -Lazy | Get-TensorHash
        $b = Import-TorchCheckpoint $st | Get-TensorHash
        Compare-Object $a $b -Property Name, Hash | Should -BeNullOrEmpty
        $a[0].Hash | Should -Match '^[0-9A-F]{64}$'
        (Import-TorchCheckpoint $StateDict | Select-Object -First 1 | Get-TensorHash -Algorithm SHA512).Hash.Length | Should -Be 128
    }

    It 'compares piped tensors with reference tensors' {
        $ref = Import-TorchCheckpoint $StateDict
        $r = Import-TorchCheckpoint $Checkpoint -Key model | Compare-TorchCheckpoint -ReferenceObject $ref
        $r.Count | Should -Be 9
        ($r.Status | Select-Object -Unique) | Should -Not -Contain 'Added'
    }
}

Describe 'Measure-Tensor and Test-TorchCheckpoint -Finite' {
    BeforeAll { $script:Stats = (Get-Content (Join-Path $FixtureDir 'toolbox.json') -Raw | ConvertFrom-Json -AsHashtable).stats }

    It 'gives torch''s counts and figures, on the host and on the ILGPU CPU accelerator' {
        $file = Join-Path $FixtureDir 'toolbox/stats.pt'
        foreach ($m in @(Import-TorchCheckpoint $file -Lazy | Measure-Tensor), @(Import-TorchCheckpoint $file -MapLocation ilgpu-cpu | Measure-Tensor)) {
            $m.Count | Should -Be $Stats.Count
            foreach ($s in $m) {
                $s.NaN, $s.PositiveInfinity, $s.NegativeInfinity, $s.Zeros | Should -Be @($Stats[$s.Name].nan, $Stats[$s.Name].posinf, $Stats[$s.Name].neginf, $Stats[$s.Name].zeros)
                if ($Stats[$s.Name].mean -is [double]) { [math]::Abs($s.Mean - $Stats[$s.Name].mean) | Should -BeLessOrEqual 1e-9 }
            }
        }
        (Import-TorchCheckpoint $file -MapLocation ilgpu-cpu | Where-Object Name -eq randn | Measure-Tensor).ComputedOn | Should -Be 'ilgpu-cpu'
        (Import-TorchCheckpoint $file | Measure-Tensor | Out-String -Width 160) | Should -BeLike '*NaN/Inf*Norm*'
    }

    It 'turns a checkpoint holding NaN from Ok into a Warning that names the tensors' {
        $file = Join-Path $FixtureDir 'toolbox/stats.pt'
        "$((Test-TorchCheckpoint $file).Status)" | Should -Be 'Ok'
        $r = Test-TorchCheckpoint $file -Finite
        "$($r.Status)" | Should -Be 'Warning'
        @($r.Problems | Where-Object ErrorId -eq 'NonFiniteTensor').Record | Should -Be @('with_nan', 'with_inf')
        Test-TorchCheckpoint $file -Finite -Quiet | Should -BeFalse
        Test-TorchCheckpoint $StateDict -Finite -Quiet | Should -BeTrue
    }
}

Describe 'Assert-TorchCheckpoint' {
    It 'passes silently, and -PassThru gives the files that passed' {
        Assert-TorchCheckpoint $StateDict -Name 'fc.weight', 'fc.bias' -Finite | Should -BeNullOrEmpty
        (Assert-TorchCheckpoint $StateDict -PassThru).Name | Should -Be 'state_dict.pt'
    }

    It 'throws one error that lists every failure of every file' {
        $nan = Join-Path $FixtureDir 'toolbox/stats.pt'
        $err = $null
        try {
            Get-Item $StateDict, $nan | Assert-TorchCheckpoint -Name 'missing.weight' -Shape @{ 'fc.weight' = 2, 2 } -DType @{ 'fc.bias' = 'float16' } -Finite
        } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'CheckpointAssertionFailed*'
        $m = $err.Exception.Message
        $m | Should -BeLike '*in 2 file(s)*'
        $m | Should -BeLike "*state_dict.pt: it has no tensor 'missing.weight'*"
        $m | Should -BeLike '*''fc.weight'' has shape `[4, 12`], expected `[2, 2`]*'
        $m | Should -BeLike "*'fc.bias' is float32, expected float16*"
        $m | Should -BeLike "*stats.pt: 'with_nan' holds 1 NaN*"
    }

    It 'reports the tensors that differ from a reference beyond tolerance' {
        $a = Join-Path $FixtureDir 'toolbox/compare_a.pt'
        $b = Join-Path $FixtureDir 'toolbox/compare_b.pt'
        $err = $null
        try { Assert-TorchCheckpoint $b -ReferencePath $a } catch { $err = $_ }
        $m = $err.Exception.Message
        $m | Should -BeLike "*'far' differs from the reference: 2027 of 2048 elements*"
        $m | Should -BeLike "*'removed' is in the reference but not here*"
        $m | Should -BeLike "*'added' is not in the reference*"
        $m | Should -Not -BeLike "*'close' differs*"
    }

    It 'reports a file that does not load' {
        $err = $null
        try { Assert-TorchCheckpoint (Join-Path $FixtureDir 'crafted/os_system.pt') } catch { $err = $_ }
        $err.Exception.Message | Should -BeLike '*it does not load: `[UnsafeGlobal`]*'
    }
}

Describe 'Convert-Tensor' {
    It 'casts to exactly the bytes of torch''s .to(<_>) for every source dtype' -ForEach @('bfloat16', 'float16', 'float32', 'int8', 'uint8', 'bool', 'complex64') -Skip:(-not $HasTorch) {
        $src = Join-Path $FixtureDir 'casts/source.pt'
        $out = Join-Path $TestDrive "cast_$_.pt"
        Import-TorchCheckpoint $src -Lazy | Convert-Tensor -DType $_ -Include * | Save-Tensor -LiteralPath $out
        & /usr/bin/python3 (Join-Path $PSScriptRoot '../interop/check_casts.py') $src $_ $out 2>$null | Should -Be 'ok'
    }

    It 'casts storages of several chunks, read on every core, to torch''s bytes (<_>)' -Skip:(-not $HasTorch) `
        -ForEach @('bfloat16', 'float16', 'float64', 'int16') {
        # Written by torch at test time: storages past the 2 MiB where a streamed save reads in parallel chunks, element
        # counts that leave a tail, NaN, infinities and ties near chunk edges, and a view sharing the big storage.
        $src = Join-Path $TestDrive 'big_source.pt'
        if (-not (Test-Path $src)) {
            $make = @'
import sys, torch
g = torch.Generator().manual_seed(3)
big = torch.randn(3000001, generator=g) * 300
edges = [0, 1048575, 1048576, 2097151, 2999999]
big[edges] = torch.tensor([float("nan"), float("inf"), -0.0, 1.00390625, -float("inf")])
torch.save({"big": big, "view": big[5:1500005:3],
            "dbl": torch.randn(700001, generator=g, dtype=torch.float64) * 1e5,
            "half": (torch.randn(2500003, generator=g) * 100).half(),
            "ints": torch.randint(-70000, 70000, (1200001,), generator=g)}, sys.argv[1])
'@
            & /usr/bin/python3 -c $make $src
        }
        $out = Join-Path $TestDrive "big_$_.pt"
        Import-TorchCheckpoint $src -Lazy | Convert-Tensor -DType $_ -Include * | Save-Tensor -LiteralPath $out
        & /usr/bin/python3 (Join-Path $PSScriptRoot '../interop/check_casts.py') $src $_ $out 2>$null | Should -Be 'ok'
    }

    It 'changes only floating-point tensors by default, keeps ties, flags and _metadata, and honours -Exclude' {
        $sd = Import-TorchCheckpoint (Join-Path $FixtureDir 'torch/params.pt')
        $c = $sd | Convert-Tensor bfloat16
        ($c | Where-Object { $_.DType -notin 'bfloat16' }).DType | Should -Not -Contain 'float32'
        $c.IsParameter | Should -Be $sd.IsParameter
        $c.RequiresGrad | Should -Be $sd.RequiresGrad
        $views = Import-TorchCheckpoint (Join-Path $FixtureDir 'torch/views.pt') | Convert-Tensor float16
        [object]::ReferenceEquals(($views | Where-Object Name -eq tied_a).Storage, ($views | Where-Object Name -eq tied_b).Storage) | Should -BeTrue
        (Import-TorchCheckpoint $StateDict | Convert-Tensor float16 -Exclude 'bn.*' | Where-Object Name -like 'bn.*').DType | Select-Object -Unique |
            Should -Not -Contain 'float16'
        $obj = Convert-Tensor -InputObject (Import-TorchCheckpoint $StateDict -AsObject) -DType float16
        @($obj.State['_metadata'].Keys) | Should -Contain 'bn'
        { Import-TorchCheckpoint $StateDict | Convert-Tensor quint8 } | Should -Throw -ErrorId 'UnsupportedCast,TorchSerial.PowerShell.Commands.ConvertTensorCommand'
    }
}

Describe 'Should operators (registered because Pester is loaded)' {
    It 'offers -BeTorchCheckpoint, -BeFiniteCheckpoint and -MatchTorchCheckpoint, and no more' {
        $mine = @(Get-ShouldOperator | Where-Object Name -in 'BeTorchCheckpoint', 'BeFiniteCheckpoint', 'MatchTorchCheckpoint')
        $mine.Count | Should -Be 3
        $StateDict | Should -BeTorchCheckpoint
        $StateDict | Should -BeFiniteCheckpoint
        $StateDict | Should -MatchTorchCheckpoint $StateDict
        (Join-Path $FixtureDir 'toolbox/stats.pt') | Should -Not -BeFiniteCheckpoint
    }

    It 'fails with the assertion''s list of failures' {
        { (Join-Path $FixtureDir 'crafted/os_system.pt') | Should -BeTorchCheckpoint -Because 'it was downloaded' } |
            Should -Throw '*because it was downloaded, but*UnsafeGlobal*'
        { (Join-Path $FixtureDir 'toolbox/compare_b.pt') | Should -MatchTorchCheckpoint (Join-Path $FixtureDir 'toolbox/compare_a.pt') } |
            Should -Throw "*'far' differs from the reference*"
    }
}

Describe 'The toolbox on sparse and meta tensors' {
    BeforeAll { $script:Kinds = Join-Path $FixtureDir 'kinds' }

    It 'hashes, compares and casts meta tensors by what they have: dtype, shape and stride' {
        $meta = Import-TorchCheckpoint -LiteralPath (Join-Path $Kinds 'meta.pt')
        $w = $meta | Where-Object Name -EQ 'w'
        $h = $w | Get-TensorHash
        $h.Hash | Should -Be ($w | Get-TensorHash).Hash
        $h.Hash | Should -Not -Be (ConvertTo-Tensor -InputObject (,0.0 * 12) -DType float32 -Shape 3, 4 -Name w | Get-TensorHash).Hash
        $cmp = Compare-TorchCheckpoint (Join-Path $Kinds 'meta.pt') (Join-Path $Kinds 'meta.pt')
        @($cmp.Status | Sort-Object -Unique) | Should -Be @('Equal')
        $half = $meta | Convert-Tensor float16 | Where-Object Name -EQ 't'
        $half.IsMeta | Should -BeTrue
        $half.DType | Should -Be 'float16'
        @($half.Stride) | Should -Be @(1, 5)
        { $w | Measure-Tensor -ErrorAction Stop } | Should -Throw -ExpectedMessage "*'w' is a meta tensor*"
    }

    It 'casts the values of a sparse buffer and saves it back as one sparse tensor' {
        $out = Join-Path $TestDrive 'half-sparse.pt'
        Import-TorchCheckpoint -LiteralPath (Join-Path $Kinds 'sparse_buffer.pt') | Convert-Tensor float16 | Save-Tensor -LiteralPath $out
        $obj = Import-TorchCheckpoint -LiteralPath $out -AsObject
        $obj['adj'] | Should -BeOfType ([TorchSerial.Tensors.SparseTensor])
        $obj['adj'].Values.DType | Should -Be 'float16'
        $obj['adj'].Indices.DType | Should -Be 'int64'
        @($obj.Keys) | Should -Be @('adj', 'lin.weight', 'lin.bias')   # the state_dict's own order
        $obj['adj'].Values.ToArray() | Should -Be @(1, 1)
    }

    It 'refuses to put sparse or meta tensors in safetensors, saying what to do' {
        { Import-TorchCheckpoint -LiteralPath (Join-Path $Kinds 'sparse.pt') | Save-Tensor (Join-Path $TestDrive 's.safetensors') -ErrorAction Stop } |
            Should -Throw -ExpectedMessage "*'coo' is sparse_coo*-Format Torch*"
        { Import-TorchCheckpoint -LiteralPath (Join-Path $Kinds 'meta.pt') | Save-Tensor (Join-Path $TestDrive 'm.safetensors') -ErrorAction Stop } |
            Should -Throw -ExpectedMessage "*'w' is a meta tensor*"
        Get-ChildItem $TestDrive -Filter *.safetensors | Should -BeNullOrEmpty
    }
}
