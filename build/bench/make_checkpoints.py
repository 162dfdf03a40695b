#!/usr/bin/python3
"""Writes the checkpoints of build.ps1 -Task Bench's matrix with real torch (once; kept in out/bench).

Each row is a shape of checkpoint users have: a few big tensors, many small ones, GBs, one storage past 2 GiB.
Prints one JSON object: row name -> {path, tensors, tensor_bytes}. Rows whose file would not fit the disk's
free space (with 2x headroom for the saves) are left out and listed under "skipped".
"""
import json, os, shutil, sys
import torch

out_dir = sys.argv[1]
only = set(sys.argv[2].split(',')) if len(sys.argv) > 2 and sys.argv[2] else None
torch.manual_seed(0)


def effnet_like():
    # efficientnet_b0's shape: 360 tensors, ~21 MB, mostly mid-sized convs and BN vectors.
    sd = {}
    for b in range(71):
        sd[f"features.{b}.conv.weight"] = torch.randn(150, 384, 1, 1)
        for n in ("weight", "bias", "running_mean", "running_var"):
            sd[f"features.{b}.bn.{n}"] = torch.randn(150)
    sd["classifier.weight"], sd["classifier.bias"] = torch.randn(1000, 1280), torch.randn(1000)
    for i in range(3):
        sd[f"features.{i}.bn.num_batches_tracked"] = torch.tensor(0)
    return sd


def resnet_like():
    # resnet18's state_dict: 122 tensors, 46.8 MB.
    sd = {"conv1.weight": torch.randn(64, 3, 7, 7)}

    def bn(p, c):
        sd[p + ".weight"], sd[p + ".bias"] = torch.randn(c), torch.randn(c)
        sd[p + ".running_mean"], sd[p + ".running_var"] = torch.randn(c), torch.rand(c)
        sd[p + ".num_batches_tracked"] = torch.tensor(0)
    bn("bn1", 64)
    cin = 64
    for layer, c in enumerate((64, 128, 256, 512), start=1):
        for blk in range(2):
            p = f"layer{layer}.{blk}"
            stride_in = cin if blk == 0 else c
            sd[p + ".conv1.weight"] = torch.randn(c, stride_in, 3, 3); bn(p + ".bn1", c)
            sd[p + ".conv2.weight"] = torch.randn(c, c, 3, 3); bn(p + ".bn2", c)
            if blk == 0 and cin != c:
                sd[p + ".downsample.0.weight"] = torch.randn(c, cin, 1, 1); bn(p + ".downsample.1", c)
        cin = c
    sd["fc.weight"], sd["fc.bias"] = torch.randn(1000, 512), torch.randn(1000)
    return sd


def many(n, numel):
    return {f"block.{i // 8}.param{i % 8}": torch.randn(numel) for i in range(n)}


def gpt2_small():
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


def five_gb():
    # A 7B-style shard: 40 matrices of 4096 x 8192 float32 (128 MiB each), ~5.4 GB, zip64 throughout.
    return {f"layers.{i // 4}.w{i % 4}": torch.ones(4096, 8192) * i for i in range(40)}


def big_storage():
    # One storage past 2 GiB with views into it (an FSDP flat parameter).
    flat = torch.arange(575_000_000, dtype=torch.int32)
    return {"flat_param": flat, "view_a": flat[:1000], "view_b": flat[540_000_000:540_001000]}


ROWS = [
    ("360 tensors, 21 MB", "effnet.pt", effnet_like, 21e6),
    ("resnet18-like, 47 MB", "resnet.pt", resnet_like, 47e6),
    ("10,000 small tensors", "small10k.pt", lambda: many(10_000, 64), 3e6),
    ("40,000 tiny tensors", "tiny40k.pt", lambda: many(40_000, 4), 2e6),
    ("GPT-2 small, 0.5 GB", "gpt2.pt", gpt2_small, 0.5e9),
    ("7B shard, 5.4 GB", "shard5g.pt", five_gb, 5.4e9),
    ("one 2.3 GB storage", "bigstorage.pt", big_storage, 2.3e9),
]

result, skipped = {}, []
for name, file, make, size in ROWS:
    if only and file not in only:
        continue
    path = os.path.join(out_dir, file)
    if not os.path.exists(path):
        if shutil.disk_usage(out_dir).free < 3 * size:
            skipped.append(name)
            continue
        torch.save(make(), path + ".tmp")
        os.replace(path + ".tmp", path)
    sd = torch.load(path)
    storages = {t.storage().data_ptr(): t.storage().nbytes() for t in sd.values()}
    result[name] = {"path": path, "tensors": len(sd), "tensor_bytes": sum(storages.values())}
print(json.dumps({"rows": result, "skipped": skipped}))
