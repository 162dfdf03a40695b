<#
.SYNOPSIS
    build.ps1 -Task Bench: TorchSerial and Debian's torch side by side, in the same run, over a matrix of
    checkpoint shapes, with the floors every target is set against.
.DESCRIPTION
    Rows (build/bench/make_checkpoints.py writes them with real torch, once, into out/bench): 360 tensors / 21 MB,
    a resnet18-like 47 MB file, 10,000 small tensors, 40,000 tiny ones, GPT-2 small (0.5 GB), a 5.4 GB shard and
    one 2.3 GB storage (the last two where the disk has room). For each: torch.load and torch.save (in Python),
    and here, in one pwsh process, an eager load and a -Lazy listing through the cmdlets, Save-Tensor, the read
    floor (the file into fresh memory) and the pipe floor (as many plain objects through Measure-Object); then
    the eager peak working set in a fresh process. Every figure is a median of at least 7 runs after a warm-up, on
    both sides with the same protocol (users do not get to keep their best run). A loop row loads the GPT-2 file 10
    times in one fresh process, nothing kept and no forced collection, beside torch's same loop. Targets, warm page
    cache, in-process on both sides:
      eager  <= max(0.5 x torch.load, 1.5 x read floor + pipe floor)
      lazy   <= max(0.05 x torch.load, 2 x pipe floor + 1 ms)
      save   <= 0.6 x torch.save
      peak   <= 1.1 x tensor bytes (over a bare module import) where tensors average >= 1 MB, else <= torch's ratio
      loop   <= 0.8 x torch's loop time, peak <= torch's
    and a cold start (a fresh pwsh importing the module and listing a file lazily) at most 0.1 s over `pwsh -c exit`,
    interleaved fresh processes, medians.
    Results go to out/bench/results.json and out/bench/results.md.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $OutDir,
    [Parameter(Mandatory)] [scriptblock] $ChildPwsh,
    [string] $Only = '',
    [int] $Repeats = 7
)
$ErrorActionPreference = 'Stop'
$python = '/usr/bin/python3'
& $python -c 'import torch' 2>$null
if ($LASTEXITCODE -ne 0) { throw "Bench needs Debian's torch: apt-get install -y python3-torch" }
$null = New-Item -ItemType Directory -Force $OutDir
$here = $PSScriptRoot

$rowsFile = Join-Path $OutDir 'rows.json'
& $python (Join-Path $here 'make_checkpoints.py') $OutDir $Only | Set-Content $rowsFile
if ($LASTEXITCODE -ne 0) { throw 'Writing the benchmark checkpoints with torch failed.' }
$matrix = Get-Content $rowsFile -Raw | ConvertFrom-Json -AsHashtable
# How many timed runs each row gets (the median of them is its figure), written into the rows file so that both
# sides use the same count: small rows take milliseconds and this VM's noise is +-30-50% there, so they get three
# times as many; every row gets at least 7.
foreach ($row in $matrix.rows.Values) {
    $b = $row.tensor_bytes
    $row.repeats = [math]::Max(7, $(if ($b -lt 1e8) { 3 * $Repeats } else { $Repeats }))
}
$matrix | ConvertTo-Json -Depth 4 | Set-Content $rowsFile
foreach ($s in $matrix.skipped) { Write-Host "Row '$s' skipped: not enough free disk space." }

$torch = & $python (Join-Path $here 'torch_side.py') $rowsFile $OutDir | ConvertFrom-Json -AsHashtable
if ($LASTEXITCODE -ne 0) { throw 'The torch side of the benchmark failed.' }
$ours = & $ChildPwsh @('-File', (Join-Path $here 'Measure-TorchSerial.ps1'), '-ModulePath', $ModulePath, '-Rows', $rowsFile, '-OutDir', $OutDir) |
    ConvertFrom-Json -AsHashtable

$bareRun = & $ChildPwsh @('-File', (Join-Path $here 'Measure-PeakMemory.ps1'), '-ModulePath', $ModulePath, '-Checkpoint', 'none') | ConvertFrom-Json
$bare = if ($bareRun.relative) { 0 } else { $bareRun.peak } # relative runs already measure from just before the load

