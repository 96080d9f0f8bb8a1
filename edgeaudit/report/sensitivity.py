"""The sensitivity report (Markdown and HTML) from sensitivity.json alone: ranking, heatmap, recommendation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgeaudit.report import views
from edgeaudit.report.html import badge, esc, key_values, page, table, tiles
from edgeaudit.report.markdown import md_table

MARK = {"breaks": "✗", "drifts": "~", "survives": ""}


def _variants(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in document["variants"]}


def _not_surviving(record: dict[str, Any] | None) -> int | None:
    counts = (record or {}).get("counts")
    return None if counts is None else counts["breaks"] + counts["drifts"]


def ranking_rows(document: dict[str, Any]) -> list[list[Any]]:
    """Per swept block (most explanation damage first): ranks, claims lost alone, |Δ|, output damage, all-but."""
    variants, ranks = _variants(document), document["ranking"]["ranks"]
    rows = []
    for name in document["ranking"]["by_explanation"]:
        only, all_but = variants.get(f"only:{name}"), variants.get(f"all-but:{name}")
        lost = _not_surviving(only)
        rows.append([name, ranks[name]["explanation"], ranks[name]["output"], "—" if lost is None else lost,
                     views.fmt((only or {}).get("mean_abs_score_delta"), 4),
                     _significant((only or {}).get("output_damage")),
                     "—" if _not_surviving(all_but) is None else _not_surviving(all_but)])
    return rows


def _significant(value: Any) -> str:
    """Output damage spans orders of magnitude (1e-7 for one fp32-exact block, 1e-2 for a whole int8 model)."""
    return "—" if value is None else f"{value:.3g}"


RANKING_HEADER = ["block", "explanation rank", "output rank", "claims lost (only this block)", "mean |Δ| (only)",
                  "output damage (only)", "claims lost (all but this block)"]


def megabytes(value: Any) -> str:
    return "—" if value is None else f"{value / 1e6:.2f} MB"


def recommendation_text(document: dict[str, Any], strong: Callable[[str], str] = lambda text: text) -> str:
    """One sentence; ``strong`` marks the blocks to keep (Markdown bold in the .md report)."""
    rec = document["recommendation"]
    if rec["status"] == "holds":
        return f"The fully quantised variant holds ({rec['target']}): keep nothing in float."
    if rec["status"] == "verified":
        return (f"Keep {strong(', '.join(rec['float_blocks']))} in float32: verified ({rec['target']}) after "
                f"{len(rec['steps'])} fallback variant(s).")
    return rec.get("note") or rec["status"]


def fragile_rows(document: dict[str, Any]) -> list[list[str]]:
    """Claims lost by the full variant or a fallback, with how many one-block variants lose them too."""
    texts = {c["id"]: c.get("text") or c["id"] for v in document["variants"] for c in v.get("claims", [])}
    rows = []
    for claim_id, n in (document.get("fragile_claims") or {}).items():
        rows.append([texts.get(claim_id, claim_id), f"{n['only']} of {n['only_of']}", f"{n['all_but']} of {n['all_but_of']}"])
    return rows


FRAGILE_HEADER = ["claim lost by the full variant or a fallback", "fails with one block quantised",
                  "fails with all blocks but one quantised"]
FRAGILE_NOTE = ("A claim that fails both when single blocks are quantised and when single blocks are kept in float sits "
                "on a decision edge: noise-sized changes flip it, and no choice of float blocks settles it.")


def disagreement_text(document: dict[str, Any]) -> str:
    ranking = document["ranking"]
    basis = ("Damage of a block here is what keeping it in float removes (fully quantised minus all-but-that-block: "
             "the sweep has no one-block variants). " if ranking.get("basis") == "all-but" else "")
    return (f"{basis}Top {ranking['top_k']} by explanation damage but not by output damage: "
            f"{', '.join(ranking['explanation_not_output']) or 'none'}; by output damage but not by explanation "
            f"damage: {', '.join(ranking['output_not_explanation']) or 'none'}. Spearman correlation of the two "
            f"damages over blocks: {views.fmt(ranking['spearman'], 2)}.")


def sensitivity_markdown(document: dict[str, Any]) -> str:
    sizes, summary = document["sizes"], document["summary"]
    options = document["options"]
    parts = [f"# edgeaudit sensitivity — {options['preset']} on {document['reference']['bundle']}",
             f"{summary['blocks']} blocks, {summary['variants']} variants built and compared "
             f"({len(summary['variant_errors'])} could not be built).",
             "## Recommendation", recommendation_text(document, lambda text: f"**{text}**"),
             f"Model size: float {megabytes(sizes['float'])}, fully quantised {megabytes(sizes['full'])}, recommended "
             f"{megabytes(sizes['recommended'])}.",
             "## Blocks ranked by explanation damage", md_table(RANKING_HEADER, ranking_rows(document), (1, 2, 3, 4, 5, 6)),
             disagreement_text(document)]
    steps = document["recommendation"].get("steps") or []
    if steps:
        parts += ["## Fallback search", md_table(["step", "added", "float blocks", "holds", "still failing"],
                                                 [[i + 1, s["added"], ", ".join(s["float_blocks"]),
                                                   "yes" if s["holds"] else "no", ", ".join(s["failing"]) or "—"]
                                                  for i, s in enumerate(steps)], (0,))]
    fragile = fragile_rows(document)
    if fragile:
        parts += ["## Claims the quantisation loses", FRAGILE_NOTE, md_table(FRAGILE_HEADER, fragile)]
    heat = document["heatmap"]
    if heat["claims"]:
        rows = [[row.get("text") or row["id"], *[_md_cell(row["cells"].get(b)) for b in heat["blocks"]]]
                for row in heat["claims"]]
        parts += ["## Claim × block damage", heat["definition"] + " (✗ breaks, ~ drifts).",
                  md_table(["claim", *heat["blocks"]], rows)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _md_cell(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "—"
    return f"{views.fmt(cell['abs_delta'], 3)}{MARK[cell['survival']]}"


def _heat_cell(cell: dict[str, Any] | None, scale: float) -> str:
    if cell is None:
        return '<td class="num">—</td>'
    value = cell["abs_delta"] or 0.0
    alpha = 0.0 if scale <= 0 else min(1.0, value / scale)
    style = f"background: rgba(207, 34, 46, {alpha * 0.85:.2f});" + (" color:#fff;" if alpha > 0.55 else "")
    return (f'<td class="num" style="{style}" title="{esc(cell["survival"])}">'
            f"{esc(views.fmt(cell['abs_delta'], 3))}{esc(MARK[cell['survival']])}</td>")


def _heatmap_html(document: dict[str, Any]) -> str:
    heat = document["heatmap"]
    if not heat["claims"]:
        return '<p class="note">No claim was compared.</p>'
    values = [c["abs_delta"] for row in heat["claims"] for c in row["cells"].values() if c["abs_delta"] is not None]
    scale = max(values, default=0.0)
    head = "".join(f"<th>{esc(b)}</th>" for b in heat["blocks"])
    body = "".join(f"<tr><td>{esc(row.get('text') or row['id'])}</td>"
                   + "".join(_heat_cell(row["cells"].get(b), scale) for b in heat["blocks"]) + "</tr>"
                   for row in heat["claims"])
    return (f'<p class="note">{esc(heat["definition"])}; colour scaled to the largest |Δ| ({views.fmt(scale, 3)}); '
            f"✗ the claim breaks, ~ it drifts.</p>"
            f'<div style="overflow-x:auto"><table class="wide"><thead><tr><th>claim</th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def sensitivity_page(document: dict[str, Any]) -> str:
    rec, sizes, summary = document["recommendation"], document["sizes"], document["summary"]
    full = summary["full"] or {}
    status = {"holds": "survives", "verified": "survives", "not-found": "breaks", "not-run": "inconclusive"}
    body = [tiles([("", summary["blocks"], "blocks"), ("", summary["variants"], "variants compared"),
                   ("breaks", full.get("breaks", 0), "claims the full variant breaks"),
                   ("drifts", full.get("drifts", 0), "claims it drifts"),
                   ("", len(rec["float_blocks"]),
                    "blocks kept float" if rec["status"] in ("holds", "verified") else "blocks tried in float")]),
            "<h2>Recommendation</h2>",
            f"<p>{badge(rec['status'], status[rec['status']])} "
            f"{esc(recommendation_text(document))}</p>",
            key_values([("float model", megabytes(sizes["float"])), ("fully quantised", megabytes(sizes["full"])),
                        ("recommended", megabytes(sizes["recommended"])), ("recommended bundle", rec.get("bundle") or "—")])]
    steps = rec.get("steps") or []
    if steps:
        body.append(table(["step", "added", "float blocks", "holds", "still failing"],
                          [[str(i + 1), s["added"], ", ".join(s["float_blocks"]), "yes" if s["holds"] else "no",
                            ", ".join(s["failing"]) or "—"] for i, s in enumerate(steps)], numeric=[0]))
    fragile = fragile_rows(document)
    if fragile:
        body += ["<h3>Claims the quantisation loses</h3>", f'<p class="note">{esc(FRAGILE_NOTE)}</p>',
                 table(FRAGILE_HEADER, fragile)]
    body += ["<h2>Blocks ranked by explanation damage</h2>",
             table(RANKING_HEADER, [[str(c) for c in row] for row in ranking_rows(document)],
                   numeric=range(1, 7)),
             f'<p class="note">{esc(disagreement_text(document))}</p>',
             "<h2>Claim × block damage</h2>", _heatmap_html(document)]
    errors = [v for v in document["variants"] if "error" in v]
    if errors:
        body += ["<h2>Variants that could not be built</h2>",
                 table(["variant", "reason"], [[v["name"], v["error"]] for v in errors])]
    provenance = document["provenance"]
    scheduler = provenance["scheduler"]
    tasks = provenance.get("tasks") or {}
    body += ["<h2>Sweep</h2>",
             key_values([("scheduler", scheduler["kind"]), ("address", scheduler.get("address") or "—"),
                         ("workers", scheduler["workers"]),
                         *[(f"{name} time", views.fmt_seconds(seconds))
                           for name, seconds in provenance["timings"].items()],
                         ("resumed variants", len(provenance.get("resumed") or []))]),
             table(["variant", "compress", "compare", "total", "worker", "peak RSS (MiB)"],
                   [[name, views.fmt_seconds((run or {}).get("timings", {}).get("compress")),
                     views.fmt_seconds((run or {}).get("timings", {}).get("compare")),
                     views.fmt_seconds((run or {}).get("timings", {}).get("total")),
                     f"{(run or {}).get('host')}:{(run or {}).get('pid')}",
                     str((run or {}).get("process_peak_rss_mib"))] for name, run in tasks.items()],
                   numeric=[1, 2, 3, 5])]
    title = f"edgeaudit sensitivity — {document['options']['preset']}"
    return page(title, str(document["reference"]["bundle"]), "".join(body), "",
                "Rendered from sensitivity.json by edgeaudit.")
