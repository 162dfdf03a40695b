BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:TorchFiles = $Expected.checkpoints.Keys | ForEach-Object { @{ File = $_ } }
    $script:Refusals = @(
        @{ File = 'crafted/empty.pt'; Id = 'EmptyFile' }
        @{ File = 'crafted/lfs_pointer.pt'; Id = 'GitLfsPointer' }
        @{ File = 'crafted/html_page.pt'; Id = 'HtmlOrTextFile' }
        @{ File = 'crafted/truncated_zip.pt'; Id = 'TruncatedZip' }
        @{ File = 'crafted/truncated_legacy.pt'; Id = 'TruncatedLegacyStream' }
        @{ File = 'crafted/short_record.pt'; Id = 'RecordSizeMismatch' }
        @{ File = 'crafted/view_out_of_bounds.pt'; Id = 'ViewOutOfBounds' }
        @{ File = 'crafted/stride_overflow.pt'; Id = 'ArithmeticOverflow' }
        @{ File = 'crafted/negative_size.pt'; Id = 'NegativeSize' }
        @{ File = 'crafted/missing_record.pt'; Id = 'MissingRecord' }
        @{ File = 'crafted/unknown_opcode.pt'; Id = 'UnknownOpcode' }
        @{ File = 'crafted/memo_missing.pt'; Id = 'MemoKeyMissing' }
        @{ File = 'crafted/no_stop.pt'; Id = 'PickleTruncated' }
        @{ File = 'crafted/bad_magic.pt'; Id = 'InvalidMagicNumber' }
        @{ File = 'crafted/bad_protocol.pt'; Id = 'InvalidProtocolVersion' }
        @{ File = 'crafted/unsafe_global.pt'; Id = 'UnsafeGlobal' }
        @{ File = 'crafted/cuda_tagged.pt'; Id = 'DeviceUnavailable' }
        @{ File = 'crafted/py2_strings.pt'; Id = 'StringDecodeFailed' }
        @{ File = 'kinds/sparse_csr.pt'; Id = 'UnsafeGlobal' }
        @{ File = 'crafted/torchscript_like.pt'; Id = 'TorchScriptStructure' }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Cmd = 'TorchSerial.PowerShell.Commands.ImportTorchCheckpointCommand'

    function Assert-Tensors($expected, $actual) {
        @($actual).Count | Should -Be @($expected).Count
        $groups = @{}
        for ($i = 0; $i -lt @($expected).Count; $i++) {
            $e = $expected[$i]; $t = @($actual)[$i]
            $t | Should -BeOfType ([TorchSerial.Tensors.Tensor])
            $t.Name | Should -BeExactly $e.name
            "$($t.DType)" | Should -BeExactly $e.dtype
            @($t.Shape) -join ',' | Should -Be (@($e.shape) -join ',')
            @($t.Stride) -join ',' | Should -Be (@($e.stride) -join ',')
            $t.StorageOffset | Should -Be $e.offset
            if ($e.ContainsKey('numel')) { $t.NumElements | Should -Be $e.numel }
            if ($e.ContainsKey('storage_nbytes')) { $t.Storage.NumBytes | Should -Be $e.storage_nbytes }
            if ($e.ContainsKey('qscheme')) { $t.Quantization.Scheme | Should -Be $e.qscheme }
            if ($e.ContainsKey('scale')) { $t.Quantization.Scale | Should -Be $e.scale }
            $t.SavedLocation | Should -Be $e.location
            if ($e.ContainsKey('requires_grad')) { $t.RequiresGrad | Should -Be $e.requires_grad }
            if ($e.ContainsKey('is_parameter')) { $t.IsParameter | Should -Be $e.is_parameter }
            if ($null -ne $e.storage_group) {
                if ($groups.ContainsKey($e.storage_group)) { [object]::ReferenceEquals($groups[$e.storage_group], $t.Storage) | Should -BeTrue }
                else { $groups[$e.storage_group] = $t.Storage }
            }
            Get-Sha256 $t.GetBytes() | Should -Be $e.sha256 -Because "$($t.Name) must hold torch's bytes"
        }
    }
}

