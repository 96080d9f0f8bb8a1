"""What the audit reports show of the property group's section: per layer and metric, the model against every
control, and how the norms were read. The section is the property group's own JSON (``probes.property``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgeaudit.report.views import finite_number
from edgeaudit.results import AuditResult


@dataclass
class Bar:
    name: str
    estimate: float | None
    low: float | None
    high: float | None
    real: bool = False
    description: str = ""
    evidence: bool = False  # shown, but not a rival explanation (nonsense norms, category-held-out split)


@dataclass
class PropertyMetric:
    metric: str
    chance: float | None
    bars: list[Bar]


@dataclass
class PropertyLayer:
    layer: str
    norms: str
    metrics: list[PropertyMetric]


def _bar(name: str, scores: dict[str, Any], metric: str, *, real: bool = False) -> Bar:
    interval = (scores.get("intervals") or {}).get(metric) or {}
    estimate = finite_number(interval.get("estimate"))
    if estimate is None:
        estimate = finite_number((scores.get("means") or {}).get(metric))
    evidence = "cannot_tell_sense_from_nonsense" in scores or str(scores.get("splits", "")).startswith("category-held-out")
    return Bar(name, estimate, finite_number(interval.get("low")), finite_number(interval.get("high")), real,
               scores.get("description", ""), evidence)


def property_layers(result: AuditResult) -> list[PropertyLayer]:
    """Each probed layer: per metric, the real score and every control with its bootstrap CI."""
    section = result.probe_section("property")
    norms = (section.get("norms") or {}).get("name") or "norms"
    out = []
    for layer, entry in sorted((section.get("layers") or {}).items(), key=lambda kv: int(kv[0]) if str(kv[0]).isdigit() else 0):
        probe = (entry or {}).get("probe") or {}
        real = probe.get("real") or {}
        metrics = list((real.get("means") or {}).keys())
        controls = probe.get("controls") or {}
        chance = probe.get("chance") or {}
        panels = []
        for metric in metrics:
            bars = [_bar("model", real, metric, real=True)]
            bars += [_bar(name, scores, metric) for name, scores in controls.items()
                     if metric in (scores.get("means") or {}) and metric not in (scores.get("uninformative") or {})]
            panels.append(PropertyMetric(metric, finite_number(chance.get(metric)), bars))
        out.append(PropertyLayer(str(layer), norms, panels))
    return out


def property_conventions(result: AuditResult) -> list[tuple[str, str]]:
    """How the norms were read (label, value): targets, feature filter, senses, categories, template."""
    section = result.probe_section("property")
    conventions = section.get("conventions")
    if not conventions:
        return []
    norms = section.get("norms") or {}
    rows = [("norms", f"{norms.get('name', '?')}: {norms.get('concepts', '?')} concepts × {norms.get('features', '?')} "
                      f"features, {conventions.get('targets')} targets"),
            ("features kept", f"listed for ≥ {conventions.get('min_feature_concepts')} concepts "
                              f"({conventions.get('features_kept')} kept)"),
            ("senses", f"{conventions.get('ambiguous_words', 0)} words with several senses, kept apart")]
    categories = conventions.get("categories")
    if categories:
        rows.append(("categories", f"{categories.get('with_category')} concepts with one, {categories.get('without')} "
                                   "without (category controls only)"))
    rows.append(("concept input", str(conventions.get("template"))))
    left_out = section.get("left_out") or []
    if left_out:
        rows.append(("left out", f"{len(left_out)} concept{'' if len(left_out) == 1 else 's'} (reasons in audit.json)"))
    return rows
