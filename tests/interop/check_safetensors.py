#!/usr/bin/python3
"""Real torch judges the safetensors files and sharded sets TorchSerial writes.

Usage: /usr/bin/python3 tests/interop/check_safetensors.py MANIFEST.json RESULT.json
Each manifest entry is {"file": a .safetensors file, a .bin or an *.index.json, "source": the .pt it came from}.
No safetensors library is installable here, so this checker implements the format from its description
(../../../shared/docs/formats-next.md §1) and checks every rule of the reference reader, plus the layout of the
reference writer:
  * an 8-byte little-endian length N <= 100,000,000; the header fits the file; N % 8 == 0, padded with spaces;
  * the header is UTF-8 JSON, one object, no duplicate keys; __metadata__ maps strings to strings and has format=pt;
  * each tensor has exactly dtype, shape, data_offsets; a known dtype; sizes match shape x dtype bits;
  * offsets sorted, from 0, no holes, no overlaps, and the data ends exactly at the end of the file;
  * tensors in the reference writer's order (descending dtype enum, then name) and the compact serde_json bytes.
Then the tensors are read with numpy, turned into torch tensors and compared with torch.equal to the source's; a name
left out as removed -> kept must be, in torch's source, the very same view as the kept one (same storage, offset,
shape, stride, dtype), since a reader rebuilds it from the name alone.
Sets: the index is json.dump(indent=2) of {"metadata": {"total_size", ...}, "weight_map"}; every shard exists and
holds exactly the tensors the index gives it; .bin shards load with torch.load(weights_only=True).
RESULT.json: one entry per file: {"file", "ok", "tensors", "problems": [...]}.
"""
import collections, json, os, struct, sys
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from torch_describe import walk  # noqa: E402

ORDER = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
         "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
BITS = {c: b for c, b in zip(ORDER, [8, 4, 6, 6, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64])}
# What torch 1.13 can hold: numpy dtype to read with, and the torch dtype to view it as.
READ = {"BOOL": (np.bool_, torch.bool), "U8": (np.uint8, torch.uint8), "I8": (np.int8, torch.int8),
        "I16": (np.int16, torch.int16), "F16": (np.float16, torch.float16), "BF16": (np.int16, torch.bfloat16),
        "I32": (np.int32, torch.int32), "F32": (np.float32, torch.float32), "C64": (np.complex64, torch.complex64),
        "F64": (np.float64, torch.float64), "I64": (np.int64, torch.int64)}


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate keys " + str([k for k in keys if keys.count(k) > 1]))
    return collections.OrderedDict(pairs)


def check_file(path, problems):
    raw = open(path, "rb").read()
    if len(raw) < 8:
        problems.append("header too small")
        return {}, {}
    n = struct.unpack("<Q", raw[:8])[0]
    if n > 100_000_000:
        problems.append("header too large")
        return {}, {}
    if 8 + n > len(raw):
        problems.append("invalid header length")
        return {}, {}
    text = raw[8:8 + n]
    if n % 8:
        problems.append(f"header length {n} is not a multiple of 8")
    stripped = text.rstrip(b" ")
    if not stripped.startswith(b"{"):
        problems.append("header does not start with '{'")
    try:
        header = json.loads(text.decode("utf-8"), object_pairs_hook=no_duplicates)
    except Exception as e:  # noqa: BLE001 (the reason is the finding)
        problems.append(f"invalid header: {e}")
        return {}, {}
    meta = header.pop("__metadata__", None)
    if meta is None or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        problems.append(f"__metadata__ missing or not str->str: {meta}")
    elif meta.get("format") != "pt":
        problems.append(f"format is {meta.get('format')!r}, not 'pt'")
    entries = []
    for name, info in header.items():
        if set(info) != {"dtype", "shape", "data_offsets"}:
            problems.append(f"{name}: fields {sorted(info)}")
            continue
        if info["dtype"] not in BITS:
            problems.append(f"{name}: unknown dtype {info['dtype']}")
            continue
        entries.append((name, info))
    by_offset = sorted(entries, key=lambda e: tuple(e[1]["data_offsets"]))
    at = 0
    for name, info in by_offset:
        b, e = info["data_offsets"]
        if b != at or e < b:
            problems.append(f"{name}: offsets {b},{e}, expected start {at}")
        numel = 1
        for d in info["shape"]:
            numel *= d
        bits = numel * BITS[info["dtype"]]
        if bits % 8 or e - b != bits // 8:
            problems.append(f"{name}: {e - b} bytes for shape {info['shape']} of {info['dtype']}")
        at = e
    if 8 + n + at != len(raw):
        problems.append(f"data ends at {8 + n + at}, file has {len(raw)} bytes")
    want = sorted(entries, key=lambda e: (-ORDER.index(e[1]["dtype"]), e[0]))
    if [e[0] for e in by_offset] != [e[0] for e in want]:
        problems.append("tensor order is not the reference writer's (descending dtype, then name)")
    compact = {"__metadata__": meta} if meta is not None else {}
    compact.update((k, {"dtype": v["dtype"], "shape": v["shape"], "data_offsets": v["data_offsets"]}) for k, v in by_offset)
    if json.dumps(compact, separators=(",", ":"), ensure_ascii=False).encode() != stripped:
        problems.append("header bytes are not the compact serde_json form")
    tensors = {}
    for name, info in entries:
        b, e = info["data_offsets"]
        code = info["dtype"]
        if code not in READ:
            continue
        np_dtype, torch_dtype = READ[code]
        array = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=np_dtype).copy()
        t = torch.from_numpy(array)
        if code == "BF16":
            t = t.view(torch.bfloat16)
        tensors[name] = t.reshape(info["shape"])
    return tensors, meta or {}


