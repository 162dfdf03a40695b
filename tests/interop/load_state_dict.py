#!/usr/bin/python3
"""Real torch judges a state_dict TorchSerial wrote: model.load_state_dict(torch.load(FILE), strict=True).

Usage: /usr/bin/python3 tests/interop/load_state_dict.py FILE [PREFIX]
The model is the Net of tests/fixtures/generate.py (conv 2->3, batchnorm, linear 12->4), wrapped in PREFIX modules
(for example 'module' for DataParallel's layout). Prints 'ok' and exits 0 when torch accepts every key, else prints
torch's error and exits 1.
"""
import os, sys
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from torch_describe import Net  # noqa: E402


model = Net()
if len(sys.argv) > 2:
    for name in reversed(sys.argv[2].split(".")):
        wrapper = torch.nn.Module()
        wrapper.add_module(name, model)
        model = wrapper
try:
    model.load_state_dict(torch.load(sys.argv[1], weights_only=True), strict=True)
except RuntimeError as e:
    print(e)
    sys.exit(1)
print("ok")
