@{
    RootModule           = 'TorchSerial.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f2b8c1e-3d4a-4e5f-9a7b-1c2d3e4f5a6b'
    Author               = 'TorchSerial developers'
    CompanyName          = 'TorchSerial'
    Copyright            = '(c) TorchSerial developers. MIT License.'
    Description          = 'Reads and writes PyTorch checkpoints (torch.save zip, legacy and tar files, safetensors, sharded sets, TorchScript weights) with no Python, exactly as torch.load does, and safely: nothing in a file is ever executed. Scans, compares, casts, renames and hashes checkpoints, and places tensors on devices through ILGPU.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('TorchSerial.Format.ps1xml')
    CmdletsToExport      = @('Import-TorchCheckpoint', 'Save-Tensor', 'ConvertTo-Tensor', 'Test-TorchCheckpoint', 'Convert-DeviceMap', 'Get-TorchDevice', 'Register-TorchLocation', 'Unregister-TorchLocation',
        'Rename-Tensor', 'Get-TensorHash', 'Compare-TorchCheckpoint', 'Measure-Tensor', 'Assert-TorchCheckpoint', 'Convert-Tensor',
        'Merge-TorchCheckpoint', 'Save-TorchCheckpoint',
        'Test-ModelSignature', 'Set-ModelSignature')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags = @('PyTorch', 'checkpoint', 'torch', 'pickle', 'safetensors', 'ML', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            ReleaseNotes = 'See CHANGELOG.md: safetensors, sharded sets and TorchScript weights; the toolbox; a PSResourceGet package; scans need no device; script-friendly reports (names in JSON); -Quiet answers once for all files.'
        }
    }
}
