"""The HTML page for ``compare.json``: which explanations survive compression, then how much the numbers moved."""

from __future__ import annotations

from typing import Any

from edgeaudit import __version__
from edgeaudit.report import compare_views, plots, views
from edgeaudit.report.html import Figures, badge, details, esc, key_values, page, table, tiles
from edgeaudit.report.html_audit import skips_note
from edgeaudit.results import CompareResult, SideScore
from edgeaudit.verdict import VERDICTS


def gates_section(document: CompareResult) -> str:
    gates = document.gates
    if not gates:
        return ("<h2>Gates</h2><p class=note>No <code>--fail-on</code> gates were set; the comparison cannot fail "
                "a build.</p>")
    rows = [[badge("tripped" if g.tripped else "passed"), f"<code>{esc(g.expression)}</code>",
             esc(views.fmt_gate_value(g.value, g.threshold)), f"{esc(g.op)} {esc(views.fmt_threshold(g.threshold))}"]
            for g in gates]
    classes = ["tripped" if g.tripped else "" for g in gates]
    return "<h2>Gates</h2>" + table(["", "gate", "value", "trips when"], rows, raw=True, numeric=(2,),
                                    row_classes=classes)


def _score(side: SideScore | None) -> str:
    if side is None:
        return f"{views.fmt(None)} <small></small>"
    return f"{views.fmt(side.score)} <small>{esc(views.fmt_ci(side.ci))}</small>"


def survival_section(document: CompareResult) -> str:
    claims = document.claims
    if not claims:
        return "<h2>Claims after compression</h2><p class=note>No claims to compare.</p>"
    header = ["survival", "claim", "verdict (reference → variant)", "reference score", "variant score",
              "fp32 probe applied", "Δ [95% CI]"]
    rows, classes = [], []
    for claim in claims:
        reference, variant = claim.reference, claim.variant
        verdicts = (f"{esc((reference.verdict if reference else None) or '—')} → "
                    f"{esc((variant.verdict if variant else None) or '—')}")
        if claim.flip:
            verdicts = f"{badge('flip', 'flip')} {verdicts}"
        delta = (f"{views.fmt(claim.delta, signed=True)} "
                 f"<small>{esc(views.fmt_ci(claim.delta_ci, signed=True))}</small>")
        rows.append([badge(claim.survival), esc(claim.text), verdicts, _score(reference), _score(variant),
                     views.fmt(claim.applied.score) if claim.applied else "—", delta])
        classes.append("flip" if claim.flip else "")
    flips = [c for c in claims if c.flip]
    flip_list = ""
    if flips:
        items = "".join(f"<li>{badge('flip', 'flip')} {esc(c.text)}: {esc(c.flip)}</li>" for c in flips)
        flip_list = f"<h3>Verdict flips</h3><ul class=legend>{items}</ul>"
    return ("<h2>Claims after compression</h2><p class=note><b>survives</b>: the claim holds on the variant as on "
            "the reference; <b>drifts</b>: it holds but its score moved; <b>breaks</b>: it no longer holds. Rows whose "
            "verdict flipped are highlighted.</p>" + flip_list
            + table(header, rows, raw=True, numeric=(3, 4, 5, 6), row_classes=classes, wide=True))


def drift_section(document: CompareResult, figures: Figures) -> str:
    numeric, explanation = document.numeric_drift, document.explanation_drift
    if numeric is None and explanation is None:
        return ""
    parts = ["<h2>Numeric drift</h2>"]
    facts: list[tuple[str, str]] = []
    if numeric is not None:
        if not numeric.computed:
            parts.append(f"<p class=note>Not computed: {esc(numeric.note or 'no reason given')}</p>")
        cosine = numeric.output_cosine
        facts += [("final-output cosine (mean)", views.fmt(cosine.mean, 5)),
                  ("final-output cosine (min)", views.fmt(cosine.min, 5)),
                  ("final-output max |difference|", views.fmt(numeric.output_max_abs_diff, 5)),
                  *compare_views.next_token_facts(document)]
        if numeric.min_sqnr_db is not None:
            facts.append(("worst SQNR", f"{views.fmt(numeric.min_sqnr_db, 1)} dB at hidden state "
                                        f"{numeric.worst_sqnr_layer}"))
        worst = numeric.worst_attention_head or {}
        if worst:
            facts.append(("most changed head",
                          f"{worst.get('layer')}.{worst.get('head')} (JSD {views.fmt(worst.get('jsd'), 4)})"))
    if explanation is not None:
        facts += [("mean |claim score change|", views.fmt(explanation.mean_abs_score_delta, 4)),
                  ("output drift", views.fmt(explanation.output_drift, 5)),
                  ("explanation drift ÷ output drift", views.fmt(explanation.explanation_to_output_ratio, 2))]
    parts.append(key_values(facts))
    if explanation is not None and explanation.explanation_to_output_ratio is not None:
        parts.append("<p class=note>A ratio well above 1 means the explanations moved more than the model's output: "
                     "an accuracy check on the device would not have noticed.</p>")
    sqnr = compare_views.sqnr_layers(document)
    if sqnr:
        parts.append(figures.figure("SQNR per layer", lambda: plots.sqnr_figure(sqnr),
                                    "Signal-to-quantisation-noise ratio of every hidden state; about 6 dB per bit."))
        parts.append(table(["hidden state", "SQNR (dB)"], [[str(layer), views.fmt(v, 1)] for layer, v in sqnr],
                           numeric=(1,)))
    jsd = compare_views.attention_jsd(document)
    if jsd:
        parts.append(figures.figure("attention JSD per head", lambda: plots.jsd_figure(jsd),
                                    "How far each head's attention distributions moved (Jensen–Shannon divergence)."))
        worst = sorted(((v, layer, head) for layer, row in enumerate(jsd) for head, v in enumerate(row)
                        if v is not None), reverse=True)[:8]
        parts.append(details("Most changed heads", table(["head", "JSD"], [[f"{layer}.{head}", views.fmt(v, 4)]
                                                                          for v, layer, head in worst], numeric=(1,))))
    return "".join(parts)


