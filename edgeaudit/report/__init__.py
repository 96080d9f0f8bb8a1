"""Reports rendered from a result document alone: a self-contained HTML page and a Markdown summary.

Public surface:
    validate_result(document)            -> None, or EdgeAuditError naming the JSON path of the first problem
    load_result(path)                    -> the validated document
    render_html(document) / render_markdown(document) -> str (audit.json or compare.json, by its ``schema``)
    write_reports(result, html=..., md=...) -> {"html": path, "md": path, "missing_plots": [...]}

Nothing here imports matplotlib at import time (it is the optional ``[report]`` extra), nor torch ever.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgeaudit.report.schema import load_result, validate_result

__all__ = ["load_result", "render_html", "render_markdown", "validate_result", "write_reports"]


def render_html(document: dict[str, Any]) -> str:
    from edgeaudit.report.html import render_html as _render

    return _render(document)


def render_markdown(document: dict[str, Any]) -> str:
    from edgeaudit.report.markdown import render_markdown as _render

    return _render(document)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_reports(result: str | Path | dict[str, Any], *, html: str | Path | None = None,
                  md: str | Path | None = None) -> dict[str, Any]:
    """Render ``result`` (a path to audit.json / compare.json, or the parsed document) to the files asked for."""
    document = load_result(result) if not isinstance(result, dict) else result
    if isinstance(result, dict):
        validate_result(document)
    written: dict[str, Any] = {"missing_plots": []}
    if html is not None:
        from edgeaudit.report.plots import plots_unavailable

        _write(Path(html), render_html(document))
        written["html"] = str(html)
        if plots_unavailable() is not None:
            written["missing_plots"] = [plots_unavailable()]
    if md is not None:
        _write(Path(md), render_markdown(document))
        written["md"] = str(md)
    return written
