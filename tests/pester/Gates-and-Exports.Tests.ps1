# Scripts and CI gates that cannot be fooled: gates over nothing fail, saves drop nothing silently, paths that match
# nothing say so, and every output type exports as it reads. Expected values come from real torch where a value is
# involved (Find-TorchPython); tests that need it are skipped and counted where it is absent.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasTorch = [bool](Find-TorchPython)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Checkpoint = Join-Path $FixtureDir 'torch/checkpoint.pt'
    $script:Params = Join-Path $FixtureDir 'torch/params.pt'
    $script:Work = New-Item -ItemType Directory (Join-Path $TestDrive 'gates')
    # Real torch writes the files these tests read: views of one storage, a cast copy, a root tensor, and a state
    # dict that also holds a call to os.system (never run: torch pickles the reduce, nothing here unpickles it).
    if ($HasTorch) {
        $script:TorchFacts = & /usr/bin/python3 -c @'
import json, os, sys, torch
out = sys.argv[1]
torch.manual_seed(0)
t = torch.arange(12.0).reshape(3, 4)
torch.save({"a": t, "b": t.t(), "c": t[1:3], "tied": t}, os.path.join(out, "views.pt"))
sd = {"w": torch.randn(16, 8), "b": torch.randn(16), "steps": torch.tensor(7)}
torch.save(sd, os.path.join(out, "f32.pt"))
half = {k: (v.to(torch.bfloat16) if v.is_floating_point() else v) for k, v in sd.items()}
torch.save(half, os.path.join(out, "bf16.pt"))
torch.save(torch.linspace(-1, 1, 5), os.path.join(out, "root.pt"))
class Payload:
    def __reduce__(self):
        return (os.system, ("true",))
torch.save({"layer%d.weight" % i: torch.ones(2, 2) for i in range(5)} | {"hook": Payload()},
           os.path.join(out, "hostile.pt"))
diff = {k: float((half[k].double() - sd[k].double()).abs().max()) for k in ("w", "b")}
try:
    torch.testing.assert_close(half["w"], sd["w"], check_dtype=False)
    close = True
except AssertionError:
    close = False
print(json.dumps({"maxabs": diff, "close": close}))
'@ $Work.FullName 2>$null | ConvertFrom-Json
    }
}

