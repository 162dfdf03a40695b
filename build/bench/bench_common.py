"""Shared by the bench's torch-side scripts: timing a snippet the way users live with it, and its peak memory."""
import gc, statistics, subprocess, sys, time


def median_of(code, env, repeats):
    """The median of `repeats` runs of `code` in `env`, after a warm-up run (the best run is rare for users)."""
    exec(code, env)
    times = []
    for _ in range(repeats):
        gc.collect()
        t = time.perf_counter()
        exec(code, env)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def peak_of(code, names, values):
    """The peak resident memory of `code` in a fresh process, over its state after `import torch`; the variables
    `names` are set from `values` (strings) first."""
    probe = ("import os, re, sys, torch\n"
             "kb = lambda f: int(re.search(f + r':\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
             f"{', '.join(names)}{',' if len(names) == 1 else ''} = sys.argv[1:]\n"
             "open('/proc/self/clear_refs', 'w').write('5'); before = kb('VmRSS')\n" + code +
             "\nprint(kb('VmHWM') - before)")
    run = subprocess.run([sys.executable, "-c", probe, *values], capture_output=True, text=True, check=True)
    return int(run.stdout.split()[-1]) * 1024
