"""Claims "layer l embeddings predict NORMS" from a property probe, each against its whole control battery."""

from __future__ import annotations

import math

from edgeaudit.verdict import Claim, ControlScore, VerdictThresholds, attach_margin, decide
from probes import PropertyProbeResult

CLAIM_METRICS = ("neighbour@1", "neighbour@5", "feature_precision", "spearman", "feature_f1")
# Not a rival explanation but a generalisation test (same mapper, whole categories held out): evidence only.
EVIDENCE_ONLY = ("category_held_out",)


def property_claims(result: PropertyProbeResult, *, layer: int, norms_name: str,
                    thresholds: VerdictThresholds, n_concepts: int) -> list[Claim]:
    claims = []
    for metric, real_score in result.real.means.items():
        if metric not in CLAIM_METRICS or real_score is None or not math.isfinite(real_score):
            continue
        controls, margins, nonsense = [], {}, set()
        evidence = {"chance": result.chance.get(metric)}
        for name, control in result.controls.items():
            score = control.run.means.get(metric)
            if score is None or not math.isfinite(score):
                continue
            if control.p_values and metric in control.p_values:
                evidence[f"p_value_{name}"] = control.p_values[metric]
            if name in EVIDENCE_ONLY:
                evidence[name] = score
                continue
            controls.append(ControlScore(name, score, control.description))
            margins[name] = tuple(result.margin(name, metric))
            if control.nonsense:
                nonsense.add(name)
        interval = result.real.intervals.get(metric)
        claim = Claim(
            claim_id=f"property:{layer}:{norms_name}:{metric}", kind="property-inference",
            text=f"layer {layer} embeddings predict {norms_name} norms ({metric})", metric=metric,
            score=float(real_score), n=n_concepts, controls=controls,
            score_ci=None if interval is None else (interval.low, interval.high),
            subject={"layer": layer, "norms": norms_name},
            evidence=evidence,
        )
        decide(attach_margin(claim, margins), thresholds)
        if claim.verdict == "artifact" and claim.strongest_control in nonsense:
            claim.reason += "; the metric cannot tell the real norms from rotated nonsense with the same geometry"
        claims.append(claim)
    return claims

