"""The kinds of claim an audit makes: one registry that the claim builders, gates, reports and schemas share.

A claim's ``kind`` is a string in ``audit.json`` and ``compare.json``; the modules that make, match, gate and
render claims used to spell those strings out each on its own. Here each kind is declared once with what the
other parts need to know about it; a test checks the JSON schemas list exactly these kinds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClaimKind:
    name: str  # the ``kind`` field of a claim
    title: str  # the report's heading for its claims
    probe_group: str  # the ``audit --probes`` group that makes it
    scores_trees: bool = False  # its score is a UUAS (the ``uuas_drop`` gate reads it)


ATTENTION_HEAD = "attention-head"
ATTENTION_TREE = "attention-tree"
STRUCTURAL_PROBE = "structural-probe"
PROPERTY_INFERENCE = "property-inference"
PREVIOUS_TOKEN_HEAD = "previous-token-head"
INDUCTION_HEAD = "induction-head"

#: every kind, in the order reports list them
KINDS: dict[str, ClaimKind] = {kind.name: kind for kind in (
    ClaimKind(ATTENTION_HEAD, "Attention heads", "attention"),
    ClaimKind(ATTENTION_TREE, "Attention trees", "tree", scores_trees=True),
    ClaimKind(STRUCTURAL_PROBE, "Structural probes", "structural", scores_trees=True),
    ClaimKind(PROPERTY_INFERENCE, "Property inference", "property"),
    ClaimKind(PREVIOUS_TOKEN_HEAD, "Previous-token heads (decoders)", "decoder"),
    ClaimKind(INDUCTION_HEAD, "Induction heads (decoders)", "decoder"),
)}


def title(kind: str) -> str:
    """The report heading for ``kind`` (the kind itself when an older or newer audit names one we do not know)."""
    known = KINDS.get(kind)
    return known.title if known is not None else kind


def tree_scored_kinds() -> tuple[str, ...]:
    return tuple(name for name, kind in KINDS.items() if kind.scores_trees)
