#!/usr/bin/python3
"""The torch side of the toolbox rows of build.ps1 -Task Bench, on the GPT-2 file.

Usage: toolbox_torch.py SOURCE.pt OUT_DIR REPEATS -> one JSON object of seconds (the median of REPEATS after a warm-up)
  measure_s  torch.load, then per tensor: isnan().sum(), isinf().sum(), min, max, mean, std, linalg.norm
  cast_s     torch.load, {k: v.bfloat16()}, torch.save
  compare_s  torch.load of both files, then per tensor (a - b).abs().max() and torch.allclose(a, b)
  peak_measure_bytes / peak_compare_bytes  the same in a fresh process, over `import torch`
It also writes OUT_DIR/gpt2_b.pt once: the same tensors with small noise added, the file compared against.
"""
import json, os, sys
import torch
from bench_common import median_of, peak_of

src, out_dir, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
other = os.path.join(out_dir, "gpt2_b.pt")
if not os.path.exists(other):
    g = torch.Generator().manual_seed(5)
    sd = torch.load(src)
    torch.save({k: v + 1e-6 * torch.randn(v.shape, generator=g) for k, v in sd.items()}, other + ".tmp")
    os.replace(other + ".tmp", other)

MEASURE = """
sd = torch.load(src)
for t in sd.values():
    f = t.float()
    (torch.isnan(f).sum().item(), torch.isinf(f).sum().item(), f.min().item(), f.max().item(), f.mean().item(),
     f.std().item(), torch.linalg.norm(f).item())
"""
CAST = """
sd = torch.load(src)
torch.save({k: v.bfloat16() for k, v in sd.items()}, os.path.join(out_dir, "torch_bf16.pt"))
"""
COMPARE = """
a, b = torch.load(src), torch.load(other)
for k in a:
    ((a[k] - b[k]).abs().max().item(), torch.allclose(a[k], b[k]))
"""


def median(code):
    return median_of(code, {"torch": torch, "src": src, "other": other, "os": os, "out_dir": out_dir}, repeats)


def peak(code):
    return peak_of(code, ["src", "other"], [src, other])


os.sync()  # untimed: earlier rows' files are written back now, not during the timed runs (ours does the same)
cast = median(CAST)
os.remove(os.path.join(out_dir, "torch_bf16.pt"))
print(json.dumps({"cast_s": cast, "measure_s": median(MEASURE), "compare_s": median(COMPARE), "other": other,
                  "peak_measure_bytes": peak(MEASURE), "peak_compare_bytes": peak(COMPARE)}))
