"""The kinds of claim an audit makes, and the probe groups that make them: one registry every part iterates over.

A claim's ``kind`` is a string in ``audit.json`` and ``compare.json``. Each kind is declared once with what the
other parts need to know about it (report title, whether its score is a UUAS for the ``uuas_drop`` gate), and each
probe group (``audit --probes NAME``) once with its description, its kinds and the module implementing it
(``edgeaudit.audit.plugin.ClaimPlugin``: what it needs from extraction, its stages, its claims, how compare
matches and applies them). This module stays import-light — plugins are imported when an audit runs — so
option parsing and ``edgeaudit list`` read it at no cost.

Adding a kind of claim = one plugin module + one ``ProbeGroup`` line here (or ``register_group`` from outside).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClaimKind:
    name: str  # the ``kind`` field of a claim
    title: str  # the report's heading for its claims
    probe_group: str  # the ``audit --probes`` group that makes it
    scores_trees: bool = False  # its score is a UUAS (the ``uuas_drop`` gate reads it)


@dataclass(frozen=True)
class ProbeGroup:
    name: str  # what ``audit --probes`` accepts
    description: str  # what its claims say, for --help and ``edgeaudit list probe-groups``
    plugin: str  # "module:attribute" of its ClaimPlugin
    kinds: tuple[ClaimKind, ...] = field(default=())

    def load(self) -> Any:
        module, _, attribute = self.plugin.partition(":")
        return getattr(importlib.import_module(module), attribute)


ATTENTION_HEAD = "attention-head"
ATTENTION_TREE = "attention-tree"
STRUCTURAL_PROBE = "structural-probe"
PROPERTY_INFERENCE = "property-inference"
PREVIOUS_TOKEN_HEAD = "previous-token-head"
INDUCTION_HEAD = "induction-head"

_GROUPS = "edgeaudit.audit.groups"

#: every probe group, in the order an audit runs them and lists their claims
GROUPS: dict[str, ProbeGroup] = {group.name: group for group in (
    ProbeGroup("attention", "head L.H tracks a dependency relation, both directions, against fixed-offset heads and "
               "the twin", f"{_GROUPS}.attention:PLUGIN",
               (ClaimKind(ATTENTION_HEAD, "Attention heads", "attention"),)),
    ProbeGroup("tree", "the maximum spanning tree of a head's (or layer's) attention recovers the dependency tree "
               "(UUAS)", f"{_GROUPS}.tree:PLUGIN",
               (ClaimKind(ATTENTION_TREE, "Attention trees", "tree", scores_trees=True),)),
    ProbeGroup("correspondence", "do positions still stand for their tokens: identifiability and rollout self-share "
               "per layer", f"{_GROUPS}.correspondence:PLUGIN"),
    ProbeGroup("structural", "distance and depth structural probes per layer (Hewitt & Manning 2019) against the "
               "linear chain", f"{_GROUPS}.structural:PLUGIN",
               (ClaimKind(STRUCTURAL_PROBE, "Structural probes", "structural", scores_trees=True),)),
    ProbeGroup("decoder", "previous-token and induction heads on random token sequences (causal models only)",
               f"{_GROUPS}.decoder:PLUGIN",
               (ClaimKind(PREVIOUS_TOKEN_HEAD, "Previous-token heads (decoders)", "decoder"),
                ClaimKind(INDUCTION_HEAD, "Induction heads (decoders)", "decoder"))),
    ProbeGroup("property", "layer embeddings predict feature norms, against every property control",
               f"{_GROUPS}.property:PLUGIN",
               (ClaimKind(PROPERTY_INFERENCE, "Property inference", "property"),)),
)}

#: every kind, in the order of the groups that make them
KINDS: dict[str, ClaimKind] = {}


def _index_kinds() -> None:
    KINDS.clear()
    KINDS.update({kind.name: kind for group in GROUPS.values() for kind in group.kinds})


_index_kinds()
BUILT_IN_KINDS = tuple(KINDS)  # what the shipped JSON schemas list (report.schema widens them to KINDS)


def register_group(group: ProbeGroup) -> None:
    """Add a probe group (and its kinds) to the registry — for a plugin that lives outside edgeaudit, or a test."""
    if group.name in GROUPS:
        raise ValueError(f"probe group {group.name!r} is already registered")
    GROUPS[group.name] = group
    _index_kinds()


def unregister_group(name: str) -> None:
    GROUPS.pop(name)
    _index_kinds()


def title(kind: str) -> str:
    """The report heading for ``kind`` (the kind itself when an older or newer audit names one we do not know)."""
    known = KINDS.get(kind)
    return known.title if known is not None else kind


def tree_scored_kinds() -> tuple[str, ...]:
    return tuple(name for name, kind in KINDS.items() if kind.scores_trees)


def group_of(kind: str) -> ProbeGroup | None:
    """The probe group that makes claims of ``kind`` (None for a kind no registered group makes)."""
    known = KINDS.get(kind)
    return GROUPS.get(known.probe_group) if known is not None else None
