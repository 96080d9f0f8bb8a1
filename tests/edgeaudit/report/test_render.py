"""Reports rendered from the JSON alone: self-contained HTML (parses, every claim, inline images, nothing from the
network), a Markdown summary with the claims table, and an HTML that still works without matplotlib."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from edgeaudit.cli import main
from edgeaudit.report import render_html, render_markdown
from edgeaudit.results import AuditResult

needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                      reason="checks the plots, and matplotlib (the [report] extra) is not installed")


class PageParser(HTMLParser):
    """Collects text, element counts and every URL-bearing attribute of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.tags: dict[str, int] = {}
        self.row_classes: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag not in ("meta", "img", "br", "link"):
            self.open.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "poster", "data") and value is not None:
                self.urls.append((tag, name, value))
            if tag == "tr" and name == "class":
                self.row_classes.append(value or "")

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open and self.open.pop() != tag:
                pass

    def handle_data(self, data):
        self.text.append(data)

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse(text: str) -> PageParser:
    parser = PageParser()
    parser.feed(text)
    parser.close()
    assert not parser.open, f"unclosed elements: {parser.open}"
    return parser


def assert_offline(text: str, page: PageParser) -> None:
    for tag, attribute, value in page.urls:
        assert not re.match(r"\s*(https?:)?//", value, re.I), f"<{tag} {attribute}> reaches the network: {value[:60]}"
        if tag == "img":
            assert value.startswith("data:image/png;base64,"), value[:40]
    assert "@import" not in text and "url(" not in text
    assert "http://" not in text and "https://" not in text
    assert page.tags.get("script", 0) == 0 and page.tags.get("link", 0) == 0


def render_cli(tmp_path, result) -> tuple[str, str]:
    html_path, md_path = tmp_path / "out" / "report.html", tmp_path / "out" / "report.md"
    assert main(["report", str(result), "--html", str(html_path), "--md", str(md_path)]) == 0
    return html_path.read_text(encoding="utf-8"), md_path.read_text(encoding="utf-8")


@needs_matplotlib
def test_audit_html_is_self_contained_and_complete(audit_json, tmp_path):
    document = json.loads(audit_json.read_text())
    html, _ = render_cli(tmp_path, audit_json)
    page = parse(html)
    assert_offline(html, page)
    for claim in document["claims"]:
        assert " ".join(claim["text"].split()) in page.plain, claim["text"]
    images = [value for tag, _, value in page.urls if tag == "img"]
    layers = document["probes"]["property"]["layers"]
    assert len(images) == 2 + len(layers)  # head heatmaps, layer curves, one property figure per layer
    assert "plot(s) missing" not in page.plain
    for verdict, count in document["summary"]["verdicts"].items():
        if count:
            assert f'class="badge {verdict}"' in html


def test_audit_markdown_has_the_claims_table(audit_json):
    document = json.loads(audit_json.read_text())
    markdown = render_markdown(document)
    assert markdown.startswith("# edgeaudit audit")
    assert "| verdict | claim | score | strongest control | margin [95% CI] | reason |" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| **")]
    assert len(rows) >= len(document["claims"])
    for claim in document["claims"]:
        assert claim["text"].replace("|", "\\|") in markdown
    assert "## Across layers" in markdown and "structural UUAS" in markdown
    assert f"**{len(document['claims'])} claims**" in markdown


