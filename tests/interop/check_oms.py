#!/usr/bin/python3
"""Python's cryptography judges an OMS signature (model.sig) that TorchSerial wrote, independently of the .NET code.

Usage: /usr/bin/python3 tests/interop/check_oms.py MODEL SIGNATURE PUBLIC_KEY_PEM [IGNORED_PATH ...]
       prints {"ok", "method", "problems"}.

Written for this project from ../../../shared/docs/model-signing.md (no code of model_signing is copied): the bundle's
media and payload types (§1.2-1.3), the key hint (SHA-256 of the key's SubjectPublicKeyInfo PEM, §1.2) or the
leaf certificate's key, the ECDSA signature over the DSSE v1 pre-authentication encoding with the curve's hash
(§1.3), the statement type, predicate type and root digest (§1.4, §1.8), and the resources against a fresh walk of
the model made the way model_signing walks it (§1.7: every file under the folder, dot-files included, minus the
recorded ignore paths, .git* at the root and the signature; a single file is the one resource "."), in model_signing's
order (pathlib's component-wise order of the names, §1.8).
"""
import base64, hashlib, json, os, pathlib, sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

MEDIA = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD = "application/vnd.in-toto+json"


def pae(payload):
    return b"DSSEv1 %d %s %d " % (len(PAYLOAD), PAYLOAD.encode(), len(payload)) + payload


def curve_hash(key):
    return {"secp256r1": hashes.SHA256(), "secp384r1": hashes.SHA384(), "secp521r1": hashes.SHA512()}[key.curve.name]


def walk(model, ignored):
    model = pathlib.Path(model)
    if model.is_file():
        return {".": hashlib.sha256(model.read_bytes()).hexdigest()}
    out = {}
    for p in model.glob("**/*"):
        rel = p.relative_to(model)
        if any(rel == pathlib.PurePath(i) or pathlib.PurePath(i) in rel.parents for i in ignored) or not p.is_file():
            continue
        out[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def main(model, signature, public_key, extra):
    problems = []
    bundle = json.load(open(signature))
    if bundle.get("mediaType") != MEDIA:
        problems.append("mediaType")
    env = bundle["dsseEnvelope"]
    if env.get("payloadType") != PAYLOAD:
        problems.append("payloadType")
    payload = base64.b64decode(env["payload"])
    sig = base64.b64decode(env["signatures"][0]["sig"])
    given = serialization.load_pem_public_key(open(public_key, "rb").read())
    material = bundle["verificationMaterial"]
    if "publicKey" in material:
        method, key = "key", given
        pem = given.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        if material["publicKey"].get("hint") != hashlib.sha256(pem).hexdigest():
            problems.append("hint")
    else:
        method = "certificate"
        certs = [x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
                 for c in material["x509CertificateChain"]["certificates"]]
        key = certs[0].public_key()
        if key.public_numbers() != given.public_numbers():
            problems.append("the leaf certificate does not hold the signing key")
    try:
        key.verify(sig, pae(payload), ec.ECDSA(curve_hash(key)))
    except InvalidSignature:
        problems.append("signature")
    statement = json.loads(payload)
    if statement["_type"] != "https://in-toto.io/Statement/v1":
        problems.append("_type")
    if statement["predicateType"] != "https://model_signing/signature/v1.0":
        problems.append("predicateType")
    resources = statement["predicate"]["resources"]
    root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in resources)).hexdigest()
    if statement["subject"][0]["digest"]["sha256"] != root:
        problems.append("root digest")
    serial = statement["predicate"]["serialization"]
    if (serial["method"], serial["hash_type"]) != ("files", "sha256"):
        problems.append("serialization")
    base = model if os.path.isdir(model) else os.path.dirname(model)
    ignored = list(serial.get("ignore_paths", [])) + [".git", ".gitattributes", ".github", ".gitignore"] + [
        os.path.relpath(p, base) for p in extra + [signature]]
    local = walk(model, ignored)
    order = sorted(local, key=lambda n: pathlib.PurePosixPath(n))
    signed = [(r["name"], r["algorithm"], r["digest"]) for r in resources]
    if signed != [(n, "sha256", local[n]) for n in order]:
        problems.append(f"resources {signed} != {[(n, local[n]) for n in order]}")
    print(json.dumps({"ok": not problems, "method": method, "problems": problems}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
