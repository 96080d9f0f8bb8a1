"""``audit.json`` as typed objects: what compare, gates and reports read, without ``.get`` chains.

The parts every reader needs are records (summary, claims, bundle, data, the runs' extraction skips); the
probe groups' detail (per-head matrices, per-layer curves) stays plain JSON in ``probes`` and in each run's
sections, keyed by group, because plugins add groups the core does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeaudit.results.records import Record, optional_key, reads_itself
from edgeaudit.verdict import VERDICTS, Claim, VerdictThresholds

AUDIT_SCHEMA = "edgeaudit.audit"


@dataclass
class AuditSummary(Record):
    verdicts: dict[str, int]
    claims: int


@dataclass
class BundleInfo(Record):
    """The audited bundle: where it was, which model file, and what it was compressed from."""

    directory: str
    sha256: str
    variant: str
    model: dict[str, Any]
    parent_sha256: str | None = None


@dataclass
class DatasetInfo(Record):
    spec: str
    sha256: str
    sentences: int
    skipped_while_reading: list[str] = field(default_factory=list)
    skipped_while_reading_by_kind: dict[str, int] = field(default_factory=dict)


@reads_itself
@dataclass
class Extraction(Record):
    """A run's extraction summary; ``detail`` keeps its other keys (settings, timings) as written."""

    sentences: int
    extracted: int
    skipped_by_kind: dict[str, int] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Extraction:
        known = {"sentences", "extracted", "skipped_by_kind"}
        return cls(int(data["sentences"]), int(data["extracted"]), dict(data.get("skipped_by_kind") or {}),
                   {key: value for key, value in data.items() if key not in known})

    def to_dict(self) -> dict[str, Any]:
        return {"sentences": self.sentences, "extracted": self.extracted,
                "skipped_by_kind": dict(self.skipped_by_kind), **self.detail}


@dataclass
class RunSection(Record):
    """One model's run (the audited model, its random-init twin, or the nonce data's run)."""

    bundle: BundleInfo
    extraction: Extraction
    attention_heads: dict[str, Any] | None = optional_key()
    attention_trees: dict[str, Any] | None = optional_key()
    rollout: dict[str, Any] | None = optional_key()
    special_token_mass: dict[str, Any] | None = optional_key()
    structural: dict[str, Any] | None = optional_key()


@dataclass
class Runs(Record):
    model: RunSection
    random_init_twin: RunSection | None = None
    nonce: RunSection | None = None


@dataclass
class AuditResult(Record):
    """A finished audit: its claims with verdicts, and the numbers, inputs and settings behind them."""

    schema: str
    schema_version: int
    summary: AuditSummary
    claims: list[Claim]
    thresholds: VerdictThresholds
    bundle: BundleInfo
    data: DatasetInfo
    probes: dict[str, Any]  # probe group -> its section (plain JSON, group-specific)
    runs: Runs
    options: dict[str, Any]
    provenance: dict[str, Any]

    @classmethod
    def read(cls, path: str | Path) -> AuditResult:
        """An audit.json, schema-checked (one-line error naming the file) and typed."""
        from edgeaudit.results.files import read_typed

        return read_typed(path, cls)

    def verdict_counts(self) -> dict[str, int]:
        """Every verdict with its count (zero included), in the order of ``VERDICTS``."""
        return {name: int(self.summary.verdicts.get(name, 0)) for name in VERDICTS}

    def skipped_by_kind(self) -> dict[str, int]:
        """Sentences the reader and the audited model's extraction could not use, by reason."""
        counts = dict(self.data.skipped_while_reading_by_kind)
        for kind, count in self.runs.model.extraction.skipped_by_kind.items():
            counts[kind] = counts.get(kind, 0) + int(count)
        return counts

    def total_sentences(self) -> int:
        """Sentences the data held before any skip (read ones plus those the reader rejected)."""
        return self.data.sentences + sum(self.data.skipped_while_reading_by_kind.values())

    def probe_section(self, group: str) -> dict[str, Any]:
        """A probe group's section, empty when the group did not run."""
        return self.probes.get(group) or {}
