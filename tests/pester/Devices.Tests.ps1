BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasTorch = [bool](Find-TorchPython)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Torch = Join-Path $FixtureDir 'torch'
    $script:Located = $Expected.located
    function Get-Sums($tensors) { $tensors | ForEach-Object { Get-Sha256 $_.GetBytes() } }
}

Describe 'Get-TorchDevice' {
    It 'lists the host, the ILGPU CPU accelerator and CUDA' {
        $d = Get-TorchDevice
        $d[0].Name | Should -Be 'cpu'
        ($d | Where-Object Name -EQ 'ilgpu-cpu').IsAvailable | Should -BeTrue
        "$(($d | Where-Object Name -EQ 'ilgpu-cpu').Type)" | Should -Be 'IlgpuCpu'
        @($d | Where-Object { "$($_.Type)" -eq 'Cuda' }) | Should -Not -BeNullOrEmpty
        (Get-TorchDevice -Available).Name | Should -Contain 'cpu'
        (Get-TorchDevice ilgpu*).Name | Should -Be 'ilgpu-cpu'
    }
}

Describe 'Import-TorchCheckpoint -MapLocation on files torch saved with cuda tags' {
    It 'lists a GPU checkpoint lazily on a CPU machine, fails on its bytes, and moves it to the host on request' {
        $t = Import-TorchCheckpoint -LiteralPath (Join-Path $Torch 'cuda_mixed.pt') -Lazy
        $t.Count | Should -Be $Located['cuda_mixed.pt'].tensors.Count
        @($t.SavedLocation | Sort-Object -Unique) | Should -Be @('cuda:0', 'cuda:1')
        { $t[0].GetBytes() } | Should -Throw -ExpectedMessage '*no CUDA device is available*'
        $onHost = $t | Convert-DeviceMap -MapLocation cpu
        $onHost.Device | Sort-Object -Unique | Should -Be 'cpu'
        Get-Sums $onHost | Should -Be $Located['cuda_mixed.pt'].tensors.sha256
    }

    It 'fails without -MapLocation with the message torch gives, adapted' {
        Import-TorchCheckpoint -LiteralPath (Join-Path $Torch 'cuda1.pt') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'DeviceUnavailable,*'
        $err[0].Exception.Message | Should -BeLike 'Attempting to deserialize object on a CUDA device but no CUDA device is available*use -MapLocation cpu*'
    }

    It 'a device string: <File> loads onto the host with torch''s values' -ForEach @(@{ File = 'cuda0.pt' }, @{ File = 'cuda_mixed.pt' }, @{ File = 'cuda_mixed_legacy.pt' }) {
        $t = Import-TorchCheckpoint -LiteralPath (Join-Path $Torch $File) -MapLocation cpu
        $t.Name | Should -Be $Located[$File].tensors.name
        $t.SavedLocation | Should -Be $Located[$File].tensors.location
        Get-Sums $t | Should -Be $Located[$File].tensors.sha256
        $t | ForEach-Object { $_.Device | Should -Be 'cpu' }
    }

    It 'a hashtable: listed tags are remapped, per storage' {
        $t = Import-TorchCheckpoint -LiteralPath (Join-Path $Torch 'cuda_mixed.pt') -MapLocation @{ 'cuda:0' = 'ilgpu-cpu'; 'cuda:1' = 'cpu' }
        $t | ForEach-Object { $_.Device | Should -Be $(if ($_.SavedLocation -eq 'cuda:0') { 'ilgpu-cpu' } else { 'cpu' }) }
        Get-Sums $t | Should -Be $Located['cuda_mixed.pt'].tensors.sha256
    }

    It 'a script block: gets the storage and its tag, and $null means the default' {
        $seen = [System.Collections.Generic.List[string]]::new()
        $t = Import-TorchCheckpoint -LiteralPath (Join-Path $Torch 'cuda_mixed.pt') -MapLocation { param($storage, $location) $seen.Add($location); 'cpu' }
        $seen | Sort-Object -Unique | Should -Be @('cuda:0', 'cuda:1')
        Get-Sums $t | Should -Be $Located['cuda_mixed.pt'].tensors.sha256
        { Import-TorchCheckpoint -LiteralPath (Join-Path $Torch 'cuda1.pt') -MapLocation { param($s, $l) $null } -ErrorAction Stop } |
            Should -Throw -ErrorId 'DeviceUnavailable,TorchSerial.PowerShell.Commands.ImportTorchCheckpointCommand'
    }
}

