"""Attention-head claims: "head L.H tracks relation R" against fixed-offset heads, the twin and nonce sentences."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from edgeaudit.audit.plugin import AuditState, ClaimPlugin

if TYPE_CHECKING:
    from edgeaudit.results import AuditResult
    from edgeaudit.verdict import Claim


def matrix_value(matrix: Any, layer: int, head: int | None = None) -> float | None:
    """One finite entry of a [layer] or [layer][head] score matrix from an audit document, or None."""
    try:
        value = matrix[layer] if head is None else matrix[layer][head]
    except (IndexError, KeyError, TypeError):
        return None
    return None if value is None or not math.isfinite(float(value)) else float(value)


class AttentionPlugin(ClaimPlugin):
    group = "attention"
    uses_nonce = True

    def claims(self, state: AuditState) -> list:
        from edgeaudit.audit.head_claims import head_claims

        return head_claims(state.real.relational, state.ctx, min_count=state.options.min_count,
                           twin=state.twin.relational if state.twin else None,
                           nonce=state.nonce.relational if state.nonce else None)

    def match_key(self, kind: str, claim_id: str, subject: dict[str, Any]) -> tuple:
        """By relation and direction: which head is best may change after compression."""
        return (kind, subject.get("relation"), subject.get("direction"))

    def applied_in_variant(self, claim: Claim, variant: AuditResult) -> dict[str, Any] | None:
        """The reference's head's accuracy for the relation, in the variant's audit."""
        layer, head = claim.subject["layer"], claim.subject["head"]
        relations = variant.probe_section("attention_heads").get("relations", {})
        entry = relations.get(claim.subject["relation"], {}).get(claim.subject["direction"]) or {}
        score = matrix_value(entry.get("accuracy"), layer, head)
        return None if score is None else {"score": score,
                                           "source": f"head {layer}.{head}'s accuracy in the variant's audit"}


PLUGIN = AttentionPlugin()
