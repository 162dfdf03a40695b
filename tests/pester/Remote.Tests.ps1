BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasTorch = [bool](Find-TorchPython)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    # Two real HTTP servers on loopback (tests/fixtures/hubserver.py): a Hugging Face Hub on 127.0.0.1 and the CDN it
    # redirects to on 127.0.0.2, with switchable faults and a log of every request. They serve the committed fixtures
    # (judged by torch when they were written) and, where torch is here, ~18 MB files torch writes at test time.
    $script:Root = Join-Path $TestDrive 'served'
    $script:Python = Find-TorchPython
    $script:ServerPython = if ($Python) { $Python }
        elseif (Test-Path /usr/bin/python3) { '/usr/bin/python3' } else { 'python3' }
    function New-Repo([string] $repo, [hashtable] $files) {
        $folder = Join-Path $Root $repo
        $null = New-Item -ItemType Directory -Force $folder
        foreach ($name in $files.Keys) { Copy-Item -LiteralPath $files[$name] (Join-Path $folder $name) }
        $folder
    }
    $torchDir = Join-Path $FixtureDir 'torch'
    $formats = Join-Path $FixtureDir 'formats'
    $null = New-Repo 'org/model' @{ 'pytorch_model.bin' = (Join-Path $torchDir 'state_dict.pt')
        'model.safetensors' = (Join-Path $formats 'st_dtypes.safetensors') }
    $sharded = New-Repo 'org/sharded' @{}
    Copy-Item (Join-Path $formats 'set_st/*') $sharded
    $null = New-Repo 'org/evil' @{ 'pytorch_model.bin' = (Join-Path $FixtureDir 'crafted/os_system.pt') }
    $gated = New-Repo 'org/gated' @{ 'model.safetensors' = (Join-Path $formats 'st_dtypes.safetensors') }
    Set-Content -LiteralPath (Join-Path $gated '.gated') -Value 'hf_gated_secret' -NoNewline
    $files = New-Repo 'files' @{ 'state_dict.pt' = (Join-Path $torchDir 'state_dict.pt')
        'checkpoint.pt' = (Join-Path $torchDir 'checkpoint.pt') }
    if ($Python) {
        $out = & $Python (Join-Path $FixtureDir 'remote.py') (Join-Path $TestDrive 'big') 2>&1
        if ($LASTEXITCODE -ne 0) { throw "remote.py failed: $out" }
        $script:BigExpected = Get-Content (Join-Path $TestDrive 'big/expected.json') -Raw |
            ConvertFrom-Json -AsHashtable
        Copy-Item (Join-Path $TestDrive 'big/big.pt') $files
        $null = New-Repo 'org/big' @{ 'pytorch_model.bin' = (Join-Path $TestDrive 'big/big.pt') }
    }

    # Starts one of the loopback servers (tests/fixtures/*.py) and waits for the ports it writes once listening.
    function Start-LoopbackServer([string] $name, [string] $script, [string[]] $arguments) {
        $portFile = Join-Path $TestDrive "$name-ports.json"
        $process = Start-Process -FilePath $ServerPython -PassThru -ArgumentList (
            @((Join-Path $FixtureDir $script), '--port-file', $portFile) + $arguments) `
            -RedirectStandardError (Join-Path $TestDrive "$name.err") `
            -RedirectStandardOutput (Join-Path $TestDrive "$name.out")
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while (-not (Test-Path $portFile) -and $clock.Elapsed.TotalSeconds -lt 20) { Start-Sleep -Milliseconds 50 }
        [pscustomobject]@{ Process = $process; Ports = Get-Content $portFile -Raw | ConvertFrom-Json }
    }
    $started = Start-LoopbackServer 'server' 'hubserver.py' @('--root', $Root)
    $script:Server = $started.Process
    $script:Hub = "http://127.0.0.1:$($started.Ports.hub)"
    $script:SavedEnv = @{}
    foreach ($name in 'HF_ENDPOINT', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HOME', 'HF_HUB_CACHE', 'HF_TOKEN_PATH') {
        $SavedEnv[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $null)
    }
    $env:HF_ENDPOINT = $Hub
    $env:HF_HOME = Join-Path $TestDrive 'hf-home'
    $env:HF_HUB_CACHE = Join-Path $TestDrive 'hf-cache'

    function Reset-Server { $null = Invoke-RestMethod "$Hub/_reset" -NoProxy }
    function Set-Fault([string] $query) { $null = Invoke-RestMethod "$Hub/_control?$query" -NoProxy }
    function Get-ServerLog { @(Invoke-RestMethod "$Hub/_log" -NoProxy) }
    function Get-Row($t) { '{0} {1} [{2}] {3}' -f $t.Name, $t.DType, ($t.Shape -join ','), (Get-Sha256 $t.GetBytes()) }
    function Get-TorchRows([object[]] $tensors) {
        $tensors | ForEach-Object { '{0} {1} [{2}] {3}' -f $_.name, $_.dtype, ($_.shape -join ','), $_.sha256 }
    }
    $script:StateDictRows = Get-TorchRows $Expected.checkpoints['state_dict.pt'].tensors
    $script:SecureToken = ConvertTo-SecureString 'hf_gated_secret' -AsPlainText -Force
}