$table = foreach ($name in $matrix.rows.Keys) {
    $row = $matrix.rows[$name]; $t = $torch.rows[$name]; $o = $ours[$name]
    $peak = (& $ChildPwsh @('-File', (Join-Path $here 'Measure-PeakMemory.ps1'), '-ModulePath', $ModulePath, '-Checkpoint', $row.path, '-Load') | ConvertFrom-Json).peak
    $eagerBound = [math]::Max(0.5 * $t.load_s, 1.5 * $o.read_floor_s + $o.pipe_floor_s)
    $lazyBound = [math]::Max(0.05 * $t.load_s, 2 * $o.pipe_floor_s + 0.001)
    [pscustomobject]@{
        Row = $name; Tensors = $row.tensors; MB = [math]::Round($row.tensor_bytes / 1e6, 1)
        TorchLoad = $t.load_s; TorchSave = $t.save_s; ReadFloor = $o.read_floor_s; PipeFloor = $o.pipe_floor_s
        Eager = $o.eager_s; EagerBound = $eagerBound; Lazy = $o.lazy_s; LazyBound = $lazyBound; Save = $o.save_s
        PeakRatio = ($peak - $bare) / $row.tensor_bytes; TorchPeakRatio = $(if ($t.peak_bytes) { $t.peak_bytes / $row.tensor_bytes } else { [double]::NaN })
        EagerOk = $o.eager_s -le $eagerBound; LazyOk = $o.lazy_s -le $lazyBound
        # Peak: within 10% of the tensor bytes where tensors average 1 MB or more; where they are small, each tensor's
        # object and record cost more than its bytes on both sides, and the target is torch's own ratio.
        SaveOk = $o.save_s -le 0.6 * $t.save_s
        PeakOk = ($peak - $bare) / $row.tensor_bytes -le $(if ($row.tensor_bytes / $row.tensors -ge 1e6) { 1.1 } else { $t.peak_bytes / $row.tensor_bytes })
    }
}

# Cold start: a fresh pwsh each time, as ops scripts and CI steps run it. The four shapes run interleaved, round
# after round, so a noisy minute hits them alike; each figure is the median of its 7 runs.
$coldFile = ($matrix.rows.Values | Sort-Object tensor_bytes | Select-Object -First 1).path
if ($matrix.rows['resnet18-like, 47 MB']) { $coldFile = $matrix.rows['resnet18-like, 47 MB'].path }
$manifest = Join-Path $ModulePath 'TorchSerial.psd1'
$coldProbe = '$s = [Diagnostics.Stopwatch]::StartNew(); {0}; $i = $s.Elapsed.TotalSeconds; {1} | Measure-Object | ' +
    'Out-Null; "$i $($s.Elapsed.TotalSeconds - $i)"'
$coldShapes = [ordered]@{
    bare = @('-Command', 'exit')
    # The same script shape with a module that ships with pwsh: what PowerShell itself charges for Import-Module and
    # for auto-loading Measure-Object and Out-Null, which no module can avoid.
    shape = @('-Command', "Import-Module Microsoft.PowerShell.Management; Get-Item '$coldFile' | Measure-Object | Out-Null")
    import = @('-Command', "Import-Module '$manifest'")
    list = @('-Command', "Import-Module '$manifest'; Import-TorchCheckpoint -LiteralPath '$coldFile' -Lazy | Measure-Object | Out-Null")
    # The same two scripts timed from inside the fresh process: the import, then the first call through Measure-Object.
    # What a process costs to start and end is the same for both and is left out, so the difference is the module's.
    shapeInside = @('-Command', ($coldProbe -f 'Import-Module Microsoft.PowerShell.Management', "Get-Item '$coldFile'"))
    listInside = @('-Command', ($coldProbe -f "Import-Module '$manifest'",
        "Import-TorchCheckpoint -LiteralPath '$coldFile' -Lazy"))
}
$coldTimes = @{}; foreach ($k in $coldShapes.Keys) { $coldTimes[$k] = [Collections.Generic.List[object]]::new() }
for ($round = 0; $round -lt 7; $round++) {
    foreach ($k in $coldShapes.Keys) {
        $arguments = $coldShapes[$k]
        if ($k -like '*Inside') { $coldTimes[$k].Add(("$(& $ChildPwsh $arguments)".Trim() -split ' ' | ForEach-Object { [double]$_ })) }
        else { $coldTimes[$k].Add((Measure-Command { & $ChildPwsh $arguments | Out-Null }).TotalSeconds) }
    }
}
. (Join-Path $here 'BenchCommon.ps1')  # Get-Median
$coldBare = Get-Median $coldTimes.bare; $coldShape = Get-Median $coldTimes.shape
$coldImport = Get-Median $coldTimes.import; $coldList = Get-Median $coldTimes.list
$inside = @{}
foreach ($k in 'shapeInside', 'listInside') {
    $inside[$k] = @{ import = Get-Median ($coldTimes[$k] | ForEach-Object { $_[0] }); call = Get-Median ($coldTimes[$k] | ForEach-Object { $_[1] }) }
    $inside[$k].total = $inside[$k].import + $inside[$k].call
}

