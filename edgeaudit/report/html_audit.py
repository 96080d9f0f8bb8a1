"""The HTML page for ``audit.json``: verdicts first, then the evidence behind them, then how it was measured."""

from __future__ import annotations

from edgeaudit import __version__, claim_kinds
from edgeaudit.report import plots, property_views, views
from edgeaudit.report.html import Figures, badge, details, esc, key_values, page, table, tiles
from edgeaudit.results import AuditResult, CompareResult
from edgeaudit.verdict import VERDICTS, Claim


def _claim_row(claim: Claim) -> list[str]:
    top = claim.strongest_control
    top_score = views.control_score(claim, top)
    control = "—" if top is None else f"{esc(top)} ({views.fmt(top_score)})"
    score = f"{views.fmt(claim.score)} <small>{esc(views.fmt_ci(claim.score_ci))}</small>"
    margin = (f"{views.fmt(claim.margin, signed=True)} "
              f"<small>{esc(views.fmt_ci(claim.margin_ci, signed=True))}</small>")
    return [badge(claim.verdict), esc(claim.text), esc(claim.metric), score, control, margin,
            esc(claim.n), f'<span class="reason">{esc(claim.reason)}</span>']


def claims_section(document: AuditResult) -> str:
    header = ["verdict", "claim", "metric", "score [95% CI]", "strongest control", "margin [95% CI]", "n", "reason"]
    rows, classes = [], []
    for kind, claims in views.claims_by_kind(document):
        rows.append([f"{esc(claim_kinds.title(kind))} ({len(claims)})"] + [""] * (len(header) - 1))
        classes.append("group")
        for claim in claims:
            rows.append(_claim_row(claim))
            classes.append("")
    if not rows:
        return "<h2>Claims</h2><p class=note>No claims: no probe group produced a claim for this run.</p>"
    legend = "".join(f"<li>{badge(v)} {esc(text)}</li>" for v, text in views.VERDICT_MEANING.items())
    return (f"<h2>Claims</h2><ul class=legend>{legend}</ul>"
            + table(header, rows, numeric=(3, 5, 6), raw=True, row_classes=classes, wide=True))


def findings_section(document: AuditResult) -> str:
    findings = views.striking_findings(document)
    if not findings:
        return ""
    items = "".join(f"<li>{badge(verdict)} {esc(text)}</li>" for verdict, text in findings.items())
    return f"<h2>What stands out</h2><ul class=legend>{items}</ul>"


def heads_section(document: AuditResult, figures: Figures) -> str:
    maps = views.head_maps(document)
    if not maps:
        return ""
    rows = []
    for head_map in maps:
        best = head_map.best_head or {}
        accuracy = best.get("accuracy")
        margin = None if accuracy is None or head_map.baseline is None else accuracy - head_map.baseline
        rows.append([head_map.relation, views.DIRECTIONS.get(head_map.direction, head_map.direction),
                     str(head_map.count), f"{best.get('layer', '?')}.{best.get('head', '?')}" if best else "—",
                     views.fmt(accuracy), "—" if head_map.best_offset is None else f"{head_map.best_offset:+d}",
                     views.fmt(head_map.baseline), views.fmt(margin, signed=True)])
    header = ["relation", "direction", "n", "best head", "accuracy", "best offset", "offset accuracy", "margin"]
    figure = figures.figure("attention heads vs the positional baseline", lambda: plots.head_margin_figure(maps),
                            "Each cell is one head (layer.head): how often its strongest attention from the word "
                            "lands on the related word, minus the best fixed-offset guess (e.g. 'the next word'). "
                            "Red beats position alone; the box marks the best head.")
    return ("<h2>Attention heads against the positional baseline</h2>"
            "<p class=note>The most frequent relations. A head only tracks syntax if it beats a rule that looks at "
            "word position alone; its claim then also has to beat the random-init twin and survive nonce words.</p>"
            + figure + table(header, rows, numeric=(2, 4, 5, 6, 7)))


def layers_section(document: AuditResult, figures: Figures) -> str:
    curves = views.layer_curves(document)
    if curves.empty:
        return ""
    panels = [(bool(curves.identifiability or curves.rollout_self_share),
               "whether position i still holds token i (identifiability) and how much of it comes from token i "
               "(attention-rollout self-share; head claims below the floor are 'unwarranted-assumption')"),
              (bool(curves.structural_uuas), "tree recovery from hidden states by the structural probe"),
              (bool(curves.tree_uuas), "tree recovery from attention (spanning trees of head-averaged attention)")]
    described = [text for shown, text in panels if shown]
    names = ["Left", "Middle", "Right"] if len(described) == 3 else ["Left", "Right"] if len(described) == 2 else [""]
    caption = " ".join(f"{name}: {text}." if name else f"{text[0].upper()}{text[1:]}."
                       for name, text in zip(names, described, strict=False))
    caption += " Blue: the model; orange: its random-init twin, with the same probe."
    figure = figures.figure("layer curves", lambda: plots.layer_curves_figure(curves), caption)
    rows = views.hidden_state_rows(curves)
    measured = any(cell != "—" for row in rows for cell in row[1:])
    hidden = table(views.HIDDEN_STATE_HEADER, rows, numeric=(1, 2, 3, 4)) if measured else ""
    body = figure + hidden
    if curves.tree_uuas:
        twin = curves.tree_uuas_twin or []
        rows = [[str(layer), views.fmt(value), views.fmt(twin[layer]) if layer < len(twin) else "—"]
                for layer, value in enumerate(curves.tree_uuas)]
        baselines = ", ".join(f"{name.replace('_', ' ')} {views.fmt(v)}" for name, v in curves.tree_baselines.items())
        body += (f"<h3>Attention-tree UUAS per layer (heads averaged)</h3><p class=note>Baselines: {esc(baselines)}</p>"
                 + table(["attention layer", "model", "random-init twin"], rows, numeric=(1, 2)))
    return "<h2>Across layers: token correspondence and tree structure</h2>" + body


