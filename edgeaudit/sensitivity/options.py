"""Typed options of ``edgeaudit sensitivity``; the CLI maps onto this dataclass and echoes it into sensitivity.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgeaudit.compare.options import CompareOptions
from edgeaudit.errors import EdgeAuditError

MODES = ("both", "only", "all-but")
LOCAL = "local"
SEQUENTIAL = "none"


@dataclass(frozen=True)
class SensitivityOptions:
    preset: str = "int8-dynamic"
    compare: CompareOptions = field(default_factory=CompareOptions)  # audit options, gates, drift tolerance
    mode: str = "both"  # "only": each block alone quantised; "all-but": every block but one; "both"
    layers: tuple[int, ...] | None = None  # sweep only these layers' blocks (None: every block)
    scheduler: str = SEQUENTIAL  # "none" (in this process), "local" (a Dask LocalCluster) or a tcp:// address
    workers: int | None = None  # LocalCluster processes (None: one per available core)
    worker_memory: str = "auto"  # LocalCluster memory limit per worker (Dask's spelling: "auto", "2GiB", ...)
    recommend: bool = True  # look for and verify the smallest float fallback
    max_fallback_steps: int | None = None  # cap on verified fallback variants (None: as many as there are blocks)
    keep_variants: bool = False  # keep every variant's bundle and activation stores (large) instead of deleting
    calibration: str | None = None  # int8-static's calibration sentences
    progress: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise EdgeAuditError(f"option --mode: {self.mode!r} is not one of {', '.join(MODES)}")
        if self.workers is not None and self.workers < 1:
            raise EdgeAuditError(f"option --workers: {self.workers} is out of range", hint="give 1 or more")
        if self.max_fallback_steps is not None and self.max_fallback_steps < 1:
            raise EdgeAuditError(f"option --max-fallback-steps: {self.max_fallback_steps} is out of range",
                                 hint="give 1 or more")
        if self.scheduler not in (SEQUENTIAL, LOCAL) and not self.scheduler.startswith(("tcp://", "tls://")):
            raise EdgeAuditError(f"option --scheduler: {self.scheduler!r} is not 'none', 'local' or an address",
                                 hint="e.g. --scheduler local, or --scheduler tcp://10.0.0.5:8786 for a running cluster")

    def to_dict(self) -> dict[str, Any]:
        """What the sweep computes (the scheduler and workers change only how fast: they are in provenance)."""
        return {"preset": self.preset, "mode": self.mode, "layers": None if self.layers is None else list(self.layers),
                "recommend": self.recommend, "max_fallback_steps": self.max_fallback_steps,
                "calibration": self.calibration, "compare": self.compare.to_dict()}
