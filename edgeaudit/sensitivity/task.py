"""One variant of a sweep, start to finish: compress with some blocks in float, compare, keep a small record.

This is the unit a scheduler ships to a worker, so it takes only paths and plain options and returns a few kB.
It writes ``VARIANT/result.json`` last (atomically), which is what makes a sweep resumable: a rerun that finds
a result with the same fingerprint returns it without recomputing. A variant that cannot be built (e.g. int4
finds nothing to quantise in an embedding-only block) is a result with an ``error``, not a failed sweep.
Unless asked to keep them, the variant's bundle and activation stores (tens to hundreds of MB) are deleted once
its comparison is written; compare.json and both audit.json files stay.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import resource
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeaudit.audit.options import RUNTIME_ONLY
from edgeaudit.compare.options import CompareOptions
from edgeaudit.errors import EdgeAuditError
from edgeaudit.result_file import write_json

RESULT_NAME = "result.json"


@dataclass(frozen=True)
class VariantTask:
    name: str
    kind: str
    block: str | None
    float_blocks: tuple[str, ...]
    float_nodes: tuple[str, ...]
    reference_bundle: str
    reference_sha256: str  # a re-exported reference in the same folder must not reuse old variants
    reference_audit: str
    preset: str
    out: str  # this variant's folder
    compare: CompareOptions
    calibration: str | None = None
    keep_bundle: bool = False
    prepared: str | None = None  # the reference pre-processed once for every variant (graph_prep.save_prepared)

    def fingerprint(self) -> str:
        """What the result depends on (not where or how fast it runs)."""
        audit = {k: v for k, v in self.compare.audit.to_dict().items() if k not in RUNTIME_ONLY}
        what = {"preset": self.preset, "float_nodes": list(self.float_nodes), "reference": self.reference_sha256,
                "reference_audit": self.reference_audit,
                "calibration": self.calibration, "compare": {**self.compare.to_dict(), "audit": audit}}
        return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def finished(task: VariantTask) -> dict[str, Any] | None:
    """The result a previous run wrote for exactly this task, or None."""
    path = Path(task.out) / RESULT_NAME
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return result if result.get("fingerprint") == task.fingerprint() else None


def _drop_stores(audit_dir: Path) -> None:
    """An audit's stores are only needed while its comparison runs; audit.json and reports stay."""
    if audit_dir.is_dir():
        for child in audit_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)


def run_variant(task: VariantTask) -> dict[str, Any]:
    """Compress, compare, summarise (see the module docstring); returns the variant's record."""
    from edgeaudit.compare.run import run_compare
    from edgeaudit.compress.pipeline import compress
    from edgeaudit.sensitivity.damage import variant_record

    previous = finished(task)
    if previous is not None:
        return {**previous, "resumed": True}
    out = Path(task.out)
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    base = {"name": task.name, "kind": task.kind, "block": task.block, "float_blocks": list(task.float_blocks),
            "fingerprint": task.fingerprint()}
    timings: dict[str, float] = {}
    try:
        compressed = compress(task.reference_bundle, out / "bundle", task.preset, calibration=task.calibration,
                              force=True, progress=False, float_nodes=task.float_nodes, prepared=task.prepared)
        timings["compress"] = round(time.perf_counter() - began, 3)
        started = time.perf_counter()
        document = run_compare(task.reference_audit, out / "bundle", out / "compare", task.compare)
        timings["compare"] = round(time.perf_counter() - started, 3)
        record = {**base, "bytes": compressed.bytes_after, **variant_record(document)}
    except EdgeAuditError as error:
        record = {**base, "error": error.one_line()}
    finally:
        if not task.keep_bundle:
            shutil.rmtree(out / "bundle", ignore_errors=True)
            _drop_stores(out / "compare" / "variant")
    timings["total"] = round(time.perf_counter() - began, 3)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    record["run"] = {"timings": timings, "host": socket.gethostname(), "pid": os.getpid(),
                     "process_peak_rss_mib": round(peak, 1)}
    record["bundle"] = str((out / "bundle").resolve()) if task.keep_bundle and "error" not in record else None
    return write_json(record, out / RESULT_NAME)


def with_runtime(task: VariantTask, *, jobs: int | None, threads: int | None) -> VariantTask:
    """The same task with other parallelism inside it (results do not depend on it)."""
    audit = dataclasses.replace(task.compare.audit, jobs=jobs, threads=threads, progress=False)
    return dataclasses.replace(task, compare=dataclasses.replace(task.compare, audit=audit, progress=False))
