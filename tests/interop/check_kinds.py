#!/usr/bin/python3
"""Real torch loads files TorchSerial saved from tests/fixtures/kinds, with the tensors kinds.json recorded.

Usage: check_kinds.py kinds.json saved.pt=fixture.pt [saved.pt=fixture.pt ...]
Sparse tensors are compared part by part (layout, size, and the SHA-256 of each part's logical bytes), meta tensors
by dtype, shape and stride (and that they are still meta), packed quantized tensors by their bytes (int_repr),
dense tensors by their logical bytes. Prints "ok" or fails with the first difference.
"""
import hashlib, json, os, sys
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from torch_describe import logical_bytes  # noqa: E402
from kinds_parts import sparse_parts  # noqa: E402


def same_part(got, exp, where):
    assert str(got.dtype).replace("torch.", "") == exp["dtype"], (where, got.dtype, exp["dtype"])
    assert list(got.shape) == exp["shape"], (where, list(got.shape), exp["shape"])
    assert hashlib.sha256(logical_bytes(got)).hexdigest() == exp["sha256"], (where, "bytes differ")


expected = json.load(open(sys.argv[1]))
for pair in sys.argv[2:]:
    saved, fixture = pair.split("=")
    obj = torch.load(saved)
    for key, exp in expected[fixture].items():
        if not isinstance(exp, dict) or key in ("state_dict",):
            continue
        where = f"{fixture}:{key}"
        got = obj[key]
        if "layout" in exp:
            assert str(got.layout).replace("torch.", "") == exp["layout"], (where, got.layout)
            assert list(got.shape) == exp["shape"], (where, list(got.shape))
            parts = sparse_parts(got)
            assert [n for n, _ in parts] == list(exp["parts"]), (where, [n for n, _ in parts])
            for name, t in parts:
                same_part(t, exp["parts"][name], f"{where}.{name}")
        elif "is_meta" in exp:
            assert got.is_meta == exp["is_meta"], (where, got.is_meta)
            assert str(got.dtype).replace("torch.", "") == exp["dtype"] and list(got.shape) == exp["shape"], where
            assert list(got.stride()) == exp["stride"], (where, got.stride())
            assert isinstance(got, torch.nn.Parameter) == exp["is_parameter"], where
        elif "packed" in exp:
            assert got.int_repr().tolist() == exp["packed"], (where, got.int_repr().tolist())
            assert got.q_scale() == exp["scale"] and got.q_zero_point() == exp["zero_point"], where
        elif "sha256" in exp:
            same_part(got, exp, where)
print("ok")
