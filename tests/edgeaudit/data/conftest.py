"""Fixtures for the dataset-layer tests: small files written on the fly, real data via EDGEAUDIT_DATA."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def shared_file(shared_data: Path) -> Callable[[str], Path]:
    """``shared_file("ud_english_ewt/en_ewt-ud-dev.conllu")``: that file, or skip naming what is missing."""

    def find(relative: str) -> Path:
        path = shared_data / relative
        if not path.is_file():
            pytest.skip(f"{path} is not in EDGEAUDIT_DATA")
        return path

    return find


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    """``write_file("x.conllu", text)`` or ``write_file("x.csv", raw_bytes)`` -> path in a temp dir."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return write
