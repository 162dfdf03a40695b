# What a save does when the world misbehaves: the disk fills up, the process is killed mid-write, many runspaces load,
# scan and save the same files at once. Each must leave every target either as it was or wholly new, never half.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Params = Join-Path $FixtureDir 'torch/params.pt'
    $script:ParamsHashes = (Import-TorchCheckpoint -LiteralPath $Params | Get-TensorHash).Hash
}

Describe 'Saving under faults' {
    It 'fails with WriteFailed on a full filesystem, leaving the old target and no temporary file' {
        $mount = Join-Path $TestDrive 'full'
        $null = New-Item -ItemType Directory $mount
        $mounted = $false
        if ($IsLinux -and (id -u) -eq 0) {
            & mount -t tmpfs -o size=1m tmpfs $mount 2>$null
            $mounted = $LASTEXITCODE -eq 0
        }
        if (-not $mounted) { Set-ItResult -Skipped -Because 'a small filesystem can be mounted only by root on Linux'; return }
        try {
            $target = Join-Path $mount 'model.pt'
            Import-TorchCheckpoint -LiteralPath $Params | Save-Tensor -LiteralPath $target
            $big = [TorchSerial.Tensors.Tensor]::FromBytes([byte[]]::new(2MB), [TorchSerial.Tensors.DType]::Float32, [long[]]@(512KB), 'big')
            $err = { $big | Save-Tensor -LiteralPath $target -ErrorAction Stop } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'WriteFailed,*'
            "$err" | Should -BeLike "*$target*"
            (Import-TorchCheckpoint -LiteralPath $target | Get-TensorHash).Hash | Should -Be $ParamsHashes
            @(Get-ChildItem $mount -Force -Filter '.model.pt.*') | Should -BeNullOrEmpty
        } finally { & umount $mount 2>$null }
    }

    It 'leaves the target whole when a saving process is killed (SIGKILL), and the next save removes its debris' {
        $dir = Join-Path $TestDrive 'killed'
        $null = New-Item -ItemType Directory $dir
        $target = Join-Path $dir 'model.pt'
        Import-TorchCheckpoint -LiteralPath $Params | Save-Tensor -LiteralPath $target
        # The child saves a 256 MB tensor over the target again and again until it is killed.
        $child = "Import-Module '$ModuleManifest'; " +
            "`$t = [TorchSerial.Tensors.Tensor]::FromBytes([byte[]]::new(256MB), [TorchSerial.Tensors.DType]::Float32, [long[]]@(64MB), 'big'); " +
            "while (`$true) { `$t | Save-Tensor -LiteralPath '$target' }"
        $p = Start-Process $Pwsh -ArgumentList (@($PwshPrefix) + @('-NoProfile', '-NonInteractive', '-Command', $child)) -PassThru
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            do {
                Start-Sleep -Milliseconds 50
                $temp = Get-ChildItem $dir -Force -Filter '.model.pt.*.tmp' | Where-Object Length -GT 16MB
            } until ($temp -or [DateTime]::UtcNow -gt $deadline)
            $temp | Should -Not -BeNullOrEmpty -Because 'the child should be mid-write'
        } finally {
            & kill -9 $p.Id 2>$null
            if (-not $p.HasExited) { $p | Stop-Process -Force }
            $p.WaitForExit()
        }
        # Either the old checkpoint or a whole new one: never a torn file.
        $names = @(Import-TorchCheckpoint -LiteralPath $target | ForEach-Object Name)
        ($names -join ',') | Should -BeIn @(((Import-TorchCheckpoint -LiteralPath $Params).Name -join ','), 'big')
        (Test-TorchCheckpoint -LiteralPath $target).Status | Should -Be 'Ok'
        @(Get-ChildItem $dir -Force -Filter '.model.pt.*.tmp') | Should -Not -BeNullOrEmpty -Because 'a killed save leaves its file'
        Start-Sleep -Milliseconds 2500   # a temporary file touched in the last two seconds may be a live writer's
        Import-TorchCheckpoint -LiteralPath $Params | Save-Tensor -LiteralPath $target
        @(Get-ChildItem $dir -Force -Filter '.model.pt.*.tmp') | Should -BeNullOrEmpty
        (Import-TorchCheckpoint -LiteralPath $target | Get-TensorHash).Hash | Should -Be $ParamsHashes
    }

    It 'loses and corrupts nothing when runspaces load, scan and save overlapping files at once' {
        $dir = Join-Path $TestDrive 'shared'
        $null = New-Item -ItemType Directory $dir
        $module = $ModuleManifest; $source = $Params
        $failures = 1..4 | ForEach-Object -ThrottleLimit 4 -Parallel {
            Import-Module $using:module
            $out = [Collections.Generic.List[string]]::new()
            for ($i = 0; $i -lt 15; $i++) {
                $target = Join-Path $using:dir "shared$($i % 2).pt"
                try {
                    Import-TorchCheckpoint -LiteralPath $using:source -ErrorAction Stop | Save-Tensor -LiteralPath $target -ErrorAction Stop
                    foreach ($f in Get-ChildItem $using:dir -Filter 'shared*.pt') {
                        $r = Test-TorchCheckpoint -LiteralPath $f.FullName
                        if ($r.Status -ne 'Ok') { $out.Add("$($f.Name): $($r.Status) $($r.ErrorId)") }
                        $n = @(Import-TorchCheckpoint -LiteralPath $f.FullName -ErrorAction Stop).Count
                        if ($n -ne 3) { $out.Add("$($f.Name): $n tensors") }
                    }
                } catch { $out.Add("$_") }
            }
            $out
        }
        @($failures) | Should -BeNullOrEmpty
        foreach ($f in Get-ChildItem $dir -Filter 'shared*.pt') {
            (Import-TorchCheckpoint -LiteralPath $f.FullName | Get-TensorHash).Hash | Should -Be $ParamsHashes
        }
        @(Get-ChildItem $dir -Force -Filter '.*.tmp') | Should -BeNullOrEmpty
    }
}
