"""Typed options of ``edgeaudit audit``; the CLI maps one-to-one onto this dataclass and echoes it into audit.json."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from edgeaudit.claim_kinds import GROUPS
from edgeaudit.errors import EdgeAuditError
from edgeaudit.option_fields import cli
from edgeaudit.suggest import did_you_mean
from edgeaudit.verdict import VerdictThresholds

#: what ``audit --probes`` accepts, with what each group claims (the registry in ``edgeaudit.claim_kinds``)
PROBE_GROUP_DESCRIPTIONS: dict[str, str] = {name: group.description for name, group in GROUPS.items()}
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
    """``"attention,tree"`` -> validated names (any registered probe group); unknown names suggest the closest."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    groups = tuple(GROUPS)
    if not names:
        raise EdgeAuditError("option --probes: empty list", hint=f"choose from {', '.join(groups)}")
    for name in names:
        if name not in groups:
            raise EdgeAuditError(f"option --probes: unknown probe {name!r}",
                                 hint=f"{did_you_mean(name, groups, cutoff=0.6)}choose from {', '.join(groups)}")
    return names


def parse_layers(text: str | None, option: str = "--property-layers") -> tuple[int, ...] | None:
    """``0,6`` or ``0-3,6`` -> (0, 6) / (0, 1, 2, 3, 6)."""
    if text is None:
        return None
    layers: list[int] = []
    try:
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            first, _, last = part.partition("-")
            layers += range(int(first), int(last) + 1) if last else [int(first)]
    except ValueError:
        raise EdgeAuditError(f"option {option}: {text!r} is not a comma-separated list of layer numbers or ranges",
                             hint="e.g. 0,6 or 0-3,6") from None
    return tuple(dict.fromkeys(layers))


def parse_columns(text: str | None) -> tuple[str, ...] | None:
    """``"Conc.M, SD"`` -> ("Conc.M", "SD"); None stays None (detect the columns)."""
    if text is None:
        return None
    columns = tuple(part.strip() for part in text.split(",") if part.strip())
    if not columns:
        raise EdgeAuditError(f"option --norm-columns: {text!r} names no column", hint="e.g. --norm-columns Prod_Freq")
    return columns


MAPPER_NAMES = ("plsr", "ridge", "mlp")  # probes.property.MAPPERS (a test keeps them equal; no sklearn import here)


@dataclass(frozen=True)
class AuditOptions:
    """What an audit runs and how it judges; each field's ``cli`` metadata is its command-line option."""

    data: str = field(default="builtin:treebank", metadata=cli(
        "Treebank: a CoNLL-U file (.conllu or .conllu.gz), builtin:treebank / builtin:treebank-nonce / builtin:ewt, "
        "or - for standard input."))
    probes: tuple[str, ...] = field(default=DEFAULT_PROBES, metadata=cli(
        "Comma-separated probe groups to run (edgeaudit list probe-groups).", parse=parse_probe_list,
        shown_default=",".join(DEFAULT_PROBES)))
    twin: str | None = field(default=None, metadata=cli(  # random-init twin bundle directory
        "Random-init twin bundle (edgeaudit export --random-init).", path=True))
    nonce: str | None = field(default=None, metadata=cli(
        "Nonce treebank with the same trees (default for builtin:treebank: builtin:treebank-nonce)."))
    norms: str | None = field(default=None, metadata=cli(
        "Feature norms for property probes: a CSV/TSV file or builtin:concepts (default)."))
    categories: str | None = field(default=None, metadata=cli("word -> category table for the category controls.",
                                                              path=True))
    categories_pos: str | None = field(default=None, metadata=cli(
        "Keep only category rows of this part of speech (OEWN supersenses: n)."))
    norm_targets: str = field(default="binary", metadata=cli(
        "Property targets: binary = a concept has a feature when the norms list it (any value above 0; McRae, CSLB, "
        "Buchanan); value = the number itself (production frequency, a rating). Same default for every norm set; a "
        "table of ratings needs value.", choices=NORM_TARGETS))
    norm_columns: tuple[str, ...] | None = field(default=None, metadata=cli(
        "Value column(s) of the norms, comma-separated: the one value column of a long table (e.g. Prod_Freq) or the "
        "feature columns of a wide one (e.g. Vision,Audition). Default: detected.", parse=parse_columns))
    min_feature_concepts: int = field(default=5, metadata=cli(
        "Leave out features listed for fewer concepts (the published McRae setups keep features of >= 5 concepts); "
        "counted in audit.json.", minimum=1))
    concept_template: str | None = field(default=None, metadata=cli(
        "Embed each concept inside this sentence, e.g. \"This is a {word}.\" (the concept's own words are pooled). "
        "Default: the word alone."))
    min_count: int = field(default=100, metadata=cli("Relations with fewer instances are listed but not claimed about."))
    max_sentences: int | None = field(default=None, metadata=cli("Use only the first N sentences."))
    property_layers: tuple[int, ...] | None = field(default=None, metadata=cli(
        "Hidden-state layers for property probes, e.g. 0,6 or 0-3,6 (default: first and last).", parse=parse_layers))
    mapper: str = field(default="plsr", metadata=cli("Embedding -> norms map of the property probes (edgeaudit list "
                                                     "mappers).", choices=MAPPER_NAMES))
    folds: int = field(default=10, metadata=cli("Cross-validation folds over concepts (property probes)."))
    shuffles: int = field(default=100, metadata=cli("Permutations for the shuffled control."))
    structural_rank: int = field(default=32, metadata=cli("Rank of the structural (distance/depth) probes.",
                                                          minimum=1))
    structural_max_iter: int = field(default=300, metadata=cli(
        "L-BFGS iteration cap of each structural probe fit; fits normally stop earlier, where their loss on the "
        "held-out dev sentences stops falling (a fit that reaches the cap is noted in its claim).", minimum=1))
    structural_max_train: int = field(default=500, metadata=cli("Training sentences of the structural probes, at most.",
                                                                minimum=1))
    bootstrap: int = field(default=1000, metadata=cli("Bootstrap resamples for every CI."))
    confidence: float = field(default=0.95, metadata=cli(
        "Level of every bootstrap confidence interval the verdicts rest on (between 0.5 and 1)."))
    seed: int = field(default=0, metadata=cli("Seed of every split, shuffle, bootstrap and fit."))
    thresholds: VerdictThresholds = field(default_factory=VerdictThresholds)  # one option per threshold
    threads: int | None = field(default=None, metadata=cli("onnxruntime intra-op threads (default: all cores).",
                                                           minimum=1))
    jobs: int | None = field(default=None, metadata=cli(  # worker processes of the probe stages; None = every core
        "Worker processes for the probe fits (structural layers, property runs; default: all cores). Results are "
        "identical for any value; each worker holds its own copy of the libraries (~150 MB), so use -j 1 on a board "
        "short of memory.", minimum=1, short="-j"))
    batch_tokens: int | None = field(default=None, metadata=cli("Token budget per model batch."))
    progress: bool = True  # -q/--quiet

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
