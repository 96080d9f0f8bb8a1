"""Session fixtures for the reliability suite: one tiny bundle (exported once) and a good treebank file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write_tiny_bundle
from tests.reliability.cases import GOOD_CONLLU


@pytest.fixture(scope="session")
def reliability_bundle(request, tmp_path_factory) -> Path:
    """A tiny BERT bundle (WordPiece, 2 layers x 4 heads, hidden 32, max length 64), made once per session."""
    return write_tiny_bundle(request, "bert", tmp_path_factory.mktemp("reliability-bundle") / "bundle")


@pytest.fixture(scope="session")
def good_conllu(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reliability-data") / "good.conllu"
    path.write_text(GOOD_CONLLU, encoding="utf-8")
    return path
