# One storage over 2 GiB (2.3 GB), written by real torch at test time and deleted afterwards: every path
# (lazy listing, eager load into native memory, chunked reads, zip64 save, streaming save, scan, retag,
# placement) keeps its bytes, and torch loads what we save with the same hash. Skipped, visibly, where torch,
# the disk or the memory cannot hold it.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:BigSkip = $null
    if (-not (Find-TorchPython)) { $script:BigSkip = 'torch is not installed' }
    else {
        $tmp = [IO.Path]::GetTempPath()
        $free = (New-Object IO.DriveInfo ([IO.Path]::GetPathRoot($tmp))).AvailableFreeSpace
        $memory = [GC]::GetGCMemoryInfo().TotalAvailableMemoryBytes
        if ($free -lt 8GB) { $script:BigSkip = "only $([math]::Round($free / 1GB, 1)) GB free on the disk of $tmp (8 GB needed)" }
        elseif ($memory -lt 10GB) { $script:BigSkip = "only $([math]::Round($memory / 1GB, 1)) GB of memory (10 GB needed)" }
    }
    if ($script:BigSkip) { Write-Host "Big-Storage tests skipped: $($script:BigSkip)" }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Script = Join-Path $PSScriptRoot '../interop/big_storage.py'
    $script:Dir = Join-Path ([IO.Path]::GetTempPath()) "torchserial-big-$PID"
    function Get-TensorSha256($tensor) {
        $hash = [Security.Cryptography.IncrementalHash]::CreateHash('SHA256')
        try {
            foreach ($chunk in $tensor.EnumerateChunks()) { $hash.AppendData($chunk) }
            [Convert]::ToHexString($hash.GetHashAndReset()).ToLowerInvariant()
        } finally { $hash.Dispose() }
    }
}

Describe 'A storage over 2 GiB' -Skip:([bool]$BigSkip) {
    BeforeAll {
        $null = New-Item -ItemType Directory -Force $Dir
        $script:Source = Join-Path $Dir 'big.pt'
        $script:Torch = & /usr/bin/python3 $Script make $Source | ConvertFrom-Json
        if ($LASTEXITCODE -ne 0) { throw 'torch could not write the big checkpoint' }
    }
    AfterAll {
        [GC]::Collect()
        Remove-Item -LiteralPath $Dir -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'lists lazily with the geometry torch reports, views past 2 GiB included' {
        $t = Import-TorchCheckpoint -LiteralPath $Source -Lazy
        $t.Name | Should -Be $Torch.keys
        $t[0].NumElements | Should -Be $Torch.numel
        $t[0].Storage.NumBytes | Should -Be $Torch.storage_nbytes
        $t[0].NumBytes | Should -Be $Torch.storage_nbytes
        $t[1].StorageOffset | Should -Be $Torch.tail_offset
        $t[2].StorageOffset | Should -Be $Torch.mid_offset
        [object]::ReferenceEquals($t[0].Storage, $t[2].Storage) | Should -BeTrue
        $t[0].Storage.IsLoaded | Should -BeFalse
    }

    It 'loads eagerly, gives the bytes torch hashes chunk by chunk, and refuses one array with the chunked way' {
        $t = Import-TorchCheckpoint -LiteralPath $Source
        $t[0].Storage.IsLoaded | Should -BeTrue
        Get-TensorSha256 $t[0] | Should -Be $Torch.sha256
        @($t[1].ToArray()) | Should -Be $Torch.tail
        @($t[2].ToArray()) | Should -Be $Torch.mid
        [BitConverter]::ToInt32($t[0].ReadBytes($Torch.mid_offset, 1), 0) | Should -Be $Torch.mid[0]
        { $t[0].GetBytes() } | Should -Throw -ExpectedMessage '*EnumerateChunks*'
    }

    It 'saves with zip64 and real torch loads the same bytes and sharing' {
        $out = Join-Path $Dir 'saved.pt'
        Import-TorchCheckpoint -LiteralPath $Source -AsObject | Save-Tensor -LiteralPath $out
        [GC]::Collect()
        $back = & /usr/bin/python3 $Script check $out | ConvertFrom-Json
        $LASTEXITCODE | Should -Be 0
        $back.sha256 | Should -Be $Torch.sha256
        $back.tail | Should -Be $Torch.tail
        $back.mid | Should -Be $Torch.mid
        $back.shared | Should -BeTrue
        Remove-Item -LiteralPath $out
    }

    It 'saves a lazy load file to file, streaming, and the copy is CRC-clean with the same bytes' {
        $out = Join-Path $Dir 'streamed.pt'
        Import-TorchCheckpoint -LiteralPath $Source -Lazy | Save-Tensor -LiteralPath $out
        (Test-TorchCheckpoint -LiteralPath $out).Status | Should -Be 'Ok'
        $copy = Import-TorchCheckpoint -LiteralPath $out -Lazy
        Get-TensorSha256 $copy[0] | Should -Be $Torch.sha256
        $copy[0].Storage.IsLoaded | Should -BeFalse  # streamed through the CRC check, not kept
        $copy = $null
        [GC]::Collect(); [GC]::WaitForPendingFinalizers()
        Remove-Item -LiteralPath $out
    }

    It 'scans clean, its CRC checked over every byte' {
        $r = Test-TorchCheckpoint -LiteralPath $Source
        $r.Status | Should -Be 'Ok'
        $r.StorageBytes | Should -Be $Torch.storage_nbytes
    }

    It 'rewrites location tags file to file, keeping every byte' {
        $out = Join-Path $Dir 'retagged.pt'
        Convert-DeviceMap -LiteralPath $Source -Destination $out -MapLocation @{ cpu = 'cuda:0' } | Out-Null
        $r = Import-TorchCheckpoint -LiteralPath $out -Lazy -MapLocation cpu
        $r.SavedLocation | Sort-Object -Unique | Should -Be 'cuda:0'
        (Test-TorchCheckpoint -LiteralPath $out -MapLocation cpu).Status | Should -Be 'Ok'
        $r = $null
        [GC]::Collect(); [GC]::WaitForPendingFinalizers()
        Remove-Item -LiteralPath $out
    }

    It 'places on a device and reads back every byte' {
        $t = Import-TorchCheckpoint -LiteralPath $Source -Lazy | Convert-DeviceMap -MapLocation ilgpu-cpu
        $t[0].Device | Should -Be 'ilgpu-cpu'
        Get-TensorSha256 $t[0] | Should -Be $Torch.sha256
        @($t[2].ToArray()) | Should -Be $Torch.mid
    }
}
