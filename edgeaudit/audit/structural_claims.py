"""Claims "hidden layer l encodes the dependency tree" from the distance probe, against the linear chain and the twin."""

from __future__ import annotations

from edgeaudit.audit.head_claims import ClaimContext
from edgeaudit.audit.structural import StructuralResult
from edgeaudit.claim_kinds import STRUCTURAL_PROBE
from edgeaudit.verdict import Claim, ControlScore, attach_margin, decide


def _note_unconverged(claim: Claim, fit: dict | None) -> None:
    """A fit stopped by its iteration cap may not have reached its best map; say so next to the verdict."""
    if not fit:
        return
    claim.evidence["fit"] = fit
    if not fit["converged"]:
        before = ("before its loss on the dev sentences stopped falling" if fit.get("dev_loss") is not None
                  else "without converging (no dev sentences to stop on)")
        claim.reason += (f"; note: the distance probe reached its cap of {fit['max_iter']} iterations {before}, "
                         "so its score may understate the layer (raise --structural-max-iter)")


def structural_claims(real: StructuralResult, ctx: ClaimContext, *, twin: StructuralResult | None = None) -> list[Claim]:
    claims = []
    if real.chain_correct is None:
        return claims
    for layer_result in real.layers:
        correct, gold = layer_result.correct_edges, layer_result.gold_edges
        total = float(gold.sum())
        if not total:
            continue
        controls = [ControlScore("linear-chain", float(real.chain_correct.sum()) / total,
                                 "tree distance |i−j| (the linear chain)")]
        margins = {"linear-chain": ctx.margin(correct, real.chain_correct, gold)}
        if twin is not None and layer_result.layer < len(twin.layers):
            twin_layer = twin.layers[layer_result.layer]
            controls.append(ControlScore("random-init", float(twin_layer.correct_edges.sum()) / total,
                                         "the same probe on the random-init twin's layer"))
            margins["random-init"] = ctx.margin(correct, twin_layer.correct_edges, gold)
        claim = Claim(
            claim_id=f"structural:{layer_result.layer}", kind=STRUCTURAL_PROBE,
            text=f"hidden layer {layer_result.layer} encodes the dependency tree (distance probe)",
            metric="uuas", score=float(correct.sum()) / total, n=len(gold), controls=controls,
            score_ci=ctx.interval(correct, gold), subject={"layer": layer_result.layer},
            evidence={"distance_spearman": layer_result.distance.get("spearman"),
                      "depth_spearman": layer_result.depth.get("spearman"),
                      "root_accuracy": layer_result.depth.get("root_accuracy")},
        )
        decide(attach_margin(claim, margins), ctx.thresholds)
        _note_unconverged(claim, layer_result.distance.get("fit"))
        claims.append(claim)
    return claims
