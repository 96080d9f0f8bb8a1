"""Claim by claim: does each explanation of the reference survive in the variant?

Matching is the rule of each claim's probe group (``ClaimPlugin.match_key``). Relation, structural and property
claim ids are stable across models. A head claim's id names the best head (``head:3.7:nsubj:dependent_to_head``),
which may move after compression, so head claims are matched by (relation, direction) and attention-tree claims
by what they are about (the best head / the best layer). The *variant* side is the variant's own audit (its best
head, probes retrained on it); the *applied* side is the reference's explanation checked unchanged on the
variant — the reference's head, tree head or layer read off the variant's audit (``applied_in_variant``), the
reference's saved probes scored on the variant's activations in :mod:`edgeaudit.compare.applied`.

Survival (``drift_tolerance`` d, default 0.02):

- ``breaks``  — the verdict crossed supported / not supported (supported→artifact, inconclusive→supported…);
- ``drifts``  — the verdict holds but ``|delta| > d`` and ``delta_ci`` excludes 0; also a verdict change
  that does not cross the supported line (artifact→inconclusive), which is a flip but not a break;
- ``survives`` — otherwise.

``delta = variant score − reference score``. ``delta_ci`` is conservative: from the two claims' own score
CIs, ``[var_lo − ref_hi, var_hi − ref_lo]`` (it excludes 0 only when the CIs do not overlap); the audits
do not keep per-sentence hits, so a paired bootstrap is not available here. A claim present on one side
only is a flip to/from ``absent`` and breaks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from edgeaudit.audit.plugin import plugin_of_kind
from edgeaudit.results import AuditResult, ComparedClaim, SideScore
from edgeaudit.results.compare_result import AppliedScore, ExplanationDrift
from edgeaudit.verdict import SURVIVAL, Claim, finite_or_none, json_pair

ABSENT = "absent"
DEFAULT_DRIFT_TOLERANCE = 0.02


def match_key(kind: str, claim_id: str, subject: dict[str, Any] | None) -> tuple:
    """What a claim is about, independent of which head the model's audit happened to pick (its group's rule)."""
    plugin = plugin_of_kind(kind)
    return plugin.match_key(kind, claim_id, subject or {}) if plugin is not None else (kind, claim_id)


def claim_key(claim: Claim) -> tuple:
    return match_key(claim.kind, claim.claim_id, claim.subject)


def applied_from_audit(claim: Claim, variant: AuditResult) -> AppliedScore | None:
    """The reference's explanation read off the variant's audit (the head / tree head / tree layer), if its group
    can; probe groups with saved probes are applied in :mod:`edgeaudit.compare.applied` instead."""
    plugin = plugin_of_kind(claim.kind)
    found = plugin.applied_in_variant(claim, variant) if plugin is not None else None
    return None if found is None else AppliedScore(**found)


def _side(claim: Claim | None) -> SideScore | None:
    if claim is None:
        return None
    return SideScore(id=claim.claim_id, score=finite_or_none(claim.score), verdict=claim.verdict,
                     ci=json_pair(claim.score_ci), text=claim.text, subject=claim.subject,
                     margin=finite_or_none(claim.margin), strongest_control=claim.strongest_control)


def _delta(reference: Claim | None, variant: Claim | None) -> tuple[float | None, list | None]:
    if reference is None or variant is None or math.isnan(reference.score) or math.isnan(variant.score):
        return None, None
    delta = float(variant.score) - float(reference.score)
    ref_ci, var_ci = reference.score_ci, variant.score_ci
    if ref_ci is None or var_ci is None or any(math.isnan(x) for x in (*ref_ci, *var_ci)):
        return delta, None
    return delta, [float(var_ci[0]) - float(ref_ci[1]), float(var_ci[1]) - float(ref_ci[0])]


def survival(reference_verdict: str, variant_verdict: str, delta: float | None, delta_ci: list | None,
             tolerance: float) -> str:
    if (reference_verdict == "supported") != (variant_verdict == "supported") or ABSENT in (reference_verdict,
                                                                                            variant_verdict):
        return "breaks"
    if reference_verdict != variant_verdict:
        return "drifts"
    if delta is not None and abs(delta) > tolerance and delta_ci is not None \
            and (delta_ci[0] > 0 or delta_ci[1] < 0):
        return "drifts"
    return "survives"


@dataclass
class ClaimComparison:
    entries: list[ComparedClaim]

    def counts(self) -> dict[str, int]:
        out = {name: sum(e.survival == name for e in self.entries) for name in SURVIVAL}
        out["flips"] = sum(e.flip is not None for e in self.entries)
        return out


def compare_claims(reference: AuditResult, variant: AuditResult, *, tolerance: float = DEFAULT_DRIFT_TOLERANCE,
                   applied: dict[str, AppliedScore] | None = None) -> ClaimComparison:
    """One entry per reference claim (in the reference's order), then variant-only claims.

    ``applied`` maps reference claim ids to precomputed applied scores (structural, property); head and
    tree claims are read off the variant's audit.
    """
    applied = applied or {}
    variant_by_key: dict[tuple, Claim] = {}
    for claim in variant.claims:
        variant_by_key.setdefault(claim_key(claim), claim)
    seen: set[tuple] = set()
    entries = []
    for ref in reference.claims:
        key = claim_key(ref)
        if key in seen:
            continue
        seen.add(key)
        entries.append(_entry(ref, variant_by_key.get(key), variant, applied.get(ref.claim_id), tolerance))
    for key, var in variant_by_key.items():
        if key not in seen:
            entries.append(_entry(None, var, variant, None, tolerance))
    return ClaimComparison(entries)


def _entry(ref: Claim | None, var: Claim | None, variant: AuditResult, applied: AppliedScore | None,
           tolerance: float) -> ComparedClaim:
    base = ref or var
    assert base is not None
    delta, delta_ci = _delta(ref, var)
    ref_verdict = ref.verdict if ref else ABSENT
    var_verdict = var.verdict if var else ABSENT
    if ref is not None and applied is None:
        applied = applied_from_audit(ref, variant)
    if applied is not None and ref is not None and not math.isnan(ref.score):
        applied = AppliedScore(applied.score, applied.source, applied.score - float(ref.score))
    note = None
    if ref is not None and var is not None and var.claim_id != ref.claim_id:
        note = f"the variant's audit picked another subject: {var.text or var.claim_id}"
    return ComparedClaim(
        id=base.claim_id, kind=base.kind, text=base.text, metric=base.metric,
        reference=_side(ref), variant=_side(var), applied=applied, delta=delta, delta_ci=delta_ci,
        survival=survival(ref_verdict, var_verdict, delta, delta_ci, tolerance),
        flip=None if ref_verdict == var_verdict else f"{ref_verdict}→{var_verdict}", note=note)


OUTPUT_DRIFT_FLOOR = 1e-3  # 1 − output cosine below this is noise, not a change in what the model computes


def explanation_drift(entries: list[ComparedClaim], output_cosine_mean: float | None,
                      notes: list[str]) -> ExplanationDrift:
    """Mean |score delta| over claims, against the output's drift (1 − mean output cosine).

    The ratio says how much more (or less) the explanations moved than the outputs did: ``> 1`` means an
    output-level check ("the int8 model still agrees with fp32") understates what happened to the
    explanations. It is null when the outputs are identical or the output drift was not computed. An output
    drift below ``OUTPUT_DRIFT_FLOOR`` is numerical noise (fp16 moves MiniLM's output by ~4e-5), and dividing
    by it would turn a negligible score change into a large "alarm" ratio, so the floor is the denominator then.
    """
    deltas = [abs(e.delta) for e in entries if e.delta is not None]
    applied = [abs(e.applied.delta) for e in entries if e.applied is not None and e.applied.delta is not None]
    by_kind: dict[str, list[float]] = {}
    for e in entries:
        if e.delta is not None:
            by_kind.setdefault(e.kind, []).append(abs(e.delta))
    mean_abs = float(sum(deltas) / len(deltas)) if deltas else None
    output_drift = None if output_cosine_mean is None else max(0.0, 1.0 - float(output_cosine_mean))
    ratio, ratio_note = None, None
    if mean_abs is None:
        ratio_note = "no claim has a score on both sides"
    elif output_drift is None:
        ratio_note = "the output drift was not computed"
    elif output_drift <= 1e-12:
        ratio_note = "the outputs are identical (output drift 0): the ratio is undefined"
    else:
        ratio = mean_abs / max(output_drift, OUTPUT_DRIFT_FLOOR)
        if output_drift < OUTPUT_DRIFT_FLOOR:
            ratio_note = (f"output drift {output_drift:.2g} is below the floor {OUTPUT_DRIFT_FLOOR:g} (numerical noise): "
                          "the ratio divides by the floor")
    return ExplanationDrift(
        mean_abs_score_delta=mean_abs, max_abs_score_delta=max(deltas) if deltas else None,
        mean_abs_applied_delta=float(sum(applied) / len(applied)) if applied else None,
        mean_abs_score_delta_by_kind={k: float(sum(v) / len(v)) for k, v in sorted(by_kind.items())},
        output_drift=output_drift, explanation_to_output_ratio=ratio, ratio_note=ratio_note,
        definition="mean |variant score − reference score| over compared claims, divided by "
                   f"max(1 − mean per-word output cosine, {OUTPUT_DRIFT_FLOOR:g})",
        notes=notes)
