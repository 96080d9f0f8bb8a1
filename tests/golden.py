"""Golden files: a table of results pinned in the repository, rewritten on request (EDGEAUDIT_WRITE_GOLDEN=1)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest


def pinned(path: Path, table: dict[str, Any]) -> dict[str, Any]:
    """The committed table at ``path``; with EDGEAUDIT_WRITE_GOLDEN set, ``table`` is written there instead and the
    test is skipped (rewrite only from code whose results were checked, and say why in the test's docstring)."""
    if os.environ.get("EDGEAUDIT_WRITE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        pytest.skip(f"wrote {path}")
    return json.loads(path.read_text(encoding="utf-8"))
