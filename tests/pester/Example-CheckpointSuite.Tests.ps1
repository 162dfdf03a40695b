# An example of the suite a CI job runs on a checkpoint it produced: three lines, each one Assert-TorchCheckpoint.
# (The README shows the same.) A failing check throws one error that lists every failure, so the It fails with it.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Model = Join-Path $FixtureDir 'torch/checkpoint.pt'
    # The golden weights a real suite keeps beside it; here, the model's own weights saved as a state_dict.
    $script:Golden = Join-Path $TestDrive 'golden.safetensors'
    Import-TorchCheckpoint $Model -Key model | Save-Tensor -LiteralPath $Golden
}

Describe 'The released checkpoint' {
    It 'loads cleanly and has its head' { Assert-TorchCheckpoint $Model -Key model -Shape @{ 'fc.weight' = 4, 12 } -DType @{ 'fc.weight' = 'float32' } }
    It 'holds no NaN or Inf' { Assert-TorchCheckpoint $Model -Key model -Finite }
    It 'matches the golden weights' { Assert-TorchCheckpoint $Model -Key model -ReferencePath $Golden }
}
