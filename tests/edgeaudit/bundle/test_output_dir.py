"""Bundles are staged beside their final name and appear whole, with the permissions the umask asks for."""

from __future__ import annotations

import os
import stat

import pytest

from edgeaudit.bundle.output_dir import staged_bundle


@pytest.mark.parametrize("umask, mode", [(0o022, 0o755), (0o027, 0o750), (0o077, 0o700)])
def test_a_new_bundle_directory_honours_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        with staged_bundle(tmp_path / "bundle", force=False) as staging:
            (staging / "edgeaudit.json").write_text("{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "bundle").stat().st_mode) == mode


def test_a_failed_write_leaves_no_staging_behind(tmp_path):
    with pytest.raises(RuntimeError), staged_bundle(tmp_path / "bundle", force=False) as staging:
        (staging / "model.onnx").write_bytes(b"half")
        raise RuntimeError("export failed")
    assert list(tmp_path.iterdir()) == []
