"""On the device install (no torch) `export` names the extra to install; `tap` needs no torch at all."""

from __future__ import annotations

import subprocess
import sys

from tests.reliability.cli import assert_one_error_line

# Makes torch (and transformers) unimportable the way a missing package is: ModuleNotFoundError on import.
NO_TORCH = """
import sys
sys.modules["torch"] = None
sys.modules["transformers"] = None
from edgeaudit.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_without_torch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", NO_TORCH, *args], capture_output=True, text=True, timeout=120)


def test_export_without_torch_names_the_extra(tmp_path):
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text("{}")
    result = run_without_torch("export", str(tmp_path / "ckpt"), str(tmp_path / "out"))
    assert_one_error_line(result, ("export needs the [export] extra", "pip install 'edgeaudit[export]'"))
    assert not (tmp_path / "out").exists()


def test_tap_without_torch_is_not_blocked_by_the_extra(tmp_path):
    tokenizer = tmp_path / "tokenizer.json"
    tokenizer.write_text("{}")
    result = run_without_torch("tap", str(tmp_path / "missing.onnx"), str(tmp_path / "out"),
                               "--tokenizer", str(tokenizer))
    line = assert_one_error_line(result, ("tokenizer.json", "cannot be read"))
    assert "[export]" not in line
