"""What a report shows, read out of a result document: the same views feed the HTML, the Markdown and the plots.

Every function takes the typed result alone (``AuditResult`` / ``CompareResult``: no bundle, no activations) and
is tolerant of optional parts that are missing or null: a probe group that was not run gives an empty view, not an
error. A probe group's own section (per-head matrices, property scores) is read here as the JSON its group writes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from edgeaudit.results import AuditResult, CompareResult, RunSection
from edgeaudit.verdict import Claim

VERDICT_MEANING = {
    "supported": "beats every control by at least the minimum effect, with a confidence interval above zero",
    "artifact": "the margin over a control (a baseline without the claimed knowledge) is reliably below the minimum "
                "effect: the control reaches the score, or falls short of it by less than the minimum effect",
    "inconclusive": "the data cannot decide: too few instances, a confidence interval that reaches both zero and the "
                    "minimum effect or is too wide, or a margin not significant over the run's many claims",
    "unwarranted-assumption": "the claim reads positions as their tokens at a layer where they no longer are",
}
DIRECTIONS = {"dependent_to_head": "dependent → head", "head_to_dependent": "head → dependent"}


# ---------------------------------------------------------------------------------------------- skipped sentences

@dataclass
class Skips:
    """Sentences the run could not use: rejected by the reader or by the model (too long, unalignable)."""

    by_kind: dict[str, int]
    total: int
    where: str

    @property
    def skipped(self) -> int:
        return sum(self.by_kind.values())

    def kinds(self) -> str:
        return ", ".join(f"{count} {kind}" for kind, count in sorted(self.by_kind.items(), key=lambda kv: -kv[1]))

    def sentence(self) -> str:
        """One line for a report's first screen; says so when nothing was skipped (silence would be ambiguous)."""
        if not self.skipped:
            return f"All {self.total} sentence{'' if self.total == 1 else 's'} of the data were used; none skipped."
        return (f"Skipped {self.skipped} of {self.total} sentence{'' if self.total == 1 else 's'}: {self.kinds()} "
                f"(one reason per sentence in {self.where}).")


def skipped_sentences(result: AuditResult | CompareResult) -> Skips:
    """Reader and extraction skips of an audit (or the reference side recorded in a comparison)."""
    if isinstance(result, CompareResult):
        data = result.data
        if data is None:
            return Skips({}, 0, "the reference's audit.json")
        return Skips(dict(data.skipped_by_kind), data.total_sentences, "the reference's audit.json")
    return Skips(result.skipped_by_kind(), result.total_sentences(),
                 'audit.json "data.skipped_while_reading" and "runs.model.extraction.skipped"')


# ---------------------------------------------------------------------------------------------- formatting

def finite_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def fmt(value: Any, digits: int = 3, signed: bool = False) -> str:
    """A number for a table cell; an em dash for missing values."""
    number = finite_number(value)
    if number is None:
        return "—"
    return f"{number:+.{digits}f}" if signed else f"{number:.{digits}f}"


def fmt_gate_value(value: Any, threshold: Any, digits: int = 4) -> str:
    """A gate's value with enough digits to sit on the same side of the threshold as the real value.

    A tripped ``output_cosine<0.99999`` at 0.999985 must not read "1.0000": digits are added until the rounded
    value compares to the threshold as the value does (or equals it only when the value does).
    """
    from edgeaudit.gates import format_against

    number, limit = finite_number(value), finite_number(threshold)
    return fmt(value, digits) if number is None or limit is None else format_against(number, limit, digits)


def fmt_threshold(value: float) -> str:
    """A gate's threshold as the user would write it (``0``, ``0.99``, ``0.001``)."""
    return f"{value:g}"


def fmt_ci(ci: Any, digits: int = 3, signed: bool = False) -> str:
    """``[low, high]`` or an empty string when there is no interval."""
    if not isinstance(ci, (list, tuple)) or len(ci) != 2 or any(finite_number(v) is None for v in ci):
        return ""
    return f"[{fmt(ci[0], digits, signed)}, {fmt(ci[1], digits, signed)}]"


def fmt_seconds(seconds: Any) -> str:
    number = finite_number(seconds)
    if number is None:
        return "—"
    return f"{number:.1f} s" if number < 120 else f"{int(number // 60)} min {number % 60:.0f} s"


# ---------------------------------------------------------------------------------------------- audit: claims

def control_score(claim: Claim, name: str | None) -> float | None:
    for control in claim.controls:
        if control.name == name:
            return finite_number(control.score)
    return None


