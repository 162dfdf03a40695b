BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:HasCryptography = (Test-Path /usr/bin/python3) -and
        ((& /usr/bin/python3 -c 'import cryptography; print(1)' 2>$null) -eq '1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Python = '/usr/bin/python3'
    # Signatures model_signing itself wrote (tests/fixtures/oms/README.md: sigstore/model-transparency's test vectors);
    # negative cases are tampered copies made here.
    $script:Oms = Join-Path $FixtureDir 'oms'
    $script:PublicKey = Join-Path $Oms 'keys/signing-key-pub.pem'
    $script:Root = Join-Path $Oms 'keys/ca-cert.pem'
    function Copy-Model([string] $name) {
        $copy = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        Copy-Item (Join-Path $Oms $name) $copy -Recurse
        $copy
    }
    function Test-Copy([string] $model, [hashtable] $with) {
        Test-ModelSignature -LiteralPath $model -IgnorePath (Join-Path $model 'ignore-me') @with
    }
}

Describe 'Test-ModelSignature on signatures model_signing wrote' {
    It 'verifies <name> with <how>' -ForEach @(
        @{ name = 'v1.1.0-elliptic-key'; how = 'its public key'; method = 'Key' }
        @{ name = 'v1.0.1-elliptic-key'; how = 'its public key (a legacy bundle: the PEM, no hint)'; method = 'Key' }
        @{ name = 'v1.1.0-certificate'; how = 'the root CA as trust anchor'; method = 'Certificate' }
        @{ name = 'v1.0.1-certificate'; how = 'the root CA as trust anchor'; method = 'Certificate' }
        @{ name = 'v1.0.0-certificate'; how = 'the root CA as trust anchor'; method = 'Certificate' }
        @{ name = 'v0.3.1-certificate'; how = 'the root CA as trust anchor'; method = 'Certificate' }
        @{ name = 'v0.2.0-certificate'; how = 'the root CA (0.2''s encoding and Digests/v0.1 predicate)'
            method = 'Certificate' }
    ) {
        $with = if ($method -eq 'Key') { @{ PublicKeyPath = $PublicKey } } else { @{ CertificateChainPath = $Root } }
        $report = Test-Copy (Join-Path $Oms $name) $with
        $report.Status | Should -Be 'Valid' -Because $report.Reason
        $report.Method | Should -Be $method
        $report.FileCount | Should -Be 2
        $report.PredicateType | Should -BeLike 'https://model_signing/*'
        if ($method -eq 'Key') {
            # model_signing's hint: SHA-256 of the key's PEM (the bundle of v1.1.0 records it)
            $report.Signer | Should -Be 'e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e'
        } else { $report.Signer | Should -Be 'CN=intermediate-ca' }
        [bool]$report | Should -BeTrue
    }

    It 'verifies <name>, a single file signed as the resource ".", with its public key' -ForEach @(
        @{ name = 'v1.0.0-elliptic-key' }, @{ name = 'v0.3.1-elliptic-key' }
    ) {
        $folder = Join-Path $Oms $name
        $report = Test-ModelSignature -LiteralPath (Join-Path $folder 'signme-1') -PublicKeyPath $PublicKey `
            -SignaturePath (Join-Path $folder 'model.sig')
        $report.Status | Should -Be 'Valid' -Because $report.Reason
        $report.FileCount | Should -Be 1
    }

    It 'finds a changed, an added and a removed file, naming each' {
        $model = Copy-Model 'v1.1.0-elliptic-key'
        Add-Content (Join-Path $model 'signme-1') 'x'
        Set-Content (Join-Path $model 'extra.bin') 'unsigned'
        $report = Test-Copy $model @{ PublicKeyPath = $PublicKey }
        $report.Status | Should -Be 'Invalid'
        $report.Reason | Should -BeLike "*'signme-1' has changed*'extra.bin' is not signed*"
        Remove-Item (Join-Path $model 'signme-2'), (Join-Path $model 'extra.bin')
        (Test-Copy $model @{ PublicKeyPath = $PublicKey }).Reason | Should -BeLike "*'signme-2' is signed but missing*"
    }

    It 'refuses another key and an edited payload, and a trust anchor file without a certificate' {
        $other = Join-Path $TestDrive 'other.pem'
        $key = [Security.Cryptography.ECDsa]::Create([Security.Cryptography.ECCurve+NamedCurves]::nistP384)
        Set-Content $other $key.ExportSubjectPublicKeyInfoPem()
        $report = Test-Copy (Join-Path $Oms 'v1.1.0-elliptic-key') @{ PublicKeyPath = $other }
        $report.Status | Should -Be 'Invalid'
        $report.Reason | Should -BeLike '*signed by another key (hint e8450dec*'

        $model = Copy-Model 'v1.1.0-elliptic-key'
        $sig = Join-Path $model 'model.sig'
        $bundle = Get-Content $sig -Raw | ConvertFrom-Json
        $payload = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($bundle.dsseEnvelope.payload))
        $payload = $payload -replace '"signme-2"', '"signme-3"'
        $bundle.dsseEnvelope.payload = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($payload))
        $bundle | ConvertTo-Json -Depth 10 -Compress | Set-Content $sig
        $edited = Test-Copy $model @{ PublicKeyPath = $PublicKey }
        $edited.Status | Should -Be 'Invalid'
        $edited.Reason | Should -Be 'its signature does not match this public key'

        Test-ModelSignature -LiteralPath (Join-Path $Oms 'v1.1.0-certificate') -CertificateChainPath $other `
            -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'SignatureKeyInvalid,*' -Because 'a key is not a certificate'
        $failed[0].ToString() | Should -BeLike '*holds no PEM certificate*'
    }

    It 'refuses a chain that does not reach the given anchor' {
        # The leaf itself is no anchor for a chain model_signing builds from the root; a stranger's CA is none either.
        $stranger = Join-Path $TestDrive 'stranger-ca.pem'
        $key = [Security.Cryptography.ECDsa]::Create([Security.Cryptography.ECCurve+NamedCurves]::nistP256)
        $request = [Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=stranger', $key,
            [Security.Cryptography.HashAlgorithmName]::SHA256)
        $request.CertificateExtensions.Add([Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new(
            $true, $false, 0, $true))
        $ca = $request.CreateSelfSigned([DateTimeOffset]::Parse('2020-01-01'), [DateTimeOffset]::Parse('2040-01-01'))
        Set-Content $stranger $ca.ExportCertificatePem()
        $report = Test-Copy (Join-Path $Oms 'v1.1.0-certificate') @{ CertificateChainPath = $stranger }
        $report.Status | Should -Be 'Invalid'
        $report.Reason | Should -BeLike '*does not chain to the given trust anchors*'
    }

    It 'answers one bool for all models with -Quiet, a keyless bundle included' {
        $models = 'v1.1.0-elliptic-key', 'v1.0.1-elliptic-key' | ForEach-Object { Join-Path $Oms $_ }
        $ignore = $models | ForEach-Object { Join-Path $_ 'ignore-me' }
        Test-ModelSignature -LiteralPath $models -PublicKeyPath $PublicKey -IgnorePath $ignore -Quiet | Should -BeTrue
        $changed = Copy-Model 'v1.0.1-elliptic-key'
        Add-Content (Join-Path $changed 'signme-1') 'x'
        Test-ModelSignature -LiteralPath ($models + $changed) -PublicKeyPath $PublicKey `
            -IgnorePath ($ignore + (Join-Path $changed 'ignore-me')) -Quiet | Should -BeFalse
        $keyless = Join-Path $Oms 'v1.1.0-sigstore'
        Test-ModelSignature $keyless -Identity 'stefanb@us.ibm.com' -Issuer 'https://sigstore.verify.ibm.com/oauth2' `
            -IgnorePath (Join-Path $keyless 'ignore-me') -Quiet | Should -BeTrue
    }

    It 'reports a validly signed statement of the wrong shape as Invalid, with a reason' {
        # Signed here with a fresh key, so the signature holds and the statement's shape is what is judged.
        $key = [Security.Cryptography.ECDsa]::Create([Security.Cryptography.ECCurve+NamedCurves]::nistP256)
        $pub = Join-Path $TestDrive 'shape-pub.pem'
        Set-Content $pub $key.ExportSubjectPublicKeyInfoPem()
        $payload = [Text.Encoding]::UTF8.GetBytes('{"_type": "https://in-toto.io/Statement/v1", "subject": ["x"], ' +
            '"predicateType": "https://model_signing/signature/v1.0", "predicate": []}')
        $type = 'application/vnd.in-toto+json'
        $pae = [Text.Encoding]::ASCII.GetBytes("DSSEv1 $($type.Length) $type $($payload.Length) ") + $payload
        $sig = $key.SignData([byte[]]$pae, [Security.Cryptography.HashAlgorithmName]::SHA256,
            [Security.Cryptography.DSASignatureFormat]::Rfc3279DerSequence)
        $model = Copy-Model 'v1.1.0-elliptic-key'
        @{ mediaType = 'application/vnd.dev.sigstore.bundle.v0.3+json'; verificationMaterial = @{ publicKey = @{} }
            dsseEnvelope = @{ payload = [Convert]::ToBase64String($payload); payloadType = $type
                signatures = @(@{ sig = [Convert]::ToBase64String($sig) }) } } | ConvertTo-Json -Depth 5 |
            Set-Content (Join-Path $model 'model.sig')
        $report = Test-Copy $model @{ PublicKeyPath = $pub }
        $report.Status | Should -Be 'Invalid'
        $report.Reason | Should -BeLike '*statement*'
    }

    It 'reports a signature file that is not a bundle as Invalid, and an unreadable one as an error' {
        $model = Copy-Model 'v1.1.0-elliptic-key'
        Set-Content (Join-Path $model 'model.sig') 'not json'
        $report = Test-Copy $model @{ PublicKeyPath = $PublicKey }
        $report.Status | Should -Be 'Invalid'
        $report.Reason | Should -BeLike 'the signature file is not JSON*'
        Remove-Item (Join-Path $model 'model.sig')
        Test-ModelSignature -LiteralPath $model -PublicKeyPath $PublicKey -ErrorVariable failed `
            -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileNotFound,*'
        $failed[0].ToString() | Should -BeLike '*model.sig*'
    }
}

Describe 'Set-ModelSignature' -Skip:(-not $HasCryptography) {
    BeforeAll {
        # Python's cryptography judges what is written (tests/interop/check_oms.py), from the format doc alone.
        $script:Judge = Join-Path $PSScriptRoot '../interop/check_oms.py'
        $script:Model = Join-Path $TestDrive 'signed-model'
        $null = New-Item -ItemType Directory -Force (Join-Path $Model 'a'), (Join-Path $Model '.github')
        # Names whose order differs between plain strings and model_signing's component-wise path order.
        Set-Content (Join-Path $Model 'a/b') 'nested'
        Set-Content (Join-Path $Model 'a-b') 'dash'
        Set-Content (Join-Path $Model 'a.txt') 'dot'
        Set-Content (Join-Path $Model '.hidden') 'dot-file, signed'
        Set-Content (Join-Path $Model '.gitignore') 'never signed'
        Set-Content (Join-Path $Model '.github/ci.yml') 'never signed'
        Set-Content (Join-Path $Model 'README.md') 'left out on purpose'
        [IO.File]::WriteAllBytes((Join-Path $Model 'weights.bin'), [byte[]](0..255))
        function New-KeyPair([string] $name, $curve) {
            $key = [Security.Cryptography.ECDsa]::Create($curve)
            Set-Content (Join-Path $TestDrive "$name.pem") $key.ExportPkcs8PrivateKeyPem()
            Set-Content (Join-Path $TestDrive "$name-pub.pem") $key.ExportSubjectPublicKeyInfoPem()
            $key
        }
        $script:P256 = New-KeyPair 'p256' ([Security.Cryptography.ECCurve+NamedCurves]::nistP256)
        $script:P384 = New-KeyPair 'p384' ([Security.Cryptography.ECCurve+NamedCurves]::nistP384)
        # A root CA and a signing certificate for $key under it: the root (with its key) and the leaf (without).
        function New-TestChain([string] $rootName, [string] $leafName, $key, $curve, $hash, [byte[]] $serial) {
            $caKey = [Security.Cryptography.ECDsa]::Create($curve)
            $caRequest = [Security.Cryptography.X509Certificates.CertificateRequest]::new("CN=$rootName", $caKey, $hash)
            $caRequest.CertificateExtensions.Add(
                [Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($true, $false, 0, $true))
            $ca = $caRequest.CreateSelfSigned([DateTimeOffset]::Now.AddDays(-1), [DateTimeOffset]::Now.AddYears(1))
            $leafRequest = [Security.Cryptography.X509Certificates.CertificateRequest]::new("CN=$leafName", $key,
                [Security.Cryptography.HashAlgorithmName]::SHA256)
            $leafRequest.CertificateExtensions.Add([Security.Cryptography.X509Certificates.X509KeyUsageExtension]::new(
                [Security.Cryptography.X509Certificates.X509KeyUsageFlags]::DigitalSignature, $true))
            $leaf = $leafRequest.Create($ca, [DateTimeOffset]::Now.AddHours(-1), [DateTimeOffset]::Now.AddDays(30),
                $serial)
            $ca, $leaf
        }
        function Invoke-Judge([string] $model, [string] $sig, [string] $pub, [string[]] $ignored = @()) {
            & $Python $Judge $model $sig $pub @ignored | ConvertFrom-Json
        }
    }

    It 'signs a folder with a <curve> key as model_signing would, and Python''s cryptography agrees' -ForEach @(
        @{ curve = 'P-256'; name = 'p256' }, @{ curve = 'P-384'; name = 'p384' }
    ) {
        $readme = Join-Path $Model 'README.md'
        Set-ModelSignature $Model -PrivateKeyPath (Join-Path $TestDrive "$name.pem") -IgnorePath $readme -Force
        $sig = Join-Path $Model 'model.sig'
        $verdict = Invoke-Judge $Model $sig (Join-Path $TestDrive "$name-pub.pem") @($readme)
        $verdict.problems | Should -BeNullOrEmpty
        $verdict.ok | Should -BeTrue
        $report = Test-ModelSignature $Model -PublicKeyPath (Join-Path $TestDrive "$name-pub.pem")
        $report.Status | Should -Be 'Valid' -Because $report.Reason
        $report.FileCount | Should -Be 5  # a/b, a-b, a.txt, .hidden, weights.bin
    }

    It 'signs with a certificate chain, and the chain verifies to its root' {
        $ca, $leaf = New-TestChain 'test root' 'model signer' $P256 `
            ([Security.Cryptography.ECCurve+NamedCurves]::nistP384) ([Security.Cryptography.HashAlgorithmName]::SHA384)`
            ([byte[]](1, 2, 3, 4))
        Set-Content (Join-Path $TestDrive 'leaf.pem') $leaf.ExportCertificatePem()
        Set-Content (Join-Path $TestDrive 'root.pem') $ca.ExportCertificatePem()
        $sig = Join-Path $TestDrive 'chain.sig'
        Set-ModelSignature $Model -PrivateKeyPath (Join-Path $TestDrive 'p256.pem') -SignaturePath $sig `
            -CertificateChainPath (Join-Path $TestDrive 'leaf.pem') -IgnorePath (Join-Path $Model 'README.md')
        $verdict = Invoke-Judge $Model $sig (Join-Path $TestDrive 'p256-pub.pem') @((Join-Path $Model 'README.md'))
        $verdict.problems | Should -BeNullOrEmpty
        $verdict.method | Should -Be 'certificate'
        $report = Test-ModelSignature $Model -SignaturePath $sig -CertificateChainPath (Join-Path $TestDrive 'root.pem')
        $report.Status | Should -Be 'Valid' -Because $report.Reason
        $report.Signer | Should -Be 'CN=model signer'
        { Set-ModelSignature $Model -PrivateKeyPath (Join-Path $TestDrive 'p384.pem') -SignaturePath $sig -Force `
            -CertificateChainPath (Join-Path $TestDrive 'leaf.pem') -ErrorAction Stop } |
            Should -Throw -ErrorId 'SignatureKeyInvalid,*'
    }

    It 'signs with an encrypted PKCS#8 key, a PKCS#12 file and a certificate object, each verified by Python' {
        $password = ConvertTo-SecureString 'correct horse' -AsPlainText -Force
        $pbe = [Security.Cryptography.PbeParameters]::new([Security.Cryptography.PbeEncryptionAlgorithm]::Aes256Cbc,
            [Security.Cryptography.HashAlgorithmName]::SHA256, 100000)
        $encrypted = Join-Path $TestDrive 'p384-encrypted.pem'
        Set-Content $encrypted $P384.ExportEncryptedPkcs8PrivateKeyPem('correct horse', $pbe)
        $readme = Join-Path $Model 'README.md'
        $sig = Join-Path $TestDrive 'encrypted.sig'
        Set-ModelSignature $Model -PrivateKeyPath $encrypted -Password $password -SignaturePath $sig -IgnorePath $readme
        (Invoke-Judge $Model $sig (Join-Path $TestDrive 'p384-pub.pem') @($readme)).ok | Should -BeTrue
        { Set-ModelSignature $Model -PrivateKeyPath $encrypted -SignaturePath $sig -Force -ErrorAction Stop } |
            Should -Throw '*encrypted; give its password with -Password*'

        # A PKCS#12 file with a signing certificate under a root: the certificate method, its chain from the file.
        $ca, $leaf = New-TestChain 'p12 root' 'p12 signer' $P256 `
            ([Security.Cryptography.ECCurve+NamedCurves]::nistP256) ([Security.Cryptography.HashAlgorithmName]::SHA256)`
            ([byte[]](5, 6, 7, 8))
        $withKey = [Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::CopyWithPrivateKey($leaf, $P256)
        $bundle = [Security.Cryptography.X509Certificates.X509Certificate2Collection]::new()
        $null = $bundle.Add($withKey); $null = $bundle.Add($ca)
        $p12 = Join-Path $TestDrive 'signer.p12'
        [IO.File]::WriteAllBytes($p12, $bundle.Export([Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12,
            'correct horse'))
        $root = Join-Path $TestDrive 'p12-root.pem'; Set-Content $root $ca.ExportCertificatePem()
        $sig = Join-Path $TestDrive 'p12.sig'
        Set-ModelSignature $Model -PrivateKeyPath $p12 -Password $password -SignaturePath $sig -IgnorePath $readme
        $verdict = Invoke-Judge $Model $sig (Join-Path $TestDrive 'p256-pub.pem') @($readme)
        $verdict.ok | Should -BeTrue
        $verdict.method | Should -Be 'certificate'
        $report = Test-ModelSignature $Model -SignaturePath $sig -CertificateChainPath $root
        $report.Status | Should -Be 'Valid' -Because $report.Reason
        $report.Signer | Should -Be 'CN=p12 signer'
        { Set-ModelSignature $Model -PrivateKeyPath $p12 -SignaturePath $sig -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'SignatureKeyInvalid,*'

        # A certificate object that holds its key, as the platform's store hands it out; one without a key is refused.
        $sig = Join-Path $TestDrive 'object.sig'
        Set-ModelSignature $Model -Certificate $withKey -SignaturePath $sig -IgnorePath $readme
        (Invoke-Judge $Model $sig (Join-Path $TestDrive 'p256-pub.pem') @($readme)).ok | Should -BeTrue
        (Test-ModelSignature $Model -SignaturePath $sig -CertificateChainPath $root).Status | Should -Be 'Valid'
        { Set-ModelSignature $Model -Certificate $leaf -SignaturePath $sig -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'SignatureKeyInvalid,*'
    }

    It 'signs a single file as the one resource ".", and keeps an existing signature without -Force' {
        $file = Join-Path $Model 'weights.bin'
        $sig = Join-Path $TestDrive 'single.sig'
        Set-ModelSignature $file -PrivateKeyPath (Join-Path $TestDrive 'p256.pem') -SignaturePath $sig
        (Invoke-Judge $file $sig (Join-Path $TestDrive 'p256-pub.pem')).ok | Should -BeTrue
        $statement = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String(
            (Get-Content $sig -Raw | ConvertFrom-Json).dsseEnvelope.payload)) | ConvertFrom-Json
        $statement.predicate.resources.name | Should -Be '.'
        $statement.subject[0].name | Should -Be 'weights.bin'
        (Test-ModelSignature $file -SignaturePath $sig -PublicKeyPath (Join-Path $TestDrive 'p256-pub.pem')).Status |
            Should -Be 'Valid'
        $before = Get-FileHash $sig
        Set-ModelSignature $file -PrivateKeyPath (Join-Path $TestDrive 'p384.pem') -SignaturePath $sig `
            -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        (Get-FileHash $sig).Hash | Should -Be $before.Hash
        $r = Invoke-Hostless { param($f, $k, $s) Set-ModelSignature $f -PrivateKeyPath $k -SignaturePath $s -WhatIf } @(
            $file, (Join-Path $TestDrive 'p256.pem'), (Join-Path $TestDrive 'whatif.sig'))
        $r.Errors | Should -BeNullOrEmpty
        Test-Path (Join-Path $TestDrive 'whatif.sig') | Should -BeFalse
    }
}

# Keyless signatures model_signing 0.3.1-1.1.0 made with Sigstore's public-good instance (Fulcio, Rekor, CT log),
# verified offline against the trusted root the module carries; each check is shown to bite by a tampered copy.
Describe 'Test-ModelSignature on keyless (Sigstore) signatures, offline' {
    BeforeAll {
        $script:Identity = @{ Identity = 'stefanb@us.ibm.com'; Issuer = 'https://sigstore.verify.ibm.com/oauth2' }
        # A copy of the v1.1.0 keyless model whose bundle the script block edits (a hashtable of its JSON).
        function Edit-Bundle([scriptblock] $edit) {
            $copy = Copy-Model 'v1.1.0-sigstore'
            $file = Join-Path $copy 'model.sig'
            $bundle = Get-Content $file -Raw | ConvertFrom-Json -AsHashtable
            & $edit $bundle
            $bundle | ConvertTo-Json -Depth 20 | Set-Content $file
            $copy
        }
        function Edit-Base64([string] $text, [int] $at) {
            $bytes = [Convert]::FromBase64String($text); $bytes[$at] = $bytes[$at] -bxor 1
            [Convert]::ToBase64String($bytes)
        }
        $script:PublicGood = Join-Path $TestDrive 'public-good.json'
        $resource = [TorchSerial.Provenance.SignatureVerifier].Assembly.GetManifestResourceStream(
            'TorchSerial.Provenance.sigstore-public-good.json')
        $reader = [IO.StreamReader]::new($resource); Set-Content $PublicGood $reader.ReadToEnd(); $reader.Dispose()
    }

    It 'verifies the keyless signature model_signing <_> wrote, naming the signer' -ForEach 'v0.3.1', 'v1.0.0',
        'v1.0.1', 'v1.1.0' {
        $report = Test-Copy (Join-Path $Oms "$_-sigstore") $Identity
        $report.Status | Should -Be 'Valid'
        $report.Method | Should -Be 'Sigstore'
        $report.Signer | Should -Be 'stefanb@us.ibm.com'
        $report.FileCount | Should -Be 2
    }

    It 'refuses another identity or issuer than the certificate names' {
        $model = Join-Path $Oms 'v1.1.0-sigstore'
        $other = Test-Copy $model @{ Identity = 'someone@example.com'; Issuer = $Identity.Issuer }
        $other.Status | Should -Be 'Invalid'
        $other.Reason | Should -Be "it was signed by 'stefanb@us.ibm.com', not by 'someone@example.com'"
        $issuer = Test-Copy $model @{ Identity = $Identity.Identity; Issuer = 'https://accounts.google.com' }
        $issuer.Reason | Should -BeLike "*vouched for by 'https://sigstore.verify.ibm.com/oauth2', not by *"
    }

    It 'refuses a tampered <what>' -ForEach @(
        @{ what = 'signed entry timestamp'; reason = '*signed entry timestamp is not the log''s signature*'
            edit = { param($b) $e = $b.verificationMaterial.tlogEntries[0]
                $e.inclusionPromise.signedEntryTimestamp = Edit-Base64 $e.inclusionPromise.signedEntryTimestamp 20 } }
        @{ what = 'inclusion proof hash'; reason = '*inclusion proof does not lead to the log''s root hash*'
            edit = { param($b) $p = $b.verificationMaterial.tlogEntries[0].inclusionProof
                $p.hashes[3] = Edit-Base64 $p.hashes[3] 5 } }
        @{ what = 'checkpoint signature'; reason = '*checkpoint is not signed by the Rekor log*'
            edit = { param($b) $c = $b.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint
                $c.envelope = $c.envelope -replace 'wNI9ajBFAiB', 'wNI9ajBFAiC' } }
        @{ what = 'log entry body'; reason = '*Rekor entry was made for another payload*'
            edit = { param($b) $e = $b.verificationMaterial.tlogEntries[0]
                $body = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($e.canonicalizedBody))
                $body = $body -replace '("payloadHash":\{"algorithm":"sha256","value":")[0-9a-f]', '${1}0'
                $e.canonicalizedBody = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($body)) } }
        @{ what = 'certificate (another signer''s)'; reason = '*made with another certificate*'
            edit = { param($b) $other = Get-Content (Join-Path $Oms 'v1.0.0-sigstore/model.sig') -Raw | ConvertFrom-Json
                $b.verificationMaterial.certificate.rawBytes = $other.verificationMaterial.certificate.rawBytes } }
        @{ what = 'log id'; reason = '*in a log the trusted root does not name*'
            edit = { param($b) $e = $b.verificationMaterial.tlogEntries[0]
                $e.logId.keyId = Edit-Base64 $e.logId.keyId 0 } }
        @{ what = 'RFC 3161 timestamp'; reason = '*not signed by a timestamp authority of the trusted root*'
            edit = { param($b) $t = $b.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0]
                $bytes = [Convert]::FromBase64String($t.signedTimestamp)
                $t.signedTimestamp = Edit-Base64 $t.signedTimestamp ($bytes.Length - 3) } }
    ) {
        $report = Test-Copy (Edit-Bundle $edit) $Identity
        $report.Status | Should -Be 'Invalid'
        $report.Reason | Should -BeLike $reason
    }

    It 'reports a malformed keyless bundle as Invalid, never a raw exception (<what>)' -ForEach @(
        @{ what = 'a log index past 64 bits'; edit = { param($b)
            $b.verificationMaterial.tlogEntries[0].logIndex = '9' * 30 } }
        @{ what = 'a null body'; edit = { param($b) $b.verificationMaterial.tlogEntries[0].canonicalizedBody = $null } }
        @{ what = 'a body that is not JSON'; edit = { param($b)
            $b.verificationMaterial.tlogEntries[0].canonicalizedBody = [Convert]::ToBase64String([byte[]](1, 2, 3)) } }
        @{ what = 'an empty proof'; edit = { param($b) $b.verificationMaterial.tlogEntries[0].inclusionProof = @{} } }
        @{ what = 'a timestamp that is not DER'; edit = { param($b)
            $b.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp = 'AAEC' } }
        @{ what = 'a certificate that is not DER'; edit = { param($b)
            $b.verificationMaterial.certificate.rawBytes = 'AAEC' } }
        @{ what = 'hashes of the wrong type'; edit = { param($b)
            $b.verificationMaterial.tlogEntries[0].inclusionProof.hashes = 7 } }
    ) {
        $report = Test-Copy (Edit-Bundle $edit) $Identity
        $report.Status | Should -Be 'Invalid'
        $report.Reason | Should -Not -BeNullOrEmpty
    }

    It 'checks the chain and the SCT against the trusted root it is given' {
        $model = Join-Path $Oms 'v1.1.0-sigstore'
        (Test-Copy $model ($Identity + @{ TrustedRootPath = $PublicGood })).Status | Should -Be 'Valid'
        $root = Get-Content $PublicGood -Raw | ConvertFrom-Json -AsHashtable
        $root.certificateAuthorities = @($root.certificateAuthorities | Where-Object { $_.validFor.end })
        $noFulcio = Join-Path $TestDrive 'no-fulcio.json'; $root | ConvertTo-Json -Depth 20 | Set-Content $noFulcio
        (Test-Copy $model ($Identity + @{ TrustedRootPath = $noFulcio })).Reason |
            Should -BeLike '*does not chain to a Fulcio authority*'
        $root = Get-Content $PublicGood -Raw | ConvertFrom-Json -AsHashtable
        $root.ctlogs = @()
        $noCt = Join-Path $TestDrive 'no-ct.json'; $root | ConvertTo-Json -Depth 20 | Set-Content $noCt
        (Test-Copy $model ($Identity + @{ TrustedRootPath = $noCt })).Reason |
            Should -BeLike '*signed certificate timestamp is not from a certificate-transparency log*'
        $root = Get-Content $PublicGood -Raw | ConvertFrom-Json -AsHashtable
        $root.timestampAuthorities = @()
        $noTsa = Join-Path $TestDrive 'no-tsa.json'; $root | ConvertTo-Json -Depth 20 | Set-Content $noTsa
        (Test-Copy $model ($Identity + @{ TrustedRootPath = $noTsa })).Reason |
            Should -Be 'it carries RFC 3161 timestamps, but the trusted root names no timestamp authority'
        (Test-Copy (Join-Path $Oms 'v1.0.1-sigstore') ($Identity + @{ TrustedRootPath = $noTsa })).Status |
            Should -Be 'Valid' -Because 'a 1.0.1 bundle carries no timestamp'
        $notRoot = Join-Path $TestDrive 'not-root.json'; Set-Content $notRoot '{"tlogs": 3}'
        { Test-Copy $model ($Identity + @{ TrustedRootPath = $notRoot; ErrorAction = 'Stop' }) } |
            Should -Throw -ErrorId 'SignatureKeyInvalid,TorchSerial.PowerShell.Commands.TestModelSignatureCommand'
    }

    It 'still compares the files: a changed one is Invalid, named' {
        $copy = Copy-Model 'v1.1.0-sigstore'
        Add-Content (Join-Path $copy 'signme-2') 'x'
        $report = Test-Copy $copy $Identity
        $report.Status | Should -Be 'Invalid'
        $report.Reason | Should -BeLike '*signme-2*'
    }

    It 'reports a keyless bundle given a key as the wrong method' {
        $report = Test-Copy (Join-Path $Oms 'v1.1.0-sigstore') @{ PublicKeyPath = $PublicKey }
        $report.Status | Should -Be 'Invalid'
        $report.Reason | Should -BeLike '*keyless (Sigstore) signature; verify it with -Identity and -Issuer*'
    }
}

