"""Compressed variants of the tiny bundles, made once per (family, preset) and shared by the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A cat sat on the mat and looked at the bird.",
    "Researchers deploy small transformers to edge devices every day.",
    "She gave him three apples, two pears and a banana!",
    "Attention heads may track syntax; probes may read properties.",
    "Why would an explanation change after int8 compression?",
]


@pytest.fixture(scope="session")
def calibration_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("calibration") / "sentences.txt"
    path.write_text("\n".join(SENTENCES) + "\n\n", encoding="utf-8")  # a trailing blank line is ignored
    return path


@pytest.fixture(scope="session")
def variant(tiny_bundle, calibration_file, tmp_path_factory):
    """Factory: ``variant("bert", "int8-static")`` -> CompressResult (cached for the session)."""
    from edgeaudit.compress import compress

    cache: dict[tuple[str, str], object] = {}

    def make(family: str, preset: str):
        key = (family, preset)
        if key not in cache:
            out = tmp_path_factory.mktemp(f"{family}-{preset}") / "variant"
            calibration = calibration_file if preset == "int8-static" else None
            cache[key] = compress(tiny_bundle(family), out, preset, calibration=calibration, progress=False)
        return cache[key]

    return make
