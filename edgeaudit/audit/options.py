"""Typed options of ``edgeaudit audit``; the CLI maps one-to-one onto this dataclass and echoes it into audit.json."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from edgeaudit.errors import EdgeAuditError
from edgeaudit.suggest import did_you_mean
from edgeaudit.verdict import VerdictThresholds

#: what ``audit --probes`` accepts, with what each group claims ("decoder" runs for causal models only)
PROBE_GROUP_DESCRIPTIONS: dict[str, str] = {
    "attention": "head L.H tracks a dependency relation, both directions, against fixed-offset heads and the twin",
    "tree": "the maximum spanning tree of a head's (or layer's) attention recovers the dependency tree (UUAS)",
    "structural": "distance and depth structural probes per layer (Hewitt & Manning 2019) against the linear chain",
    "correspondence": "do positions still stand for their tokens: identifiability and rollout self-share per layer",
    "property": "layer embeddings predict feature norms, against every property control",
    "decoder": "previous-token and induction heads on random token sequences (causal models only)",
}
PROBE_GROUPS = tuple(PROBE_GROUP_DESCRIPTIONS)
DEFAULT_PROBES = PROBE_GROUPS
MAX_SEED = 2**32 - 1  # numpy and scikit-learn seeds are unsigned 32-bit
# Options that change how fast an audit runs, not what it finds (reruns and compares may differ in them).
RUNTIME_ONLY = ("threads", "jobs", "batch_tokens", "progress")
NORM_TARGETS = ("binary", "value")
TEMPLATE_SLOT = "{word}"


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def parse_probe_list(text: str) -> tuple[str, ...]:
    """``"attention,tree"`` -> validated names; unknown names suggest the closest."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise EdgeAuditError("option --probes: empty list", hint=f"choose from {', '.join(PROBE_GROUPS)}")
    for name in names:
        if name not in PROBE_GROUPS:
            raise EdgeAuditError(f"option --probes: unknown probe {name!r}",
                                 hint=f"{did_you_mean(name, PROBE_GROUPS, cutoff=0.6)}choose from "
                                      f"{', '.join(PROBE_GROUPS)}")
    return names


@dataclass(frozen=True)
class AuditOptions:
    data: str = "builtin:treebank"
    probes: tuple[str, ...] = DEFAULT_PROBES
    twin: str | None = None  # random-init twin bundle directory
    nonce: str | None = None  # treebank with the same trees and non-words; default for builtin:treebank
    norms: str | None = None  # feature norms (path or builtin:concepts); default builtin:concepts
    categories: str | None = None
    categories_pos: str | None = None  # keep only category rows with this part of speech (OEWN: "n")
    norm_targets: str = "binary"  # "binary": a feature is listed or not; "value": the number in the table
    norm_columns: tuple[str, ...] | None = None  # value column(s) of the norms table (default: detected)
    min_feature_concepts: int = 5  # features listed for fewer concepts are left out (McRae-style setups)
    concept_template: str | None = None  # e.g. "This is a {word}."; default: the concept word alone
    min_count: int = 100
    max_sentences: int | None = None
    property_layers: tuple[int, ...] | None = None  # default: 0 and the last layer
    mapper: str = "plsr"
    folds: int = 10
    shuffles: int = 100
    structural_rank: int = 32
    structural_max_iter: int = 300
    structural_max_train: int = 500
    bootstrap: int = 1000
    confidence: float = 0.95
    seed: int = 0
    threads: int | None = None
    jobs: int | None = None  # worker processes of the probe stages; None = every available core
    batch_tokens: int | None = None
    thresholds: VerdictThresholds = field(default_factory=VerdictThresholds)
    progress: bool = True

    def __post_init__(self) -> None:
        checks = [
            ("--min-count", self.min_count >= 1), ("--folds", self.folds >= 2), ("--shuffles", self.shuffles >= 1),
            ("--bootstrap", self.bootstrap >= 10), ("--confidence", 0.5 < self.confidence < 1),
            ("--structural-rank", self.structural_rank >= 1), ("--structural-max-iter", self.structural_max_iter >= 1),
            ("--structural-max-train", self.structural_max_train >= 2),
            ("--max-sentences", self.max_sentences is None or self.max_sentences >= 1),
            ("--threads", self.threads is None or self.threads >= 1),
            ("--jobs", self.jobs is None or self.jobs >= 1),
            ("--seed", 0 <= self.seed <= MAX_SEED),
            ("--min-feature-concepts", self.min_feature_concepts >= 1),
        ]
        if self.norm_targets not in NORM_TARGETS:
            raise EdgeAuditError(f"option --norm-targets: {self.norm_targets!r} is not one of {', '.join(NORM_TARGETS)}")
        if self.concept_template is not None and self.concept_template.count(TEMPLATE_SLOT) != 1:
            raise EdgeAuditError(f"option --concept-template: {self.concept_template!r} must contain {TEMPLATE_SLOT} "
                                 "exactly once", hint='e.g. --concept-template "This is a {word}."')
        for option, ok in checks:
            if not ok:
                value = getattr(self, option[2:].replace("-", "_"))
                raise EdgeAuditError(f"option {option}: {value!r} is out of range",
                                     hint="a seed is 0..4294967295" if option == "--seed" else "see 'edgeaudit audit --help'")

    @property
    def workers(self) -> int:
        """Worker processes for the probe stages (``jobs``, or every available core)."""
        return self.jobs if self.jobs is not None else available_cores()

    def to_dict(self) -> dict:
        data = asdict(self)
        data["probes"] = list(self.probes)
        if self.norm_columns is not None:
            data["norm_columns"] = list(self.norm_columns)
        data.pop("progress")
        return data
