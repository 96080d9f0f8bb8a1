"""``compare.json`` as typed objects: claim survival, numeric drift, gates and both sides' inputs.

Gates and reports read these fields by name; the parts only people read (definitions, op counts of the
fidelity check, per-layer notes) stay plain JSON inside the records that carry them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeaudit.results.records import Record, optional_key

COMPARE_SCHEMA = "edgeaudit.compare"


@dataclass
class CompareSummary(Record):
    claims: int
    survives: int
    drifts: int
    breaks: int
    flips: int
    gates_tripped: int
    verdicts: dict[str, dict[str, int]] | None = optional_key()  # side -> verdict -> count


@dataclass
class GateRecord(Record):
    """One evaluated gate; ``value`` is None when the metric could not be computed (``note`` says why)."""

    expression: str
    metric: str
    op: str
    threshold: int | float  # as the gate wrote it: flips>0 keeps its 0
    value: int | float | None
    tripped: bool | None
    note: str | None = optional_key()
    value_note: str | None = optional_key()


@dataclass(kw_only=True)
class SideScore(Record):
    """A claim as one side's own audit has it."""

    id: str | None = optional_key()
    score: float | None
    verdict: str | None
    ci: list[float | None] | None = None
    text: str | None = None
    subject: dict[str, Any] | None = None
    margin: float | None = None
    strongest_control: str | None = None


@dataclass
class AppliedScore(Record):
    """The reference's explanation checked unchanged on the variant (its head, layer or saved probes)."""

    score: float | None
    source: str | None = optional_key()
    delta: float | None = optional_key()


@dataclass(kw_only=True)
class ComparedClaim(Record):
    id: str
    kind: str
    text: str | None
    metric: str | None = None
    reference: SideScore | None
    variant: SideScore | None
    applied: AppliedScore | None = None
    delta: float | None
    delta_ci: list[float | None] | None = None
    survival: str
    flip: str | None
    note: str | None = optional_key()


@dataclass
class CompareData(Record):
    """The corpus, and the sentences the reference's audit could not use."""

    spec: str | None
    sentences: int
    total_sentences: int
    skipped_by_kind: dict[str, int] = field(default_factory=dict)


@dataclass
class OutputCosine(Record):
    mean: float | None = None
    min: float | None = None


@dataclass
class LayerDrift(Record):
    layer: int
    sqnr_db: float | None  # None: identical to the reference (+inf) or not finite
    hidden_cosine_mean: float | None = optional_key()
    note: str | None = optional_key()


@dataclass
class NextTokenDrift(Record):
    """Decoders: how the next-token distributions moved."""

    positions: int
    kl_mean: float
    kl_p99: float
    top1_agreement: float
    perplexity: dict[str, float]
    perplexity_ratio: float
    centred_cosine_mean: float | None = optional_key()


@dataclass
class NumericDrift(Record):
    """The paired run of both bundles; ``computed`` False (with ``note``) when a bundle or the corpus is missing."""

    computed: bool
    layers: list[LayerDrift]
    attention_jsd: list[list[float | None]] | None
    output_cosine: OutputCosine
    output_max_abs_diff: float | None
    note: str | None = optional_key()
    worst_sqnr_layer: int | None = None
    min_sqnr_db: float | None = None
    worst_attention_head: dict[str, Any] | None = None
    next_token: NextTokenDrift | None = None
    sentences: int | None = optional_key()
    words: int | None = optional_key()
    tokens: int | None = optional_key()
    skipped: dict[str, int] | None = optional_key()
    seconds: float | None = optional_key()
    definitions: dict[str, str] | None = optional_key()
    notes: list[str] | None = optional_key()


@dataclass(kw_only=True)
class ExplanationDrift(Record):
    mean_abs_score_delta: float | None
    max_abs_score_delta: float | None = None
    mean_abs_applied_delta: float | None = None
    mean_abs_score_delta_by_kind: dict[str, float] = field(default_factory=dict)
    output_drift: float | None
    explanation_to_output_ratio: float | None
    ratio_note: str | None = None
    definition: str | None = optional_key()
    notes: list[str] = field(default_factory=list)


@dataclass
class Fidelity(Record):
    """Audited (tapped) graph vs deployed graph, per side: plain JSON (computed, faithful, criteria, op counts)."""

    reference: dict[str, Any] | None = None
    variant: dict[str, Any] | None = None


@dataclass
class SideInputs(Record):
    """What one side was given (a bundle or a finished audit), its bundle record and its verdict counts."""

    bundle: dict[str, Any] | str | None = None  # the bundle's record (compare writes one), or just its path
    audit: dict[str, Any] | str | None = None
    given: str | None = optional_key()
    given_as: str | None = optional_key()
    verdicts: dict[str, int] | None = optional_key()


@dataclass(kw_only=True)
class CompareResult(Record):
    schema: str
    schema_version: int
    summary: CompareSummary
    gates: list[GateRecord]
    claims: list[ComparedClaim]
    data: CompareData | None = optional_key()
    numeric_drift: NumericDrift | None = None
    explanation_drift: ExplanationDrift | None = None
    fidelity: Fidelity | None = None
    reference: SideInputs
    variant: SideInputs
    options: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | Path) -> CompareResult:
        """A compare.json, schema-checked (one-line error naming the file) and typed."""
        from edgeaudit.results.files import read_typed

        return read_typed(path, cls)

    def compared_kinds(self, kinds: tuple[str, ...] | None = None) -> list[ComparedClaim]:
        """The compared claims, or those of ``kinds``."""
        return [claim for claim in self.claims if kinds is None or claim.kind in kinds]