Describe 'Import-TorchCheckpoint on files written by real torch' {
    It 'loads <File> with the values torch reports' -ForEach $TorchFiles {
        $tensors = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir "torch/$File")
        Assert-Tensors $Expected.checkpoints[$File].tensors $tensors
    }

    It 'keeps Python key order with -AsObject' -ForEach $TorchFiles {
        $info = $Expected.checkpoints[$File]
        $obj = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir "torch/$File") -AsObject
        if ($info.ContainsKey('top_keys')) {
            $obj | Should -BeOfType ([TorchSerial.Python.PyDict])
            @($obj.Keys | ForEach-Object { "$_" }) | Should -Be $info.top_keys
        }
    }
}

Describe 'Import-TorchCheckpoint on formats torch 1.13 cannot write' {
    It 'loads <File>' -ForEach @(@{ File = 'v3_dtypes.pt' }, @{ File = 'bigendian.pt' }, @{ File = 'tar_legacy.pt' }, @{ File = 'torch2_objects.pt' }) {
        Assert-Tensors $CraftedExpected[$File].tensors (Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir "crafted/$File"))
    }

    It 'loads re-packed zips (<File>) like the original' -ForEach @(@{ File = 'deflated.pt' }, @{ File = 'zip64.pt' }) {
        Assert-Tensors $Expected.checkpoints['views.pt'].tensors (Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir "crafted/$File"))
    }

    It 'decodes float8 exactly' {
        $f8 = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'crafted/v3_dtypes.pt') | Where-Object Name -EQ 'f8_e4m3fn'
        $v = $f8.ToArray()
        $v.GetType() | Should -Be ([float[]])
        $v[0..3] | Should -Be @(1.0, 448.0, -1.0, [math]::Pow(2, -9))
        [float]::IsNaN($v[4]) | Should -BeTrue
    }
}

Describe 'Import-TorchCheckpoint -AsObject' {
    BeforeAll { $script:Ckpt = Import-TorchCheckpoint (Join-Path $FixtureDir 'torch/checkpoint.pt') -AsObject }

    It 'maps Python values onto .NET types' {
        $Ckpt['epoch'] | Should -BeOfType ([long])
        $Ckpt['epoch'] | Should -Be 7
        $Ckpt['loss'] | Should -BeOfType ([double])
        $Ckpt['name'] | Should -BeExactly 'résumé'
        $Ckpt['flag'] | Should -BeTrue
        , $Ckpt['blob'] | Should -BeOfType ([byte[]])
        $Ckpt['huge'] | Should -Be ([System.Numerics.BigInteger]::Pow(2, 80))
        $Ckpt['tags'].GetType().Name | Should -Be 'PyList'
        $Ckpt['pair'].GetType().Name | Should -Be 'PyTuple'
        @($Ckpt['size']) | Should -Be @(2, 3)
        $Ckpt['model'].IsOrderedDict | Should -BeTrue
    }

    It 'names tensors inside the object by their key path' {
        $Ckpt['model']['fc.weight'].Name | Should -Be 'model.fc.weight'
        $Ckpt['optimizer']['state'][[long]4]['exp_avg'].Name | Should -Be 'optimizer.state.4.exp_avg'
    }
}

Describe 'Paths and the pipeline' {
    BeforeAll {
        $script:Dir = Join-Path $TestDrive 'odd[1] folder'
        $null = New-Item -ItemType Directory -Path $Dir
        Copy-Item -LiteralPath (Join-Path $FixtureDir 'torch/params.pt') -Destination (Join-Path $Dir 'a.pt')
        Copy-Item -LiteralPath (Join-Path $FixtureDir 'torch/dict_order.pt') -Destination (Join-Path $Dir 'b.pt')
    }

    It 'expands wildcards in -Path' {
        $names = Import-TorchCheckpoint -Path (Join-Path $FixtureDir 'torch/views_proto*.pt') | ForEach-Object Name
        $names.Count | Should -Be (4 * 15)
    }

    It 'takes -LiteralPath with brackets and Get-ChildItem output by property name' {
        (Import-TorchCheckpoint -LiteralPath (Join-Path $Dir 'a.pt')).Name | Should -Be @('p', 'p_frozen', 'grad')
        $all = Get-ChildItem -LiteralPath $Dir -Filter *.pt | Sort-Object Name | Import-TorchCheckpoint
        $all.Name | Should -Be @('p', 'p_frozen', 'grad', 'zeta', 'alpha', 'mid.y', 'mid.b', '3')
    }

    It 'takes path strings from the pipeline' {
        (Join-Path $FixtureDir 'torch/params.pt') | Import-TorchCheckpoint | Should -HaveCount 3
    }

    It 'reports a missing literal path as FileNotFound and goes on' {
        $out = Import-TorchCheckpoint -LiteralPath (Join-Path $Dir 'nope.pt'), (Join-Path $Dir 'a.pt') -ErrorVariable err -ErrorAction SilentlyContinue
        $out | Should -HaveCount 3
        $err[0].FullyQualifiedErrorId | Should -Be "FileNotFound,$Cmd"
    }

    It 'refuses non-filesystem providers' {
        Import-TorchCheckpoint -LiteralPath 'Env:PATH' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be "NotFileSystemPath,$Cmd"
    }
}

