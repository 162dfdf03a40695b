"""A checkpoint with one storage over 2 GiB, written by real torch at test time (never committed).

  make PATH   writes {'flat': arange(N) int32, 'tail': flat[-5:], 'mid': flat[M:M+5]} (one storage, views past
              2 GiB, like an FSDP flat parameter) and prints what torch reports about it as JSON.
  check PATH  loads a file (ours) with torch and prints the same report, so the test compares the two.
"""
import hashlib
import json
import sys

import torch

N = 575_000_000          # int32 elements: 2.3 GB in one storage
M = 540_000_000          # a view starting 2.16 GB into it


def report(obj):
    flat, tail, mid = obj['flat'], obj['tail'], obj['mid']
    digest = hashlib.sha256(memoryview(flat.numpy()).cast('B')).hexdigest()
    return {
        'keys': list(obj.keys()),
        'dtype': str(flat.dtype).replace('torch.', ''),
        'numel': flat.numel(),
        'storage_nbytes': flat.untyped_storage().nbytes() if hasattr(flat, 'untyped_storage') else flat.storage().nbytes(),
        'sha256': digest,
        'tail': tail.tolist(), 'tail_offset': tail.storage_offset(),
        'mid': mid.tolist(), 'mid_offset': mid.storage_offset(),
        'shared': flat.storage().data_ptr() == tail.storage().data_ptr() == mid.storage().data_ptr(),
    }


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == 'make':
        flat = torch.arange(N, dtype=torch.int32)
        obj = {'flat': flat, 'tail': flat[-5:], 'mid': flat[M:M + 5]}
        torch.save(obj, path)
    else:
        obj = torch.load(path)
    print(json.dumps(report(obj)))


if __name__ == '__main__':
    main()
