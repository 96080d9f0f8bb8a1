"""A Markdown summary of a result: headline counts, the claims table, key curves as small tables.

Meant for a pull request, an issue or a README: plain GitHub-flavoured Markdown, no images.
"""

from __future__ import annotations

from typing import Any

from edgeaudit.report import compare_views, property_views, views
from edgeaudit.results import AuditResult, ComparedClaim, CompareResult, typed
from edgeaudit.verdict import VERDICTS


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(header: list[str], rows: list[list[Any]], numeric: tuple[int, ...] = ()) -> str:
    align = ["---:" if i in numeric else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _audit_claims(document: AuditResult) -> str:
    rows = []
    for claim in document.claims:
        top = claim.strongest_control
        control = "—" if top is None else f"{top} ({views.fmt(views.control_score(claim, top))})"
        margin = f"{views.fmt(claim.margin, signed=True)} {views.fmt_ci(claim.margin_ci, signed=True)}"
        rows.append([f"**{claim.verdict}**", claim.text, f"{views.fmt(claim.score)} ({claim.metric})",
                     control, margin.strip(), claim.reason])
    if not rows:
        return "_No claims._"
    return md_table(["verdict", "claim", "score", "strongest control", "margin [95% CI]", "reason"], rows, (2, 4))


def _audit_heads(document: AuditResult) -> str:
    rows = []
    for head_map in views.head_maps(document):
        best = head_map.best_head or {}
        accuracy = best.get("accuracy")
        margin = None if accuracy is None or head_map.baseline is None else accuracy - head_map.baseline
        rows.append([head_map.relation, views.DIRECTIONS.get(head_map.direction, head_map.direction), head_map.count,
                     f"{best.get('layer', '?')}.{best.get('head', '?')}" if best else "—", views.fmt(accuracy),
                     views.fmt(head_map.baseline), views.fmt(margin, signed=True)])
    if not rows:
        return ""
    return ("## Best head per relation vs the positional baseline\n\n"
            + md_table(["relation", "direction", "n", "best head", "accuracy", "offset baseline", "margin"], rows,
                       (2, 4, 5, 6)))


def _audit_layers(document: AuditResult) -> str:
    curves = views.layer_curves(document)
    if curves.empty:
        return ""
    text = ("## Across layers\n\n"
            + md_table(views.HIDDEN_STATE_HEADER, views.hidden_state_rows(curves), (1, 2, 3, 4)))
    if curves.tree_uuas:
        twin = curves.tree_uuas_twin or []
        rows = [[layer, views.fmt(v), views.fmt(twin[layer]) if layer < len(twin) else "—"]
                for layer, v in enumerate(curves.tree_uuas)]
        text += "\n\nAttention-tree UUAS (heads averaged):\n\n" + md_table(["layer", "model", "random twin"], rows, (1, 2))
    return text


def _audit_property(document: AuditResult) -> str:
    rows = []
    for layer in property_views.property_layers(document):
        for metric in layer.metrics:
            real = next((b for b in metric.bars if b.real), None)
            controls = [b for b in metric.bars if not b.real and not b.evidence and b.estimate is not None]
            top = max(controls, key=lambda b: b.estimate) if controls else None
            rows.append([layer.layer, metric.metric, views.fmt(real.estimate if real else None),
                         "—" if top is None else f"{top.name} ({views.fmt(top.estimate)})", views.fmt(metric.chance)])
    if not rows:
        return ""
    conventions = "".join(f"- {label}: {value}\n" for label, value in property_views.property_conventions(document))
    return ("## Property inference: model vs its strongest control\n\n" + (conventions + "\n" if conventions else "")
            + md_table(["layer", "metric", "model", "strongest control", "chance"], rows, (2, 4)))


def _skips(document: AuditResult | CompareResult) -> str:
    skips = views.skipped_sentences(document)
    if not skips.total and not skips.skipped:
        return ""
    return f"**{skips.sentence()}**" if skips.skipped else skips.sentence()


def audit_markdown(document: AuditResult) -> str:
    counts = document.verdict_counts()
    total = len(document.claims)
    parts = [f"# edgeaudit audit — {views.model_title(document)}",
             f"Data: `{document.data.spec}` ({document.data.sentences} sentences). "
             f"**{total} claims**: " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS) + ".",
             _skips(document)]
    findings = views.striking_findings(document)
    if findings:
        parts.append("\n".join(f"- **{verdict}**: {text}" for verdict, text in findings.items()))
    parts += ["## Claims", _audit_claims(document), _audit_heads(document), _audit_layers(document),
              _audit_property(document)]
    timings = document.provenance.get("timings") or {}
    if timings:
        parts.append("Stage timings: " + ", ".join(f"{k} {views.fmt_seconds(v)}" for k, v in timings.items()) + ".")
    return "\n\n".join(p for p in parts if p) + "\n"