AfterAll {
    if ($Server) { Stop-Process -Id $Server.Id -Force -ErrorAction Ignore }
    foreach ($name in $SavedEnv.Keys) { [Environment]::SetEnvironmentVariable($name, $SavedEnv[$name]) }
}

Describe 'Reading checkpoints over HTTP by ranges' {
    BeforeEach { Reset-Server }

    It 'loads a torch.save file from a plain URL with exactly the tensors torch saved' {
        $rows = Import-TorchCheckpoint "$Hub/files/state_dict.pt" | ForEach-Object { Get-Row $_ }
        $rows | Should -Be $StateDictRows
    }

    It 'loads an hf:// file through the Hub''s redirect to its CDN, pinned by the linked SHA-256' {
        $rows = Import-TorchCheckpoint 'hf://org/model/pytorch_model.bin' | ForEach-Object { Get-Row $_ }
        $rows | Should -Be $StateDictRows
        $log = Get-ServerLog
        $log[0].host | Should -Be '127.0.0.1'
        $log[0].status | Should -Be 302
        $log[0].path | Should -Be '/org/model/resolve/main/pytorch_model.bin'
        @($log | Where-Object host -eq '127.0.0.2').Count | Should -BeGreaterThan 0
    }

    It 'lists a safetensors file in one range request, and the names, dtypes and shapes are the file''s' {
        $tensors = Import-TorchCheckpoint 'hf://org/model/model.safetensors' -Lazy
        $expected = $FormatsExpected = (Get-Content (Join-Path $FixtureDir 'formats.json') -Raw |
            ConvertFrom-Json -AsHashtable).safetensors['st_dtypes.safetensors'].tensors
        ($tensors | ForEach-Object { "$($_.Name) $($_.DType) [$($_.Shape -join ',')]" } | Sort-Object) |
            Should -Be ($expected | ForEach-Object { "$($_.name) $($_.dtype) [$($_.shape -join ',')]" } | Sort-Object)
        $log = Get-ServerLog
        @($log | Where-Object host -eq '127.0.0.2').Count | Should -Be 1  # one range from the CDN ...
        @($log | Where-Object host -eq '127.0.0.1').Count | Should -Be 1  # ... after the Hub's one redirect
        $log[1].range | Should -Be 'bytes=0-102399'
    }

    It 'opens a sharded set by its index URL, its shards resolved beside it in the same repo' {
        $set = (Get-Content (Join-Path $FixtureDir 'formats.json') -Raw | ConvertFrom-Json -AsHashtable).sets
        $key = @($set.Keys | Where-Object { $_ -like 'set_st/*' })[0]
        $rows = Import-TorchCheckpoint 'hf://org/sharded/model.safetensors.index.json' | ForEach-Object { Get-Row $_ }
        $rows | Should -Be (Get-TorchRows $set[$key].tensors)
        (Get-ServerLog).path | Where-Object { $_ -like '/org/sharded/resolve/main/model-0000*' } |
            Should -Not -BeNullOrEmpty
    }

    It 'scans a remote pickle without fetching tensor data, and names the code it would run' {
        $report = Test-TorchCheckpoint 'hf://org/evil/pytorch_model.bin'
        $report.Status | Should -Be 'Unsafe'
        ($report.UnsafeGlobals -join ' ') | Should -Match 'os\.system'
        $report.Path | Should -Be 'hf://org/evil/pytorch_model.bin'
    }

    It 'works with every reading cmdlet: Compare, Get-TensorHash, Measure-Tensor, Assert' {
        $local = Join-Path $FixtureDir 'torch/state_dict.pt'
        $comparison = Compare-TorchCheckpoint "$Hub/files/state_dict.pt" $local
        @($comparison | Where-Object Status -ne 'Equal') | Should -BeNullOrEmpty
        $comparison.Count | Should -Be $StateDictRows.Count
        (Get-TensorHash "$Hub/files/state_dict.pt").Hash | Should -Be (Get-TensorHash $local).Hash
        @(Measure-Tensor -LiteralPath 'hf://org/model/pytorch_model.bin').Count | Should -Be $StateDictRows.Count
        { Assert-TorchCheckpoint "$Hub/files/state_dict.pt" -Finite -ReferencePath $local } | Should -Not -Throw
    }

    It 'merges remote inputs as it merges the same files on disk' {
        $local = Join-Path $FixtureDir 'torch/state_dict.pt'
        $inputs = "$Hub/files/state_dict.pt", 'hf://org/model/pytorch_model.bin'
        $remote = Merge-TorchCheckpoint $inputs -Weight 0.25, 0.75 | Get-TensorHash
        $disk = Merge-TorchCheckpoint $local, $local -Weight 0.25, 0.75 | Get-TensorHash
        $remote.Hash | Should -Be $disk.Hash
        $remote.Count | Should -Be $StateDictRows.Count
    }

    It 'reads only the sub-object -Key names, eagerly, and scans without fetching tensor data' -Skip:(-not $HasTorch) {
        $size = (Get-Item (Join-Path $Root 'files/big.pt')).Length
        $steps = Import-TorchCheckpoint "$Hub/files/big.pt" -Key steps -AsObject
        $steps.ToArray()[0] | Should -Be 1001
        ((Get-ServerLog) | Measure-Object bytes -Sum).Sum | Should -BeLessThan (0.02 * $size)
        Reset-Server
        (Test-TorchCheckpoint "$Hub/files/big.pt").Status | Should -Be 'Ok'
        ((Get-ServerLog) | Measure-Object bytes -Sum).Sum | Should -BeLessThan (0.01 * $size)
    }

    It 'stops at once on Ctrl+C while a request waits on a stalled server' {
        Set-Fault 'stall=30&count=3'
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', $ModuleManifest).AddStatement()
            $null = $ps.AddCommand('Import-TorchCheckpoint').AddParameter('Path', "$Hub/files/state_dict.pt")
            $running = $ps.BeginInvoke()
            Start-Sleep -Seconds 3  # the import, then the request waiting on the server
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 2
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        } finally { $ps.Dispose() }
    }

    It 'names the repo, revision and file when the Hub has no such file, revision or repo' -ForEach @(
        @{ address = 'hf://org/model/nothing.bin'; id = 'RemoteNotFound'
            says = "'nothing.bin' in the Hub repo 'org/model' at revision 'main'" }
        @{ address = 'hf://org/model@v9/pytorch_model.bin'; id = 'RemoteNotFound'; says = "revision 'v9'" }
        @{ address = 'hf://org/absent/pytorch_model.bin'; id = 'RemoteAccessDenied'
            says = "'org/absent' does not exist, or needs a token" }
        @{ address = "hf://org/model"; id = 'RemoteAddressInvalid'; says = 'hf://org/repo' }
        @{ address = "hf://org/model@../x/y.bin"; id = 'RemoteAddressInvalid'; says = "'..'" }
    ) {
        Import-TorchCheckpoint $address -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike "$id,*"
        $failed[0].ToString() | Should -BeLike "*$says*"
        $failed[0].TargetObject | Should -Be $address
    }
}

