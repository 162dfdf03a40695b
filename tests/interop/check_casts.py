#!/usr/bin/python3
"""Real torch judges Convert-Tensor: for each FILE written from tests/fixtures/casts/source.pt cast to DTYPE, every
tensor must hold exactly the bytes of source.to(DTYPE) and keep its name, shape and strides.

Usage: /usr/bin/python3 tests/interop/check_casts.py SOURCE.pt DTYPE FILE  -> prints 'ok' or the first difference
"""
import os, sys
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from torch_describe import logical_bytes  # noqa: E402

source = torch.load(sys.argv[1])
target = getattr(torch, sys.argv[2])
written = torch.load(sys.argv[3], weights_only=True)
for name, t in source.items():
    want = t.to(target)
    got = written[name]
    same = logical_bytes(got) == logical_bytes(want)
    floating = got.is_floating_point() or got.is_complex()
    if not same and got.dtype == want.dtype and got.shape == want.shape and floating:
        # NaN bits follow LibTorch 2.10 where torch 1.13 differs (bfloat16 NaN to float16 keeps its payload in 2.10);
        # tests/pester/LibTorch-Judge.Tests.ps1 pins them. Here a NaN must stay a NaN, every other value exact.
        nan = torch.isnan(want)
        same = bool(torch.equal(torch.isnan(got), nan)) and logical_bytes(got[~nan]) == logical_bytes(want[~nan])
    if got.dtype != target or list(got.shape) != list(want.shape) or not same:
        print(f"{name}: {got.dtype} {list(got.shape)} differs from torch's {t.dtype}.to({target})")
        sys.exit(1)
print("ok")