def _compared_row(c: ComparedClaim) -> list[str]:
    ref_verdict = (c.reference.verdict if c.reference else None) or "—"
    var_verdict = (c.variant.verdict if c.variant else None) or "—"
    return [f"**{c.survival}**", c.text, f"{ref_verdict} → {var_verdict}" + (" ⚠ flip" if c.flip else ""),
            views.fmt(c.reference.score if c.reference else None), views.fmt(c.variant.score if c.variant else None),
            f"{views.fmt(c.delta, signed=True)} {views.fmt_ci(c.delta_ci, signed=True)}".strip()]


def compare_markdown(document: CompareResult) -> str:
    counts = compare_views.survival_counts(document)
    reference = compare_views.side_label(document.reference)
    variant = compare_views.side_label(document.variant)
    claims = document.claims
    parts = [f"# edgeaudit compare — {reference} → {variant}",
             f"**{len(claims)} claims**: {counts['survives']} survive, {counts['drifts']} drift, "
             f"{counts['breaks']} break; **{counts['flips']} verdict flips**; "
             f"{counts['gates_tripped']} gate(s) tripped.", _skips(document)]
    drift, explanation = document.numeric_drift, document.explanation_drift
    ratio = explanation.explanation_to_output_ratio if explanation is not None else None
    if drift is not None or ratio is not None:
        cosine = drift.output_cosine if drift is not None else None
        parts.append(f"Final-output cosine: mean {views.fmt(cosine.mean if cosine else None, 5)}, "
                     f"min {views.fmt(cosine.min if cosine else None, 5)}; "
                     f"explanation drift ÷ output drift: {views.fmt(ratio, 2)}.")
    next_token = compare_views.next_token_facts(document)
    if next_token:
        parts.append("Next-token predictions: " + "; ".join(f"{label} {value}" for label, value in next_token) + ".")
    if document.gates:
        parts += ["## Gates", md_table(["gate", "value", "tripped"],
                                       [[f"`{g.expression}`", views.fmt_gate_value(g.value, g.threshold),
                                         "**TRIPPED**" if g.tripped else "no"] for g in document.gates], (1,))]
    rows = [_compared_row(c) for c in claims]
    parts += ["## Claims after compression",
              md_table(["survival", "claim", "verdict", "reference", "variant", "Δ [95% CI]"], rows, (3, 4, 5))
              if rows else "_No claims._"]
    sqnr = compare_views.sqnr_layers(document)
    if sqnr:
        parts += ["## SQNR per layer", md_table(["hidden state", "SQNR (dB)"],
                                                [[layer, views.fmt(v, 1)] for layer, v in sqnr], (1,))]
    return "\n\n".join(p for p in parts if p) + "\n"


def render_markdown(document: dict[str, Any] | AuditResult | CompareResult) -> str:
    """The Markdown summary for an audit or compare result (dispatch on its ``schema``)."""
    if isinstance(document, AuditResult):
        return audit_markdown(document)
    if isinstance(document, CompareResult) or document.get("schema") == "edgeaudit.compare":
        return compare_markdown(typed(document, CompareResult))
    if document.get("schema") == "edgeaudit.merge":
        from edgeaudit.report.merge import merge_markdown

        return merge_markdown(document)
    if document.get("schema") == "edgeaudit.sensitivity":
        from edgeaudit.report.sensitivity import sensitivity_markdown

        return sensitivity_markdown(document)
    return audit_markdown(typed(document, AuditResult))
