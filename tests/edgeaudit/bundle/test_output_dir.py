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


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_staging_left_by_a_killed_run_is_removed_and_a_live_run_s_is_not(tmp_path):
    """SIGKILL skips every cleanup: the next run of the same output removes what the dead one staged."""
    from edgeaudit.bundle.output_dir import OWNER_FILE

    killed, running, foreign = tmp_path / ".bundle.dead1", tmp_path / ".bundle.live1", tmp_path / ".bundle.notours"
    for folder, owner in ((killed, _dead_pid()), (running, os.getpid()), (foreign, None)):
        folder.mkdir()
        (folder / "model.onnx").write_bytes(b"x" * 1000)
        if owner is not None:
            (folder / OWNER_FILE).write_text(str(owner))
    with staged_bundle(tmp_path / "bundle", force=False) as staging:
        (staging / "edgeaudit.json").write_text("{}")
    assert not killed.exists() and running.exists() and foreign.exists()
    assert sorted(p.name for p in (tmp_path / "bundle").iterdir()) == ["edgeaudit.json"]  # no owner file left


def test_sigterm_unwinds_like_ctrl_c_one_line_exit_130_and_no_staging_left(tmp_path):
    """A CI timeout sends SIGTERM: the command must clean up and say how to resume, not die mid-write."""
    import subprocess
    import sys

    script = f"""
import os, signal, time
from pathlib import Path
import edgeaudit.cli.datasets_cmd as command
from edgeaudit.bundle.output_dir import staged_bundle
def slow(**kwargs):
    with staged_bundle(Path({str(tmp_path / 'bundle')!r}), force=False) as staging:
        (staging / "model.onnx").write_bytes(b"half")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
command.datasets_command.callback = slow
from edgeaudit.cli import main
raise SystemExit(main(["datasets"]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "interrupted — rerun the same command" in done.stderr
    assert list(tmp_path.iterdir()) == []
