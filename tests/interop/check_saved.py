#!/usr/bin/python3
"""Real torch judges what TorchSerial writes.

Usage: /usr/bin/python3 tests/interop/check_saved.py MANIFEST.json RESULT.json
The manifest lists files Save-Tensor wrote: {"file", "expected" (a fixture name in expected.json),
"original" (that fixture's path), "layout" ("zip" or "legacy"), "protocol", "root" (zip root folder)}. For each file this script:
  * loads it with torch.load(weights_only=True), falling back to weights_only=False only where torch
    1.13's small allow-list refuses (the result records which one was needed); a protocol-2 save must
    load with weights_only=True whenever torch's own original does;
  * describes it exactly as generate.py described the original fixture and compares every field:
    names and order, dtype, shape, stride, offset, flags, storage grouping, nbytes, SHA-256 of the bytes;
  * for zips, checks the container with Python's zipfile: every record STORED, every payload on a
    64-byte boundary, CRCs valid, root folder, and torch >= 2.7's record set and order.
RESULT.json gets one entry per file: {"file", "ok", "weights_only", "problems": [...]}.
"""
import json, os, re, sys, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
from torch_describe import describe  # noqa: E402
import torch  # noqa: E402

EXPECTED = json.load(open(os.path.join(HERE, "..", "fixtures", "expected.json")))["checkpoints"]


def check_zip(path, root):
    problems = []
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        names = [i.filename for i in infos]
        if z.testzip() is not None:
            problems.append("CRC mismatch in " + z.testzip())
        with open(path, "rb") as f:
            raw = f.read()
        for i in infos:
            if i.compress_type != zipfile.ZIP_STORED:
                problems.append(f"{i.filename} is not STORED")
            name_len = int.from_bytes(raw[i.header_offset + 26:i.header_offset + 28], "little")
            extra_len = int.from_bytes(raw[i.header_offset + 28:i.header_offset + 30], "little")
            payload = i.header_offset + 30 + name_len + extra_len
            if payload % 64:
                problems.append(f"{i.filename} payload at {payload}, not 64-byte aligned")
        if any(not n.startswith(root + "/") for n in names):
            problems.append(f"records not all under '{root}/': {names[:3]}")
        rel = [n[len(root) + 1:] for n in names]
        storages = [r for r in rel if r.startswith("data/")]
        want = ["data.pkl", ".format_version", ".storage_alignment", "byteorder"] + \
               [f"data/{k}" for k in range(len(storages))] + ["version", ".data/serialization_id"]
        if rel != want:
            problems.append(f"record order {rel} != {want}")
        if z.read(f"{root}/byteorder") != b"little" or z.read(f"{root}/version") != b"3\n":
            problems.append("byteorder/version records differ from torch's")
        if not re.fullmatch(rb"\d{40}", z.read(f"{root}/.data/serialization_id")):
            problems.append("serialization_id is not 40 digits")
    return problems


def loads_weights_only(path):
    try:
        torch.load(path, map_location="cpu", weights_only=True)
        return True
    except Exception:
        return False


def main(manifest_path, result_path):
    results = []
    for item in json.load(open(manifest_path)):
        path, problems, wo = item["file"], [], True
        try:
            try:
                obj_tensors = describe(path, weights_only=True)
            except Exception as e:  # torch 1.13's allow-list is small; say so, then judge the content anyway
                wo = f"refused: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
                obj_tensors = describe(path, weights_only=False)
            obj, tensors = obj_tensors
            expected = EXPECTED[item["expected"]]
            for i, (got, exp) in enumerate(zip(tensors, expected["tensors"])):
                if got != exp:
                    diff = {k: (got.get(k), exp.get(k)) for k in set(got) | set(exp) if got.get(k) != exp.get(k)}
                    problems.append(f"tensor {i} ({exp['name']}): {diff}")
            if len(tensors) != len(expected["tensors"]):
                problems.append(f"{len(tensors)} tensors, expected {len(expected['tensors'])}")
            if "top_keys" in expected and [str(k) for k in obj.keys()] != expected["top_keys"]:
                problems.append(f"key order {list(obj.keys())} != {expected['top_keys']}")
            if "top_type" in expected and type(obj).__name__ != expected["top_type"]:
                problems.append(f"top type {type(obj).__name__} != {expected['top_type']}")
            if item["layout"] == "zip":
                problems += check_zip(path, item["root"])
            # Where torch loads its own original under weights_only=True, a protocol-2 save must load so too.
            if item["protocol"] == 2 and wo is not True and loads_weights_only(item["original"]):
                problems.append(f"torch loads the original with weights_only=True but not this file ({wo})")
        except Exception as e:
            problems.append(f"torch.load failed: {type(e).__name__}: {e}")
        results.append({"file": os.path.basename(path), "ok": not problems, "weights_only": wo, "problems": problems})
    json.dump(results, open(result_path, "w"), indent=1)
    bad = [r for r in results if not r["ok"]]
    print(f"{len(results) - len(bad)} of {len(results)} files load in torch {torch.__version__} exactly as expected")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
