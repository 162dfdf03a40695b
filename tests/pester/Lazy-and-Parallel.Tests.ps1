BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
}

Describe 'Import-TorchCheckpoint -Lazy' {
    It 'lists the same tensors as an eager load without reading their data' {
        $path = Join-Path $FixtureDir 'torch/checkpoint.pt'
        $eager = Import-TorchCheckpoint -LiteralPath $path
        $lazy = Import-TorchCheckpoint -LiteralPath $path -Lazy
        $lazy.Name | Should -Be $eager.Name
        $lazy | ForEach-Object { $_.Storage.IsLoaded | Should -BeFalse }
        for ($i = 0; $i -lt $eager.Count; $i++) { Get-Sha256 $lazy[$i].GetBytes() | Should -Be (Get-Sha256 $eager[$i].GetBytes()) }
    }

    It 'saves a lazy checkpoint over its own file' {
        $path = Join-Path $TestDrive 'self.pt'
        Copy-Item (Join-Path $FixtureDir 'torch/views.pt') $path
        $expected = Import-TorchCheckpoint -LiteralPath $path | ForEach-Object { Get-Sha256 $_.GetBytes() }
        Import-TorchCheckpoint -LiteralPath $path -Lazy -AsObject | Save-Tensor -LiteralPath $path
        Import-TorchCheckpoint -LiteralPath $path | ForEach-Object { Get-Sha256 $_.GetBytes() } | Should -Be $expected
    }

    It 'refuses data from a file changed in place, with CheckpointChanged' {
        $path = Join-Path $TestDrive 'changing.pt'
        Copy-Item (Join-Path $FixtureDir 'torch/params.pt') $path
        $t = Import-TorchCheckpoint -LiteralPath $path -Lazy
        $fs = [IO.File]::Open($path, 'Open', 'Write', 'ReadWrite'); $fs.SetLength($fs.Length + 1); $fs.Dispose()
        $err = $null
        try { $null = $t[0].GetBytes() } catch { $err = $_ }
        $err.Exception.InnerException.ErrorId | Should -Be 'CheckpointChanged'
    }
}

Describe 'Several runspaces at once' {
    It 'ForEach-Object -Parallel loads different files correctly' {
        $files = 'views.pt', 'dtypes.pt', 'checkpoint.pt', 'legacy_views.pt', 'params.pt', 'state_dict.pt', 'quantized.pt', 'dict_order.pt' |
            ForEach-Object { Join-Path $FixtureDir "torch/$_" }
        $expected = @{}
        foreach ($f in $files) { $expected[$f] = (Import-TorchCheckpoint -LiteralPath $f | ForEach-Object { "$($_.Name)=$(Get-Sha256 $_.GetBytes())" }) -join ';' }
        $module = $ModuleManifest
        $results = 1..3 | ForEach-Object { $files } | ForEach-Object -ThrottleLimit 6 -Parallel {
            Import-Module $using:module
            $lazy = (Get-Random -Maximum 2) -eq 1
            $sums = Import-TorchCheckpoint -LiteralPath $_ -Lazy:$lazy | ForEach-Object {
                "$($_.Name)=$([Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($_.GetBytes())).ToLowerInvariant())"
            }
            [pscustomobject]@{ File = $_; Sums = $sums -join ';' }
        }
        $results | Should -HaveCount (3 * $files.Count)
        foreach ($r in $results) { $r.Sums | Should -Be $expected[$r.File] }
    }
}
