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
from edgeaudit.option_fields import cli


@dataclass(frozen=True)
class CompareOptions:
    audit: AuditOptions = field(default_factory=AuditOptions)  # for bundles audited by the comparison
    drift_tolerance: float = field(default=DEFAULT_DRIFT_TOLERANCE, metadata=cli(
        "A claim whose score moves more than this (and whose delta CI excludes 0) drifts."))
    drift_sentences: int | None = field(default=None, metadata=cli(
        "Cap on sentences of the paired numeric-drift run (default: all).", minimum=1))
    fidelity: bool = field(default=True, metadata=cli(
        "Check each bundle's audited (tapped) graph against its deployed graph."))
    fidelity_sentences: int = field(default=DEFAULT_SENTENCES, metadata=cli(
        "Sentences of the audited-vs-deployed check.", minimum=1))
    fidelity_tolerance: float = field(default=DEFAULT_TOLERANCE, metadata=cli(
        "Max |diff| of the final output for the audited graph to count as faithful."))
    fidelity_min_cosine: float = field(default=DEFAULT_MIN_COSINE, metadata=cli(
        "Min per-token cosine of the final output for the audited graph to count as faithful."))
    applied: bool = field(default=True, metadata=cli(
        "Score the reference audit's saved structural and property probes on the variant's activations "
        "(--refit is the former name).", aliases=("--refit/--no-refit",)))
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
