# The package as a user gets it: installed by name from a repository into a module path of its own, then used from
# fresh pwsh processes with no Import-Module, including inside ForEach-Object -Parallel (module auto-loading).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Package = Get-ChildItem (Join-Path $PSScriptRoot '../../out/packages') -Filter 'TorchSerial.*.nupkg' -ErrorAction Ignore |
        Select-Object -First 1
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Nupkg = Get-ChildItem (Join-Path $PSScriptRoot '../../out/packages') -Filter 'TorchSerial.*.nupkg' | Select-Object -First 1
    $script:Version = (Import-PowerShellDataFile $ModuleManifest).ModuleVersion
    $script:Fixture = Join-Path $FixtureDir 'torch/state_dict.pt'

    # A fresh pwsh whose user folders are $UserFolder: the repository registration and the CurrentUser install land there,
    # never in the real profile. PSModulePath is reset so only that home's module folder (and pwsh's own) is seen. The
    # folders must exist: .NET reports a missing LocalApplicationData as '', and PSResourceGet then writes its
    # repository store relative to the current directory.
    function Invoke-FreshPwsh([string] $UserFolder, [string] $Command) {
        [string[]] $prefix = $PwshPrefix
        $saved = @{ HOME = $env:HOME; XDG_DATA_HOME = $env:XDG_DATA_HOME; XDG_CONFIG_HOME = $env:XDG_CONFIG_HOME
            XDG_CACHE_HOME = $env:XDG_CACHE_HOME; PSModulePath = $env:PSModulePath; TORCHSERIAL_MODULE = $env:TORCHSERIAL_MODULE }
        try {
            $env:HOME = $UserFolder
            $env:XDG_DATA_HOME = Join-Path $UserFolder '.local/share'
            $env:XDG_CONFIG_HOME = Join-Path $UserFolder '.config'
            $env:XDG_CACHE_HOME = Join-Path $UserFolder '.cache'
            $env:PSModulePath = $null
            $env:TORCHSERIAL_MODULE = $null
            foreach ($d in $env:XDG_DATA_HOME, $env:XDG_CONFIG_HOME, $env:XDG_CACHE_HOME) { $null = New-Item -ItemType Directory -Force $d }
            $output = & $pwsh @prefix -NoProfile -NonInteractive -Command ("`$PSStyle.OutputRendering = 'PlainText'; " + $Command) 2>&1
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = @($output | ForEach-Object { "$_" }) }
        } finally {
            foreach ($k in $saved.Keys) { Set-Item "env:$k" $saved[$k] }
        }
    }
}

Describe 'The package' -Skip:($IsWindows -or -not $Package) {
    BeforeAll {
        $script:UserHome = Join-Path $TestDrive 'home'
        $script:Repository = Join-Path $TestDrive 'repository'
        $null = New-Item -ItemType Directory $UserHome, $Repository
        Copy-Item $Nupkg.FullName $Repository
        $install = "Register-PSResourceRepository -Name LocalTorchSerial -Uri '$Repository' -Trusted; " +
            "Install-PSResource -Name TorchSerial -Repository LocalTorchSerial -Scope CurrentUser -TrustRepository -Quiet; " +
            "(Get-PSResourceRepository LocalTorchSerial).Uri.LocalPath; (Get-InstalledPSResource TorchSerial).InstalledLocation"
        $script:Installed = Invoke-FreshPwsh $UserHome $install
    }

    It 'carries the manifest metadata, the licence and the change log' {
        $Nupkg.Name | Should -Be "TorchSerial.$Version.nupkg"
        $zip = [IO.Compression.ZipFile]::OpenRead($Nupkg.FullName)
        try {
            $names = $zip.Entries.FullName
            foreach ($f in 'TorchSerial.psd1', 'TorchSerial.PowerShell.dll', 'lib/net8.0/TorchSerial.Core.dll',
                'lib/net8.0/ILGPU.dll', 'lib/net8.0/System.IO.Hashing.dll', 'lib/net8.0/ZstdSharp.dll',
                'TorchSerial.Format.ps1xml',
                'LICENSE', 'CHANGELOG.md', 'en-US/about_TorchSerial.help.txt') {
                $names | Should -Contain $f
            }
            $spec = [xml](New-Object IO.StreamReader ($zip.GetEntry('TorchSerial.nuspec').Open())).ReadToEnd()
            $spec.package.metadata.version | Should -Be $Version
            $spec.package.metadata.releaseNotes | Should -Not -BeNullOrEmpty
            $spec.package.metadata.tags | Should -Match 'PSModule'
        } finally { $zip.Dispose() }
    }

    It 'installs by name from a repository into the user module path' {
        $Installed.ExitCode | Should -Be 0 -Because ($Installed.Output -join "`n")
        $Installed.Output | Should -HaveCount 2 -Because ($Installed.Output -join "`n")
        $Installed.Output[0] | Should -Be $Repository
        $Installed.Output[1] | Should -BeLike "$UserHome*"
        # The registration stayed in the private home, not the real profile or the current folder.
        Get-ChildItem $UserHome -Recurse -Force -Filter PSResourceRepository.xml | Should -Not -BeNullOrEmpty
        Test-Path (Join-Path (Get-Location) 'PSResourceGet') | Should -BeFalse
    }

    It 'auto-loads by name in a fresh pwsh: no Import-Module, not even inside ForEach-Object -Parallel' {
        $command = "`$n = (Import-TorchCheckpoint -LiteralPath '$Fixture' -Lazy | Measure-Object).Count; " +
            "`$p = 1..3 | ForEach-Object -Parallel { (Import-TorchCheckpoint -LiteralPath '$Fixture' | Measure-Object NumBytes -Sum).Sum }; " +
            "`$m = Get-Module TorchSerial; 'count=' + `$n; 'parallel=' + (`$p -join ','); 'from=' + `$m.ModuleBase; 'version=' + `$m.Version"
        $run = Invoke-FreshPwsh $UserHome $command
        $run.ExitCode | Should -Be 0 -Because ($run.Output -join "`n")
        $expected = Import-TorchCheckpoint -LiteralPath $Fixture
        $run.Output | Should -Contain "count=$($expected.Count)"
        $sum = ($expected | Measure-Object NumBytes -Sum).Sum
        $run.Output | Should -Contain "parallel=$sum,$sum,$sum"
        ($run.Output | Where-Object { $_ -like 'from=*' }) | Should -BeLike "from=$UserHome*"
        $run.Output | Should -Contain "version=$Version"
    }
}
