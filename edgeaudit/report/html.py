"""One self-contained HTML file per result: inline CSS, plots as ``data:`` PNGs, no scripts, fonts or links out.

The file opens from disk, offline, and can be mailed or attached to a ticket as it is. The page pieces here are
shared by the audit and compare pages (``html_audit``, ``html_compare``).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edgeaudit.report.plots import INSTALL_HINT, plots_unavailable

if TYPE_CHECKING:
    from edgeaudit.results import AuditResult, CompareResult

CSS = """
:root { --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; --grey:#57606a; --flag:#8250df; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color:#1f2328; margin:0;
       background:#f6f8fa; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; background:#fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.sub { color: var(--grey); margin: 0 0 14px; }
p.note, div.note { color: var(--grey); font-size: 13px; margin: 4px 0 10px; }
p.note.warn { color: var(--warn); font-weight: 600; }
.tiles { display:flex; flex-wrap:wrap; gap:10px; margin: 14px 0; }
.tile { border:1px solid var(--line); border-radius:8px; padding:8px 14px; min-width:130px; }
.tile b { display:block; font-size:24px; }
.tile span { font-size:12px; color:var(--grey); }
.tile.supported b, .tile.survives b { color: var(--ok); }
.tile.artifact b, .tile.breaks b, .tile.tripped b { color: var(--bad); }
.tile.inconclusive b { color: var(--grey); }
.tile.unwarranted-assumption b, .tile.flips b { color: var(--flag); }
.tile.drifts b { color: var(--warn); }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; min-width: 40%; }
table.wide { width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.reason { color: #424a53; font-size: 12.5px; }
tr.group td { background:#eef1f4; font-weight:600; }
tr.flip td { background: #fff8c5; }
tr.tripped td { background: #ffebe9; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; color:#fff;
         white-space:nowrap; }
.badge.supported, .badge.survives, .badge.passed { background: var(--ok); }
.badge.artifact, .badge.breaks, .badge.tripped { background: var(--bad); }
.badge.inconclusive { background: var(--grey); }
.badge.unwarranted-assumption, .badge.flip { background: var(--flag); }
.badge.drifts { background: var(--warn); }
figure { margin: 10px 0 16px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--grey); font-size: 12.5px; margin-top: 4px; }
.missing { border: 1px dashed var(--warn); background:#fff8c5; padding: 10px 14px; border-radius: 6px;
           margin: 10px 0; }
details { margin: 6px 0 12px; }
summary { cursor: pointer; color: #0969da; }
dl.kv { display:grid; grid-template-columns: max-content 1fr; gap: 2px 16px; font-size: 13px; margin: 6px 0; }
dl.kv dt { color: var(--grey); }
dl.kv dd { margin: 0; word-break: break-all; }
code { font-size: 12.5px; background:#f6f8fa; padding: 1px 4px; border-radius: 4px; }
ul.legend { margin: 4px 0 10px; padding-left: 20px; font-size: 13px; }
footer { color: var(--grey); font-size: 12px; margin-top: 36px; }
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def badge(text: str, kind: str | None = None) -> str:
    return f'<span class="badge {esc(kind or text)}">{esc(text)}</span>'


def tiles(items: Iterable[tuple[str, int, str]]) -> str:
    """Headline counts: ``(css class, number, label)`` each."""
    cells = "".join(f'<div class="tile {esc(cls)}"><b>{number}</b><span>{esc(label)}</span></div>'
                    for cls, number, label in items)
    return f'<div class="tiles">{cells}</div>'


def table(header: list[str], rows: Iterable[list[str]], *, numeric: Iterable[int] = (), raw: bool = False,
          row_classes: list[str] | None = None, wide: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then the caller has escaped them)."""
    numeric = set(numeric)
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for index, row in enumerate(rows):
        cls = f' class="{esc(row_classes[index])}"' if row_classes and row_classes[index] else ""
        cells = "".join(
            f'<td{" class=num" if i in numeric else ""}>{cell if raw else esc(cell)}</td>' for i, cell in enumerate(row)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    cls = ' class="wide"' if wide else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def key_values(items: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    return f'<dl class="kv">{rows}</dl>'


def details(summary: str, body: str) -> str:
    return f"<details><summary>{esc(summary)}</summary>{body}</details>"


@dataclass
class Figures:
    """Draws plots when matplotlib is there; otherwise records which ones are missing and why."""

    unavailable: str | None = field(default_factory=plots_unavailable)
    missing: list[str] = field(default_factory=list)

    def figure(self, name: str, draw: Callable[[], bytes], caption: str) -> str:
        if self.unavailable is not None:
            self.missing.append(name)
            return (f'<div class="missing">Plot missing: <b>{esc(name)}</b> — {esc(self.unavailable)}. '
                    f"The numbers are in the table below.</div>")
        data = base64.b64encode(draw()).decode("ascii")
        return (f'<figure><img alt="{esc(name)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{esc(caption)}</figcaption></figure>")

    def notice(self) -> str:
        if not self.missing:
            return ""
        names = ", ".join(self.missing)
        return (f'<div class="missing"><b>{len(self.missing)} plot(s) missing</b> ({esc(names)}): '
                f"{esc(self.unavailable)}. Then rerun <code>edgeaudit report</code>. "
                f"All tables below are complete.</div>")


def page(title: str, subtitle: str, body: str, notice: str, footer: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{esc(title)}</h1><p class=\"sub\">{esc(subtitle)}</p>{notice}{body}"
        f"<footer>{esc(footer)}</footer></main></body></html>\n"
    )


def render_html(document: dict[str, Any] | AuditResult | CompareResult) -> str:
    """The report page for an audit or compare result (dispatch on its ``schema``)."""
    from edgeaudit.results import AuditResult, CompareResult, typed

    if isinstance(document, CompareResult) or (isinstance(document, dict)
                                               and document.get("schema") == "edgeaudit.compare"):
        from edgeaudit.report.html_compare import compare_page

        return compare_page(typed(document, CompareResult))
    if isinstance(document, dict) and document.get("schema") == "edgeaudit.merge":
        from edgeaudit.report.merge import merge_page

        return merge_page(document)
    if isinstance(document, dict) and document.get("schema") == "edgeaudit.sensitivity":
        from edgeaudit.report.sensitivity import sensitivity_page

        return sensitivity_page(document)
    from edgeaudit.report.html_audit import audit_page

    return audit_page(typed(document, AuditResult))


__all__ = ["INSTALL_HINT", "Figures", "badge", "details", "esc", "key_values", "page", "render_html", "table",
           "tiles"]