def claims_by_kind(result: AuditResult) -> list[tuple[str, list[Claim]]]:
    """Claims grouped by kind, in the result's order of first appearance."""
    groups: dict[str, list[Claim]] = {}
    for claim in result.claims:
        groups.setdefault(claim.kind, []).append(claim)
    return list(groups.items())


def verdict_counts(result: AuditResult) -> dict[str, int]:
    return result.verdict_counts()


def model_title(result: AuditResult) -> str:
    """``bert (BertModel, 6 layers x 12 heads), fp32`` from the audited bundle's manifest facts."""
    model = result.bundle.model
    name = model.get("model_type") or "model"
    shape = f"{model.get('num_layers', '?')} layers × {model.get('num_heads', '?')} heads"
    architecture = f"{model['architecture']}, " if model.get("architecture") else ""
    return f"{name} ({architecture}{shape}), {result.bundle.variant}"


# ---------------------------------------------------------------------------------------------- audit: heads

@dataclass
class HeadMap:
    """One relation and direction: every head's accuracy minus the best fixed-offset baseline."""

    relation: str
    direction: str
    count: int
    margins: list[list[float | None]]  # [layer, head]
    baseline: float | None
    best_offset: int | None
    best_head: dict[str, Any] | None

    @property
    def title(self) -> str:
        return f"{self.relation}  {DIRECTIONS.get(self.direction, self.direction)}"


def _relations(result: AuditResult) -> dict[str, Any]:
    return result.probe_section("attention_heads").get("relations") or {}


def main_relations(result: AuditResult, limit: int = 6) -> list[str]:
    """The most frequent relations that were claimed about (at least ``min_count`` instances)."""
    relations = _relations(result)
    ranked = sorted(relations, key=lambda name: (-int(relations[name].get("count") or 0), name))
    return ranked[:limit]


def head_maps(result: AuditResult, limit: int = 6) -> list[HeadMap]:
    relations = _relations(result)
    maps = []
    for relation in main_relations(result, limit):
        entry = relations[relation]
        for direction in DIRECTIONS:
            side = entry.get(direction)
            if not side or not side.get("accuracy"):
                continue
            offset = side.get("offset_baseline") or {}
            baseline = finite_number(offset.get("accuracy"))
            margins = [[None if finite_number(a) is None else finite_number(a) - (baseline or 0.0) for a in row]
                       for row in side["accuracy"]]
            maps.append(HeadMap(relation, direction, int(entry.get("count") or 0), margins, baseline,
                                offset.get("best_offset"), side.get("best_head")))
    return maps


# ---------------------------------------------------------------------------------------------- audit: layers

@dataclass
class LayerCurves:
    """Per-layer curves. ``hidden`` curves are indexed by hidden state 0..L (0 = embeddings), ``layer`` curves by
    attention layer 0..L-1. A twin curve is None when no random-init twin was audited."""

    hidden_states: list[int] = field(default_factory=list)
    identifiability: list[float | None] | None = None
    identifiability_linear: list[float | None] | None = None
    rollout_self_share: list[float | None] | None = None
    structural_uuas: list[float | None] | None = None
    structural_uuas_twin: list[float | None] | None = None
    structural_depth: list[float | None] | None = None
    linear_chain_uuas: float | None = None
    layers: list[int] = field(default_factory=list)
    tree_uuas: list[float | None] | None = None
    tree_uuas_twin: list[float | None] | None = None
    tree_baselines: dict[str, float | None] = field(default_factory=dict)
    min_rollout_self_share: float | None = None
    min_identifiability: float | None = None

    @property
    def empty(self) -> bool:
        return not any((self.identifiability, self.rollout_self_share, self.structural_uuas, self.tree_uuas))


def _numbers(values: Any) -> list[float | None] | None:
    return None if not isinstance(values, list) else [finite_number(v) for v in values]


def _structural(run: RunSection | None, key: str, metric: str) -> list[float | None] | None:
    layers = (run.structural or {}).get("layers") if run is not None else None
    if not layers:
        return None
    return [finite_number((layer.get(key) or {}).get(metric)) for layer in sorted(layers, key=lambda x: x["layer"])]


