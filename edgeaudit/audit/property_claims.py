"""Claims "layer l embeddings predict NORMS" from a property probe, each against its whole control battery."""

from __future__ import annotations

import math

from edgeaudit.claim_kinds import PROPERTY_INFERENCE
from edgeaudit.probes import PropertyProbeResult
from edgeaudit.verdict import Claim, ControlScore, VerdictThresholds, attach_margin, decide

CLAIM_METRICS = ("neighbour@1", "neighbour@5", "feature_precision", "spearman", "feature_f1")
# Not a rival explanation but a generalisation test (same mapper, whole categories held out): evidence only.
EVIDENCE_ONLY = ("category_held_out",)


def property_claims(result: PropertyProbeResult, *, layer: int, norms_name: str,
                    thresholds: VerdictThresholds, n_concepts: int) -> list[Claim]:
    """One claim per metric. Rival explanations (control task, shuffles, random norms/embeddings, twin,
    nearest-neighbour copy, category mean) compete for "strongest control"; the category-held-out split and
    nonsense (rotated) norms are evidence: the first says whether the score generalises across categories, the
    second whether the metric can tell meaningful norms from meaningless ones with the same geometry. With a
    rotation-equivariant mapper a cosine-only metric scores both identically by construction, so there the
    control is recorded as uninformative instead of as a finding. A permutation p-value at its floor
    ``1 / (shuffles + 1)`` is marked as such: more shuffles could only make it smaller.
    """
    claims = []
    for metric, real_score in result.real.means.items():
        if metric not in CLAIM_METRICS or real_score is None or not math.isfinite(real_score):
            continue
        controls, margins, blind_to = [], {}, []
        evidence: dict = {"chance": result.chance.get(metric)}
        for name, control in result.controls.items():
            score = control.run.means.get(metric)
            if score is None or not math.isfinite(score):
                continue
            if control.p_values and metric in control.p_values:
                evidence[f"p_value_{name}"] = control.p_values[metric]
                evidence[f"p_value_{name}_at_floor"] = control.p_values[metric] <= control.p_value_floor
            if metric in control.uninformative:
                evidence.setdefault("uninformative_controls", {})[name] = control.uninformative[metric]
                continue
            if name in EVIDENCE_ONLY or control.nonsense:
                evidence[name] = score
                if control.nonsense and not control.real_above_control.get(metric, True):
                    blind_to.append(name)
                continue
            controls.append(ControlScore(name, score, control.description))
            margins[name] = tuple(result.margin(name, metric))
        evidence["cannot_tell_sense_from_nonsense"] = bool(blind_to)
        interval = result.real.intervals.get(metric)
        claim = Claim(
            claim_id=f"property:{layer}:{norms_name}:{metric}", kind=PROPERTY_INFERENCE,
            text=f"layer {layer} embeddings predict {norms_name} norms ({metric})", metric=metric,
            score=float(real_score), n=n_concepts, controls=controls,
            score_ci=None if interval is None else (interval.low, interval.high),
            subject={"layer": layer, "norms": norms_name}, evidence=evidence,
        )
        decide(attach_margin(claim, margins), thresholds)
        if blind_to:
            claim.reason += (f"; this metric scores {', '.join(blind_to)} (meaningless features, same concept "
                             "geometry) as well, so it cannot tell sense from nonsense")
        claims.append(claim)
    return claims