# The OMS v1.0 specification's own test vectors (ossf/model-signing-spec, tests/fixtures/oms/spec-v1.0). The key and
# certificate ones sign model_signing's v1.1.0 test files but do not ignore a model.sig, so the model is a copy of
# those files without one.
Describe 'Test-ModelSignature on the OMS specification''s test vectors' {
    BeforeAll {
        $script:Spec = Join-Path $Oms 'spec-v1.0'
        $script:SpecModel = Join-Path $TestDrive 'spec-model'
        $null = New-Item -ItemType Directory $SpecModel
        Copy-Item (Join-Path $Oms 'v1.1.0-elliptic-key/*') $SpecModel -Exclude 'model.sig'
        $script:Keyless = @{ Identity = 'stefanb@us.ibm.com'; Issuer = 'https://sigstore.verify.ibm.com/oauth2' }
        function Test-Vector([string] $vector, [string] $model, [hashtable] $with) {
            Test-ModelSignature -LiteralPath $model -SignaturePath (Join-Path $Spec $vector) `
                -IgnorePath (Join-Path $model 'ignore-me') @with
        }
    }

    It 'verifies the valid <vector> vector' -ForEach @(
        @{ vector = 'valid/key.bundle.json'; method = 'Key' }
        @{ vector = 'valid/certificate.bundle.json'; method = 'Certificate' }
        @{ vector = 'valid/sigstore.bundle.json'; method = 'Sigstore' }
    ) {
        $with = switch ($method) {
            'Key' { @{ PublicKeyPath = $PublicKey } }
            'Certificate' { @{ CertificateChainPath = $Root } }
            'Sigstore' { $Keyless }
        }
        $model = if ($method -eq 'Sigstore') { Join-Path $Oms 'v1.1.0-sigstore' } else { $SpecModel }
        $report = Test-Vector $vector $model $with
        $report.Status | Should -Be 'Valid' -Because $report.Reason
        $report.Method | Should -Be $method
    }

    It 'reports the invalid <vector> vector as Invalid: <reason>' -ForEach @(
        @{ vector = 'invalid/empty.bundle.json'; reason = 'the signature file is not JSON*' }
        @{ vector = 'invalid/missing-envelope.bundle.json'; reason = 'it has no DSSE envelope' }
        @{ vector = 'invalid/missing-verification-material.bundle.json'; reason = 'it has no verificationMaterial' }
        @{ vector = 'invalid-payload/wrong-predicate.bundle.json'; reason = 'its signature does not match*' }
    ) {
        $report = Test-Vector $vector $SpecModel @{ PublicKeyPath = $PublicKey }
        $report.Status | Should -Be 'Invalid'
        $report.Reason | Should -BeLike $reason
    }

    It 'reports the keyless vector without transparency-log entries as Invalid' {
        $report = Test-Vector 'invalid/missing-tlog-entries.bundle.json' (Join-Path $Oms 'v1.1.0-sigstore') $Keyless
        $report.Status | Should -Be 'Invalid'
        $report.Reason | Should -Be 'it has no transparency-log entry, so nothing vouches for when it was signed'
    }
}
