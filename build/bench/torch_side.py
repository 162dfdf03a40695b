#!/usr/bin/python3
"""The torch side of build.ps1 -Task Bench. Makes a GPT-2-small-shaped state_dict (124M float32
parameters, ~0.5 GB) if it is missing, then times torch.load and torch.save in this process after a
warm-up, and prints one JSON line of seconds (best of N)."""
import json, os, sys, time
import torch

path, out_dir, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])


def gpt2_small():
    torch.manual_seed(0)
    d, layers, vocab, ctx = 768, 12, 50257, 1024
    sd = {"wte.weight": torch.randn(vocab, d), "wpe.weight": torch.randn(ctx, d)}
    for i in range(layers):
        p = f"h.{i}."
        sd[p + "ln_1.weight"], sd[p + "ln_1.bias"] = torch.ones(d), torch.zeros(d)
        sd[p + "attn.c_attn.weight"], sd[p + "attn.c_attn.bias"] = torch.randn(d, 3 * d), torch.zeros(3 * d)
        sd[p + "attn.c_proj.weight"], sd[p + "attn.c_proj.bias"] = torch.randn(d, d), torch.zeros(d)
        sd[p + "ln_2.weight"], sd[p + "ln_2.bias"] = torch.ones(d), torch.zeros(d)
        sd[p + "mlp.c_fc.weight"], sd[p + "mlp.c_fc.bias"] = torch.randn(d, 4 * d), torch.zeros(4 * d)
        sd[p + "mlp.c_proj.weight"], sd[p + "mlp.c_proj.bias"] = torch.randn(4 * d, d), torch.zeros(d)
    sd["ln_f.weight"], sd["ln_f.bias"] = torch.ones(d), torch.zeros(d)
    return sd


if not os.path.exists(path):
    torch.save(gpt2_small(), path)


def best(f, before=None):
    if before: before()
    f()  # warm-up
    times = []
    for _ in range(repeats):
        if before: before()  # untimed: the same preparation TorchSerial's side gets
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


saved = os.path.join(out_dir, "torch_saved.pt")


def fresh_target():
    # Both sides write a new file after flushing dirty pages, so neither pays for the other's writeback
    # or for freeing the previous output's page cache inside its timed region.
    if os.path.exists(saved):
        os.remove(saved)
    os.sync()


sd = torch.load(path)
numel = sum(t.numel() for t in sd.values())
load = best(lambda: torch.load(path))
save = best(lambda: torch.save(sd, saved), before=fresh_target)
print(json.dumps({"torch": torch.__version__, "params": numel, "bytes": os.path.getsize(path), "load_s": load, "save_s": save}))
