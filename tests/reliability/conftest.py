"""Session fixtures for the reliability suite: one tiny bundle (exported once) and a good treebank file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.cases import GOOD_CONLLU


@pytest.fixture(scope="session")
def reliability_bundle(tiny_checkpoint, tmp_path_factory) -> Path:
    """A tiny BERT bundle (WordPiece, 2 layers x 4 heads, hidden 32, max length 64), exported once per session."""
    from edgeaudit.exporters import ExportOptions, export_checkpoint

    out = tmp_path_factory.mktemp("reliability-bundle") / "bundle"
    export_checkpoint(tiny_checkpoint("bert"), out, ExportOptions(exporter="torchscript"), log=lambda m: None)
    return out


@pytest.fixture(scope="session")
def good_conllu(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reliability-data") / "good.conllu"
    path.write_text(GOOD_CONLLU, encoding="utf-8")
    return path
