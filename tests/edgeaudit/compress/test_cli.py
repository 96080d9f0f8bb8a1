"""``edgeaudit compress`` as a user runs it: a summary on success, one line and exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeaudit", "compress", *args], capture_output=True, text=True,
                          timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("edgeaudit: error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_compress_prints_sizes_and_tap_check(tiny_bundle, tmp_path, calibration_file):
    out = tmp_path / "int8"
    result = run_cli(str(tiny_bundle("gpt2")), str(out), "--preset", "int8-static", "--calibration",
                     str(calibration_file), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and result.stderr == ""
    assert "kB ->" in result.stdout and "x smaller" in result.stdout and "all 6 kept (float32" in result.stdout
    assert json.loads((out / "edgeaudit.json").read_text())["variant"]["name"] == "int8-static"


def test_json_summary(tiny_bundle, tmp_path):
    result = run_cli(str(tiny_bundle("bert")), str(tmp_path / "fp16"), "-p", "fp16", "--json", "-q")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["preset"] == "fp16" and summary["ratio"] > 1 and summary["taps"] == 5
    assert summary["final_output_cosine"] > 0.999


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--preset", "int8-dynamc"], ["unknown preset 'int8-dynamc'", "did you mean 'int8-dynamic'"]),
        (["--preset", "int8-static"], ["--calibration is required"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tiny_bundle, tmp_path, args, fragments):
    assert_one_line_error(run_cli(str(tiny_bundle("bert")), str(tmp_path / "out"), *args), *fragments)
    assert not (tmp_path / "out").exists()


def test_missing_bundle_is_one_line(tmp_path):
    assert_one_line_error(run_cli(str(tmp_path / "nope"), str(tmp_path / "out"), "-p", "fp16"), "no such bundle")


NO_TORCH_SCRIPT = """
import json, sys
from edgeaudit.cli import main
code = main(["compress", sys.argv[1], sys.argv[2], "--preset", sys.argv[3], "--quiet"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers"))
print(json.dumps({"code": code, "heavy": heavy}))
"""


@pytest.mark.parametrize("preset", ["fp16", "int4"])  # onnxruntime.transformers / matmul_nbits imports
def test_compress_imports_no_torch(tiny_bundle, tmp_path, preset):
    done = subprocess.run([sys.executable, "-c", NO_TORCH_SCRIPT, str(tiny_bundle("bert")), str(tmp_path / "v"),
                           preset], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"code": 0, "heavy": []}


NO_ONNX_IR_SCRIPT = """
import sys
sys.modules["onnx_ir"] = None  # as on a device install that lacks the package
from edgeaudit.cli import main
sys.exit(main(["compress", sys.argv[1], sys.argv[2], "--preset", "int4", "--quiet"]))
"""


def test_int4_without_onnx_ir_names_what_to_install(tiny_bundle, tmp_path):
    from tests.reliability.cli import assert_one_error_line

    done = subprocess.run([sys.executable, "-c", NO_ONNX_IR_SCRIPT, str(tiny_bundle("bert")), str(tmp_path / "v")],
                          capture_output=True, text=True, timeout=120)
    assert_one_error_line(done, ("--preset int4", "'onnx_ir'", "pip install onnx-ir"))
    assert not (tmp_path / "v").exists() and not list(tmp_path.glob(".v.*"))  # no staging left behind

