BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasTorch = [bool](Find-TorchPython)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Python = Find-TorchPython
    $script:Judge = Join-Path $PSScriptRoot '../interop/check_average.py'
    # Real torch writes three checkpoints and computes their average itself; it also judges ours.
    function New-Inputs([string] $dir, [double[]] $weights) {
        # Round-trip digits, so torch weighs with the very doubles the cmdlet uses.
        $text = ($weights | ForEach-Object { $_.ToString('R', [cultureinfo]::InvariantCulture) }) -join ','
        $out = & $Python $Judge make $dir $text 2>&1
        if ($LASTEXITCODE -ne 0) { throw "check_average.py make failed: $out" }
    }
    function Test-Merged([string] $dir, [string] $merged) {
        & $Python $Judge check (Join-Path $dir 'expected.pt') $merged | ConvertFrom-Json
    }
}

Describe 'Merge-TorchCheckpoint' -Skip:(-not $HasTorch) {
    It 'averages <name> exactly as torch computes it (float64 sum, one rounding; integers from the last)' -ForEach @(
        @{ name = 'uniformly'; weights = @(); torchWeights = @((1 / 3), (1 / 3), (1 / 3)) },
        @{ name = 'with weights'; weights = @(0.2, 0.3, 0.5); torchWeights = @(0.2, 0.3, 0.5) },
        @{ name = 'by task arithmetic'; weights = @(-1, 1, 1); torchWeights = @(-1, 1, 1) }
    ) {
        $dir = Join-Path $TestDrive "avg-$($name -replace ' ', '-')"
        New-Inputs $dir $torchWeights
        $inputs = 'a', 'b', 'c' | ForEach-Object { Join-Path $dir "$_.pt" }
        $merged = Join-Path $dir 'merged.pt'
        $weightArgs = if ($weights.Count) { @{ Weight = $weights } } else { @{} }
        Merge-TorchCheckpoint -LiteralPath $inputs -Key model @weightArgs | Save-Tensor -LiteralPath $merged
        $verdict = Test-Merged $dir $merged
        $verdict.problems | Should -BeNullOrEmpty
        $verdict.ok | Should -BeTrue
    }

    It 'streams: the merged tensors are computed when read, from inputs that stay unloaded' {
        $dir = Join-Path $TestDrive 'stream'
        New-Inputs $dir @(0.5, 0.25, 0.25)
        $inputs = 'a', 'b', 'c' | ForEach-Object { Join-Path $dir "$_.pt" }
        $merged = Merge-TorchCheckpoint -LiteralPath $inputs -Key model -Weight 0.5, 0.25, 0.25
        $merged.Name | Should -Be @('fc.weight', 'fc.bias', 'emb.weight', 'scale', 'proj.weight',
            'bn.num_batches_tracked', 'mask')
        ($merged | Where-Object Name -EQ 'fc.weight').Storage.IsLoaded | Should -BeFalse
        $out = Join-Path $dir 'merged.safetensors'
        $merged | Save-Tensor -LiteralPath $out
        $merged | Where-Object DType -Like 'float*' | ForEach-Object { $_.Storage.IsLoaded | Should -BeFalse }
        # safetensors keeps names sorted; back in the merged order for torch's comparison.
        $pt = Join-Path $dir 'merged.pt'
        $order = [Collections.Generic.List[string]] $merged.Name
        Import-TorchCheckpoint -LiteralPath $out | Sort-Object { $order.IndexOf($_.Name) } |
            Save-Tensor -LiteralPath $pt
        (Test-Merged $dir $pt).problems | Should -BeNullOrEmpty
    }

    It 'refuses inputs that disagree, naming the tensor and the file, before emitting anything' {
        $dir = Join-Path $TestDrive 'disagree'
        New-Inputs $dir @(1, 1, 1)
        $a = Join-Path $dir 'flat_a.pt'
        $other = Join-Path $dir 'other.pt'
        Import-TorchCheckpoint -LiteralPath (Join-Path $dir 'a.pt') -Key model | Save-Tensor -LiteralPath $a
        Import-TorchCheckpoint -LiteralPath $a | Where-Object Name -NE 'mask' | Save-Tensor -LiteralPath $other
        $emitted = @()
        $err = { $script:emitted = @(Merge-TorchCheckpoint -LiteralPath $a, $other -ErrorAction Stop) } |
            Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'MergeInputsDisagree,*'
        $err.Exception.Message | Should -BeLike "*'mask'*"
        $err.Exception.Message | Should -BeLike "*other.pt*"
        $emitted | Should -BeNullOrEmpty
        $wrong = { Merge-TorchCheckpoint -LiteralPath $a, $a -Weight 1, 2, 3 -ErrorAction Stop } |
            Should -Throw -PassThru
        $wrong.FullyQualifiedErrorId | Should -BeLike 'MergeWeightsInvalid,*'
    }
}

