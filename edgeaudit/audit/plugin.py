"""The seam every kind of claim plugs into: what it needs, what it measures, its claims, and how compare uses them.

``run_audit`` extracts once for every requested probe group (the union of their ``needs_*``), then calls each
group's plugin in registry order (``edgeaudit.claim_kinds.GROUPS``): ``prepare`` while inputs are loaded (bad
files fail before any model work), ``measure`` for its stages, ``claims`` for its claims (inside the shared,
checkpointed "claims" stage unless the plugin names a ``stage`` of its own), ``sections`` for its part of
``audit.json``'s "probes", and ``fitted`` for what compare applies to a variant. ``compare`` asks the plugin of a
claim's group how to match it across two audits (``match_key``), how to read the reference's explanation off the
variant's audit (``applied_in_variant``) and how to score saved probes on the variant's activations (``apply``).

Every method has a default that does nothing, so a plugin implements only what its claims need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgeaudit.results import AuditResult
    from edgeaudit.verdict import Claim


@dataclass
class AuditState:
    """One audit in progress, as the plugins see it (run_audit fills it stage by stage)."""

    options: Any  # AuditOptions
    out_dir: Path
    log: Callable[[str], None]
    stages: Any  # run.Stages: ``with state.stages.stage(name):`` times a stage
    checkpoints: Any  # checkpoint.Checkpoints
    keys: dict[str, str]  # stage -> checkpoint key
    sentences: list
    want: set[str]  # the probe groups still to run (a group that cannot be estimated is dropped with a reason)
    real: Any  # run.AuditRun of the audited bundle
    twin: Any = None  # run.AuditRun of the random-init twin
    twin_bundle: Any = None
    nonce: Any = None  # run.AuditRun of the nonce treebank
    split: Any = None  # structural.SentenceSplit of the stored sentences
    identifiability: dict | None = None
    ctx: Any = None  # head_claims.ClaimContext, once token correspondence is known
    prepared: dict[str, Any] = field(default_factory=dict)  # group -> what its ``prepare`` loaded
    results: dict[str, Any] = field(default_factory=dict)  # group -> what its stages produced
    not_estimated: dict[str, str] = field(default_factory=dict)  # what could not be estimated, and why

    def store_trees(self, store) -> list:
        """The gold sentences in a store's order."""
        return [self.sentences[i] for i in store.sentence_index]


class ClaimPlugin:
    """Base of every probe group's plugin; see the module docstring for when each method runs."""

    group: str = ""
    needs_store = False  # the corpus's hidden states on disk (OUT/activations)
    needs_twin_store = False  # the twin's too
    needs_trees = False  # per-head attention trees collected while extracting
    needs_rollout = False  # attention rollout collected while extracting
    uses_nonce = False  # the nonce treebank is extracted for it
    stage: str | None = None  # its own stage for its claims (None: the shared "claims" stage)
    saves_probes = False  # its ``fitted`` is saved and its ``apply`` scores it on a variant

    def stages(self, state: AuditState) -> list[str]:
        """The checkpointed stages it will run (for "resuming: ... done" messages)."""
        return []

    def keys(self, state: AuditState) -> dict[str, str]:
        """Checkpoint keys of its own stages (what each stage's result depends on)."""
        return {}

    def prepare(self, state: AuditState) -> None:
        """Load and check its own inputs (norms, tables) while the audit's inputs are loaded."""

    def measure(self, state: AuditState) -> None:
        """Run its stages on what extraction left (stores, statistics)."""

    def claims(self, state: AuditState) -> list:
        """Its claims, each with controls and a verdict."""
        return []

    def sections(self, state: AuditState) -> dict[str, Any]:
        """Its entries in audit.json's "probes" section."""
        return {}

    def fitted(self, state: AuditState) -> Any:
        """What compare needs to score its probes on a variant (saved in fitted.json), or None. Plain data only —
        numbers, strings, arrays, lists, tuples, dicts — or a class listed in ``checkpoint._classes``: the file is
        read back without pickle."""
        return None

    def apply(self, fitted: Any, variant_dir: Path, claims: list[Claim], *, log: Callable[[str], None],
              notes: list[str]) -> dict[str, dict[str, Any]]:
        """Reference claim id -> {"score", "source"}: its saved probes scored on the variant audit's activations."""
        return {}

    def match_key(self, kind: str, claim_id: str, subject: dict[str, Any]) -> tuple:
        """What a claim is about, the same in two audits of related models (default: its id)."""
        return (kind, claim_id)

    def applied_in_variant(self, claim: Claim, variant: AuditResult) -> dict[str, Any] | None:
        """The reference's explanation read off the variant's audit ({"score", "source"}), or None."""
        return None


def plugins(names: Any = None) -> list[ClaimPlugin]:
    """The registered groups' plugins in registry order (only ``names`` when given)."""
    from edgeaudit.claim_kinds import GROUPS

    return [group.load() for name, group in GROUPS.items() if names is None or name in names]


def plugin_of_kind(kind: str) -> ClaimPlugin | None:
    from edgeaudit.claim_kinds import group_of

    group = group_of(kind)
    return group.load() if group is not None else None
