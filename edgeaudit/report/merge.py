"""The merge report (Markdown and HTML) from merge.json alone: one row per claim, one column per device/variant, and
one row per layer for how far each input's activations are from the reference's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgeaudit.report import views
from edgeaudit.report.html import badge, esc, page, table, tiles
from edgeaudit.report.markdown import md_table


def _cell_text(cell: dict[str, Any] | None, kind: str) -> str:
    if cell is None:
        return "absent"
    text = f"{cell.get('verdict') or '—'} {views.fmt(cell.get('score'))}"
    return f"{cell['survival']}: {text}" if kind == "compare" else text


def _status(row: dict[str, Any]) -> str:
    if not row["verdicts_agree"]:
        return "verdict differs"
    if row["numbers_differ"]:
        return "numbers differ"
    return "agrees"


def _ordered(document: dict[str, Any]) -> list[dict[str, Any]]:
    rank = {"verdict differs": 0, "numbers differ": 1, "agrees": 2}
    return sorted(document["claims"], key=lambda r: (rank[_status(r)], -r["score_spread"]))


def _summary_line(document: dict[str, Any]) -> str:
    s = document["summary"]
    line = (f"{s['claims']} claims over {s['inputs']} inputs: {s['verdicts_agree']} agree on the verdict, "
            f"{s['verdicts_differ']} differ; {s['numbers_differ']} differ in score by more than "
            f"{document['tolerance']:g} (largest spread {s['max_score_spread']:.3g}); {s['subjects_differ']} picked "
            "another head or layer on some input.")
    if document["kind"] == "compare" and s.get("gates_differ"):
        line += f" Gates with different outcomes: {', '.join(s['gates_differ'])}."
    return line


def _input_rows(document: dict[str, Any]) -> list[list[str]]:
    return [[i["label"], i.get("machine") or "—", i.get("cpu") or "—", i.get("variant") or "—",
             (i.get("bundle_sha256") or "—")[:12], str(i["claims"])] for i in document["inputs"]]


INPUT_HEADER = ["input", "machine", "cpu", "variant", "bundle sha256", "claims"]


def _num(value: Any) -> str:
    """Activation differences span 1e-7..1: three significant digits, not a fixed number of decimals."""
    return "—" if value is None else f"{value:.3g}"


def _activation_intro(activations: dict[str, Any]) -> str:
    words = ", ".join(f"{i['label']}: {i['compared_words']} words of {i['compared_sentences']} sentences"
                      for i in activations["inputs"])
    return (f"Hidden states of every input against {activations['reference']}, per layer (0 = embeddings): mean "
            "|Δ|, mean |Δ| relative to the reference's mean |value| (comparable across layers), and max |Δ|, "
            f"flagged above the tolerance {activations['tolerance']:g}. Compared: {words}.")


def _activation_table(activations: dict[str, Any], plain: Callable[[str], str],
                      flag: Callable[[str], str]) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, rows (one per layer, cells through ``plain``; ``flag`` marks a max |Δ| above the tolerance) and
    whether each row has a flagged cell."""
    header = ["layer"]
    for record in activations["inputs"]:
        header += [f"{record['label']} mean |Δ|", f"{record['label']} relative", f"{record['label']} max |Δ|"]
    rows, flagged = [], []
    for layer in range(activations["num_layers"]):
        row, hit = [str(layer)], False
        for record in activations["inputs"]:
            cell = record["layers"][layer]
            peak = _num(cell["max_abs_diff"])
            row += [plain(_num(cell["mean_abs_diff"])), plain(_num(cell["relative"])),
                    flag(peak) if cell["exceeds"] else plain(peak)]
            hit = hit or cell["exceeds"]
        rows.append(row)
        flagged.append(hit)
    return header, rows, flagged


