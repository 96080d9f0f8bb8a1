"""Session fixtures for device-side tests: tiny exported bundles, built once per family and cached."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_bundle(tiny_checkpoint, tmp_path_factory):
    """Factory: ``tiny_bundle("gpt2")`` -> directory of a tiny tapped bundle (TorchScript export, cached)."""
    cache: dict[str, Path] = {}

    def make(family: str) -> Path:
        if family not in cache:
            from edgeaudit.exporters import ExportOptions, export_checkpoint

            out = tmp_path_factory.mktemp(f"bundle-{family}") / "bundle"
            export_checkpoint(tiny_checkpoint(family), out, ExportOptions(exporter="torchscript"), log=lambda m: None)
            cache[family] = out
        return cache[family]

    return make