def flat(obj):
    """Tensors by key path, as Import-TorchCheckpoint names them (what Save-Tensor receives when they are piped)."""
    found = []
    walk(obj, "", found)
    return collections.OrderedDict(found)


def same_view(a, b):
    """A name may be left out as an alias only where torch sees the very same view: a reader rebuilds it by name."""
    return (b is not None and a.dtype == b.dtype and list(a.shape) == list(b.shape) and a.stride() == b.stride()
            and a.storage_offset() == b.storage_offset() and a.storage().data_ptr() == b.storage().data_ptr())


def compare(source, tensors, meta, problems):
    for name, t in source.items():
        if name not in tensors:
            kept = meta.get(name)
            if kept is None or kept not in tensors:
                problems.append(f"{name} missing and not recorded as a removed duplicate")
            elif not same_view(t, source.get(kept)):
                problems.append(f"{name} recorded as an alias of {kept}, but torch's source holds a different view "
                                "(its values are lost)")
            continue
        got = tensors[name]
        if got.dtype != t.dtype or list(got.shape) != list(t.shape) or not torch.equal(got, t.contiguous()):
            problems.append(f"{name}: differs from the source")
    extra = set(tensors) - set(source)
    if extra:
        problems.append(f"tensors not in the source: {sorted(extra)}")


def check(entry):
    path, problems = entry["file"], []
    source = flat(torch.load(entry["source"], weights_only=True))
    if path.endswith(".index.json"):
        text = open(path, "rb").read()
        index = json.loads(text, object_pairs_hook=no_duplicates)
        if list(index) != ["metadata", "weight_map"] or "total_size" not in index["metadata"]:
            problems.append(f"index keys {list(index)}")
        if json.dumps(index, indent=2).encode() != text:
            problems.append("index bytes are not json.dump(indent=2)")
        folder, tensors, meta = os.path.dirname(path), {}, dict(index["metadata"])
        shards = list(collections.OrderedDict.fromkeys(index["weight_map"].values()))
        total = 0
        for shard in shards:
            full = os.path.join(folder, shard)
            if shard.endswith(".safetensors"):
                got, _ = check_file(full, problems)
                total += sum(t.numel() * t.element_size() for t in got.values())
            else:
                got = dict(torch.load(full, weights_only=True))
                total += sum(s.nbytes() for s in {t.storage().data_ptr(): t.storage() for t in got.values()}.values())
            listed = [k for k, v in index["weight_map"].items() if v == shard]
            if sorted(listed) != sorted(got):
                problems.append(f"{shard} holds {sorted(got)} but the index lists {sorted(listed)}")
            tensors.update(got)
        if shards and shards[0].endswith(".safetensors") and total != index["metadata"]["total_size"]:
            problems.append(f"total_size {index['metadata']['total_size']} != {total}")
    elif path.endswith(".safetensors"):
        tensors, meta = check_file(path, problems)
    else:
        tensors, meta = dict(torch.load(path, weights_only=True)), {}
    compare(source, tensors, meta, problems)
    return {"file": path, "ok": not problems, "tensors": len(tensors), "problems": problems}


def main():
    manifest = json.load(open(sys.argv[1]))
    if isinstance(manifest, dict):
        manifest = [manifest]
    results = []
    for entry in manifest:
        try:
            results.append(check(entry))
        except Exception as e:  # noqa: BLE001 (a crash is a failed check, reported per file)
            results.append({"file": entry["file"], "ok": False, "tensors": 0, "problems": [f"{type(e).__name__}: {e}"]})
    json.dump(results, open(sys.argv[2], "w"), indent=1)


main()