def property_section(document: AuditResult, figures: Figures) -> str:
    layers = property_views.property_layers(document)
    if not layers:
        return ""
    parts = ["<h2>Property inference: the model against every control</h2>"
             "<p class=note>Predicting feature norms from embeddings. Each control keeps something and removes the "
             "model's knowledge (shuffled pairs, random or rotated norms, random embeddings, the random-init twin, "
             "copying the nearest neighbour's norms, the category mean); a score no higher than a control's is "
             "explained by the dataset's geometry, not by the model.</p>"]
    conventions = property_views.property_conventions(document)
    if conventions:
        parts.append(key_values(conventions))
    for layer in layers:
        if not layer.metrics:
            continue
        parts.append(f"<h3>Layer {esc(layer.layer)} ({esc(layer.norms)})</h3>")
        parts.append(figures.figure(f"property scores, layer {layer.layer}", lambda layer=layer: plots.property_figure(layer),
                                    "Bars: mean over concepts; whiskers: 95% bootstrap CI."))
        names = list(dict.fromkeys(bar.name for metric in layer.metrics for bar in metric.bars))  # every metric's
        rows = []
        for name in names:
            row = [name.replace("_", " ")]
            for metric in layer.metrics:
                bar = next((b for b in metric.bars if b.name == name), None)
                row.append("—" if bar is None else
                           f"{views.fmt(bar.estimate)} {views.fmt_ci([bar.low, bar.high], 2)}".strip())
            rows.append(row)
        chance = ["chance"] + [views.fmt(m.chance) for m in layer.metrics]
        if any(cell != "—" for cell in chance[1:]):
            rows.append(chance)
        parts.append(table(["", *[m.metric for m in layer.metrics]], rows, numeric=range(1, len(layer.metrics) + 1)))
    return "".join(parts)


def _run_rows(document: AuditResult) -> list[list[str]]:
    rows = []
    for role, run in (("model", document.runs.model), ("random_init_twin", document.runs.random_init_twin),
                      ("nonce", document.runs.nonce)):
        if run is None:
            continue
        extraction, bundle = run.extraction, run.bundle
        skipped = ", ".join(f"{n} {kind}" for kind, n in extraction.skipped_by_kind.items()) or "none"
        rows.append([role.replace("_", " "), bundle.variant, bundle.sha256[:12],
                     f"{extraction.extracted} / {extraction.sentences}", skipped,
                     views.fmt_seconds(extraction.detail.get("seconds"))])
    return rows


def details_section(document: AuditResult) -> str:
    provenance = document.provenance
    timings = provenance.get("timings") or {}
    parts = ["<h2>How this was measured</h2>",
             table(["run", "variant", "bundle sha256", "sentences used", "skipped", "extraction"], _run_rows(document)),
             table(["stage", "time"], [[k, views.fmt_seconds(v)] for k, v in timings.items()], numeric=(1,))]
    parts.append(details("Thresholds", key_values(views.flat_items(document.thresholds.to_dict()))))
    parts.append(details("Data", key_values(views.flat_items(document.data.to_json()))))
    parts.append(details("Options", key_values(views.flat_items(document.options))))
    parts.append(details("Provenance (versions, machine, inputs, seeds)",
                         key_values(views.flat_items({k: v for k, v in provenance.items() if k != "timings"}))))
    return "".join(parts)


def skips_note(document: AuditResult | CompareResult) -> str:
    """First screen: how much of the data the verdicts rest on (a skip buried at the bottom is a silent one)."""
    skips = views.skipped_sentences(document)
    if not skips.total and not skips.skipped:
        return ""
    css = "note skips warn" if skips.skipped else "note skips"
    return f'<p class="{css}">{esc(skips.sentence())}</p>'


def audit_page(document: AuditResult) -> str:
    figures = Figures()
    counts = document.verdict_counts()
    data, bundle = document.data, document.bundle
    head = tiles([("claims", len(document.claims), "claims")]
                 + [(v, counts[v], v.replace("-", " ")) for v in VERDICTS])
    body = "".join([head, skips_note(document), findings_section(document), claims_section(document), heads_section(document, figures),
                    layers_section(document, figures), property_section(document, figures), details_section(document)])
    subtitle = (f"{data.spec}, {data.sentences} sentences · bundle "
                f"{bundle.sha256[:12]} · {document.provenance.get('created', '')}").rstrip(" ·")
    footer = (f"Rendered by edgeaudit {__version__} from an {document.schema} v{document.schema_version} "
              f"document alone. Self-contained: opens offline.")
    return page(f"edgeaudit audit — {views.model_title(document)}", subtitle, body, figures.notice(), footer)
