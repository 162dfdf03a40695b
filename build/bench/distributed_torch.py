#!/usr/bin/python3
"""The torch side of the distributed rows of build.ps1 -Task Bench.

Usage: /usr/bin/python3 build/bench/distributed_torch.py OUT_DIR REPEATS
Writes, once, a 2-rank DCP folder of 512 MB (real torch 1.13 from a gloo group on 127.0.0.1: eight 4096 x 4096 float32
ShardedTensors, split on dim 0 and dim 1 in turn) and a 2-rank ZeRO-3 folder of the same weights (tests/fixtures/
distributed.py's DeepSpeed writer). Then, medians of REPEATS runs after a warm-up:
  cp_s     `cp -r` of the folder (page cache warm, output removed and synced between runs);
  torch_s  torch's route to one file: for DCP, allocate every tensor, load_state_dict(no_dist=True), torch.save (what
           dcp_to_torch_save does on torch 2.3+); for ZeRO-3, zero_to_fp32's algorithm, then torch.save;
and the peak memory of one torch route in a fresh process over `import torch`. Prints one JSON object.
"""
import json, os, shutil, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "fixtures"))
import distributed as D  # noqa: E402  (patches dataclasses for torch 1.13's _shard package first)
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

SIDE, COUNT, WORLD = 4096, 8, 2


def weights():
    g = torch.Generator().manual_seed(1)
    return {f"layers.{i}.weight": torch.randn(SIDE, SIDE, generator=g) for i in range(COUNT)}


def rank_main(rank, world, port, folder):
    from torch.distributed._shard import sharded_tensor
    from torch.distributed._shard.sharding_spec import ChunkShardingSpec
    from torch.distributed._shard.checkpoint import save_state_dict, FileSystemWriter
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    state = {}
    for i, (name, full) in enumerate(weights().items()):
        spec = ChunkShardingSpec(dim=i % 2, placements=[f"rank:{r}/cpu" for r in range(world)])
        st = sharded_tensor.empty(spec, *full.shape)
        for shard in st.local_shards():
            piece = full
            for d, (o, s) in enumerate(zip(shard.metadata.shard_offsets, shard.metadata.shard_sizes)):
                piece = piece.narrow(d, o, s)
            shard.tensor.copy_(piece)
        state[name] = st
    save_state_dict(state, FileSystemWriter(folder, single_file_per_rank=True))
    dist.barrier()
    dist.destroy_process_group()


def zero3_model():
    params = weights()
    params = dict([("embed.weight", params.pop("layers.0.weight"))] + list(params.items()))
    import collections
    return (collections.OrderedDict(params), collections.OrderedDict(), collections.OrderedDict(),
            [list(params)[:4], list(params)[4:]])


def dcp_route(folder, target):
    from torch.distributed._shard.checkpoint import load_state_dict, FileSystemReader
    reader = FileSystemReader(folder)
    md = reader.read_metadata()
    state = {k: torch.empty(v.size, dtype=v.properties.dtype) for k, v in md.state_dict_metadata.items()}
    load_state_dict(state, reader, no_dist=True)
    torch.save(state, target)


def zero3_route(folder, target):
    tag = open(os.path.join(folder, "latest")).read().strip()   # as zero_to_fp32 finds it
    torch.save(D.zero_to_fp32_state(os.path.join(folder, tag)), target)


def median(work, n, before):
    before()
    work()
    times = []
    for _ in range(n):
        before()
        t = time.perf_counter()
        work()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def peak(kind, folder, target):
    probe = ("import re, sys\n"
             f"sys.path.insert(0, {HERE!r})\n"
             "import distributed_torch as B\n"
             "kb = lambda f: int(re.search(f + r':\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
             "open('/proc/self/clear_refs', 'w').write('5'); before = kb('VmRSS')\n"
             f"B.{kind}_route({folder!r}, {target!r}); print(kb('VmHWM') - before)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1]) * 1024


def main(out, repeats):
    out = os.path.abspath(out)
    dcp, zero = os.path.join(out, "dist_dcp"), os.path.join(out, "dist_zero3")
    if not os.path.exists(os.path.join(dcp, ".metadata")):
        shutil.rmtree(dcp, ignore_errors=True)
        import torch.multiprocessing as mp
        mp.spawn(rank_main, args=(WORLD, D.free_port(), dcp), nprocs=WORLD, join=True)
    if not os.path.exists(os.path.join(zero, "latest")):
        shutil.rmtree(zero, ignore_errors=True)
        D.ds_zero3(os.path.join(zero, "global_step1"), WORLD, bf16=False, model=zero3_model, judge=False)
    result = {"torch": torch.__version__}
    target = os.path.join(out, "dist_torch.pt")
    copy = os.path.join(out, "dist_copy")

    def fresh():
        shutil.rmtree(copy, ignore_errors=True)
        if os.path.exists(target):
            os.remove(target)
        os.sync()
    for kind, folder in (("dcp", dcp), ("zero3", zero)):
        size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(folder) for f in fs)
        route = dcp_route if kind == "dcp" else zero3_route
        result[kind] = {
            "folder": folder, "folder_bytes": size, "tensor_bytes": COUNT * SIDE * SIDE * 4,
            "largest_bytes": SIDE * SIDE * 4,
            "cp_s": median(lambda: subprocess.run(["cp", "-r", folder, copy], check=True), repeats, fresh),
            "torch_s": median(lambda: route(folder, target), repeats, fresh),
            "torch_peak_bytes": peak(kind, folder, target),
        }
    fresh()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
