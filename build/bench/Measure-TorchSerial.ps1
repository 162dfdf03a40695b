<#
.SYNOPSIS
    The TorchSerial side of build.ps1 -Task Bench: for each row of the matrix, in this one process after a
    warm-up pass over every row (median of the row's repeats), times an eager load and a -Lazy listing through the
    cmdlets, a Save-Tensor, and the two floors the targets are set against: reading the file into fresh memory, and piping as many plain
    objects as the file has tensors through Measure-Object. Prints one JSON object of seconds per row.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Rows,
    [Parameter(Mandatory)] [string] $OutDir
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1')

# The read floor: the file's bytes into fresh memory, in 16 MiB reads, the way File.ReadAllBytes does it but
# for any size (native memory past one array).
Add-Type -TypeDefinition @'
using System;
using System.IO;
using System.Runtime.InteropServices;
public static class ReadFloor
{
    public static unsafe long Read(string path)
    {
        using var handle = File.OpenHandle(path);
        long length = RandomAccess.GetLength(handle);
        byte* memory = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, length));
        try
        {
            for (long at = 0; at < length; at += 16 << 20)
            {
                int n = (int)Math.Min(16 << 20, length - at);
                RandomAccess.Read(handle, new Span<byte>(memory + at, n), at);
            }
            return length;
        }
        finally { NativeMemory.Free(memory); }
    }
}
'@ -CompilerOptions '-unsafe'

. (Join-Path $PSScriptRoot 'BenchCommon.ps1')

$saveOut = Join-Path $OutDir 'torchserial_saved.pt'
$freshTarget = { if (Test-Path $saveOut) { Remove-Item $saveOut }; sync }
$matrix = (Get-Content $Rows -Raw | ConvertFrom-Json -AsHashtable).rows

# Warm-up: PowerShell's own pipeline code is tiered up by the JIT over its first few dozen runs, and until it is,
# a row measured early pays for it (piping 10,000 plain objects took 110-128 ms cold against 8.5 ms warm), floors
# included. So every row under 1 GB first runs once untimed, and each row is then measured in a warm process, as
# torch's is. (One loop at script scope: Measure-Median runs its blocks in its caller's scope.)
$passes = @($matrix.GetEnumerator() | Where-Object { $_.Value.tensor_bytes -lt 1e9 } | ForEach-Object { @{ Row = $_; N = 0 } }) +
    @($matrix.GetEnumerator() | ForEach-Object { @{ Row = $_; N = $_.Value.repeats } })
$result = [ordered]@{}
foreach ($pass in $passes) {
    $path = $pass.Row.Value.path
    $n = [math]::Max(1, $pass.N) # the warm-up pass runs each measurement twice, untimed
    $plain = [object[]]::new($pass.Row.Value.tensors)
    for ($i = 0; $i -lt $plain.Length; $i++) { $plain[$i] = [object]::new() }
    $r = [ordered]@{}
    $r.read_floor_s = Measure-Median { [ReadFloor]::Read($path) } $n
    $r.pipe_floor_s = Measure-Median { $plain | Measure-Object } $n
    $r.eager_s = Measure-Median { Import-TorchCheckpoint -LiteralPath $path | Measure-Object } $n
    $r.lazy_s = Measure-Median { Import-TorchCheckpoint -LiteralPath $path -Lazy | Measure-Object } $n
    $obj = Import-TorchCheckpoint -LiteralPath $path -AsObject
    $r.save_s = Measure-Median { Save-Tensor -InputObject $obj -LiteralPath $saveOut } $n $freshTarget
    $obj = $null
    if ($pass.N -gt 0) { $result[$pass.Row.Key] = $r }
}
if (Test-Path $saveOut) { Remove-Item $saveOut }
$result | ConvertTo-Json -Compress -Depth 4
