"""The device install end to end: examples/device_ci.sh run by a venv without torch (``make test-device``).

Bundles are exported here, on the workstation side (this interpreter has the [export] extra); every command
of the script then runs in ``$EDGEAUDIT_DEVICE_VENV``, which holds only ``pip install '.[dev]'``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "device_ci.sh"


@pytest.fixture(scope="module")
def device_venv() -> Path:
    value = os.environ.get("EDGEAUDIT_DEVICE_VENV")
    if not value:
        pytest.skip("EDGEAUDIT_DEVICE_VENV is not set: `make test-device` builds the device venv and runs this")
    venv = Path(value)
    if not (venv / "bin" / "edgeaudit").is_file():
        pytest.skip(f"{venv} has no bin/edgeaudit: rebuild it with `make test-device`")
    return venv


@pytest.fixture(scope="module")
def workstation_bundles(tiny_checkpoint, tmp_path_factory) -> tuple[Path, Path]:
    from edgeaudit.exporters import ExportOptions, export_checkpoint

    root = tmp_path_factory.mktemp("workstation")
    checkpoint = tiny_checkpoint("bert")
    quiet = {"log": lambda message: None}
    export_checkpoint(checkpoint, root / "fp32", ExportOptions(exporter="torchscript"), **quiet)
    export_checkpoint(checkpoint, root / "twin", ExportOptions(exporter="torchscript", random_init=True, seed=1),
                      **quiet)
    return root / "fp32", root / "twin"


def test_device_ci_script_exit_codes(device_venv, workstation_bundles, tmp_path):
    fp32, twin = workstation_bundles
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{device_venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(["bash", str(SCRIPT), str(fp32), str(twin), str(tmp_path / "work")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    checks = [line for line in done.stdout.splitlines() if line.startswith(("ok ", "FAIL"))]
    assert len(checks) >= 15 and all(line.startswith("ok ") for line in checks), report
    assert "compress --preset int4 (exit 0)" in report and "a gate that trips (exit 1)" in report


def test_device_venv_cannot_import_torch(device_venv):
    done = subprocess.run([str(device_venv / "bin" / "python"), "-c", "import torch"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "No module named 'torch'" in done.stderr