$cpu = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Select-String '^model name' | Select-Object -First 1) -replace '^model name\s*:\s*', ''
$mem = [math]::Round(((Get-Content /proc/meminfo -ErrorAction SilentlyContinue | Select-String '^MemTotal') -replace '\D', '') / 1MB)
$machine = '{0}, {1} cores, {2} GiB; .NET {3}; torch {4}; medians of {5} runs (3x that under 100 MB) after an untimed pass over the rows, warm page cache' -f $cpu, [Environment]::ProcessorCount, $mem, [Environment]::Version, $torch.torch, $Repeats

function Ms($s) { '{0:N1}' -f ($s * 1000) }
function Mark($ok) { if ($ok) { 'ok' } else { 'MISS' } }
$lines = @(
    "Machine: $machine"
    ''
    '| row | tensors | MB | torch.load ms | read floor ms | pipe floor ms | eager ms (bound) | eager/torch | lazy ms (bound) | lazy/torch | save/torch.save | peak/bytes (torch) |'
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
)
foreach ($r in $table) {
    $lines += '| {0} | {1:N0} | {2} | {3} | {4} | {5} | {6} ({7}) {8} | {9:N2} | {10} ({11}) {12} | {13:N3} | {14:N2} {15} | {16:N2} {17} ({18:N2}) |' -f $r.Row, $r.Tensors, $r.MB,
        (Ms $r.TorchLoad), (Ms $r.ReadFloor), (Ms $r.PipeFloor), (Ms $r.Eager), (Ms $r.EagerBound), (Mark $r.EagerOk), ($r.Eager / $r.TorchLoad),
        (Ms $r.Lazy), (Ms $r.LazyBound), (Mark $r.LazyOk), ($r.Lazy / $r.TorchLoad), ($r.Save / $r.TorchSave), (Mark $r.SaveOk), $r.PeakRatio, (Mark $r.PeakOk), $r.TorchPeakRatio
}
$lines += ''
$lines += ('Cold start (fresh pwsh, medians of 7 interleaved rounds): bare `pwsh -c exit` {0} ms; the same script shape with a built-in module {1} ms; ' +
    'Import-Module TorchSerial {2} ms; + lazy listing of {3} {4} ms: **{5} ms over bare** (target <= 100) {6}, {7} ms over the built-in shape') -f `
    (Ms $coldBare), (Ms $coldShape), (Ms $coldImport), (Split-Path $coldFile -Leaf), (Ms $coldList), (Ms ($coldList - $coldBare)), (Mark (($coldList - $coldBare) -le 0.1)), (Ms ($coldList - $coldShape))
$lines += ''
$lines += ('Cold start timed inside the fresh process (medians of 7): Import-Module TorchSerial {0} ms + the lazy listing {1} ms = {2} ms; ' +
    'the built-in module {3} ms + Get-Item {4} ms = {5} ms: **ours over the built-in shape {6} ms** (target <= 0) {7}') -f `
    (Ms $inside.listInside.import), (Ms $inside.listInside.call), (Ms $inside.listInside.total), (Ms $inside.shapeInside.import),
    (Ms $inside.shapeInside.call), (Ms $inside.shapeInside.total), (Ms ($inside.listInside.total - $inside.shapeInside.total)),
    (Mark ($inside.listInside.total -le $inside.shapeInside.total))