Describe 'Convert-DeviceMap' {
    It 'places tensors on ilgpu-cpu and back with identical bytes, keeping storage sharing' {
        $host1 = Import-TorchCheckpoint -LiteralPath (Join-Path $Torch 'views.pt')
        $dev = $host1 | Convert-DeviceMap -MapLocation ilgpu-cpu
        $dev | ForEach-Object { $_.Device | Should -Be 'ilgpu-cpu' }
        [object]::ReferenceEquals($dev[0].Storage, $dev[3].Storage) | Should -BeTrue   # base and its transpose
        $back = $dev | Convert-DeviceMap -MapLocation cpu
        $back | ForEach-Object { $_.Device | Should -Be 'cpu' }
        Get-Sums $back | Should -Be (Get-Sums $host1)
        ($back | Where-Object Name -EQ 'transposed').ToArray() | Should -Be @(0, 3, 1, 4, 2, 5)
    }

    It 'saves placed tensors with tags torch knows' {
        $out = Join-Path $TestDrive 'from-device.pt'
        Import-TorchCheckpoint -LiteralPath (Join-Path $Torch 'params.pt') | Convert-DeviceMap -MapLocation ilgpu-cpu | Save-Tensor -LiteralPath $out
        (Import-TorchCheckpoint -LiteralPath $out).SavedLocation | Should -Be @('cpu', 'cpu', 'cpu')
    }

    It '-WhatIf shows the tags that would change and writes nothing' {
        $out = Join-Path $TestDrive 'whatif.pt'
        $run = Invoke-Hostless { param($in, $out) Convert-DeviceMap -LiteralPath $in -Destination $out -MapLocation @{ 'cuda:1' = 'cuda:0' } -WhatIf -Verbose } (Join-Path $Torch 'cuda_mixed.pt'), $out
        $run.Errors | Should -BeNullOrEmpty
        Test-Path $out | Should -BeFalse
        ($run.Verbose -join "`n") | Should -Match 'cuda:1 -> cuda:0 \(\d+ storages?\)'
    }

    It 'rewrites tags in a file without loading it, keeping the layout' -ForEach @(@{ File = 'cuda_mixed.pt' }, @{ File = 'cuda_mixed_legacy.pt' }) {
        $out = Join-Path $TestDrive "cpu-$File"
        $written = Convert-DeviceMap -LiteralPath (Join-Path $Torch $File) -Destination $out -MapLocation cpu -PassThru
        $written | Should -BeOfType ([IO.FileInfo])
        $t = Import-TorchCheckpoint -LiteralPath $out
        $t.SavedLocation | Sort-Object -Unique | Should -Be 'cpu'
        Get-Sums $t | Should -Be $Located[$File].tensors.sha256
        (Test-TorchCheckpoint -LiteralPath $out).Format | Should -Be (Test-TorchCheckpoint -LiteralPath (Join-Path $Torch $File) -MapLocation cpu).Format
    }

    It 'creates a missing destination folder only with -Force' {
        $out = Join-Path $TestDrive 'not/yet/cpu.pt'
        { Convert-DeviceMap -LiteralPath (Join-Path $Torch 'cuda0.pt') -Destination $out -MapLocation cpu } |
            Should -Throw -ErrorId 'WriteFailed,TorchSerial.PowerShell.Commands.ConvertDeviceMapCommand'
        Test-Path (Split-Path $out) | Should -BeFalse
        Convert-DeviceMap -LiteralPath (Join-Path $Torch 'cuda0.pt') -Destination $out -MapLocation cpu -Force
        (Import-TorchCheckpoint -LiteralPath $out).SavedLocation | Sort-Object -Unique | Should -Be 'cpu'
        Get-Sums (Import-TorchCheckpoint -LiteralPath $out) | Should -Be $Located['cuda0.pt'].tensors.sha256
    }

    It 'rewrites several piped files into a folder or through a script block, each under its own name' {
        $in = Join-Path $TestDrive 'many'; $folder = Join-Path $TestDrive 'many-out'
        $null = New-Item -ItemType Directory $in, $folder
        Copy-Item (Join-Path $Torch 'cuda_mixed.pt'), (Join-Path $Torch 'cuda_mixed_legacy.pt') $in
        $written = Get-ChildItem $in -Filter *.pt | Convert-DeviceMap -Destination $folder -MapLocation cpu -PassThru
        @($written.Name | Sort-Object) | Should -Be (@('cuda_mixed.pt', 'cuda_mixed_legacy.pt') | Sort-Object)
        foreach ($f in $written) {
            $t = Import-TorchCheckpoint -LiteralPath $f.FullName
            $t.SavedLocation | Sort-Object -Unique | Should -Be 'cpu'
            Get-Sums $t | Should -Be $Located[$f.Name].tensors.sha256
        }
        $renamed = Convert-DeviceMap -Path (Join-Path $in '*.pt') -Destination { Join-Path $folder "cpu-$($_.Name)" } -MapLocation cpu -PassThru
        @($renamed.Name | Sort-Object) | Should -Be (@('cpu-cuda_mixed.pt', 'cpu-cuda_mixed_legacy.pt') | Sort-Object)
    }

    It 'refuses several inputs bound for one file before writing any, naming every input' {
        $one = Join-Path $TestDrive 'one.pt'
        $err = { Get-ChildItem (Join-Path $Torch 'cuda_mixed*.pt') | Convert-DeviceMap -Destination $one -MapLocation cpu } |
            Should -Throw -PassThru -ErrorId 'DestinationCollision,TorchSerial.PowerShell.Commands.ConvertDeviceMapCommand'
        $err.Exception.Message | Should -BeLike "*'$(Join-Path $Torch 'cuda_mixed')*.pt', '*.pt' would all be written to '$one'*"
        Test-Path $one | Should -BeFalse
        { Convert-DeviceMap (Join-Path $Torch 'cuda_mixed.pt') -Destination { } -MapLocation cpu } |
            Should -Throw -ErrorId 'InvalidDestination,TorchSerial.PowerShell.Commands.ConvertDeviceMapCommand'
    }

    It 'real torch loads the rewritten file with no map_location' -Skip:(-not $HasTorch) {
        $zip = Join-Path $TestDrive 'portable.pt'
        $legacy = Join-Path $TestDrive 'portable-legacy.pt'
        Convert-DeviceMap -LiteralPath (Join-Path $Torch 'cuda_mixed.pt') -Destination $zip -MapLocation cpu
        Convert-DeviceMap -LiteralPath (Join-Path $Torch 'cuda_mixed_legacy.pt') -Destination $legacy -MapLocation cpu
        $py = @'
import json, sys
sys.path.insert(0, sys.argv[1])
from torch_describe import describe
import torch
expected = json.load(open(sys.argv[2]))["located"]
for path, name in ((sys.argv[3], "cuda_mixed.pt"), (sys.argv[4], "cuda_mixed_legacy.pt")):
    torch.load(path)  # no map_location: must not raise on a CPU-only machine
    _, tensors = describe(path)
    for got, exp in zip(tensors, expected[name]["tensors"]):
        assert got["location"] == "cpu", got
        exp = dict(exp, location="cpu")
        assert got == exp, (got, exp)
    assert len(tensors) == len(expected[name]["tensors"])
print("ok")
'@
        $out = $py | & /usr/bin/python3 - $FixtureDir (Join-Path $FixtureDir 'expected.json') $zip $legacy 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
    }
}

