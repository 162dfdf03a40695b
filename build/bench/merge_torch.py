#!/usr/bin/python3
"""The torch side of the merge rows of build.ps1 -Task Bench, on the GPT-2 file.

Usage: merge_torch.py SOURCE.pt OUT_DIR REPEATS -> one JSON object (the median of REPEATS after a warm-up)
  adapter_s   torch's route to merge a rank-16 LoRA into GPT-2's 12 attention weights (c_attn, stored (in, out), so
              fan_in_fan_out): torch.load, W += s * (B @ A).T per module (float32, as PEFT on CPU), torch.save
  average_s   torch's route to average three GPT-2-sized checkpoints (as fairseq's average_checkpoints.py and timm's
              avg_checkpoints.py do): torch.load each, sum in float64, divide, cast back, torch.save
  peak_adapter_bytes  the adapter route in a fresh process, over `import torch`
It writes once into OUT_DIR: merge_b.pt and merge_c.pt (the same tensors with small noise), and merge_lora/ (an
adapter_config.json and adapter_model.safetensors in PEFT's layout: base_model.model.<module>.lora_A/B.weight).
"""
import json, os, sys
import torch
from bench_common import median_of, peak_of

src, out_dir, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures"))
from distributed import write_safetensors  # noqa: E402  (the layout of formats-next.md §1)

inputs = [src] + [os.path.join(out_dir, f"merge_{n}.pt") for n in "bc"]
lora = os.path.join(out_dir, "merge_lora")
if not all(os.path.exists(p) for p in inputs[1:]) or not os.path.isdir(lora):
    g = torch.Generator().manual_seed(9)
    sd = torch.load(src)
    for path in inputs[1:]:
        torch.save({k: v + 1e-3 * torch.randn(v.shape, generator=g) if v.is_floating_point() else v
                    for k, v in sd.items()}, path + ".tmp")
        os.replace(path + ".tmp", path)
    os.makedirs(lora, exist_ok=True)
    tensors = {}
    for k, v in sd.items():
        if k.endswith("attn.c_attn.weight"):
            m = k[: -len(".weight")]
            fan_in, fan_out = v.shape
            tensors[f"base_model.model.{m}.lora_A.weight"] = 0.02 * torch.randn(16, fan_in, generator=g)
            tensors[f"base_model.model.{m}.lora_B.weight"] = 0.02 * torch.randn(fan_out, 16, generator=g)
    write_safetensors(os.path.join(lora, "adapter_model.safetensors"), tensors, {"format": "pt"})
    with open(os.path.join(lora, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "r": 16, "lora_alpha": 32, "fan_in_fan_out": True,
                   "target_modules": ["c_attn"]}, f)

ADAPTER = """
sd = torch.load(src)
ad = torch.load(os.path.join(out_dir, 'merge_lora_torch.pt'))
s = 32 / 16
for k, w in sd.items():
    a = ad.get('base_model.model.' + k[:-len('.weight')] + '.lora_A.weight')
    if a is not None:
        b = ad['base_model.model.' + k[:-len('.weight')] + '.lora_B.weight']
        w += s * (b @ a).T
torch.save(sd, os.path.join(out_dir, 'torch_merged.pt'))
"""
AVERAGE = """
sds = [torch.load(p) for p in inputs]
avg = {}
for k, v in sds[0].items():
    if v.is_floating_point():
        avg[k] = (sum(sd[k].double() for sd in sds) / len(sds)).to(v.dtype)
    else:
        avg[k] = sds[-1][k]
torch.save(avg, os.path.join(out_dir, 'torch_average.pt'))
"""
def adapter_tensors():
    """The adapter's matrices as safetensors.torch.load_file gives them (no safetensors package here); the timed
    route then reads them with torch.load, which costs about what load_file would for 1.2 MB."""
    import struct
    with open(os.path.join(lora, "adapter_model.safetensors"), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, e in header.items():
        if k == "__metadata__":
            continue
        a, b = e["data_offsets"]
        out[k] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(e["shape"])
    return out


torch.save(adapter_tensors(), os.path.join(out_dir, "merge_lora_torch.pt"))


def median(code):
    return median_of(code, {"torch": torch, "src": src, "os": os, "out_dir": out_dir, "inputs": inputs}, repeats)


adapter = median(ADAPTER)
average = median(AVERAGE)
result = {"adapter_s": adapter, "average_s": average, "peak_adapter_bytes": peak_of(ADAPTER, ["src", "out_dir"], [src, out_dir]), "inputs": inputs,
          "lora": lora}
for name in ("torch_merged.pt", "torch_average.pt", "merge_lora_torch.pt"):
    os.remove(os.path.join(out_dir, name))
print(json.dumps(result))
