"""Attention-tree claims: the maximum spanning tree of a head's (or a layer's mean) attention recovers the parse."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgeaudit.audit.groups.attention import matrix_value
from edgeaudit.audit.plugin import AuditState, ClaimPlugin

if TYPE_CHECKING:
    from edgeaudit.results import AuditResult
    from edgeaudit.verdict import Claim


class TreePlugin(ClaimPlugin):
    group = "tree"
    needs_trees = True

    def claims(self, state: AuditState) -> list:
        from edgeaudit.audit.head_claims import tree_claims

        return tree_claims(state.real.relational, state.sentences, state.ctx,
                           twin=state.twin.relational if state.twin else None)

    def match_key(self, kind: str, claim_id: str, subject: dict[str, Any]) -> tuple:
        """The best head's claim and the best layer's claim, whichever head or layer the audit picked."""
        return (kind, "head" if claim_id.startswith("tree:head:") else "layer")

    def applied_in_variant(self, claim: Claim, variant: AuditResult) -> dict[str, Any] | None:
        """The reference's head's (or layer's) tree UUAS in the variant's audit."""
        subject, trees = claim.subject, variant.runs.model.attention_trees or {}
        if "head" in subject:
            score = matrix_value(trees.get("per_head"), subject["layer"], subject["head"])
            source = f"head {subject['layer']}.{subject['head']}'s tree UUAS in the variant's audit"
        else:
            score = matrix_value(trees.get("layer_mean"), subject["layer"])
            source = f"layer {subject['layer']}'s tree UUAS in the variant's audit"
        return None if score is None else {"score": score, "source": source}


PLUGIN = TreePlugin()