def layer_curves(result: AuditResult) -> LayerCurves:
    model, twin = result.runs.model, result.runs.random_init_twin
    by_hidden = result.probe_section("correspondence").get("identifiability_by_hidden_state") or {}
    num_layers = int(result.bundle.model.get("num_layers") or 0)
    curves = LayerCurves(hidden_states=list(range(num_layers + 1)), layers=list(range(num_layers)))
    curves.identifiability = _numbers(by_hidden.get("direct"))
    curves.identifiability_linear = _numbers(by_hidden.get("linear"))
    shares = _numbers((model.rollout or {}).get("self_share"))
    if shares:  # self_share[l] is after layer l, i.e. of hidden_state_{l+1}; the embeddings are all self
        curves.rollout_self_share = [1.0, *shares]
    curves.structural_uuas = _structural(model, "distance", "uuas")
    curves.structural_uuas_twin = _structural(twin, "distance", "uuas")
    curves.structural_depth = _structural(model, "depth", "spearman")
    curves.linear_chain_uuas = finite_number((model.structural or {}).get("linear_chain_uuas"))
    trees = model.attention_trees or {}
    curves.tree_uuas = _numbers(trees.get("layer_mean"))
    curves.tree_uuas_twin = _numbers(((twin.attention_trees if twin else None) or {}).get("layer_mean"))
    baselines = trees.get("baselines") or {}
    curves.tree_baselines = {name: finite_number(baselines.get(name)) for name in ("chain", "random_tree")
                             if finite_number(baselines.get(name)) is not None}
    curves.min_rollout_self_share = finite_number(result.thresholds.min_rollout_self_share)
    curves.min_identifiability = finite_number(result.thresholds.min_identifiability)
    return curves


def hidden_state_rows(curves: LayerCurves) -> list[list[str]]:
    """Rows of the per-hidden-state table (identifiability, rollout self-share, structural UUAS model / twin)."""
    def at(values, i):
        return fmt(values[i]) if values and i < len(values) else "—"

    return [[str(i), at(curves.identifiability, i), at(curves.rollout_self_share, i), at(curves.structural_uuas, i),
             at(curves.structural_uuas_twin, i)] for i in curves.hidden_states]


HIDDEN_STATE_HEADER = ["hidden state", "identifiability", "rollout self-share", "structural UUAS",
                       "structural UUAS (random twin)"]


# ---------------------------------------------------------------------------------------------- audit: findings

def striking_findings(result: AuditResult) -> dict[str, str]:
    """One plain sentence per verdict that occurs: the claim a reader should look at first."""
    findings: dict[str, str] = {}

    def pick(verdict: str, key) -> Claim | None:
        candidates = [c for c in result.claims if c.verdict == verdict and key(c) is not None]
        return max(candidates, key=key) if candidates else None

    best = pick("supported", lambda c: finite_number(c.margin))
    if best:
        findings["supported"] = (f"“{best.text}” holds: {best.metric} {fmt(best.score, 2)}, "
                                 f"{fmt(best.margin, 2)} above the strongest control ({best.strongest_control}).")
    fooled = pick("artifact", lambda c: finite_number(c.score) if control_score(c, c.strongest_control)
                  is not None and c.finding in (None, "control-reaches") else None)
    if fooled:
        top = fooled.strongest_control
        findings["artifact"] = (f"“{fooled.text}” scores {fmt(fooled.score, 2)}, but the {top} control "
                                f"scores {fmt(control_score(fooled, top), 2)} without the claimed knowledge.")
    flagged = pick("unwarranted-assumption", lambda c: finite_number(c.score))
    if flagged:
        evidence = flagged.evidence.get("correspondence") or {}
        share = finite_number(evidence.get("rollout_self_share"))
        ci = evidence.get("rollout_self_share_ci") or []
        shown = f"{share:.1%} (CI {ci[0]:.1%}–{ci[1]:.1%})" if share is not None and len(ci) == 2 else \
            f"{share:.0%}" if share is not None else ""
        where = (f"at layer {evidence.get('layer')} only {shown} of a position's vector comes from its own token"
                 if share is not None else "its layer's positions no longer stand for their tokens")
        findings["unwarranted-assumption"] = (f"“{flagged.text}” scores {fmt(flagged.score, 2)} "
                                              f"(by scores alone: {flagged.score_verdict or '?'}), but {where}.")
    return findings


def flat_items(section: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A nested dict as ``(dotted.key, value)`` rows for an open-layout section (fidelity, provenance)."""
    if not isinstance(section, dict):
        return [(prefix or "value", _scalar(section))]
    rows = []
    for key, value in section.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            rows += flat_items(value, name)
        else:
            rows.append((name, _scalar(value)))
    return rows


def _scalar(value: Any) -> str:
    if isinstance(value, float):
        return fmt(value, 4)
    if value is None:
        return "—"
    if isinstance(value, list):
        text = ", ".join(_scalar(v) for v in value[:12])
        return f"[{text}{', …' if len(value) > 12 else ''}]"
    return str(value)