Describe 'Register-TorchLocation' {
    AfterEach { Unregister-TorchLocation npu -ErrorAction SilentlyContinue; Unregister-TorchLocation early -ErrorAction SilentlyContinue }

    It 'loads a custom npu:0 tag through a registered deserializer' {
        { Import-TorchCheckpoint -LiteralPath (Join-Path $Torch 'npu.pt') -ErrorAction Stop } | Should -Throw -ErrorId 'UnknownLocation,*'
        Register-TorchLocation -Name npu -Priority 35 -Deserializer { param($storage, $location) if ($location -like 'npu*') { 'cpu' } }
        $t = Import-TorchCheckpoint -LiteralPath (Join-Path $Torch 'npu.pt')
        $t.SavedLocation | Should -Be 'npu:0'
        Get-Sums $t | Should -Be $Located['npu.pt'].tensors.sha256
    }

    It 'a tagger with a lower priority than cpu names the saved tag' {
        $h = Register-TorchLocation -Name early -Priority 5 -Tagger { param($storage) 'npu:3' } -PassThru
        $h.Priority | Should -Be 5
        $out = Join-Path $TestDrive 'tagged.pt'
        Import-TorchCheckpoint -LiteralPath (Join-Path $Torch 'params.pt') | Save-Tensor -LiteralPath $out
        Unregister-TorchLocation early
        Register-TorchLocation -Name npu -Priority 35 -Deserializer { param($s, $l) if ($l -like 'npu*') { 'cpu' } }
        (Import-TorchCheckpoint -LiteralPath $out).SavedLocation | Should -Be @('npu:3', 'npu:3', 'npu:3')
    }

    It 'warns when a priority is taken, and goes last as torch does' {
        $h = Register-TorchLocation -Name npu -Priority 10 -Deserializer { $null } -PassThru -WarningVariable w -WarningAction SilentlyContinue
        $h.CollidedLate | Should -BeTrue
        $w | Should -Not -BeNullOrEmpty
    }

    It 'runs the help examples of Register-TorchLocation with no warning and no error' {
        # The files the examples name, as real torch wrote them.
        $dir = Join-Path $TestDrive 'examples'
        $null = New-Item -ItemType Directory $dir
        Copy-Item (Join-Path $Torch 'npu.pt') (Join-Path $dir 'trained-on-npu.pt')
        Copy-Item (Join-Path $Torch 'params.pt') (Join-Path $dir 'model.pt')
        $examples = (Get-Help Register-TorchLocation).Examples.Example
        $examples.Count | Should -BeGreaterOrEqual 3
        foreach ($e in $examples) {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddCommand('Import-Module').AddParameter('Name', $ModuleManifest).AddStatement()
                $null = $ps.AddCommand('Set-Location').AddParameter('LiteralPath', $dir).AddStatement().AddScript($e.Code)
                $null = $ps.Invoke()
                @($ps.Streams.Warning) | Should -BeNullOrEmpty -Because $e.Code
                @($ps.Streams.Error) | Should -BeNullOrEmpty -Because $e.Code
            } finally { $ps.Dispose() }
        }
        Register-TorchLocation -Name npu -Priority 35 -Deserializer { param($s, $l) if ($l -like 'npu*') { 'cpu' } }
        (Test-TorchCheckpoint -LiteralPath (Join-Path $dir 'for-npu.pt')).Locations | Should -Be 'npu:0'
    }

    It 'keeps handlers to the runspace that registered them' {
        Register-TorchLocation -Name npu -Priority 35 -Deserializer { param($s, $l) if ($l -like 'npu*') { 'cpu' } }
        $module = $ModuleManifest; $file = Join-Path $Torch 'npu.pt'
        $other = 1 | ForEach-Object -Parallel {
            Import-Module $using:module
            Import-TorchCheckpoint -LiteralPath $using:file -ErrorVariable e -ErrorAction SilentlyContinue | Out-Null
            "$($e[0].FullyQualifiedErrorId)"
        }
        $other | Should -BeLike 'UnknownLocation,*'
    }
}