def merge_markdown(document: dict[str, Any]) -> str:
    labels = [i["label"] for i in document["inputs"]]
    rows = [[_status(r), r["text"], *[_cell_text(r["cells"][lab], document["kind"]) for lab in labels],
             views.fmt(r["score_spread"], 4)] for r in _ordered(document)]
    parts = [f"# edgeaudit merge — {len(labels)} {document['kind']}s", _summary_line(document),
             *[f"Note: {note}" for note in document["notes"]],
             "## Inputs", md_table(INPUT_HEADER, _input_rows(document), (5,)),
             "## Claims", md_table(["status", "claim", *labels, "score spread"], rows, (len(labels) + 2,))]
    activations = document.get("activations")
    if activations:
        header, layers, _ = _activation_table(activations, str, lambda text: f"**{text}** (> tol)")
        parts += ["## Activations", _activation_intro(activations),
                  md_table(header, layers, tuple(range(1, len(header))))]
    gates = _gate_rows(document)
    if gates:
        parts += ["## Gates", md_table(["gate", *labels], gates)]
    return "\n\n".join(parts) + "\n"


def _gate_rows(document: dict[str, Any]) -> list[list[str]]:
    if document["kind"] != "compare":
        return []
    expressions = list(dict.fromkeys(g["expression"] for i in document["inputs"] for g in i.get("gates", [])))
    rows = []
    for expression in expressions:
        cells = []
        for record in document["inputs"]:
            gate = next((g for g in record.get("gates", []) if g["expression"] == expression), None)
            state = "—" if gate is None else {True: "TRIPPED", False: "passed", None: "not evaluated"}[gate["tripped"]]
            cells.append(state if gate is None else f"{state} ({views.fmt(gate['value'], 4)})")
        rows.append([expression, *cells])
    return rows


def merge_page(document: dict[str, Any]) -> str:
    s = document["summary"]
    labels = [i["label"] for i in document["inputs"]]
    kind_class = {"verdict differs": "breaks", "numbers differ": "drifts", "agrees": "survives"}
    rows, classes = [], []
    for row in _ordered(document):
        status = _status(row)
        rows.append([badge(status, kind_class[status]), esc(row["text"]),
                     *[esc(_cell_text(row["cells"][lab], document["kind"])) for lab in labels],
                     esc(views.fmt(row["score_spread"], 4))])
        classes.append("flip" if status == "verdict differs" else "")
    body = [tiles([("survives", s["verdicts_agree"], "verdicts agree"), ("breaks", s["verdicts_differ"], "verdicts differ"),
                   ("drifts", s["numbers_differ"], f"scores differ > {document['tolerance']:g}"),
                   *([("tripped", s["activation_layers_exceeding"],
                       f"layers' activations differ > {document['activations']['tolerance']:g}")]
                     if document.get("activations") else [])]),
            f'<p class="note">{esc(_summary_line(document))}</p>',
            *[f'<p class="note warn">{esc(note)}</p>' for note in document["notes"]],
            "<h2>Inputs</h2>", table(INPUT_HEADER, _input_rows(document), numeric=[5]),
            "<h2>Claims</h2>", table(["status", "claim", *labels, "score spread"], rows, raw=True, row_classes=classes,
                                     numeric=[len(labels) + 2], wide=True)]
    activations = document.get("activations")
    if activations:
        header, layers, flagged = _activation_table(
            activations, esc, lambda text: f"<strong>{esc(text)}</strong> {badge('> tol', 'tripped')}")
        body += ["<h2>Activations</h2>", f'<p class="note">{esc(_activation_intro(activations))}</p>',
                 table(header, layers, raw=True, row_classes=["tripped" if hit else "" for hit in flagged],
                       numeric=range(1, len(header)))]
    gates = _gate_rows(document)
    if gates:
        body += ["<h2>Gates</h2>", table(["gate", *labels], gates)]
    return page(f"edgeaudit merge — {len(labels)} {document['kind']}s", ", ".join(labels), "".join(body), "",
                "Rendered from merge.json by edgeaudit.")
