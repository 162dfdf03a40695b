<#
.SYNOPSIS
    The TorchSerial side of the toolbox rows of build.ps1 -Task Bench, in this one process after a warm-up (median of
    N): Measure-Tensor over every tensor of the GPT-2 file (lazy and eager), Compare-TorchCheckpoint of it with a
    noisy copy, and the memory-bandwidth floor: one SIMD pass summing as many bytes already in memory.
    Prints one JSON object of seconds.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [Parameter(Mandatory)] [string] $Source, [Parameter(Mandatory)] [string] $Other,
    [int] $Repeats = 3)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'TorchSerial.psd1')
Add-Type -TypeDefinition @'
using System;
using System.Numerics;
using System.Runtime.InteropServices;
public static class BandwidthFloor
{
    // One pass over n bytes already in memory: the least any statistic over them can cost.
    public static unsafe double Pass(long n)
    {
        float* p = (float*)NativeMemory.Alloc((nuint)n);
        try
        {
            new Span<byte>(p, (int)Math.Min(n, int.MaxValue)).Fill(1);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var acc = Vector<float>.Zero;
            long count = n / 4, lanes = Vector<float>.Count, i = 0;
            for (; i + lanes <= count; i += lanes) acc += *(Vector<float>*)(p + i);
            double s = Vector.Sum(acc);
            if (s == 42) Console.WriteLine();
            return sw.Elapsed.TotalSeconds;
        }
        finally { NativeMemory.Free(p); }
    }
}
'@ -CompilerOptions '-unsafe'
. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
$bytes = (Get-Item -LiteralPath $Source).Length
$r = [ordered]@{}
$cast = Join-Path (Split-Path $Other) 'ours_bf16.pt'
sync  # untimed: earlier rows' files are written back now, not during the timed runs (torch's side does the same)
$r.cast_s = Measure-Median { Import-TorchCheckpoint -LiteralPath $Source -Lazy | Convert-Tensor bfloat16 | Save-Tensor -LiteralPath $cast } $Repeats
Remove-Item $cast
$r.measure_lazy_s = Measure-Median { Import-TorchCheckpoint -LiteralPath $Source -Lazy | Measure-Tensor | Measure-Object } $Repeats
$r.measure_eager_s = Measure-Median { Import-TorchCheckpoint -LiteralPath $Source | Measure-Tensor | Measure-Object } $Repeats
$r.compare_s = Measure-Median { Compare-TorchCheckpoint -ReferencePath $Source -DifferencePath $Other | Measure-Object } $Repeats
$r.bandwidth_s = (1..$Repeats | ForEach-Object { [BandwidthFloor]::Pass($bytes) } | Measure-Object -Minimum).Minimum
$r | ConvertTo-Json -Compress
