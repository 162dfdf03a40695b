#!/usr/bin/python3
"""Real torch writes the checkpoints Merge-TorchCheckpoint averages, computes the average itself, and judges ours.

Usage: /usr/bin/python3 tests/interop/check_average.py make OUT_DIR W1,W2,W3
           writes OUT_DIR/a.pt, b.pt, c.pt and OUT_DIR/expected.pt: for each float tensor, in float64,
           acc = zeros; acc += w * t.double() for each input in order; then acc.to(dtype) (one rounding); integer and
           bool tensors from the last input. Every checkpoint nests its weights under 'model' beside an 'epoch'.
       /usr/bin/python3 tests/interop/check_average.py check EXPECTED.pt MERGED.pt
           prints {"ok", "problems"}: the same names in the same order, dtypes, shapes and torch.equal values.
"""
import json, os, sys
import torch


def model(seed):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(3, 5, generator=g)
    return {
        "fc.weight": torch.randn(5, 3, generator=g),
        "fc.bias": (torch.randn(7, generator=g) * 100).half(),
        "emb.weight": torch.randn(4, 4, generator=g).bfloat16(),
        "scale": torch.randn(3, generator=g, dtype=torch.float64),
        "proj.weight": base.t(),                      # a view with strides (5, 1) over a 3x5 storage
        "bn.num_batches_tracked": torch.tensor(seed * 10),
        "mask": torch.rand(6, generator=g) > 0.5,
    }


def make(out, weights):
    os.makedirs(out, exist_ok=True)
    states = [model(s) for s in (1, 2, 3)]
    for name, sd in zip("abc", states):
        torch.save({"model": sd, "epoch": ord(name)}, os.path.join(out, f"{name}.pt"))
    expected = {}
    for key, first in states[0].items():
        if first.is_floating_point():
            acc = torch.zeros(first.shape, dtype=torch.float64)
            for w, sd in zip(weights, states):
                acc += w * sd[key].double()
            expected[key] = acc.to(first.dtype)
        else:
            expected[key] = states[-1][key]
    torch.save(expected, os.path.join(out, "expected.pt"))


def check(expected_path, merged_path):
    expected, merged = torch.load(expected_path), torch.load(merged_path, weights_only=True)
    problems = []
    if list(expected) != list(merged):
        problems.append(f"names {list(merged)} != {list(expected)}")
    for key, want in expected.items():
        got = merged.get(key)
        if got is None or got.dtype != want.dtype or got.shape != want.shape or not torch.equal(got, want):
            problems.append(f"{key}: {None if got is None else (got.dtype, tuple(got.shape))} differs from torch's")
    print(json.dumps({"ok": not problems, "problems": problems}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], [float(w) for w in sys.argv[3].split(",")])
    else:
        check(sys.argv[2], sys.argv[3])
