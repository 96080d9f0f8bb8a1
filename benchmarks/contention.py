"""How much two single-threaded processes slow each other on this machine: the ceiling of any 2-worker speed-up.

Two kinds of work, each run alone and then two copies at once (separate processes, BLAS held to one thread):
``compute`` (a 192×192 matmul, cache-resident) and ``memory`` (summing a 240 MB array, bandwidth-bound). The
slowdown factor is ``time beside another / time alone``; two workers can gain at most ``2 / slowdown`` on that kind
of work. B10 records it beside the sweep so that a missed parallel target can be read against the hardware.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

_WORK = r"""
import json, sys, time
import numpy as np
kind = sys.argv[1]
if kind == "compute":
    a = np.random.default_rng(0).standard_normal((192, 192))
    def run():
        for _ in range(2500):
            a @ a
else:
    big = np.random.default_rng(0).standard_normal(30_000_000)
    def run():
        for _ in range(12):
            big.sum()
run()
began = time.perf_counter()
run()
print(json.dumps(time.perf_counter() - began))
"""


def _start(kind: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", _WORK, kind], stdout=subprocess.PIPE, text=True, env=env)


def _seconds(processes: list[subprocess.Popen]) -> list[float]:
    return [float(json.loads(process.communicate()[0])) for process in processes]


def measure() -> dict[str, Any]:
    """{kind: {"alone_s", "beside_s", "slowdown", "ceiling_2_workers"}} for compute- and memory-bound work."""
    out: dict[str, Any] = {}
    for kind in ("compute", "memory"):
        alone = _seconds([_start(kind)])[0]
        beside = max(_seconds([_start(kind), _start(kind)]))
        slowdown = beside / alone
        out[kind] = {"alone_s": round(alone, 3), "beside_s": round(beside, 3), "slowdown": round(slowdown, 3),
                     "ceiling_2_workers": round(2 / slowdown, 3)}
    return out


if __name__ == "__main__":
    print(json.dumps(measure(), indent=1))