Describe 'Refusals' {
    It '<File> fails with <Id>' -ForEach $Refusals {
        $out = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir $File) -ErrorVariable err -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -Be "$Id,$Cmd"
        $err[0].TargetObject | Should -BeLike "*$(Split-Path $File -Leaf)"
        $err[0].Exception.Message.Length | Should -BeGreaterThan 40
    }

    It 'a bad file does not stop the next one' {
        $files = (Join-Path $FixtureDir 'crafted/lfs_pointer.pt'), (Join-Path $FixtureDir 'torch/params.pt')
        $out = Import-TorchCheckpoint -LiteralPath $files -ErrorAction SilentlyContinue
        $out | Should -HaveCount 3
    }

    It 'throws a terminating error with -ErrorAction Stop' {
        { Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'crafted/unsafe_global.pt') -ErrorAction Stop } |
            Should -Throw -ErrorId "UnsafeGlobal,$Cmd"
    }
}

Describe 'Tensor kinds in a listing' {
    It 'lists a sparse tensor as its parts, flagged with the layout, and a meta tensor on device meta' {
        $t = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/sparse.pt')
        @($t.Name) | Should -Be @('w.indices', 'w.values')
        $t[0].Sparse.Layout | Should -Be 'sparse_coo'
        @($t[0].Sparse.Shape) | Should -Be @(3)
        ($t | Format-Table | Out-String -Width 200) | Should -Match 'w\.values\s+float32\s+\[2\]\s+2\s+cpu\s+sparse_coo'
        $obj = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/sparse.pt') -AsObject
        ($obj['w'] | Format-Table | Out-String -Width 200) | Should -Match 'w\s+sparse_coo\s+float32\s+\[3\]\s+2\s+cpu\s+indices \[1, 2\], values \[2\]'
        $meta = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'kinds/meta.pt') | Where-Object Name -EQ 'w'
        $meta.Device | Should -Be 'meta'
        $meta.IsMeta | Should -BeTrue
        { $meta.ToArray() } | Should -Throw -ExpectedMessage "*meta tensor*no data*"
        (Test-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'kinds/meta.pt')).Status | Should -Be 'Ok'
    }
}

