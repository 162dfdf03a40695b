# LibTorch 2.10 (tests/TorchSerial.Judge, through TorchSharp) judges what torch 1.13 cannot: casts to and from the
# float8 and uint16-64 dtypes, files torch 2.x's C++ writer makes, and whether LibTorch reads what Save-Tensor writes.
# build.ps1 -Task Test builds the judge and names it in TORCHSERIAL_JUDGE; where it could not be built, these tests
# are skipped and counted as skipped.
BeforeDiscovery {
    $script:Judge = if ($env:TORCHSERIAL_JUDGE) { $env:TORCHSERIAL_JUDGE } else {
        Join-Path $PSScriptRoot '../TorchSerial.Judge/bin/Release/net10.0/linux-x64/TorchSerial.Judge' }
    $script:HasJudge = Test-Path $script:Judge
    $script:Targets = 'uint8', 'int8', 'int16', 'int32', 'int64', 'uint16', 'uint32', 'uint64', 'bool', 'float16',
        'bfloat16', 'float32', 'float64', 'complex64', 'complex128', 'float8_e5m2', 'float8_e4m3fn',
        'float8_e5m2fnuz', 'float8_e4m3fnuz', 'float8_e8m0fnu'
    $script:Float8 = 'float8_e5m2', 'float8_e4m3fn', 'float8_e5m2fnuz', 'float8_e4m3fnuz', 'float8_e8m0fnu'
    $script:Written = 'dtypes.pt', 'views.pt', 'tensor.pt', 'tensor_f8.pt'
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasTorch = [bool](Find-TorchPython)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Judge = if ($env:TORCHSERIAL_JUDGE) { $env:TORCHSERIAL_JUDGE } else {
        Join-Path $PSScriptRoot '../TorchSerial.Judge/bin/Release/net10.0/linux-x64/TorchSerial.Judge' }
    $script:TorchPython = Find-TorchPython

    # Runs the judge; its own output is a summary line (or JSON), and a failure is the test's failure.
    function Invoke-Judge([string[]] $Arguments) {
        $out = & $script:Judge @Arguments 2>&1
        if ($LASTEXITCODE -ne 0) { throw "The judge failed ($LASTEXITCODE): $($out -join "`n")" }
        $out | Where-Object { $_ -is [string] }
    }

    # The first element where our bytes and LibTorch's differ, skipping elements LibTorch leaves undefined.
    function Get-FirstDifference([byte[]] $Got, [byte[]] $Want, [int] $Size, [byte[]] $Undefined) {
        if ($Got.Length -ne $Want.Length) { return "length $($Got.Length), LibTorch $($Want.Length)" }
        if ($Undefined) {
            for ($i = 0; $i -lt $Undefined.Length; $i++) {
                if ($Undefined[$i]) { [Array]::Copy($Want, $i * $Size, $Got, $i * $Size, $Size) }
            }
        }
        if ([Linq.Enumerable]::SequenceEqual($Got, $Want)) { return $null }
        for ($i = 0; $i * $Size -lt $Got.Length; $i++) {
            $a = [Convert]::ToHexString($Got, $i * $Size, $Size); $b = [Convert]::ToHexString($Want, $i * $Size, $Size)
            if ($a -ne $b) { return "element $i is $a, LibTorch $b" }
        }
    }

    function Get-TensorSha256($Tensor) { Get-Sha256 $Tensor.GetBytes() }

    if (Test-Path $script:Judge) {
        $script:CastDir = Join-Path $TestDrive 'casts'
        $script:WrittenDir = Join-Path $TestDrive 'written'
        $null = Invoke-Judge @('casts', $script:CastDir)
        $scripted = @()
        if ($script:TorchPython) {
            & $script:TorchPython (Join-Path $FixtureDir 'scripted.py') $TestDrive
            $scripted = @(Join-Path $TestDrive 'nested.pt')
        }
        $null = Invoke-Judge (@('write', $script:WrittenDir) + $scripted)
        $script:WrittenExpected = Get-Content (Join-Path $script:WrittenDir 'expected.json') -Raw |
            ConvertFrom-Json -AsHashtable
        $script:Sources = Import-TorchCheckpoint (Join-Path $script:CastDir 'sources.pt')
    }
}

Describe 'Casts judged by LibTorch 2.10' -Skip:(-not $HasJudge) {
    It 'casts every dtype to <_> with exactly the bytes of LibTorch''s .to()' -ForEach $Targets {
        $target = $_
        $failures = foreach ($source in $Sources) {
            if ($source.Name -eq $target) { continue }
            $cast = $source | Convert-Tensor -DType $target -Include *
            $want = [IO.File]::ReadAllBytes((Join-Path $CastDir "$($source.Name)-$target.bin"))
            $undefinedPath = Join-Path $CastDir "$($source.Name)-$target.undefined"
            $undefined = if (Test-Path $undefinedPath) { [IO.File]::ReadAllBytes($undefinedPath) }
            $cast.DType | Should -Be $target
            $difference = Get-FirstDifference $cast.GetBytes() $want ($want.Length / $source.NumElements) $undefined
            if ($difference) { "$($source.Name) -> ${target}: $difference" }
        }
        $failures | Should -BeNullOrEmpty
    }

    It 'leaves unpinned only what C++ leaves undefined or LibTorch answers two ways' {
        $masks = Get-ChildItem $CastDir -Filter *.undefined
        # Floats out of an integer target's range or NaN, and NaN bits that differ between LibTorch's scalar and
        # vectorized loops (float16 0xFFFF to float32; float64 to bfloat16).
        $masks.Name | Where-Object { $_ -notmatch '-(u?int\d+)\.undefined$' } | Sort-Object |
            Should -Be @('float16-float32.undefined', 'float64-bfloat16.undefined')
        # Among float targets only NaN elements are left unpinned, a handful; the integer targets' masks cover the
        # out-of-range and NaN values the sources hold on purpose.
        $floatMasks = $masks | Where-Object Name -notmatch '-(u?int\d+)\.undefined$'
        $nanOnly = ($floatMasks | ForEach-Object { @([IO.File]::ReadAllBytes($_.FullName) -eq 1).Count } |
            Measure-Object -Sum).Sum
        $nanElements = ($Sources | Where-Object Name -in 'float16', 'float64' | ForEach-Object {
            @($_.ToArray() | Where-Object { [double]::IsNaN($_) }).Count } | Measure-Object -Sum).Sum
        $nanOnly | Should -BeGreaterThan 0
        $nanOnly | Should -BeLessOrEqual $nanElements
        $masks.Name | ForEach-Object { ($_ -split '-')[0] } | Sort-Object -Unique |
            Should -Be @('bfloat16', 'complex128', 'complex64', 'float16', 'float32', 'float64', 'float8_e4m3fn',
                'float8_e4m3fnuz', 'float8_e5m2', 'float8_e5m2fnuz', 'float8_e8m0fnu')
    }

    It 'decodes all 256 codes of <_> to LibTorch''s float32 bits' -ForEach $Float8 {
        $codes = $Sources | Where-Object Name -eq $_
        $codes.NumElements | Should -Be 256
        $values = [float[]] $codes.ToArray()
        $bits = [byte[]]::new(1024)
        [Buffer]::BlockCopy($values, 0, $bits, 0, 1024)
        Get-FirstDifference $bits ([IO.File]::ReadAllBytes((Join-Path $CastDir "$_-float32.bin"))) 4 $null |
            Should -BeNullOrEmpty
    }

    It 'refuses to cast to a quantized dtype, naming the dtypes it casts between' {
        { $Sources[0] | Convert-Tensor -DType qint8 -Include * } |
            Should -Throw -ErrorId 'UnsupportedCast,TorchSerial.PowerShell.Commands.ConvertTensorCommand'
    }
}

Describe 'Files LibTorch 2.10 writes' -Skip:(-not $HasJudge) {
    It 'reads <_> as LibTorch wrote it: names, dtypes, geometry, bytes and shared storages' -ForEach $Written {
        $expected = $WrittenExpected[$_]
        $tensors = @(Import-TorchCheckpoint (Join-Path $WrittenDir $_))
        $tensors.Count | Should -Be $expected.tensors.Count
        foreach ($want in $expected.tensors) {
            $got = $tensors | Where-Object Name -eq $want.name
            $wanted = "$($want.name) $($want.dtype) $($want.shape -join ',') $($want.stride -join ',') $($want.offset)"
            "$($got.Name) $($got.DType) $($got.Shape -join ',') $($got.Stride -join ',') $($got.StorageOffset)" |
                Should -Be $wanted
            Get-TensorSha256 $got | Should -Be $want.sha256 -Because "tensor '$($want.name)' of $_"
        }
        $groups = $expected.tensors | Group-Object storage | Where-Object Count -gt 1
        foreach ($group in $groups) {
            $storages = $group.Group | ForEach-Object { $n = $_.name; ($tensors | Where-Object Name -eq $n).Storage }
            $storages | ForEach-Object { [object]::ReferenceEquals($_, $storages[0]) | Should -BeTrue }
        }
    }

    It 'reads a module torch 1.13 scripted and LibTorch saved again, tied weight shared' -Skip:(-not $HasTorch) {
        $expected = $WrittenExpected['nested.jit210.pt']
        $tensors = @(Import-TorchCheckpoint (Join-Path $WrittenDir 'nested.jit210.pt'))
        ($tensors.Name | Sort-Object) | Should -Be ($expected.tensors.name | Sort-Object)
        foreach ($want in $expected.tensors) {
            $got = $tensors | Where-Object Name -eq $want.name
            "$($got.DType) $($got.Shape -join ',')" | Should -Be "$($want.dtype) $($want.shape -join ',')"
            Get-TensorSha256 $got | Should -Be $want.sha256 -Because "parameter or buffer '$($want.name)'"
        }
        $embed = $tensors | Where-Object Name -eq 'embed.weight'
        $head = $tensors | Where-Object Name -eq 'head.weight'
        [object]::ReferenceEquals($embed.Storage, $head.Storage) | Should -BeTrue
    }

    It 'scans LibTorch''s dict files as safe: restore_type_tag is a type annotation, not code' {
        $report = Test-TorchCheckpoint (Join-Path $WrittenDir 'dtypes.pt')
        $report.Status | Should -Be 'Ok'
        $report.IsLoadable | Should -BeTrue
    }
}

Describe 'LibTorch 2.10 reads what Save-Tensor writes' -Skip:(-not $HasJudge) {
    BeforeAll {
        $script:Out = Join-Path $TestDrive 'ours'
        $null = New-Item -ItemType Directory $Out -Force
        $dtypes = Import-TorchCheckpoint (Join-Path $WrittenDir 'dtypes.pt')
        $dtypes | Save-Tensor (Join-Path $Out 'dtypes_libtorch.pt') -Format LibTorch
        Import-TorchCheckpoint (Join-Path $WrittenDir 'views.pt') |
            Save-Tensor (Join-Path $Out 'views_libtorch.pt') -Format LibTorch
        Import-TorchCheckpoint (Join-Path $FixtureDir 'torch/params.pt') |
            Save-Tensor (Join-Path $Out 'params_libtorch.pt') -Format LibTorch
        # -InputObject saves the tensor itself as the root (piped, tensors are gathered into a state_dict).
        foreach ($t in $dtypes) { Save-Tensor -InputObject $t (Join-Path $Out "root_$($t.Name).pt") -Format LibTorch }
        $view = Import-TorchCheckpoint (Join-Path $WrittenDir 'tensor.pt')
        Save-Tensor -InputObject $view (Join-Path $Out 'root_view.pt')
        $files = @(Get-ChildItem $Out -Filter *.pt | Sort-Object Name | ForEach-Object FullName)
        $script:Reads = (Invoke-Judge (@('read') + $files)) -join '' | ConvertFrom-Json -AsHashtable
    }

    It 'loads a tensor root of every dtype through torch::pickle_load with its bytes (float8 and uint included)' {
        $dtypes = Import-TorchCheckpoint (Join-Path $WrittenDir 'dtypes.pt')
        foreach ($t in $dtypes) {
            $read = $Reads | Where-Object { $_.file -like "*root_$($t.Name).pt" }
            $read.root | Should -Be 'tensor'
            $read.tensors[0].dtype | Should -Be $t.DType
            $read.tensors[0].shape -join ',' | Should -Be ($t.Shape -join ',')
            $read.tensors[0].sha256 | Should -Be (Get-TensorSha256 $t) -Because $t.Name
        }
    }

    It 'loads a view saved as torch.save writes it (offset and strides kept)' {
        $read = $Reads | Where-Object { $_.file -like '*root_view.pt' }
        $want = $WrittenExpected['tensor.pt'].tensors[0]
        $read.tensors[0].sha256 | Should -Be $want.sha256
        $read.tensors[0].offset | Should -Be $want.offset
    }

    It 'loads dicts, and what LibTorch saves again holds the same tensors (<_>)' -ForEach 'dtypes', 'views', 'params' {
        $name = $_
        $read = $Reads | Where-Object { $_.file -like "*${name}_libtorch.pt" }
        $read.root | Should -Be 'dict'
        $ours = @(Import-TorchCheckpoint $read.file)
        $again = @(Import-TorchCheckpoint $read.resaved)
        ($again.Name | Sort-Object) | Should -Be ($ours.Name | Sort-Object)
        foreach ($t in $ours) {
            $other = $again | Where-Object Name -eq $t.Name
            "$($other.DType) $($other.Shape -join ',')" | Should -Be "$($t.DType) $($t.Shape -join ',')"
            Get-TensorSha256 $other | Should -Be (Get-TensorSha256 $t) -Because $t.Name
        }
    }

    It 'writes the LibTorch layout: typed float8 storages, plain tagged dicts, no Python-only records' {
        $records = [IO.Compression.ZipFile]::OpenRead((Join-Path $Out 'dtypes_libtorch.pt'))
        try {
            $names = $records.Entries.FullName
            $names | Should -Contain 'dtypes_libtorch/byteorder'
            $names | Should -Contain 'dtypes_libtorch/.data/serialization_id'
            $names | Should -Not -Contain 'dtypes_libtorch/.format_version'
            $entry = $records.Entries | Where-Object FullName -eq 'dtypes_libtorch/data.pkl'
            $reader = [IO.StreamReader]::new($entry.Open(), [Text.Encoding]::Latin1)
            $pickle = $reader.ReadToEnd(); $reader.Dispose()
            $pickle | Should -BeLike '*restore_type_tag*Float8_e4m3fnStorage*'
            $pickle | Should -Not -BeLike '*_rebuild_tensor_v3*'
            $pickle | Should -Not -BeLike '*OrderedDict*UntypedStorage*'
        } finally { $records.Dispose() }
    }

    It 'writes files torch 1.13 loads as the same state_dict (classic dtypes)' -Skip:(-not $HasTorch) {
        $file = Join-Path $Out 'params_libtorch.pt'
        $reference = Join-Path $FixtureDir 'torch/params.pt'
        $code = "import torch; sd = torch.load('$file'); ref = torch.load('$reference'); " +
            'print(sorted(sd) == sorted(ref) and all(torch.equal(sd[k], ref[k]) and ' +
            'sd[k].requires_grad == ref[k].requires_grad for k in ref))'

        & $TorchPython -c $code 2>$null | Should -Be 'True'
    }
}