Describe 'Tokens go to the address''s own host only' {
    BeforeEach { Reset-Server }

    It 'refuses a gated repo without a token, and says a token is needed and for which repo' {
        $quiet = @{ ErrorAction = 'SilentlyContinue' }
        Import-TorchCheckpoint 'hf://org/gated/model.safetensors' -Lazy -ErrorVariable failed @quiet
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'RemoteAccessDenied,*'
        $failed[0].ToString() | Should -BeLike "*'org/gated'*needs a token*"
        $wrongToken = ConvertTo-SecureString 'wrong' -AsPlainText -Force
        Import-TorchCheckpoint 'hf://org/gated/model.safetensors' -Lazy -Token $wrongToken -ErrorVariable wrong @quiet
        $wrong[0].FullyQualifiedErrorId | Should -BeLike 'RemoteAccessDenied,*'
        $wrong[0].ToString() | Should -BeLike '*gated*accept its conditions*'
    }

    It 'sends -Token, HF_TOKEN or the token file to the Hub and never to the CDN it redirects to' -ForEach @(
        @{ how = 'parameter' }, @{ how = 'HF_TOKEN' }, @{ how = 'token file' }
    ) {
        try {
            $tokenArg = @{}
            switch ($how) {
                'parameter' { $tokenArg.Token = $SecureToken }
                'HF_TOKEN' { $env:HF_TOKEN = 'hf_gated_secret' }
                'token file' {
                    $null = New-Item -ItemType Directory -Force $env:HF_HOME
                    Set-Content (Join-Path $env:HF_HOME 'token') 'hf_gated_secret'
                }
            }
            $t = Import-TorchCheckpoint 'hf://org/gated/model.safetensors' @tokenArg
            $t.Count | Should -BeGreaterThan 3
            $log = Get-ServerLog
            $hubRequests = @($log | Where-Object host -eq '127.0.0.1')
            $cdnRequests = @($log | Where-Object host -eq '127.0.0.2')
            $hubRequests.authorization | Sort-Object -Unique | Should -Be 'Bearer hf_gated_secret'
            $cdnRequests.Count | Should -BeGreaterThan 0
            $cdnRequests | Where-Object authorization | Should -BeNullOrEmpty
        } finally {
            $env:HF_TOKEN = $null
            Remove-Item (Join-Path $env:HF_HOME 'token') -ErrorAction Ignore
        }
    }

    It 'sends -Token with a plain URL to its host and drops it on a redirect to another host' {
        $rows = Import-TorchCheckpoint "$Hub/moved/state_dict.pt" -Token $SecureToken | ForEach-Object { Get-Row $_ }
        $rows | Should -Be $StateDictRows
        $log = Get-ServerLog
        ($log | Where-Object host -eq '127.0.0.1').authorization | Should -Be 'Bearer hf_gated_secret'
        $log | Where-Object { $_.host -eq '127.0.0.2' -and $_.authorization } | Should -BeNullOrEmpty
    }
}

