"""Typed options of ``edgeaudit compare``; the CLI maps onto this dataclass and echoes it into compare.json."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from edgeaudit.audit.options import AuditOptions
from edgeaudit.compare.claims import DEFAULT_DRIFT_TOLERANCE
from edgeaudit.errors import EdgeAuditError
from edgeaudit.fidelity import DEFAULT_MIN_COSINE, DEFAULT_SENTENCES, DEFAULT_TOLERANCE
from edgeaudit.gates import Gate


@dataclass(frozen=True)
class CompareOptions:
    audit: AuditOptions = field(default_factory=AuditOptions)  # for bundles audited by the comparison
    drift_tolerance: float = DEFAULT_DRIFT_TOLERANCE  # |score delta| a surviving claim may move
    drift_sentences: int | None = None  # cap on the paired numeric-drift run (None: the whole audit corpus)
    fidelity: bool = True  # audited vs deployed graph of each bundle
    fidelity_sentences: int = DEFAULT_SENTENCES
    fidelity_tolerance: float = DEFAULT_TOLERANCE
    fidelity_min_cosine: float = DEFAULT_MIN_COSINE
    applied: bool = True  # score the reference audit's saved structural/property probes on the variant
    gates: tuple[Gate, ...] = ()
    unrelated_ok: bool = False  # compare a variant whose recorded parent is not the reference
    progress: bool = True
    explicit_audit_options: tuple[str, ...] = ()  # AuditOptions fields the user set (a finished audit overrides them)

    def __post_init__(self) -> None:
        checks = [
            ("--drift-tolerance", math.isfinite(self.drift_tolerance) and self.drift_tolerance >= 0),
            ("--drift-sentences", self.drift_sentences is None or self.drift_sentences >= 1),
            ("--fidelity-sentences", self.fidelity_sentences >= 1),
            ("--fidelity-tolerance", math.isfinite(self.fidelity_tolerance) and self.fidelity_tolerance >= 0),
            ("--fidelity-min-cosine", -1.0 <= self.fidelity_min_cosine <= 1.0),
        ]
        for option, ok in checks:
            if not ok:
                value = getattr(self, option[2:].replace("-", "_"))
                raise EdgeAuditError(f"option {option}: {value!r} is out of range", hint="see 'edgeaudit compare --help'")

    def to_dict(self) -> dict[str, Any]:
        return {
            "audit": self.audit.to_dict(), "drift_tolerance": self.drift_tolerance,
            "drift_sentences": self.drift_sentences, "fidelity": self.fidelity,
            "fidelity_sentences": self.fidelity_sentences, "fidelity_tolerance": self.fidelity_tolerance,
            "fidelity_min_cosine": self.fidelity_min_cosine, "applied": self.applied,
            "fail_on": [gate.expression for gate in self.gates], "unrelated_ok": self.unrelated_ok,
        }
