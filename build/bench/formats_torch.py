#!/usr/bin/python3
"""The torch side of the formats rows of build.ps1 -Task Bench, on one .pt file (GPT-2 small).

Usage: formats_torch.py SOURCE.pt OUT_DIR REPEATS   -> one JSON object of seconds (the median of REPEATS, after a warm-up)
  load_s       torch.load of the .pt (what our safetensors load and listings are set against)
  cp_s         `cp` of the .pt file (the floor for a conversion that writes as many bytes)
  convert_s    torch's own route to safetensors: torch.load, then the header and each tensor's bytes through numpy
  reshard_s    the same, split into 100 MB shards plus an index
  convert_peak_bytes  peak memory of that conversion in a fresh process, over `import torch`
No safetensors library is installable here, so the writer below follows the format description
(formats-next.md §1): what safetensors.torch.save_file does, minus its Rust.
"""
import gc, json, os, struct, subprocess, sys, time, statistics
import torch

src, out_dir, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
CODES = {torch.float32: ("F32", 15), torch.float16: ("F16", 11), torch.int64: ("I64", 18), torch.bfloat16: ("BF16", 12)}


def write_safetensors(path, items):
    items = sorted(items, key=lambda kv: (-CODES[kv[1].dtype][1], kv[0]))
    header, at = {"__metadata__": {"format": "pt"}}, 0
    for name, t in items:
        n = t.numel() * t.element_size()
        header[name] = {"dtype": CODES[t.dtype][0], "shape": list(t.shape), "data_offsets": [at, at + n]}
        at += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for _, t in items:
            f.write(t.contiguous().numpy().tobytes())


def convert():
    sd = torch.load(src)
    write_safetensors(os.path.join(out_dir, "torch_converted.safetensors"), list(sd.items()))


def reshard():
    sd = torch.load(src)
    shards, cur, size = [], [], 0
    for k, t in sd.items():
        n = t.storage().nbytes()
        if size + n > 100_000_000 and cur:
            shards.append(cur)
            cur, size = [], 0
        cur.append((k, t))
        size += n
    shards.append(cur)
    weight_map = {}
    for i, shard in enumerate(shards):
        name = f"torch_model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write_safetensors(os.path.join(out_dir, name), shard)
        weight_map.update((k, name) for k, _ in shard)
    with open(os.path.join(out_dir, "torch_model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": sum(t.storage().nbytes() for t in sd.values())}, "weight_map": weight_map}, f, indent=2)


def cp():
    subprocess.run(["cp", src, os.path.join(out_dir, "cp_copy.pt")], check=True)


def median(f):
    f()
    times = []
    for _ in range(repeats):
        os.sync()
        gc.collect()
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)  # what a user lives with; the best run is rare


result = {"load_s": median(lambda: torch.load(src)), "cp_s": median(cp), "convert_s": median(convert), "reshard_s": median(reshard)}
probe = ("import re, sys, torch, runpy\n"
         "kb = lambda f: int(re.search(f + r':\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
         "open('/proc/self/clear_refs', 'w').write('5'); before = kb('VmRSS')\n"
         "sd = torch.load(sys.argv[1]); print(kb('VmHWM') - before)")
result["convert_peak_bytes"] = int(subprocess.run([sys.executable, "-c", probe, src], capture_output=True, text=True,
                                                  check=True).stdout) * 1024
for f in os.listdir(out_dir):
    if f.startswith(("torch_model-", "torch_converted", "cp_copy", "torch_model.safetensors")):
        os.remove(os.path.join(out_dir, f))
print(json.dumps(result))