def _fidelity_row(side: str, section: dict[str, Any]) -> list[str]:
    if section.get("computed") is False or "faithful" not in section:
        return [esc(side), badge("not checked", "inconclusive"), "—", "—", "—", "—", esc(section.get("note") or "")]
    faithful = section.get("faithful")
    state = badge("faithful", "survives") if faithful else badge("differs", "breaks") if faithful is False else \
        badge("no tokens", "inconclusive")
    cosine = section.get("output_cosine") or {}
    criteria = section.get("criteria") or {}
    graphs = (f"{(section.get('audited') or {}).get('nodes', '?')} → {(section.get('deployed') or {}).get('nodes', '?')}"
              " nodes")
    return [esc(side), state, views.fmt(cosine.get("min"), 6), views.fmt(section.get("output_max_abs_diff"), 4),
            f"{esc(section.get('sentences', '?'))} / {esc(section.get('tokens', '?'))}", esc(graphs),
            esc(f"needs cosine ≥ {criteria.get('min_cosine', '?')} and |diff| ≤ {criteria.get('max_abs_diff', '?')}")]


def _fusions(side: str, section: dict[str, Any]) -> str:
    fusions = section.get("prevented_fusions") or {}
    if not fusions:
        return ""
    rows = [[esc(op), str(c.get("audited", "?")), str(c.get("deployed", "?")), views.fmt(c.get("difference"), signed=True)]
            for op, c in fusions.items()]
    return details(f"{side}: op types whose count differs (fusions the taps prevent)",
                   table(["op", "audited graph", "deployed graph", "difference"], rows, raw=True, numeric=(1, 2, 3)))


def fidelity_section(document: CompareResult) -> str:
    """Whether the graph that was audited computes what the deployed graph computes, one row per side."""
    checks = document.fidelity
    fidelity = {} if checks is None else {side: section for side, section in
                                          (("reference", checks.reference), ("variant", checks.variant)) if section}
    if not fidelity:
        return ""
    header = ["side", "", "final-output cosine (min)", "max |difference|", "sentences / tokens",
              "audited → deployed graph", "criterion"]
    rows = [_fidelity_row(side, section) for side, section in fidelity.items()]
    extra = "".join(_fusions(side, section) for side, section in fidelity.items())
    extra += "".join(details(f"{side}: all measurements", key_values(views.flat_items(section)))
                     for side, section in fidelity.items())
    return ("<h2>Fidelity: audited graph vs deployed graph</h2><p class=note>The audit reads a graph with every "
            "attention and hidden state exposed; the device runs a graph with the final output only, which "
            "onnxruntime may fuse differently. Faithful means both give the same final output.</p>"
            + table(header, rows, raw=True, numeric=(2, 3)) + extra)


def verdicts_section(document: CompareResult) -> str:
    verdicts = document.summary.verdicts or {}
    reference, variant = verdicts.get("reference") or {}, verdicts.get("variant") or {}
    if not reference and not variant:
        return ""
    rows = [[badge(v), str(reference.get(v, "—")), str(variant.get(v, "—"))] for v in VERDICTS]
    return "<h3>Verdicts before and after</h3>" + table(["verdict", "reference", "variant"], rows, raw=True,
                                                        numeric=(1, 2))


def inputs_section(document: CompareResult) -> str:
    parts = ["<h2>Inputs and provenance</h2>"]
    for side, inputs in (("reference", document.reference), ("variant", document.variant)):
        parts.append(f"<h3>{side}</h3>" + key_values(views.flat_items(inputs.to_json())))
    if document.options:
        parts.append(details("Options", key_values(views.flat_items(document.options))))
    if document.provenance:
        parts.append(details("Provenance", key_values(views.flat_items(document.provenance))))
    return "".join(parts)


def compare_page(document: CompareResult) -> str:
    figures = Figures()
    counts = compare_views.survival_counts(document)
    head = tiles([("claims", len(document.claims), "claims"),
                  ("survives", counts["survives"], "survive"), ("drifts", counts["drifts"], "drift"),
                  ("breaks", counts["breaks"], "break"), ("flips", counts["flips"], "verdict flips"),
                  ("tripped" if counts["gates_tripped"] else "survives", counts["gates_tripped"], "gates tripped")])
    body = "".join([head, skips_note(document), verdicts_section(document), survival_section(document), gates_section(document),
                    drift_section(document, figures),
                    fidelity_section(document), inputs_section(document)])
    reference, variant = compare_views.side_label(document.reference), compare_views.side_label(document.variant)
    footer = (f"Rendered by edgeaudit {__version__} from an {document.schema} v{document.schema_version} "
              f"document alone. Self-contained: opens offline.")
    return page(f"edgeaudit compare — {reference} → {variant}",
                "Do the reference's explanations survive compression?", body, figures.notice(), footer)
