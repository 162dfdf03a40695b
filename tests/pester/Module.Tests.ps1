BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Cmdlets = (Get-Module TorchSerial).ExportedCmdlets.Keys | ForEach-Object { @{ Name = $_ } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Manifest = Test-ModuleManifest $ModuleManifest
}

Describe 'The module' {
    It 'has a valid manifest whose exports are exactly the cmdlets it ships' {
        $Manifest.Name | Should -Be 'TorchSerial'
        @((Get-Module TorchSerial).ExportedCmdlets.Keys | Sort-Object) | Should -Be @('Assert-TorchCheckpoint', 'Compare-TorchCheckpoint', 'Convert-DeviceMap', 'Convert-Tensor', 'ConvertTo-Tensor', 'Get-TensorHash', 'Get-TorchDevice', 'Import-TorchCheckpoint', 'Measure-Tensor', 'Merge-TorchCheckpoint', 'Register-TorchLocation', 'Rename-Tensor', 'Save-Tensor', 'Save-TorchCheckpoint', 'Set-ModelSignature', 'Test-ModelSignature', 'Test-TorchCheckpoint', 'Unregister-TorchLocation')
        $Manifest.CompatiblePSEditions | Should -Be @('Core')
    }

    It 'has a version that matches its assembly' {
        $dll = Join-Path (Split-Path $ModuleManifest) 'TorchSerial.PowerShell.dll'
        [Diagnostics.FileVersionInfo]::GetVersionInfo($dll).ProductVersion | Should -BeLike "$($Manifest.Version)*"
    }

    It 'loads no GPU library until a device is used: listing, loading and scanning need only the core' {
        $fixture = Join-Path $FixtureDir 'torch/checkpoint.pt'
        [string[]] $arguments = $PwshPrefix
        $script = "Import-Module '$ModuleManifest'; `$null = Import-TorchCheckpoint -LiteralPath '$fixture' -Lazy; " +
            "`$null = Import-TorchCheckpoint -LiteralPath '$fixture'; `$null = Test-TorchCheckpoint -LiteralPath '$fixture'; " +
            "([AppDomain]::CurrentDomain.GetAssemblies().GetName().Name | Where-Object { `$_ -like 'TorchSerial*' -or `$_ -eq 'ILGPU' } | Sort-Object) -join ','"
        $loaded = & $pwsh @arguments -NoProfile -NonInteractive -Command $script
        $loaded | Should -Be 'TorchSerial.Core,TorchSerial.PowerShell'
        $placed = & $pwsh @arguments -NoProfile -NonInteractive -Command ($script -replace "-Lazy;", "-Lazy | Convert-DeviceMap -MapLocation ilgpu-cpu;")
        $placed | Should -Be 'ILGPU,TorchSerial.Core,TorchSerial.PowerShell'
    }

    It 'ships every DLL it needs, for .NET 8 and the .NET it runs on, and not System.Management.Automation' {
        $dir = Split-Path $ModuleManifest
        foreach ($dll in 'TorchSerial.Core.dll', 'ILGPU.dll', 'System.IO.Hashing.dll', 'ZstdSharp.dll') {
            Test-Path (Join-Path $dir "lib/net8.0/$dll") | Should -BeTrue
        }
        Test-Path (Join-Path $dir 'TorchSerial.Core.dll') | Should -BeFalse -Because 'PowerShell would load it itself'
        Get-ChildItem $dir -Recurse -Filter 'System.Management.Automation.dll' | Should -BeNullOrEmpty
    }

    It 'loads the core for this .NET into the default context at import, and ILGPU into its own' {
        [string[]] $arguments = $PwshPrefix
        $fixture = Join-Path $FixtureDir 'torch/checkpoint.pt'
        # The type literal comes first, before any cmdlet has run: the import itself must have loaded the core.
        $script = "Import-Module '$ModuleManifest'; `$core = [TorchSerial.Reading.LoadOptions].Assembly; " +
            "`$null = Import-TorchCheckpoint -LiteralPath '$fixture' -Lazy | Convert-DeviceMap -MapLocation ilgpu-cpu; " +
            "`$ilgpu = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'ILGPU' }; " +
            "`$alc = [Runtime.Loader.AssemblyLoadContext]; " +
            "(Split-Path -Leaf (Split-Path `$core.Location)), `$alc::GetLoadContext(`$core).Name, " +
            "`$alc::GetLoadContext(`$ilgpu).Name -join '|'"
        $seen = & $Pwsh @arguments -NoProfile -NonInteractive -Command $script
        $runtime = "net$([Environment]::Version.Major).0"
        $expected = if (Test-Path (Join-Path (Split-Path $ModuleManifest) "lib/$runtime")) { $runtime } else { 'net8.0' }
        $seen | Should -Be "$expected|Default|TorchSerial dependencies"
    }

    It 'has a format view for every output type' {
        $views = Get-FormatData -TypeName 'TorchSerial.*' -PowerShellVersion $PSVersionTable.PSVersion
        $types = $views.TypeNames
        foreach ($t in 'TorchSerial.Tensors.Tensor', 'TorchSerial.Tensors.Storage', 'TorchSerial.Python.PyObject', 'TorchSerial.Tensors.Quantization', 'TorchSerial.Scanning.ScanReport', 'TorchSerial.Scanning.GlobalReference', 'TorchSerial.Scanning.ScanProblem', 'TorchSerial.Scanning.CodeFinding', 'TorchSerial.Devices.DeviceInfo', 'TorchSerial.Torch.LocationHandler', 'TorchSerial.Tensors.SparseTensor', 'TorchSerial.Torch.ModuleSource', 'TorchSerial.Provenance.SignatureReport') {
            $types | Should -Contain $t
        }
    }

    It 'makes every ErrorRecord in one factory, with named ids' {
        # A record built elsewhere, or an id typed as a literal, is how ad hoc ids creep in.
        $src = Join-Path $PSScriptRoot '../../src/TorchSerial.PowerShell'
        $files = Get-ChildItem $src -Recurse -Filter *.cs | Where-Object { $_.FullName -notmatch '[\\/](obj|bin)[\\/]' }
        $files.Count | Should -BeGreaterThan 20
        $outside = $files | Where-Object Name -NE 'ErrorRecords.cs' | Select-String -Pattern 'new ErrorRecord\(', 'BadArgument\("'
        @($outside | ForEach-Object { "$($_.Filename):$($_.LineNumber)" }) | Should -BeNullOrEmpty
        $ids = Select-String -Path (Join-Path $src 'ErrorRecords.cs') -Pattern 'const string \w+ = "(\w+)"' -AllMatches |
            ForEach-Object { $_.Matches.Groups[1].Value }
        $ids.Count | Should -BeGreaterThan 10
        $ids | Group-Object | Where-Object Count -GT 1 | Should -BeNullOrEmpty
    }

    It 'has an about_TorchSerial topic' {
        $about = Get-Help about_TorchSerial
        ($about | Out-String) | Should -Match 'UnsafeGlobal'
    }
}

