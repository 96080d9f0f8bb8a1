"""Attention-tree claims: the maximum spanning tree of a head's (or a layer's mean) attention recovers the parse."""

from __future__ import annotations

from typing import Any

from edgeaudit.audit.groups.attention import matrix_value
from edgeaudit.audit.plugin import AuditState, ClaimPlugin


class TreePlugin(ClaimPlugin):
    group = "tree"
    needs_trees = True

    def claims(self, state: AuditState) -> list:
        from edgeaudit.audit.head_claims import tree_claims

        return tree_claims(state.real.relational, state.sentences, state.ctx,
                           twin=state.twin.relational if state.twin else None)

    def match_key(self, claim: dict[str, Any]) -> tuple:
        """The best head's claim and the best layer's claim, whichever head or layer the audit picked."""
        return (claim.get("kind"), "head" if str(claim["id"]).startswith("tree:head:") else "layer")

    def applied_in_variant(self, claim: dict[str, Any], variant_doc: dict[str, Any]) -> dict[str, Any] | None:
        """The reference's head's (or layer's) tree UUAS in the variant's audit."""
        subject = claim.get("subject") or {}
        trees = ((variant_doc.get("runs") or {}).get("model") or {}).get("attention_trees") or {}
        if "head" in subject:
            score = matrix_value(trees.get("per_head"), subject["layer"], subject["head"])
            source = f"head {subject['layer']}.{subject['head']}'s tree UUAS in the variant's audit"
        else:
            score = matrix_value(trees.get("layer_mean"), subject["layer"])
            source = f"layer {subject['layer']}'s tree UUAS in the variant's audit"
        return None if score is None else {"score": score, "source": source}


PLUGIN = TreePlugin()