Describe 'Options' {
    It '-AllowGlobal admits a global as an inert object' {
        $obj = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'crafted/unsafe_global.pt') -AsObject -AllowGlobal 'posix.*'
        $obj.GetType().FullName | Should -Be 'TorchSerial.Python.PyObject'
        $obj.Module, $obj.Name | Should -Be @('posix', 'system')
        $obj.Args[0] | Should -Be 'echo pwned!'
    }

    It '-Encoding latin1 reads Python 2 byte strings' {
        $names = (Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'crafted/py2_strings.pt') -Encoding latin1).Name
        $names[0..2] | Should -Be @('base', 'réw', 'col')
    }

    It '-Encoding bytes keeps Python 2 byte strings as byte[]' {
        $obj = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'crafted/py2_strings.pt') -Encoding bytes -AsObject
        , @($obj.Keys)[1] | Should -BeOfType ([byte[]])
    }

    It '-MapLocation cpu loads a CUDA-tagged file onto the host' {
        $t = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'crafted/cuda_tagged.pt') -MapLocation cpu
        $t | Should -HaveCount 15
        $t | ForEach-Object { $_.Device | Should -Be 'cpu'; $_.SavedLocation | Should -Be 'cuda:1' }
    }

    It '-MapLocation takes a hashtable of tags' {
        $t = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'crafted/cuda_tagged.pt') -MapLocation @{ 'cuda:1' = 'cpu' }
        $t | Should -HaveCount 15
    }

    It '-MapLocation refuses other values with InvalidMapLocation' {
        { Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/params.pt') -MapLocation 42 } |
            Should -Throw -ErrorId "InvalidMapLocation,$Cmd"
    }

    It 'completes -MapLocation and -Encoding' {
        foreach ($case in @{ Line = 'Import-TorchCheckpoint x.pt -MapLocation c'; Want = 'cpu' },
                          @{ Line = 'Import-TorchCheckpoint x.pt -Encoding la'; Want = 'latin1' },
                          @{ Line = 'Import-TorchCheckpoint x.pt -AllowGlobal numpy.nd'; Want = 'numpy.ndarray' }) {
            $r = TabExpansion2 -inputScript $case.Line -cursorColumn $case.Line.Length
            $r.CompletionMatches.CompletionText | Should -Contain $case.Want
        }
    }
}

Describe 'Default view' {
    It 'shows shapes like torch.Size' {
        $text = Import-TorchCheckpoint -LiteralPath (Join-Path $FixtureDir 'torch/params.pt') | Out-String -Width 200
        $text | Should -Match 'p_frozen\s+float32\s+\[3\]'
        $text | Should -Match 'param,grad'
    }
}

Describe 'Real torch agrees with the committed expectations' {
    It 'verify_expected.py finds every fixture as recorded' -Skip:(-not (Find-TorchPython)) {
        $out = & /usr/bin/python3 (Join-Path $FixtureDir 'verify_expected.py') 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
    }
}

# torch 1.13 saves Python values that pickle through builtin constructors; with the constructor admitted, the load
# gives what torch.load gives (judged by torch's own repr of each value), and everything else stays refused.
Describe 'Admitted pure constructors' -Skip:(-not (Find-TorchPython)) {
    BeforeAll {
        $script:Pure = Join-Path $TestDrive 'pure.pt'
        $code = "import json, torch; torch.save({'empty': b'', 'bytes': b'ab\x00', 'slice': slice(1, 10, 2), " +
            "'stop_only': slice(5), 'range': range(0, 10, 3), 'huge': range(0, 10**18), 'down': range(9, -1, -2), " +
            "'frozen': frozenset({1, 2}), 'set': {3}, 'complex': complex(1.5, -2), 'imaginary': complex(0, 2)}, " +
            "'$Pure'); print(json.dumps({k: repr(v) for k, v in torch.load('$Pure').items()}))"
        $script:TorchRepr = & (Find-TorchPython) -c $code | ConvertFrom-Json -AsHashtable
        $script:Admitted = 'builtins.bytes', 'builtins.slice', 'builtins.range', 'builtins.frozenset', 'builtins.set',
            'builtins.complex'
        $script:Loaded = Import-TorchCheckpoint -LiteralPath $Pure -AsObject -AllowGlobal $Admitted
    }

    It 'gives torch''s value for <_>' -ForEach 'empty', 'bytes', 'slice', 'stop_only', 'range', 'huge', 'down',
        'frozen', 'set', 'complex', 'imaginary' {
        [TorchSerial.Python.PyRepr]::Of($Loaded[$_]) | Should -Be $TorchRepr[$_]
    }

    It 'keeps a range as its bounds, whatever its length' {
        $Loaded['huge'] | Should -BeOfType ([TorchSerial.Python.PyRange])
        $Loaded['huge'].Count | Should -Be ([System.Numerics.BigInteger]::Pow(10, 18))
        $Loaded['down'].Count | Should -Be 5
        ,$Loaded['empty'] | Should -BeOfType ([byte[]])
        $Loaded['complex'].Imaginary | Should -Be -2
    }

    It 'refuses them when they are not admitted' {
        { Import-TorchCheckpoint -LiteralPath $Pure -AsObject -ErrorAction Stop } |
            Should -Throw -ErrorId 'UnsafeGlobal,TorchSerial.PowerShell.Commands.ImportTorchCheckpointCommand'
    }
}
