#!/usr/bin/python3
"""Real torch writes a base checkpoint and PEFT-style LoRA adapters, merges them itself, and judges ours.

Usage: /usr/bin/python3 tests/interop/check_lora.py make OUT_DIR
           writes OUT_DIR/base.pt, OUT_DIR/<adapter>/{adapter_config.json, adapter_model.safetensors} and
           OUT_DIR/<adapter>/expected.pt, for adapters: plain (alpha/r, rank_pattern, alpha_pattern), rslora,
           fanin (GPT-2 Conv1D weights stored (in, out), fan_in_fan_out), embedding (lora_embedding_A/B), save
           (modules_to_save: a whole head saved in the adapter), bias (lora_bias: lora_B.bias), conv (a 3x3 and a
           1x1 convolution), dora (use_dora on Linear layers, float32/bfloat16/float16), dora_fanin, dora_embedding
           and dora_conv, and conv_grouped (a grouped convolution's kernels, which must be refused). PEFT is not
           installable here: the merge is computed from the formulas of
           ../../../shared/docs/checkpoint-merging.md §2.3, in float64, then .to(dtype) once: W + s*(B@A),
           transposed for fan_in_fan_out, (B@A).T for embeddings, sum_j B[o,j] A[j,i,k..] for convolutions,
           b + s*b_B for lora_bias; DoRA then scales V = W + dW by m / ||V|| per output row (per column of an
           embedding or of a weight stored (in, out); per output channel of a convolution).
       /usr/bin/python3 tests/interop/check_lora.py check EXPECTED.pt MERGED.pt
           prints {"ok", "exact", "problems"}: same names and order, dtypes, shapes, and values within one unit in the
           last place of the dtype (bit patterns one apart); "exact" counts tensors equal bit for bit.
"""
import json, math, os, re, sys
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
from distributed import write_safetensors  # noqa: E402  (the layout of formats-next.md §1)


def base():
    g = torch.Generator().manual_seed(5)
    return {
        "model.layers.0.q_proj.weight": torch.randn(6, 4, generator=g),
        "model.layers.0.v_proj.weight": torch.randn(5, 4, generator=g).bfloat16(),
        "model.layers.1.q_proj.weight": torch.randn(6, 4, generator=g).half(),
        "model.layers.0.q_proj.bias": torch.randn(6, generator=g),
        "h.0.attn.c_attn.weight": torch.randn(4, 9, generator=g),     # Conv1D: (in, out)
        "model.embed_tokens.weight": torch.randn(11, 4, generator=g),
        "lm_head.weight": torch.randn(3, 4, generator=g),
        "step": torch.tensor(7),
        "conv.weight": torch.randn(6, 3, 3, 3, generator=g),
        "pw.weight": torch.randn(5, 4, 1, 1, generator=g).bfloat16(),
    }


def scale_for(config, module):
    r, alpha = config["r"], config["lora_alpha"]
    for p, v in config.get("rank_pattern", {}).items():
        if re.match(rf"(.*\.)?({p})$", module):
            r = v
            break
    for p, v in config.get("alpha_pattern", {}).items():
        if re.match(rf"(.*\.)?({p})$", module):
            alpha = v
            break
    return alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r


def dora(tensors, m, v, dim, g):
    """DoRA: V scaled by m / ||V|| along dim (1: per output row; 0: per column), m a saved magnitude vector."""
    n = v.norm(dim=dim) if v.dim() == 2 else v.reshape(v.shape[0], -1).norm(dim=1)
    magnitude = n.float() * (1 + 0.25 * torch.rand(n.shape, generator=g))  # near the norm, as after training
    tensors[f"base_model.model.{m}.lora_magnitude_vector"] = magnitude
    factor = magnitude.double() / n
    return v * (factor.unsqueeze(0) if dim == 0 else factor.reshape((-1,) + (1,) * (v.dim() - 1)))