Describe 'Gates over nothing fail' {
    BeforeAll {
        $script:Empty = New-Item -ItemType Directory (Join-Path $TestDrive 'no-artifacts')
    }

    It 'fails an assertion whose pattern matches no file, naming NoCheckpoint' {
        { Assert-TorchCheckpoint (Join-Path $Empty '*.pt') -Finite -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'NoCheckpoint,TorchSerial.PowerShell.Commands.AssertTorchCheckpointCommand'
    }

    It 'fails an assertion over an empty pipe and over an empty folder from Get-ChildItem' {
        { @() | Assert-TorchCheckpoint -Finite } | Should -Throw -ErrorId 'NoCheckpoint,*'
        { Get-ChildItem $Empty -Filter *.pt | Assert-TorchCheckpoint -Finite } | Should -Throw -ErrorId 'NoCheckpoint,*'
    }

    It 'passes over nothing only with -AllowEmpty, and still fails a file that does not load' {
        { Assert-TorchCheckpoint (Join-Path $Empty '*.pt') -Finite -AllowEmpty } | Should -Not -Throw
        { @() | Assert-TorchCheckpoint -AllowEmpty } | Should -Not -Throw
        { Assert-TorchCheckpoint $Checkpoint -Key model -AllowEmpty } | Should -Not -Throw
        $bad = Join-Path $Empty 'bad.pt'
        Set-Content -LiteralPath $bad -Value 'not a checkpoint'
        { Assert-TorchCheckpoint -LiteralPath $bad -AllowEmpty -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'CheckpointAssertionFailed,*'
        Remove-Item -LiteralPath $bad
    }

    It 'answers $false with a warning when Test-TorchCheckpoint -Quiet is given nothing' {
        $answer = @() | Test-TorchCheckpoint -Quiet -WarningVariable warned -WarningAction SilentlyContinue
        $answer | Should -BeFalse
        "$warned" | Should -BeLike '*No checkpoint was given to test*'
        Test-TorchCheckpoint $Checkpoint -Quiet | Should -BeTrue
    }
}

Describe 'Paths that match nothing' {
    It 'names a -Path pattern that matches nothing, and points to -LiteralPath when that file exists' {
        $odd = Join-Path $TestDrive 'name with spaces [1].pt'
        Copy-Item -LiteralPath $Params -Destination $odd
        $out = Import-TorchCheckpoint $odd -ErrorVariable e -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be 'FileNotFound,TorchSerial.PowerShell.Commands.ImportTorchCheckpointCommand'
        $e[0].Exception.Message.Contains("-LiteralPath '$odd'") | Should -BeTrue
        (Import-TorchCheckpoint -LiteralPath $odd).Count | Should -Be (Import-TorchCheckpoint -LiteralPath $Params).Count
        $null = Import-TorchCheckpoint (Join-Path $TestDrive 'nothing-*.pt') -ErrorVariable e2 -ErrorAction SilentlyContinue
        $e2[0].Exception.Message | Should -BeLike "*matches no file*"
    }
}

Describe 'Saves never drop a tensor silently' -Skip:(-not $HasTorch) {
    BeforeAll {
        $script:Views = Join-Path $Work 'views.pt'
        function Test-WithTorch([string] $file, [string] $source) {
            $manifest = Join-Path $TestDrive "manifest-$(Split-Path -Leaf $file).json"
            $result = "$manifest.result"
            ConvertTo-Json @(@{ file = $file; source = $source }) | Set-Content $manifest
            $null = & /usr/bin/python3 (Join-Path $PSScriptRoot '../interop/check_safetensors.py') $manifest $result 2>&1
            (Get-Content $result -Raw | ConvertFrom-Json)[0]
        }
    }

    It 'writes views as copies and only identical aliases once, which torch confirms' {
        $out = Join-Path $Work 'views.safetensors'
        $verbose = Import-TorchCheckpoint $Views -Lazy | Save-Tensor $out -Verbose 4>&1 | ForEach-Object Message
        $verbose | Should -Contain "'b' is a view of another tensor's memory; safetensors cannot share it, so it is written as its own contiguous copy."
        (Import-TorchCheckpoint $out).Name | Sort-Object | Should -Be @('a', 'b', 'c')
        $r = Test-WithTorch $out $Views
        $r.ok | Should -BeTrue -Because ($r.problems -join '; ')
        $r.tensors | Should -Be 3
    }

    It 'refuses the views by name with -DeduplicateOnly, writing nothing' {
        $out = Join-Path $Work 'dedup.safetensors'
        Import-TorchCheckpoint $Views -Lazy | Save-Tensor $out -DeduplicateOnly -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'SafeTensorsSharedStorage,TorchSerial.PowerShell.Commands.SaveTensorCommand'
        $e[0].Exception.Message | Should -BeLike "*'b', 'c' are views*"
        Test-Path -LiteralPath $out | Should -BeFalse
    }

    It 'writes every name with -CopySharedTensors, tied ones too' {
        $out = Join-Path $Work 'all.safetensors'
        Import-TorchCheckpoint $Views -Lazy | Save-Tensor $out -CopySharedTensors
        (Import-TorchCheckpoint $out).Name | Sort-Object | Should -Be @('a', 'b', 'c', 'tied')
        (Test-WithTorch $out $Views).ok | Should -BeTrue
    }

    It 'keeps views as views in a .pt save, as torch.save does' {
        $out = Join-Path $Work 'views-copy.pt'
        Import-TorchCheckpoint $Views -Lazy | Save-Tensor $out
        $same = & /usr/bin/python3 -c @'
import sys, torch
a, b = torch.load(sys.argv[1]), torch.load(sys.argv[2])
shared = len({t.storage().data_ptr() for t in b.values()}) == 1
print(all(torch.equal(a[k], b[k]) and a[k].stride() == b[k].stride() for k in a) and shared)
'@ $Views $out
        $same | Should -Be 'True'
    }

    It 'compares a safetensors copy with its tied alias as Equal, not Removed' {
        $out = Join-Path $Work 'views.safetensors'
        $rows = Compare-TorchCheckpoint $Views $out
        ($rows | Where-Object Name -EQ 'tied').Status | Should -Be 'Equal'
        $rows.Status | Select-Object -Unique | Should -Be 'Equal'
    }

    It 'saves a root tensor read with -AsObject as a root tensor' {
        $out = Join-Path $Work 'root-copy.pt'
        Import-TorchCheckpoint (Join-Path $Work 'root.pt') -AsObject | Save-Tensor $out
        & /usr/bin/python3 -c 'import sys, torch; a, b = (torch.load(p) for p in sys.argv[1:]); print(type(b).__name__, torch.equal(a, b))' (Join-Path $Work 'root.pt') $out |
            Should -Be 'Tensor True'
    }
}

Describe 'Save-Tensor errors are ErrorRecords that -ErrorAction governs' {
    It 'reports a missing folder as WriteFailed, held back by SilentlyContinue, and creates it with -Force' {
        $target = Join-Path $TestDrive 'missing/deeper/out.pt'
        $after = $false
        Import-TorchCheckpoint $Params | Save-Tensor $target -ErrorVariable e -ErrorAction SilentlyContinue
        $after = $true
        $after | Should -BeTrue
        $e.Count | Should -Be 1
        $e[0] | Should -BeOfType System.Management.Automation.ErrorRecord
        $e[0].FullyQualifiedErrorId | Should -Be 'WriteFailed,TorchSerial.PowerShell.Commands.SaveTensorCommand'
        $e[0].Exception.Message | Should -BeLike '*-Force*'
        { Import-TorchCheckpoint $Params | Save-Tensor $target -ErrorAction Stop } | Should -Throw -ErrorId 'WriteFailed,*'
        Import-TorchCheckpoint $Params | Save-Tensor $target -Force
        (Import-TorchCheckpoint -LiteralPath $target).Count | Should -Be (Import-TorchCheckpoint $Params).Count
        $set = Join-Path $TestDrive 'missing2/set/model.safetensors'
        Import-TorchCheckpoint $Params | Save-Tensor $set -MaxShardSize 1 -Force
        Test-Path (Join-Path $TestDrive 'missing2/set/model.safetensors.index.json') | Should -BeTrue
    }
}

Describe 'Objects export as they read' {
    BeforeAll {
        $script:Tensors = Import-TorchCheckpoint $Params
        $script:First = $Tensors | Where-Object { $_.Shape.Count -eq 2 } | Select-Object -First 1
    }

    It 'writes shapes and strides as [a, b] in CSV and dtypes by torch name' {
        $csv = $First | Select-Object Name, Shape, Stride, DType | ConvertTo-Csv | ConvertFrom-Csv
        $csv.Shape | Should -Be "[$($First.Shape[0]), $($First.Shape[1])]"
        $csv.Stride | Should -Be "[$($First.Stride[0]), $($First.Stride[1])]"
        $csv.DType | Should -Be 'float32'
        $First.DTypeInfo.ItemSize | Should -Be 4
    }

    It 'writes shapes as arrays and dtypes as names in JSON' {
        $json = $First | Select-Object Name, Shape, DType | ConvertTo-Json -Compress
        $json | Should -Be ('{"Name":"' + $First.Name + '","Shape":[' + ($First.Shape -join ',') + '],"DType":"float32"}')
    }

    It 'does the same for Measure-Tensor, Get-TensorHash and Compare-TorchCheckpoint rows' {
        $expected = "[$($First.Shape -join ', ')]"
        ($First | Measure-Tensor | ConvertTo-Csv | ConvertFrom-Csv).Shape | Should -Be $expected
        ($First | Get-TensorHash | ConvertTo-Csv | ConvertFrom-Csv).Shape | Should -Be $expected
        $row = Compare-TorchCheckpoint $Params $Params | Where-Object Name -EQ $First.Name
        ($row | ConvertTo-Csv | ConvertFrom-Csv).ReferenceShape | Should -Be $expected
        ($row | ConvertTo-Json | ConvertFrom-Json).ReferenceShape | Should -Be @($First.Shape)
    }

    It 'takes paths in Measure-Tensor and Get-TensorHash, giving what piped tensors give' {
        (Measure-Tensor $Params).Mean | Should -Be ($Tensors | Measure-Tensor).Mean
        (Get-ChildItem $Params | Get-TensorHash).Hash | Should -Be ($Tensors | Get-TensorHash).Hash
        (Measure-Tensor -LiteralPath $Params).Count | Should -Be $Tensors.Count
    }
}

Describe 'Comparing across dtypes' -Skip:(-not $HasTorch) {
    It 'compares a bfloat16 copy by value with -IgnoreDType, as torch.testing.assert_close(check_dtype=False)' {
        $f32 = Join-Path $Work 'f32.pt'
        $bf16 = Join-Path $Work 'bf16.pt'
        (Compare-TorchCheckpoint $f32 $bf16 | Where-Object Name -EQ 'w').Status | Should -Be 'DTypeChanged'
        $rows = Compare-TorchCheckpoint $f32 $bf16 -IgnoreDType
        $w = $rows | Where-Object Name -EQ 'w'
        $w.IsClose | Should -Be $TorchFacts.close
        $w.MaxAbsDiff | Should -Be $TorchFacts.maxabs.w
        ($rows | Where-Object Name -EQ 'b').MaxAbsDiff | Should -Be $TorchFacts.maxabs.b
        $w.RelativeTolerance | Should -Be 1.6e-2
        ($rows | Where-Object Name -EQ 'steps').Status | Should -Be 'Equal'
        { Assert-TorchCheckpoint $bf16 -ReferencePath $f32 } | Should -Throw -ErrorId 'CheckpointAssertionFailed,*'
        { Assert-TorchCheckpoint $bf16 -ReferencePath $f32 -IgnoreDType } | Should -Not -Throw
    }
}

Describe 'Scans that say what a file holds' {
    It 'counts the tensors of a refused file' -Skip:(-not $HasTorch) {
        $r = Test-TorchCheckpoint (Join-Path $Work 'hostile.pt')
        $r.Status | Should -Be 'Unsafe'
        $r.TensorCount | Should -Be 5
    }

    It 'tells a Dangerous global not to be loaded, without advising -AllowGlobal' {
        $null = Import-TorchCheckpoint (Join-Path $FixtureDir 'crafted/unsafe_global.pt') -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].Exception.Message | Should -BeLike '*do not load it with torch.load, pickle*'
        $e[0].Exception.Message | Should -Not -BeLike '*-AllowGlobal*'
    }

    It 'writes SARIF with URIs relative to %SRCROOT%, and no warnings for a TorchScript archive that scans Ok' {
        $root = Split-Path $FixtureDir
        $log = Test-TorchCheckpoint (Join-Path $FixtureDir 'torch/torchscript.pt'), (Join-Path $FixtureDir 'crafted/unsafe_global.pt') -AsSarif -SarifRoot $root | ConvertFrom-Json
        $run = $log.runs[0]
        $run.originalUriBaseIds.'%SRCROOT%'.uri | Should -Be "file://$root/"
        $run.artifacts.location.uri | Should -Be @('fixtures/torch/torchscript.pt', 'fixtures/crafted/unsafe_global.pt')
        $run.artifacts.location.uriBaseId | Select-Object -Unique | Should -Be '%SRCROOT%'
        @($run.results | Where-Object { $_.locations[0].physicalLocation.artifactLocation.uri -like '*torchscript*' }).Count | Should -Be 0
        @($run.results).Count | Should -BeGreaterThan 0
    }

    It 'names files of other tools: <Name>' -ForEach @(
        @{ Name = 'model.gguf'; Bytes = [byte[]](0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, 0, 0, 0, 0); Id = 'GgufFile' }
        @{ Name = 'weights.h5'; Bytes = [byte[]](0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0); Id = 'Hdf5File' }
        @{ Name = 'model.onnx'; Bytes = [byte[]](0x08, 0x07, 0x12, 0x07) + [Text.Encoding]::ASCII.GetBytes('pytorch'); Id = 'OnnxFile' }
    ) {
        # Magic numbers from each format's specification (GGUF: 'GGUF' + version; HDF5: its 8-byte signature;
        # ONNX: a ModelProto's ir_version then producer_name fields).
        $file = Join-Path $TestDrive $Name
        [IO.File]::WriteAllBytes($file, $Bytes)
        $null = Import-TorchCheckpoint -LiteralPath $file -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be "$Id,TorchSerial.PowerShell.Commands.ImportTorchCheckpointCommand"
        (Test-TorchCheckpoint -LiteralPath $file).ErrorId | Should -Be $Id
    }

    It 'names NumPy, gzip and Keras files written by their own tools' -Skip:(-not $HasTorch) {
        & /usr/bin/python3 -c @'
import gzip, io, os, shutil, sys, zipfile
import numpy as np
out = sys.argv[1]
np.save(os.path.join(out, "a.npy"), np.arange(4))
np.savez(os.path.join(out, "a.npz"), x=np.arange(4))
with open(sys.argv[2], "rb") as src, gzip.open(os.path.join(out, "ckpt.pt.gz"), "wb") as dst:
    shutil.copyfileobj(src, dst)
with zipfile.ZipFile(os.path.join(out, "model.keras"), "w") as z:
    z.writestr("metadata.json", "{}"); z.writestr("config.json", "{}")
'@ $TestDrive $Params
        foreach ($case in @(@('a.npy', 'NumpyFile'), @('a.npz', 'NumpyFile'), @('ckpt.pt.gz', 'GzipFile'), @('model.keras', 'KerasFile'))) {
            (Test-TorchCheckpoint -LiteralPath (Join-Path $TestDrive $case[0])).ErrorId | Should -Be $case[1]
        }
    }
}

Describe '-Key completes from the file' -Skip:(-not $HasTorch) {
    It 'offers the top-level keys torch.load returns' {
        $env:CKPT = $Checkpoint
        $keys = & /usr/bin/python3 -c 'import os, torch; print("\n".join(torch.load(os.environ["CKPT"]).keys()))'
        Push-Location (Split-Path $Checkpoint)
        try {
            $offered = (TabExpansion2 'Import-TorchCheckpoint ./checkpoint.pt -Key ').CompletionMatches.CompletionText
            $offered | Should -Be $keys
            (TabExpansion2 'Compare-TorchCheckpoint ./checkpoint.pt ./checkpoint.pt -Key op').CompletionMatches.CompletionText |
                Should -Be 'optimizer'
        } finally { Pop-Location }
    }
}

Describe 'Output rendered where the module was never imported' {
    It 'shows -Parallel and thread-job output as tables of the view''s first columns, not lists of every property' {
        # A fresh pwsh whose own runspace never imports the module; only the workers do.
        $script = @'
param($Module, $File)
'views in parent: ' + @(Get-FormatData -TypeName TorchSerial.Tensors.Tensor).Count
1 | ForEach-Object -Parallel { Import-Module $using:Module; Import-TorchCheckpoint $using:File } | Out-String -Width 120
Start-ThreadJob { Import-Module $using:Module; Test-TorchCheckpoint $using:File } | Receive-Job -Wait -AutoRemoveJob |
    Out-String -Width 120
'@
        $file = Join-Path $TestDrive 'parallel.ps1'
        Set-Content -LiteralPath $file -Value $script
        [string[]] $prefix = $PwshPrefix
        $text = (& $Pwsh @prefix -NoProfile -NonInteractive -File $file -Module $ModuleManifest -File $Params 2>&1) -join "`n"
        $text | Should -Match 'views in parent: 0'
        $text | Should -Match 'Name\s+DType\s+Shape\s+NumElements'
        $text | Should -Match 'Status\s+Format\s+TensorCount'
        $text | Should -Not -Match 'StorageOffset\s*:'
    }
}