def test_without_matplotlib_the_tables_remain_and_the_gap_is_named(audit_json, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    document = json.loads(audit_json.read_text())
    html = render_html(document)
    page = parse(html)
    assert_offline(html, page)
    assert page.tags.get("img", 0) == 0
    assert "plot(s) missing" in page.plain and "pip install 'edgeaudit[report]'" in page.plain
    assert "Plot missing: attention heads vs the positional baseline" in page.plain
    for claim in document["claims"]:
        assert " ".join(claim["text"].split()) in page.plain
    assert page.tags["table"] >= 4


@needs_matplotlib
def test_compare_html_shows_survival_flips_gates_and_drift(compare_json, tmp_path):
    html, markdown = render_cli(tmp_path, compare_json)
    page = parse(html)
    assert_offline(html, page)
    assert "head 5.10 tracks advcl <dependent → head> & more" in page.plain  # escaped, then read back
    assert page.row_classes.count("flip") == 1 and page.row_classes.count("tripped") == 1
    assert "supported→artifact" in page.plain
    assert len([1 for tag, _, _ in page.urls if tag == "img"]) == 2  # SQNR bars, JSD heatmap
    assert "16.60" in page.plain  # explanation-to-output drift ratio
    assert "1 verdict flips" in markdown and "**TRIPPED**" in markdown and "## SQNR per layer" in markdown
    assert "| **breaks** |" in markdown


def test_minimal_compare_renders_without_optional_parts(minimal_compare_json, tmp_path):
    html, markdown = render_cli(tmp_path, minimal_compare_json)
    page = parse(html)
    assert_offline(html, page)
    assert "head 2.3 tracks nsubj (dependent → head)" in page.plain
    assert "No --fail-on gates were set" in page.plain
    assert "| **survives** |" in markdown


def test_report_without_outputs_prints_markdown(audit_json, capsys):
    assert main(["report", str(audit_json)]) == 0
    assert capsys.readouterr().out.startswith("# edgeaudit audit")


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "compare.json"
    path.write_text(json.dumps({"schema": "edgeaudit.compare", "schema_version": 1, "summary": {}}))
    assert main(["report", str(path), "--html", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "compare.json: $: 'gates' is missing (and 9 more problem(s))" in err
    assert not (tmp_path / "r.html").exists()


def test_render_is_deterministic(audit_json, compare_json):
    document = json.loads(audit_json.read_text())
    assert render_markdown(document) == render_markdown(document)
    compare = json.loads(compare_json.read_text())
    assert render_html(compare) == render_html(compare)  # PNGs too: no timestamps in them


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_headless_chromium_screenshot(audit_json, tmp_path):
    html, _ = render_cli(tmp_path, audit_json)
    page = tmp_path / "out" / "report.html"
    shot = tmp_path / "shot.png"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,2400",
               f"--screenshot={shot}", page.as_uri()]
    subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert shot.is_file() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_matplotlib
def test_an_audit_with_fewer_probe_groups_renders(audit_document):
    document = json.loads(json.dumps(audit_document))
    document["probes"]["property"] = None
    document["probes"]["attention_heads"] = None
    document["runs"]["random_init_twin"] = None
    document["runs"]["model"].pop("structural")
    document["claims"] = [c for c in document["claims"] if c["kind"] == "attention-tree"]
    html = render_html(document)
    page = parse(html)
    assert "Attention heads against the positional baseline" not in page.plain
    assert "Property inference" not in page.plain
    assert len([1 for tag, _, _ in page.urls if tag == "img"]) == 1  # only the layer curves
    assert "## Claims" in render_markdown(document)


def _first_screen(html: str) -> str:
    """What a reader sees before the claims table: everything up to its heading."""
    return html[: html.index("<h2>Claims")]


def test_audit_reports_show_skipped_sentences_on_their_first_screen(audit_document, tmp_path):
    document = copy.deepcopy(audit_document)
    document["data"]["skipped_while_reading_by_kind"] = {"head-out-of-range": 2}
    document["data"]["skipped_while_reading"] = ["s1: head-out-of-range", "s2: head-out-of-range"]
    document["runs"]["model"]["extraction"]["skipped_by_kind"] = {"too-long": 1}
    total = document["data"]["sentences"] + 2
    html = render_html(document)
    assert f"Skipped 3 of {total} sentences: 2 head-out-of-range, 1 too-long" in _first_screen(html)
    assert 'class="note skips warn"' in _first_screen(html)
    markdown = render_markdown(document)
    assert f"**Skipped 3 of {total} sentences" in markdown.split("## Claims")[0]


def test_an_audit_without_skips_says_so_instead_of_staying_silent(audit_document):
    document = copy.deepcopy(audit_document)
    document["data"]["skipped_while_reading_by_kind"] = {}
    document["runs"]["model"]["extraction"]["skipped_by_kind"] = {}
    n = document["data"]["sentences"]
    assert f"All {n} sentences of the data were used; none skipped." in _first_screen(render_html(document))


def _first_screen_of_compare(html: str) -> str:
    return html[: html.index("<h2>Claims after compression")]


def test_compare_reports_show_the_reference_corpus_skips_first(compare_json):
    document = json.loads(compare_json.read_text(encoding="utf-8"))
    html = render_html(document)
    first = _first_screen_of_compare(html)
    assert "Skipped 2 of 120 sentences: 1 head-out-of-range, 1 too-long" in first
    assert "Skipped 2 of 120" in render_markdown(document).split("## Claims")[0]
    del document["data"]  # an older compare.json: nothing to claim either way
    assert "skipped" not in _first_screen_of_compare(render_html(document)).lower()


def test_fidelity_is_a_table_with_one_verdict_per_side_not_a_key_dump(compare_json):
    document = json.loads(compare_json.read_text(encoding="utf-8"))
    document["fidelity"]["variant"].update(output_max_abs_diff=0.31, sentences=20, tokens=412,
                                           criteria={"min_cosine": 0.9999, "max_abs_diff": 0.001},
                                           prevented_fusions={"com.microsoft:Attention": {
                                               "audited": 0, "deployed": 4, "difference": 4}})
    page = parse(render_html(document))
    section = page.plain[page.plain.index("Fidelity: audited graph vs deployed graph"):]
    assert "reference faithful 1.000000" in " ".join(section.split())
    assert "variant differs 0.970000 0.3100 20 / 412" in " ".join(section.split())
    assert "com.microsoft:Attention 0 4 +4" in " ".join(section.split())
    assert "output_cosine.min" not in section.split("all measurements")[0]  # dotted keys only behind details


@needs_matplotlib
def test_the_layer_section_describes_only_the_panels_it_draws(audit_document, monkeypatch):
    from edgeaudit.report import html_audit, views
    from edgeaudit.report.html import Figures

    full = html_audit.layers_section(AuditResult.from_json(audit_document), Figures())
    assert "Left: whether position i" in full and "Middle: tree recovery from hidden states" in full
    only_trees = views.LayerCurves(hidden_states=[0, 1, 2], layers=[0, 1], tree_uuas=[0.38, 0.37],
                                   tree_baselines={"chain": 0.45})
    monkeypatch.setattr(views, "layer_curves", lambda document: only_trees)
    section = html_audit.layers_section(AuditResult.from_json(audit_document), Figures())
    assert "Tree recovery from attention" in section and "Left:" not in section and "Middle" not in section
    assert "identifiability</th>" not in section  # no table of dashes for curves that were not measured