Describe 'Proxies' {
    BeforeAll {
        $started = Start-LoopbackServer 'proxy' 'proxyserver.py' @('--host', '127.0.0.4')
        $script:ProxyServer = $started.Process
        $script:Proxy = "http://127.0.0.4:$($started.Ports.port)"
    }
    AfterAll { if ($ProxyServer) { Stop-Process -Id $ProxyServer.Id -Force -ErrorAction Ignore } }

    It 'goes through HTTP_PROXY, and straight to the hosts NO_PROXY names' {
        # .NET reads the proxy variables once a process, so each case runs in a fresh pwsh.
        [string[]] $prefix = $PwshPrefix
        $script = "Import-Module '$ModuleManifest'; (Import-TorchCheckpoint '$Hub/files/state_dict.pt').Count"
        $env:HTTP_PROXY = $Proxy
        try {
            Reset-Server
            & $Pwsh @prefix -NoProfile -NonInteractive -Command $script | Should -Be $StateDictRows.Count
            $carried = @(Invoke-RestMethod "$Proxy/_log" -NoProxy | ForEach-Object { $_ })
            $carried | Should -Contain "$Hub/files/state_dict.pt"
            $before = $carried.Count
            $env:NO_PROXY = '127.0.0.1'
            & $Pwsh @prefix -NoProfile -NonInteractive -Command $script | Should -Be $StateDictRows.Count
            @(Invoke-RestMethod "$Proxy/_log" -NoProxy | ForEach-Object { $_ }).Count | Should -Be $before
        } finally { $env:HTTP_PROXY = $null; $env:NO_PROXY = $null }
    }
}

