#!/usr/bin/python3
"""The torch side of build.ps1 -Task Bench: for each row of the matrix (a JSON file from make_checkpoints.py),
times torch.load and torch.save in this process after a warm-up (the median of each row's `repeats`, which
Invoke-Bench.ps1 sets), and prints one JSON object of seconds per row. With --loop FILE N it instead loads FILE N
times in a row in this fresh process (nothing kept, no forced collection, as a user's loop runs) and prints the
total seconds and the peak memory over the process after `import torch`."""
import gc, json, os, re, statistics, subprocess, sys, time
import torch

if sys.argv[1] == "--loop":
    kb = lambda f: int(re.search(f + r":\s+(\d+)", open("/proc/self/status").read()).group(1))  # noqa: E731
    open("/proc/self/clear_refs", "w").write("5")
    before = kb("VmRSS")
    start = time.perf_counter()
    for _ in range(int(sys.argv[3])):
        sd = torch.load(sys.argv[2])
    seconds = time.perf_counter() - start
    print(json.dumps({"loop_s": seconds, "peak_bytes": (kb("VmHWM") - before) * 1024}))
    sys.exit(0)

rows = json.load(open(sys.argv[1]))["rows"]
out_dir = sys.argv[2]
saved = os.path.join(out_dir, "torch_saved.pt")


def fresh_target():
    # Both sides write a new file after flushing dirty pages, so neither pays for the other's writeback
    # or for freeing the previous output's page cache inside its timed region.
    if os.path.exists(saved):
        os.remove(saved)
    os.sync()


def median(f, n, before=None):
    if before: before()
    f()  # warm-up
    times = []
    for _ in range(n):
        if before: before()  # untimed: the same preparation TorchSerial's side gets
        gc.collect()
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


result = {"torch": torch.__version__, "rows": {}}
for name, row in rows.items():
    path = row["path"]
    n = row["repeats"]  # set by Invoke-Bench.ps1, the same count TorchSerial's side uses
    load = median(lambda: torch.load(path), n)
    sd = torch.load(path)
    save = median(lambda: torch.save(sd, saved), n, before=fresh_target)
    del sd
    gc.collect()
    # Peak memory of one load in a fresh process, over the same process after `import torch`. The kernel's
    # high-water mark is reset first (clear_refs 5), since importing torch peaks higher than it settles.
    probe = ("import re, sys, torch\n"
             "kb = lambda f: int(re.search(f + r':\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
             "open('/proc/self/clear_refs', 'w').write('5'); before = kb('VmRSS')\n"
             "sd = torch.load(sys.argv[1]); print(kb('VmHWM') - before)")
    peak = int(subprocess.run([sys.executable, "-c", probe, path], capture_output=True, text=True, check=True).stdout) * 1024
    result["rows"][name] = {"load_s": load, "save_s": save, "peak_bytes": peak}
if os.path.exists(saved):
    os.remove(saved)
print(json.dumps(result))