Describe 'Merge-TorchCheckpoint -AdapterPath' -Skip:(-not $HasTorch) {
    BeforeAll {
        # Real torch writes the base and the adapters and merges them itself (PEFT's formulas in float64, one rounding).
        $script:Lora = Join-Path $TestDrive 'lora'
        $script:LoraJudge = Join-Path $PSScriptRoot '../interop/check_lora.py'
        $out = & $Python $LoraJudge make $Lora 2>&1
        if ($LASTEXITCODE -ne 0) { throw "check_lora.py make failed: $out" }
        # A copy of the 'plain' adapter whose adapter_config.json the script block edits.
        function Copy-Adapter([string] $name, [scriptblock] $edit) {
            $folder = Join-Path $TestDrive $name
            Copy-Item (Join-Path $Lora 'plain') $folder -Recurse
            $file = Join-Path $folder 'adapter_config.json'
            $config = Get-Content $file -Raw | ConvertFrom-Json -AsHashtable
            & $edit $config
            $config | ConvertTo-Json | Set-Content $file
            $folder
        }
    }

    It 'merges a <_> adapter as PEFT computes it, every tensor bit for bit' -ForEach @(
        'plain', 'rslora', 'fanin', 'embedding', 'save', 'bias', 'conv'
    ) {
        $merged = Join-Path $Lora "$_/merged.pt"
        $tensors = Merge-TorchCheckpoint -LiteralPath (Join-Path $Lora 'base.pt') -AdapterPath (Join-Path $Lora $_)
        $tensors | Save-Tensor -LiteralPath $merged
        $verdict = & $Python $LoraJudge check (Join-Path $Lora "$_/expected.pt") $merged | ConvertFrom-Json
        $verdict.problems | Should -BeNullOrEmpty
        $verdict.exact | Should -Be 10
        $tensors | ForEach-Object { $_.Storage.IsLoaded | Should -BeFalse } # computed as written, nothing kept
    }

    It 'merges a <_> adapter: V = W + dW scaled to m / ||V||, within one unit in the last place' -ForEach @(
        'dora', 'dora_fanin', 'dora_embedding', 'dora_conv'
    ) {
        # The norms are sums in float64 taken in another order than torch's, so a value may round the other way.
        $merged = Join-Path $Lora "$_/merged.pt"
        Merge-TorchCheckpoint -LiteralPath (Join-Path $Lora 'base.pt') -AdapterPath (Join-Path $Lora $_) |
            Save-Tensor -LiteralPath $merged
        $verdict = & $Python $LoraJudge check (Join-Path $Lora "$_/expected.pt") $merged | ConvertFrom-Json
        $verdict.problems | Should -BeNullOrEmpty
        $verdict.exact | Should -BeGreaterOrEqual 7 -Because 'the tensors DoRA does not touch are the base''s own'
    }

    It 'computes the low-rank products of a <_> adapter in an ILGPU kernel on ilgpu-cpu, with the host''s bytes' `
        -ForEach @(
        'plain', 'fanin', 'embedding', 'bias', 'conv', 'dora'
    ) {
        $base = Join-Path $Lora 'base.pt'
        $adapter = Join-Path $Lora $_
        $host_ = Merge-TorchCheckpoint -LiteralPath $base -AdapterPath $adapter
        $device = Merge-TorchCheckpoint -LiteralPath $base -AdapterPath $adapter -Device ilgpu-cpu -Verbose 4>&1
        $device | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } |
            ForEach-Object Message | Should -Contain "Computing the adapters' low-rank products on ilgpu-cpu."
        $tensors = @($device | Where-Object { $_ -is [TorchSerial.Tensors.Tensor] })
        $tensors.Count | Should -Be @($host_).Count
        for ($i = 0; $i -lt $tensors.Count; $i++) {
            $tensors[$i].Name | Should -Be $host_[$i].Name
            Get-Sha256 $tensors[$i].GetBytes() |
                Should -Be (Get-Sha256 $host_[$i].GetBytes()) -Because $tensors[$i].Name
        }
        # And the kernel's result is PEFT's: judged by torch like the host's.
        if ($_ -ne 'dora') {
            $merged = Join-Path $Lora "$_/merged_device.pt"
            $tensors | Save-Tensor -LiteralPath $merged
            $verdict = & $Python $LoraJudge check (Join-Path $Lora "$_/expected.pt") $merged | ConvertFrom-Json
            $verdict.exact | Should -Be 10
        }
    }

    It 'refuses -Device for a device this machine lacks, and for averages' {
        $base = Join-Path $Lora 'base.pt'
        $plain = Join-Path $Lora 'plain'
        { Merge-TorchCheckpoint -LiteralPath $base -AdapterPath $plain -Device cuda:7 -ErrorAction Stop } |
            Should -Throw -ErrorId 'DeviceUnavailable,TorchSerial.PowerShell.Commands.MergeTorchCheckpointCommand'
        { Merge-TorchCheckpoint -LiteralPath $base, $base -Device ilgpu-cpu -ErrorAction Stop } |
            Should -Throw -ErrorId 'MergeWeightsInvalid,TorchSerial.PowerShell.Commands.MergeTorchCheckpointCommand'
    }

    It 'refuses a grouped convolution''s kernels as unsupported, naming the layer' {
        $grouped = Join-Path $Lora 'conv_grouped'
        $base = Join-Path $Lora 'base.pt'
        $err = { Merge-TorchCheckpoint -LiteralPath $base -AdapterPath $grouped -ErrorAction Stop } |
            Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'AdapterUnsupported,*'
        $err.Exception.Message | Should -BeLike "*convolution 'conv'*grouped*"
    }

    It 'refuses an adapter whose modules the base does not have naming both keys, and a DoRA one without magnitudes' {
        $bad = Join-Path $TestDrive 'renamed'
        Copy-Item (Join-Path $Lora 'plain') $bad -Recurse
        $other = Join-Path $TestDrive 'other-base.pt'
        Import-TorchCheckpoint -LiteralPath (Join-Path $Lora 'base.pt') |
            Rename-Tensor -Pattern '^model\.' -Replacement 'net.' | Save-Tensor -LiteralPath $other
        $err = { Merge-TorchCheckpoint -LiteralPath $other -AdapterPath $bad -ErrorAction Stop } |
            Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'AdapterInvalid,*'
        $err.Exception.Message | Should -BeLike '*lora_A.weight*model.layers.0.q_proj.weight*'
        $dora = Copy-Adapter 'dora' { param($config) $config.use_dora = $true }
        $err = { Merge-TorchCheckpoint -LiteralPath (Join-Path $Lora 'base.pt') -AdapterPath $dora -ErrorAction Stop } |
            Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'AdapterInvalid,*'
        $err.Exception.Message | Should -BeLike '*DoRA*no lora_magnitude_vector*'
        $regex = Copy-Adapter 'bad-pattern' { param($config) $config.rank_pattern = @{ '(' = 2 } }
        $base = Join-Path $Lora 'base.pt'
        $err = { Merge-TorchCheckpoint -LiteralPath $base -AdapterPath $regex -ErrorAction Stop } |
            Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'AdapterInvalid,*'
    }
}