Describe 'TLS' {
    BeforeAll {
        # A second Hub that answers https with a certificate made here, self-signed for 127.0.0.1 (its CDN stays
        # plain http, so its redirects are downgrades).
        $key = [Security.Cryptography.ECDsa]::Create([Security.Cryptography.ECCurve+NamedCurves]::nistP256)
        $request = [Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=127.0.0.1', $key,
            [Security.Cryptography.HashAlgorithmName]::SHA256)
        $names = [Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
        $names.AddIpAddress([Net.IPAddress]::Parse('127.0.0.1'))
        $request.CertificateExtensions.Add($names.Build())
        $cert = $request.CreateSelfSigned([DateTimeOffset]::Now.AddMinutes(-5), [DateTimeOffset]::Now.AddDays(1))
        $certFile = Join-Path $TestDrive 'tls-cert.pem'
        $keyFile = Join-Path $TestDrive 'tls-key.pem'
        Set-Content $certFile $cert.ExportCertificatePem()
        Set-Content $keyFile $key.ExportPkcs8PrivateKeyPem()
        $started = Start-LoopbackServer 'tls' 'hubserver.py' @('--root', $Root, '--hub-host', '127.0.0.1',
            '--cdn-host', '127.0.0.3', '--tls-cert', $certFile, '--tls-key', $keyFile)
        $script:TlsServer = $started.Process
        $script:TlsHub = "https://127.0.0.1:$($started.Ports.hub)"
    }
    AfterAll { if ($TlsServer) { Stop-Process -Id $TlsServer.Id -Force -ErrorAction Ignore } }

    It 'refuses a certificate it cannot trust at once, and says -SkipCertificateCheck is the way for such a server' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Import-TorchCheckpoint "$TlsHub/files/state_dict.pt" -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'RemoteRequestFailed,*'
        $failed[0].ToString() | Should -BeLike '*TLS connection to 127.0.0.1:*-SkipCertificateCheck*'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 3 -Because 'a bad certificate is not retried'
    }

    It 'reads over https with -SkipCertificateCheck' {
        $rows = Import-TorchCheckpoint "$TlsHub/files/state_dict.pt" -SkipCertificateCheck |
            ForEach-Object { Get-Row $_ }
        $rows | Should -Be $StateDictRows
    }

    It 'refuses a redirect from https to plain http (the token would travel in clear after it)' {
        try {
            $env:HF_ENDPOINT = $TlsHub
            Import-TorchCheckpoint 'hf://org/model/pytorch_model.bin' -SkipCertificateCheck -ErrorVariable failed `
                -ErrorAction SilentlyContinue
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'RemoteRedirectRefused,*'
            $failed[0].ToString() | Should -BeLike '*from https to plain http (http://127.0.0.3:*'
        } finally { $env:HF_ENDPOINT = $Hub }
    }
}

Describe 'Faults: never wrong bytes, never a hang' {
    BeforeEach { Reset-Server }

    It 'refuses a server that ignores Range for a file over the first read, without pulling it' -Skip:(-not $HasTorch) {
        Set-Fault 'norange=1'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Import-TorchCheckpoint "$Hub/files/big.pt" -Lazy -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'RemoteRangeNotSupported,*'
        $failed[0].ToString() | Should -BeLike '*ignores range requests*18643959 bytes*'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
    }

    It 'refuses a range answer that claims more than was asked, before sizing anything by it' -Skip:(-not $HasTorch) {
        Set-Fault 'widerange=1&count=1'
        Import-TorchCheckpoint "$Hub/files/big.pt" -Lazy -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'RemoteResponseInvalid,*'
        $failed[0].ToString() | Should -BeLike '*range 0-102399*bytes 0-18643958/18643959*'
    }

    It 'reads a small file whole from a server that ignores Range' {
        Set-Fault 'norange=1'
        $rows = Import-TorchCheckpoint "$Hub/files/state_dict.pt" | ForEach-Object { Get-Row $_ }
        $rows | Should -Be $StateDictRows
        @(Get-ServerLog).Count | Should -Be 1
    }

    It 'retries 503 and 429 as Retry-After asks, then reads the right bytes' {
        Set-Fault 'status=503&count=2&retry_after=1'
        $rows = Import-TorchCheckpoint "$Hub/files/state_dict.pt" | ForEach-Object { Get-Row $_ }
        $rows | Should -Be $StateDictRows
        (Get-ServerLog).status[0..2] | Should -Be @(503, 503, 206)
        Reset-Server
        Set-Fault 'status=429&count=1&retry_after=1'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        (Import-TorchCheckpoint "$Hub/files/state_dict.pt" | ForEach-Object { Get-Row $_ }) | Should -Be $StateDictRows
        $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.9
    }

    It 'gives up on a server that keeps failing, with the status in the error' {
        Set-Fault 'status=500&count=50'
        Import-TorchCheckpoint "$Hub/files/state_dict.pt" -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'RemoteRequestFailed,*'
        $failed[0].ToString() | Should -BeLike '*500*after 5 tries*'
    }

    It 'times out a server that stops answering: RemoteTimeout, within the bounded retries' {
        Set-Fault 'stall=3&count=20'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Import-TorchCheckpoint "$Hub/files/state_dict.pt" -TimeoutSec 1 -ErrorVariable failed `
            -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'RemoteTimeout,*'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 15
    }

    It 'resumes ranges cut mid-body from the last byte received' -Skip:(-not $HasTorch) {
        Set-Fault 'cut=3&after=4'
        $rows = Import-TorchCheckpoint 'hf://org/big/pytorch_model.bin' | ForEach-Object { Get-Row $_ }
        $rows | Should -Be (Get-TorchRows $BigExpected['big.pt'])
        # Each cut range was asked for again from the byte where its body stopped, and only that.
        $log = Get-ServerLog
        $asked = @($log | Where-Object range | ForEach-Object { ($_.range -replace '^bytes=') })
        $cut = @($log | Where-Object { $_.status -eq 206 -and $_.range -match '^bytes=(\d+)-(\d+)$' -and
            $_.bytes -lt [long]$Matches[2] - [long]$Matches[1] + 1 })
        $cut.Count | Should -Be 3
        foreach ($c in $cut) {
            $first, $last = ($c.range -replace '^bytes=') -split '-'
            $asked | Should -Contain "$([long]$first + $c.bytes)-$last"
        }
    }

    It 'refuses bytes from a file replaced while it is read lazily: CheckpointChanged' -Skip:(-not $HasTorch) {
        $served = Join-Path $Root 'files/replaced.pt'
        Copy-Item (Join-Path $TestDrive 'big/big.pt') $served -Force
        $tensors = Import-TorchCheckpoint "$Hub/files/replaced.pt" -Lazy
        Copy-Item (Join-Path $TestDrive 'big/big2.pt') $served -Force
        { $tensors[0].GetBytes() } | Should -Throw -ExpectedMessage '*changed after it was opened*'
    }

    It 'resolves an expired signed CDN location again from the Hub' -Skip:(-not $HasTorch) {
        Set-Fault 'ttl=1'
        $tensors = Import-TorchCheckpoint 'hf://org/big/pytorch_model.bin' -Lazy
        Start-Sleep -Milliseconds 1500
        Set-Fault 'ttl=3600'
        (Get-Row $tensors[0]) | Should -Be (Get-TorchRows $BigExpected['big.pt'])[0]
        $log = Get-ServerLog
        $log.status | Should -Contain 403
        @($log | Where-Object { $_.host -eq '127.0.0.1' -and $_.status -eq 302 }).Count | Should -BeGreaterOrEqual 2
    }
}

Describe 'Remote to local' -Skip:(-not $HasTorch) {
    BeforeEach { Reset-Server }

    It 'lists a large zip checkpoint reading under 1% of it, in a handful of requests' {
        $tensors = Import-TorchCheckpoint "$Hub/files/big.pt" -Lazy
        $tensors.Count | Should -Be 6
        $log = Get-ServerLog
        $log.Count | Should -BeLessOrEqual 3
        ($log | Measure-Object bytes -Sum).Sum | Should -BeLessThan (0.01 * 18643959)
    }

    It 'streams a remote checkpoint into a local .safetensors with torch''s tensors' {
        $out = Join-Path $TestDrive 'converted.safetensors'
        Import-TorchCheckpoint 'hf://org/big/pytorch_model.bin' -Lazy | Save-Tensor $out -Force
        (Import-TorchCheckpoint $out | ForEach-Object { Get-Row $_ }) | Sort-Object |
            Should -Be (Get-TorchRows $BigExpected['big.pt'] | Sort-Object)
    }

    It 'downloads into the Hugging Face cache: blob by SHA-256, snapshot link, ref' {
        $cache = $env:HF_HUB_CACHE
        $item = Save-TorchCheckpoint 'hf://org/big/pytorch_model.bin'
        $sha = (Get-FileHash (Join-Path $Root 'org/big/pytorch_model.bin') -Algorithm SHA256).Hash.ToLowerInvariant()
        # The server's commit for a repo: the SHA-1 of its name.
        $commit = [Security.Cryptography.SHA1]::HashData([Text.Encoding]::UTF8.GetBytes('org/big'))
        $commit = [Convert]::ToHexString($commit).ToLowerInvariant()
        $item.FullName | Should -Be (Join-Path $cache "models--org--big/snapshots/$commit/pytorch_model.bin")
        $item.LinkTarget | Should -Be "../../blobs/$sha"
        (Get-FileHash $item.FullName -Algorithm SHA256).Hash.ToLowerInvariant() | Should -Be $sha
        Get-Content (Join-Path $cache 'models--org--big/refs/main') -Raw | Should -Be $commit
        Reset-Server
        $again = Save-TorchCheckpoint 'hf://org/big/pytorch_model.bin' -Verbose 4>&1
        (($again | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Message -join "`n") |
            Should -Match 'already there'
        ((Get-ServerLog) | Measure-Object bytes -Sum).Sum | Should -BeLessOrEqual 102400
    }

    It 'resumes a cut-off download from its partial file and verifies the whole' {
        $dest = Join-Path $TestDrive 'resumed.pt'
        Set-Fault 'status=404&count=1&after=3'
        Save-TorchCheckpoint 'hf://org/big/pytorch_model.bin' -Destination $dest -ErrorVariable failed `
            -ErrorAction SilentlyContinue
        $failed | Should -Not -BeNullOrEmpty
        Test-Path $dest | Should -BeFalse
        (Get-Item "$dest.incomplete").Length | Should -Be (8MB)
        Reset-Server
        $verbose = Save-TorchCheckpoint 'hf://org/big/pytorch_model.bin' -Destination $dest -Verbose 4>&1 |
            Where-Object { $_ -is [Management.Automation.VerboseRecord] }
        ($verbose.Message -join "`n") | Should -Match 'resumed and verified by sha256'
        (Get-ServerLog).range | Should -Contain "bytes=$(8MB)-$(16MB - 1)"
        (Get-FileHash $dest).Hash | Should -Be (Get-FileHash (Join-Path $TestDrive 'big/big.pt')).Hash
        Test-Path "$dest.incomplete" | Should -BeFalse
    }

    It 'starts over, never mixing versions, when the file changed since the partial download' {
        $served = Join-Path $Root 'files/moving.pt'
        Copy-Item (Join-Path $TestDrive 'big/big.pt') $served -Force
        $dest = Join-Path $TestDrive 'moving.pt'
        Set-Fault 'status=404&count=1&after=2'
        Save-TorchCheckpoint "$Hub/files/moving.pt" -Destination $dest -ErrorAction SilentlyContinue
        (Get-Item "$dest.incomplete").Length | Should -Be (8MB)
        Copy-Item (Join-Path $TestDrive 'big/big2.pt') $served -Force
        Reset-Server
        $verbose = Save-TorchCheckpoint "$Hub/files/moving.pt" -Destination $dest -Verbose 4>&1 |
            Where-Object { $_ -is [Management.Automation.VerboseRecord] }
        ($verbose.Message -join "`n") | Should -Not -Match 'resumed'
        (Get-ServerLog).range | Should -Contain "bytes=0-$(8MB - 1)"
        (Get-FileHash $dest).Hash | Should -Be (Get-FileHash (Join-Path $TestDrive 'big/big2.pt')).Hash
    }

    It 'refuses to download a file the scan finds unsafe (-ScanFirst)' {
        $dest = Join-Path $TestDrive 'evil.bin'
        Save-TorchCheckpoint 'hf://org/evil/pytorch_model.bin' -Destination $dest -ScanFirst -ErrorVariable failed `
            -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'DownloadRefused,*'
        $failed[0].ToString() | Should -BeLike '*Unsafe*'
        Test-Path $dest | Should -BeFalse
    }

    It 'keeps an existing file it cannot prove identical, and replaces it with -Force' {
        $dest = Join-Path $TestDrive 'plain.pt'
        Save-TorchCheckpoint "$Hub/files/state_dict.pt" -Destination $dest | Should -Not -BeNullOrEmpty
        Set-Content $dest 'changed locally'
        Save-TorchCheckpoint "$Hub/files/state_dict.pt" -Destination $dest -ErrorVariable failed `
            -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'WriteFailed,*'
        Get-Content $dest | Should -Be 'changed locally'
        Save-TorchCheckpoint "$Hub/files/state_dict.pt" -Destination $dest -Force | Should -Not -BeNullOrEmpty
        (Get-FileHash $dest).Hash | Should -Be (Get-FileHash (Join-Path $FixtureDir 'torch/state_dict.pt')).Hash
    }

    It 'does nothing with -WhatIf' {
        $dest = Join-Path $TestDrive 'whatif.pt'
        $r = Invoke-Hostless {
            param($d) Save-TorchCheckpoint "$env:HF_ENDPOINT/files/state_dict.pt" -Destination $d -WhatIf
        } @($dest)
        $r.Errors | Should -BeNullOrEmpty
        Test-Path $dest | Should -BeFalse
        Get-ServerLog | Should -BeNullOrEmpty
    }
}