def adapter(out, name, config, modules, embedding=(), fan_in=False, saved=None, bias=(), conv=()):
    g = torch.Generator().manual_seed(len(name))
    b0 = base()
    tensors, expected = {}, {k: v.clone() for k, v in b0.items()}
    use_dora = config.get("use_dora", False)
    for m in modules:
        w = b0[m + ".weight"]
        rows, cols = w.shape
        r = config.get("rank_pattern", {}).get(m.split(".")[-1], config["r"])
        out_f, in_f = (cols, rows) if fan_in else (rows, cols)
        A, B = torch.randn(r, in_f, generator=g), torch.randn(out_f, r, generator=g)
        tensors[f"base_model.model.{m}.lora_A.weight"], tensors[f"base_model.model.{m}.lora_B.weight"] = A, B
        delta = scale_for(config, m) * (B.double() @ A.double())
        v = w.double() + (delta.T if fan_in else delta)
        expected[m + ".weight"] = (dora(tensors, m, v, 0 if fan_in else 1, g) if use_dora else v).to(w.dtype)
        if m in bias:
            bb = torch.randn(out_f, generator=g)
            tensors[f"base_model.model.{m}.lora_B.bias"] = bb
            b = b0[m + ".bias"]
            expected[m + ".bias"] = (b.double() + scale_for(config, m) * bb.double()).to(b.dtype)
    for m in embedding:
        w = b0[m + ".weight"]
        V, D = w.shape
        r = config["r"]
        A, B = torch.randn(r, V, generator=g), torch.randn(D, r, generator=g)
        tensors[f"base_model.model.{m}.lora_embedding_A"], tensors[f"base_model.model.{m}.lora_embedding_B"] = A, B
        v = w.double() + scale_for(config, m) * (B.double() @ A.double()).T
        expected[m + ".weight"] = (dora(tensors, m, v, 0, g) if use_dora else v).to(w.dtype)
    for m, groups in conv:
        w = b0[m + ".weight"]
        out_c, in_c, *kernel = w.shape
        r = config["r"]
        A = torch.randn(r, in_c // groups, *kernel, generator=g)
        B = torch.randn(out_c, r, *([1] * len(kernel)), generator=g)
        tensors[f"base_model.model.{m}.lora_A.weight"], tensors[f"base_model.model.{m}.lora_B.weight"] = A, B
        if groups == 1:
            delta = (B.double().reshape(out_c, r) @ A.double().reshape(r, -1)).reshape(w.shape)
            v = w.double() + scale_for(config, m) * delta
            expected[m + ".weight"] = (dora(tensors, m, v, 1, g) if use_dora else v).to(w.dtype)
    for k in saved or []:
        t = torch.randn(b0[k].shape, generator=g)
        tensors[f"base_model.model.{k}"] = t
        expected[k] = t
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump(dict(config, peft_type="LORA", fan_in_fan_out=fan_in), f)
    write_safetensors(os.path.join(folder, "adapter_model.safetensors"), tensors, {"format": "pt"})
    torch.save(expected, os.path.join(folder, "expected.pt"))


def make(out):
    os.makedirs(out, exist_ok=True)
    torch.save(base(), os.path.join(out, "base.pt"))
    layers = ["model.layers.0.q_proj", "model.layers.0.v_proj", "model.layers.1.q_proj"]
    adapter(out, "plain", {"r": 2, "lora_alpha": 5, "rank_pattern": {"v_proj": 3}, "alpha_pattern": {"v_proj": 7}},
            layers)
    adapter(out, "rslora", {"r": 4, "lora_alpha": 3, "use_rslora": True}, layers)
    adapter(out, "fanin", {"r": 2, "lora_alpha": 4}, ["h.0.attn.c_attn"], fan_in=True)
    adapter(out, "embedding", {"r": 2, "lora_alpha": 2}, [], embedding=["model.embed_tokens"])
    adapter(out, "save", {"r": 2, "lora_alpha": 2}, ["model.layers.0.q_proj"], saved=["lm_head.weight"])
    adapter(out, "bias", {"r": 2, "lora_alpha": 3, "lora_bias": True}, ["model.layers.0.q_proj"],
            bias=["model.layers.0.q_proj"])
    adapter(out, "conv", {"r": 2, "lora_alpha": 4}, [], conv=[("conv", 1), ("pw", 1)])
    adapter(out, "dora", {"r": 2, "lora_alpha": 4, "use_dora": True}, layers)
    adapter(out, "dora_fanin", {"r": 2, "lora_alpha": 4, "use_dora": True}, ["h.0.attn.c_attn"], fan_in=True)
    adapter(out, "dora_embedding", {"r": 2, "lora_alpha": 2, "use_dora": True}, [], embedding=["model.embed_tokens"])
    adapter(out, "dora_conv", {"r": 3, "lora_alpha": 2, "use_dora": True}, [], conv=[("conv", 1)])
    adapter(out, "conv_grouped", {"r": 3, "lora_alpha": 2}, [], conv=[("conv", 3)])


def bits(t):
    return t.view({torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16,
                   torch.float64: torch.int64}[t.dtype]).long() if t.is_floating_point() else t.long()


def check(expected_path, merged_path):
    expected, merged = torch.load(expected_path), torch.load(merged_path, weights_only=True)
    problems, exact = [], 0
    if list(expected) != list(merged):
        problems.append(f"names {list(merged)} != {list(expected)}")
    for key, want in expected.items():
        got = merged.get(key)
        if got is None or got.dtype != want.dtype or got.shape != want.shape:
            problems.append(f"{key}: {None if got is None else (got.dtype, tuple(got.shape))}")
        elif torch.equal(got, want):
            exact += 1
        elif (bits(got) - bits(want)).abs().max().item() > 1:
            problems.append(f"{key}: more than one unit in the last place from torch's")
    print(json.dumps({"ok": not problems, "exact": exact, "problems": problems}))


if __name__ == "__main__":
    make(sys.argv[2]) if sys.argv[1] == "make" else check(sys.argv[2], sys.argv[3])