Describe 'Help of <Name>' -ForEach $Cmdlets {
    BeforeAll {
        $script:Help = Get-Help $Name -Full
        $script:Command = Get-Command $Name
    }

    It 'has a real synopsis and description' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        $Help.Synopsis | Should -Not -Match "^\s*$Name\s*\["  # not the generated syntax stub
        ($Help.Description.Text -join ' ').Length | Should -BeGreaterThan 200
    }

    It 'has at least three examples with code and remarks' {
        @($Help.Examples.Example).Count | Should -BeGreaterOrEqual 3
        foreach ($e in $Help.Examples.Example) {
            $e.Code | Should -Match $Name
            ($e.Remarks.Text -join ' ').Length | Should -BeGreaterThan 20
        }
    }

    It 'names in its NOTES only ErrorIds the module defines' {
        # A NOTES claim such as "refused with TensorTooLarge" must name a real id. Other PascalCase words are the
        # module's own members (ToArray, EnumerateChunks) or units, listed here.
        $ids = [TorchSerial.Errors.ErrorIds].GetFields() | ForEach-Object { $_.GetValue($null) }
        $ids += [TorchSerial.Tensors.Tensor].GetMembers().Name
        $notes = $Help.alertSet.alert.Text -join ' '
        $named = [regex]::Matches($notes, '\b([A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+)\b') | ForEach-Object { $_.Groups[1].Value }
        @($named | Where-Object { $_ -notin $ids -and $_ -notin 'GiB', 'MiB', 'KiB', 'ForEach' }) | Should -BeNullOrEmpty
    }

    It 'documents every parameter' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        $documented = @($Help.Parameters.Parameter | Where-Object { ($_.Description.Text -join '').Length -gt 20 } | ForEach-Object Name)
        foreach ($p in $Command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $documented | Should -Contain $p
        }
    }
}

Describe 'The demo' {
    It 'shows the listing, the model-only parameter count, a save, a folder scan and a GPU file on this machine' {
        $sample = Join-Path $FixtureDir 'torch/checkpoint.pt'
        [string[]] $prefix = $PwshPrefix
        $demo = Join-Path $PSScriptRoot '../../build/Show-Demo.ps1'
        $text = (& $pwsh @prefix -NoProfile -NonInteractive -File $demo -ModulePath (Split-Path $ModuleManifest) -Sample $sample 2>&1) -join "`n"
        $LASTEXITCODE | Should -Be 0 -Because $text
        $model = $Expected.checkpoints['checkpoint.pt'].tensors | Where-Object { $_.name -like 'model.*' -and $_.dtype -like 'float*' }
        $text | Should -Match ("{0:N0} parameters and float buffers in {1} tensors" -f ($model.numel | Measure-Object -Sum).Sum, $model.Count)
        $text | Should -Match 'model\.fc\.bias\s+float32\s+\[4\]'
        $text | Should -Match 'weights\.safetensors'
        $text | Should -Match 'Unsafe\s+Zip\s+0\s+os\.system'
        $text | Should -Match 'Invalid\s+Zip\s+0\s+TruncatedZip'
        $text | Should -Match 'one answer for all\): False'
        $text | Should -Match 'Test-TorchCheckpoint: Ok; saved on cuda:0, cuda:1'
        $text | Should -Match 'now saved on: cpu'
        $text | Should -Not -Match 'Exception|\bat line\b'
    }
}