# The loop row: the GPT-2 file loaded 10 times in a row in one fresh process, nothing kept and no forced collection,
# on both sides; total seconds and peak memory over the process after its import (the median of 3 fresh processes).
$loop = $null
$loopRow = $matrix.rows['GPT-2 small, 0.5 GB']
if ($loopRow) {
    $oursLoop = 1..3 | ForEach-Object { & $ChildPwsh @('-File', (Join-Path $here 'Measure-Loop.ps1'), '-ModulePath', $ModulePath, '-Checkpoint', $loopRow.path) | ConvertFrom-Json }
    $torchLoop = 1..3 | ForEach-Object { & $python (Join-Path $here 'torch_side.py') --loop $loopRow.path 10 | ConvertFrom-Json }
    $loop = [ordered]@{
        ours_s = Get-Median $oursLoop.loop_s; ours_peak_bytes = Get-Median $oursLoop.peak_bytes
        torch_s = Get-Median $torchLoop.loop_s; torch_peak_bytes = Get-Median $torchLoop.peak_bytes
    }
    $lines += ''
    $lines += ('Loop: GPT-2 small loaded 10 times in one process (`$null = Import-TorchCheckpoint -AsObject`, nothing kept, no forced collection; ' +
        'medians of 3 processes): **{0:N2} s vs torch {1:N2} s = {2:N2}x** (target <= 0.8) {3}; peak {4:N0} MiB vs torch {5:N0} MiB (target <= torch) {6}') -f `
        $loop.ours_s, $loop.torch_s, ($loop.ours_s / $loop.torch_s), (Mark ($loop.ours_s -le 0.8 * $loop.torch_s)),
        ($loop.ours_peak_bytes / 1MB), ($loop.torch_peak_bytes / 1MB), (Mark ($loop.ours_peak_bytes -le $loop.torch_peak_bytes))
}

# safetensors and sharded sets, on the GPT-2 file: loads and listings against torch.load of the .pt, conversions
# against `cp` of the same file and against torch's own route (torch.load, then the bytes through numpy).
$formats = $null
$gpt2 = $matrix.rows['GPT-2 small, 0.5 GB']
if ($gpt2) {
    $ft = & $python (Join-Path $here 'formats_torch.py') $gpt2.path $OutDir $Repeats | ConvertFrom-Json -AsHashtable
    $fo = & $ChildPwsh @('-File', (Join-Path $here 'Measure-Formats.ps1'), '-ModulePath', $ModulePath, '-Source', $gpt2.path, '-OutDir', $OutDir,
        '-Repeats', $Repeats) | ConvertFrom-Json -AsHashtable
    $peakOf = {
        param($extra)
        $p = (& $ChildPwsh (@('-File', (Join-Path $here 'Measure-PeakMemory.ps1'), '-ModulePath', $ModulePath) + $extra) | ConvertFrom-Json).peak
        $p - $bare
    }
    $convertPeak = & $peakOf @('-Checkpoint', $gpt2.path, '-ConvertTo', (Join-Path $OutDir 'peak.safetensors'))
    $reshardPeak = & $peakOf @('-Checkpoint', (Join-Path $OutDir 'ours.safetensors'), '-ConvertTo', (Join-Path $OutDir 'ours-set/peak.safetensors'),
        '-MaxShardSize', '100MB')
    $formats = [ordered]@{ torch = $ft; ours = $fo; convert_peak_bytes = $convertPeak; reshard_peak_bytes = $reshardPeak }
    $mib = 64MB
    $lines += ''
    $lines += "safetensors and sharded sets, GPT-2 small ($([math]::Round($gpt2.tensor_bytes / 1e6)) MB; the set is $($fo.shards) shards of <= 100 MB):"
    $lines += ''
    $lines += '| operation | ms | against | ratio | target |'
    $lines += '|---|---:|---|---:|---|'
    $lines += '| eager load of the .safetensors | {0} | torch.load of the .pt {1} ms | {2:N3} | <= 0.5 {3} |' -f (Ms $fo.st_eager_s), (Ms $ft.load_s), ($fo.st_eager_s / $ft.load_s), (Mark ($fo.st_eager_s -le 0.5 * $ft.load_s))
    $lines += '| -Lazy listing of the .safetensors | {0} | torch.load of the .pt | {1:N4} | <= 0.02 {2} |' -f (Ms $fo.st_list_s), ($fo.st_list_s / $ft.load_s), (Mark ($fo.st_list_s -le 0.02 * $ft.load_s))
    $lines += '| -Lazy listing of the set (index.json) | {0} | torch.load of the .pt | {1:N4} | <= 0.02 {2} |' -f (Ms $fo.set_list_s), ($fo.set_list_s / $ft.load_s), (Mark ($fo.set_list_s -le 0.02 * $ft.load_s))
    foreach ($op in @(@{ n = 'convert .pt → .safetensors'; o = $fo.convert_s; t = $ft.convert_s; p = $convertPeak }, @{ n = 're-shard into 100 MB shards'; o = $fo.reshard_s; t = $ft.reshard_s; p = $reshardPeak })) {
        $lines += '| {0} | {1} | cp {2} ms / torch route {3} ms | {4:N2} / {5:N2} | <= 1.5 / <= 0.5 {6} {7} |' -f $op.n, (Ms $op.o), (Ms $ft.cp_s), (Ms $op.t),
            ($op.o / $ft.cp_s), ($op.o / $op.t), (Mark ($op.o -le 1.5 * $ft.cp_s)), (Mark ($op.o -le 0.5 * $op.t))
        $lines += '| … its peak memory over a bare import | {0:N1} MiB | torch route {1:N0} MiB | | <= 64 MiB {2} |' -f ($op.p / 1MB), ($ft.convert_peak_bytes / 1MB), (Mark ($op.p -le $mib))
    }
    # The toolbox: statistics of every tensor and a comparison with a noisy copy, against torch doing the same.
    $tt = & $python (Join-Path $here 'toolbox_torch.py') $gpt2.path $OutDir $Repeats | ConvertFrom-Json -AsHashtable
    $to = & $ChildPwsh @('-File', (Join-Path $here 'Measure-Toolbox.ps1'), '-ModulePath', $ModulePath, '-Source', $gpt2.path, '-Other', $tt.other,
        '-Repeats', $Repeats) | ConvertFrom-Json -AsHashtable
    $castPeak = & $peakOf @('-Checkpoint', $gpt2.path, '-CastTo', (Join-Path $OutDir 'peak_bf16.pt'))
    Remove-Item (Join-Path $OutDir 'peak_bf16.pt') -ErrorAction SilentlyContinue
    $measurePeak = & $peakOf @('-Checkpoint', $gpt2.path, '-Measure')
    $comparePeak = & $peakOf @('-Checkpoint', $gpt2.path, '-CompareWith', $tt.other)
    $formats.toolbox = [ordered]@{ torch = $tt; ours = $to; cast_peak_bytes = $castPeak; measure_peak_bytes = $measurePeak; compare_peak_bytes = $comparePeak }
    $lines += ''
    $lines += 'Toolbox on the same file (torch loads, then computes the same figures per tensor):'
    $lines += ''
    $lines += '| operation | ms | torch ms | ratio | target | peak MiB (torch) |'
    $lines += '|---|---:|---:|---:|---|---:|'
    $lines += '| cast float32 → bfloat16 and save (-Lazy, streamed) | {0} | {1} | {2:N2} | <= 0.6 {3} | {4:N1} |' -f (Ms $to.cast_s), (Ms $tt.cast_s),
        ($to.cast_s / $tt.cast_s), (Mark ($to.cast_s -le 0.6 * $tt.cast_s)), ($castPeak / 1MB)
    $lines += '| Measure-Tensor, every tensor, -Lazy | {0} | {1} | {2:N2} | <= 1.0 {3} | {4:N1} ({5:N0}) |' -f (Ms $to.measure_lazy_s), (Ms $tt.measure_s),
        ($to.measure_lazy_s / $tt.measure_s), (Mark ($to.measure_lazy_s -le $tt.measure_s)), ($measurePeak / 1MB), ($tt.peak_measure_bytes / 1MB)
    $lines += '| Measure-Tensor, every tensor, eager | {0} | {1} | {2:N2} | <= 1.0 {3} | |' -f (Ms $to.measure_eager_s), (Ms $tt.measure_s),
        ($to.measure_eager_s / $tt.measure_s), (Mark ($to.measure_eager_s -le $tt.measure_s))
    $lines += '| Compare-TorchCheckpoint with a noisy copy | {0} | {1} | {2:N2} | <= 1.0 {3} | {4:N1} ({5:N0}) |' -f (Ms $to.compare_s), (Ms $tt.compare_s),
        ($to.compare_s / $tt.compare_s), (Mark ($to.compare_s -le $tt.compare_s)), ($comparePeak / 1MB), ($tt.peak_compare_bytes / 1MB)
    $lines += '| floor: one SIMD pass over as many bytes in memory | {0} | | {1:N2} of Measure (lazy) | | |' -f (Ms $to.bandwidth_s), ($to.bandwidth_s / $to.measure_lazy_s)
    Remove-Item (Join-Path $OutDir 'ours-set') -Recurse -ErrorAction SilentlyContinue
    Remove-Item (Join-Path $OutDir 'ours.safetensors'), (Join-Path $OutDir 'peak.safetensors') -ErrorAction SilentlyContinue
}
# A table of results/md: a blank line, its title (none: it follows the previous table's), its header and alignment
# (the first column left, the others right).
function Add-Table([string] $title, [string] $header) {
    $script:lines += ''
    if ($title) { $script:lines += $title; $script:lines += '' }
    $columns = ($header.Trim('|') -split '\|').Count
    $script:lines += $header
    $script:lines += '|---|' + ('---:|' * ($columns - 1))
}

# Folders written by distributed training, consolidated to one .safetensors file: against `cp -r` of the folder and
# torch's own route to one file, by medians; peak memory against the largest tensor (torch's route holds the model).
$distributed = $null
if (-not $Only -or $Only -match 'distributed') {
    $dt = & $python (Join-Path $here 'distributed_torch.py') $OutDir $Repeats | Select-Object -Last 1 | ConvertFrom-Json -AsHashtable
    if ($LASTEXITCODE -ne 0) { throw 'The torch side of the distributed rows failed.' }
    $do = & $ChildPwsh @('-File', (Join-Path $here 'Measure-Distributed.ps1'), '-ModulePath', $ModulePath, '-Folder',
        "$($dt.dcp.folder),$($dt.zero3.folder)", '-OutDir', $OutDir, '-Repeats', $Repeats) | ConvertFrom-Json -AsHashtable
    Add-Table ("Distributed folders consolidated to one .safetensors (``Import-TorchCheckpoint <folder> -Lazy | " +
        "Save-Tensor``), medians of $Repeats after a warm-up:") ('| folder | MB | ms | cp -r ms | ratio (<= 1.5) | ' +
        'torch route ms | ratio (<= 0.5) | peak MiB (<= 2 x largest + 100) | torch route peak MiB |')
    foreach ($kind in 'dcp', 'zero3') {
        $d = $dt[$kind]
        $seconds = $do[(Split-Path $d.folder -Leaf)]
        $peak = (& $ChildPwsh @('-File', (Join-Path $here 'Measure-PeakMemory.ps1'), '-ModulePath', $ModulePath, '-Checkpoint', $d.folder,
            '-ConvertTo', (Join-Path $OutDir 'dist_peak.safetensors')) | ConvertFrom-Json).peak - $bare
        Remove-Item (Join-Path $OutDir 'dist_peak.safetensors') -ErrorAction SilentlyContinue
        $peakBound = 2 * $d.largest_bytes + 100MB
        $d.ours_s = $seconds; $d.ours_peak_bytes = $peak
        $lines += '| {0} (2 ranks) | {1:N0} | {2} | {3} | {4:N2} {5} | {6} | {7:N2} {8} | {9:N1} {10} | {11:N1} |' -f $kind, ($d.folder_bytes / 1e6),
            (Ms $seconds), (Ms $d.cp_s), ($seconds / $d.cp_s), (Mark ($seconds -le 1.5 * $d.cp_s)), (Ms $d.torch_s), ($seconds / $d.torch_s),
            (Mark ($seconds -le 0.5 * $d.torch_s)), ($peak / 1MB), (Mark ($peak -le $peakBound)), ($d.torch_peak_bytes / 1MB)
    }
    $distributed = $dt
}
# Remote rows: the GPT-2 file over loopback HTTP (tests/fixtures/hubserver.py, a Hub redirecting to a CDN), read by
# hf:// address, against the same work on the local file; listing cost in requests and bytes; memory of a remote
# conversion against the local one.
$remote = $null
if ($gpt2 -and (-not $Only -or $Only -match 'remote')) {
    $served = Join-Path $OutDir 'remote-root/bench/gpt2'
    $null = New-Item -ItemType Directory -Force $served
    $zip = Join-Path $served 'pytorch_model.bin'
    $st = Join-Path $served 'model.safetensors'
    if (-not (Test-Path $zip)) { $null = New-Item -ItemType HardLink -Path $zip -Target $gpt2.path }
    if (-not (Test-Path $st)) {
        & $ChildPwsh @('-Command', "Import-Module '$ModulePath/TorchSerial.psd1'; Import-TorchCheckpoint -LiteralPath " +
            "'$($gpt2.path)' -Lazy | Save-Tensor -LiteralPath '$st'")
    }
    $portFile = Join-Path $OutDir 'remote-ports.json'
    Remove-Item $portFile -ErrorAction SilentlyContinue
    $server = Start-Process -FilePath $python -PassThru -ArgumentList @((Join-Path $here '../../tests/fixtures/hubserver.py'),
        '--root', (Join-Path $OutDir 'remote-root'), '--port-file', $portFile)
    try {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while (-not (Test-Path $portFile) -and $clock.Elapsed.TotalSeconds -lt 20) { Start-Sleep -Milliseconds 50 }
        $hub = "http://127.0.0.1:$((Get-Content $portFile -Raw | ConvertFrom-Json).hub)"
        $ro = & $ChildPwsh @('-File', (Join-Path $here 'Measure-Remote.ps1'), '-ModulePath', $ModulePath, '-Hub', $hub,
            '-LocalZip', $zip, '-LocalSafeTensors', $st, '-OutDir', $OutDir, '-Repeats', $Repeats) | Select-Object -Last 1 |
            ConvertFrom-Json -AsHashtable
        $env:HF_ENDPOINT = $hub
        $peakRemote = (& $peakOf @('-Checkpoint', 'hf://bench/gpt2/pytorch_model.bin', '-ConvertTo', (Join-Path $OutDir 'peak.safetensors')))
        $peakLocal = (& $peakOf @('-Checkpoint', $zip, '-ConvertTo', (Join-Path $OutDir 'peak.safetensors')))
        Remove-Item (Join-Path $OutDir 'peak.safetensors') -ErrorAction SilentlyContinue
        $env:HF_ENDPOINT = $null
    } finally { Stop-Process -Id $server.Id -Force -ErrorAction SilentlyContinue }
    $ro.peak_remote_convert_bytes = $peakRemote; $ro.peak_local_convert_bytes = $peakLocal
    Add-Table ("Remote (GPT-2 over loopback HTTP, hf:// through a Hub redirect to a CDN), medians of $Repeats, remote " +
        "and local interleaved:") '| operation | requests | bytes read | share of file | ms |'
    foreach ($kind in 'list_zip', 'list_safetensors') {
        $l = $ro[$kind]
        $size = if ($kind -eq 'list_zip') { $ro.file_bytes } else { (Get-Item $st).Length }
        $lines += '| -Lazy listing, {0} ({1} tensors) | {2} | {3:N0} | {4:P2} {5} | {6} |' -f ($kind -replace 'list_'), $l.tensors,
            $l.requests, $l.bytes, ($l.bytes / $size), (Mark ($l.bytes -le 0.01 * $size)), (Ms $l.seconds)
    }
    Add-Table '' '| work | remote ms | local ms | ratio (<= 1.5) | peak MiB remote (local) |'
    $lines += '| eager load (-AsObject) | {0} | {1} | {2:N2} {3} | |' -f (Ms $ro.eager.remote_s), (Ms $ro.eager.local_s),
        ($ro.eager.remote_s / $ro.eager.local_s), (Mark ($ro.eager.remote_s -le 1.5 * $ro.eager.local_s))
    $lines += '| -Lazy \| Save-Tensor .safetensors | {0} | {1} | {2:N2} {3} | {4:N1} ({5:N1}) |' -f (Ms $ro.convert.remote_s),
        (Ms $ro.convert.local_s), ($ro.convert.remote_s / $ro.convert.local_s), (Mark ($ro.convert.remote_s -le 1.5 * $ro.convert.local_s)),
        ($peakRemote / 1MB), ($peakLocal / 1MB)
    $remote = $ro
}
# Merge rows: a rank-16 LoRA merged into GPT-2 and saved, and three GPT-2-sized checkpoints averaged and saved,
# against torch's own routes (load, compute, save), medians; the adapter merge's peak against the largest tensor.
$merge = $null
if ($gpt2 -and (-not $Only -or $Only -match 'merge')) {
    $mt = & $python (Join-Path $here 'merge_torch.py') $gpt2.path $OutDir $Repeats | Select-Object -Last 1 |
        ConvertFrom-Json -AsHashtable
    if ($LASTEXITCODE -ne 0) { throw 'The torch side of the merge rows failed.' }
    $mo = & $ChildPwsh @('-File', (Join-Path $here 'Measure-Merge.ps1'), '-ModulePath', $ModulePath, '-Inputs',
        ($mt.inputs -join ','), '-Adapter', $mt.lora, '-OutDir', $OutDir, '-Repeats', $Repeats) | ConvertFrom-Json -AsHashtable
    $mergePeak = & $peakOf @('-Checkpoint', $gpt2.path, '-AdapterPath', $mt.lora, '-ConvertTo', (Join-Path $OutDir 'peak.pt'))
    Remove-Item (Join-Path $OutDir 'peak.pt') -ErrorAction SilentlyContinue
    $largest = 50257 * 768 * 4  # wte, GPT-2's largest tensor
    Add-Table "Merges, GPT-2 small (148 tensors, 498 MB), medians of $Repeats after a warm-up, output saved as .pt:" `
        '| operation | ms | torch route ms | ratio | target | peak MiB (bound) | torch route peak MiB |'
    $lines += '| rank-16 LoRA into the 12 attention weights, saved | {0} | {1} | {2:N2} | <= 0.5 {3} | {4:N1} ({5:N0}) {6} | {7:N0} |' -f
        (Ms $mo.adapter_s), (Ms $mt.adapter_s), ($mo.adapter_s / $mt.adapter_s), (Mark ($mo.adapter_s -le 0.5 * $mt.adapter_s)),
        ($mergePeak / 1MB), ((2 * $largest + 100MB) / 1MB), (Mark ($mergePeak -le 2 * $largest + 100MB)), ($mt.peak_adapter_bytes / 1MB)
    $lines += '| floor: the same file streamed to .pt, nothing merged | {0} | | {1:N2} | | | |' -f (Ms $mo.copy_s),
        ($mo.copy_s / $mt.adapter_s)
    $lines += '| average of three checkpoints, saved | {0} | {1} | {2:N2} | <= 0.5 {3} | | |' -f (Ms $mo.average_s),
        (Ms $mt.average_s), ($mo.average_s / $mt.average_s), (Mark ($mo.average_s -le 0.5 * $mt.average_s))
    $merge = [ordered]@{ torch = $mt; ours = $mo; adapter_peak_bytes = $mergePeak }
}
# Model signatures: verifying a 5 GiB folder against sha256sum of the same files in parallel.
$signature = $null
if (-not $Only -or $Only -match 'signature') {
    $signature = & $ChildPwsh @('-File', (Join-Path $here 'Measure-Signature.ps1'), '-ModulePath', $ModulePath,
        '-OutDir', $OutDir, '-Repeats', $Repeats) | Select-Object -Last 1 | ConvertFrom-Json -AsHashtable
    Add-Table "Test-ModelSignature of a 5 GiB folder (5 files), warm page cache, medians of ${Repeats}:" `
        '| operation | ms | sha256sum in parallel ms | ratio | target | peak MiB |'
    $lines += '| verify (signature, then every file''s SHA-256) | {0} | {1} | {2:N2} | <= 1.2 {3} | {4:N1} |' -f
        (Ms $signature.verify_s), (Ms $signature.sha256sum_s), ($signature.verify_s / $signature.sha256sum_s),
        (Mark ($signature.verify_s -le 1.2 * $signature.sha256sum_s)), ($signature.verify_peak_bytes / 1MB)
}
$lines | Set-Content (Join-Path $OutDir 'results.md')
[ordered]@{ machine = $machine; rows = $table; loop = $loop; formats = $formats; distributed = $distributed; remote = $remote; merge = $merge; signature = $signature; cold = @{ bare_s = $coldBare; shape_s = $coldShape; import_s = $coldImport; list_s = $coldList; file = $coldFile; inside = $inside } } |
    ConvertTo-Json -Depth 5 | Set-Content (Join-Path $OutDir 'results.json')
$lines | Write-Host
