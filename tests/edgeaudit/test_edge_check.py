"""``make edge-check`` catches a package a device command imports but the core install does not declare."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from edgeaudit._edge_check import core_closure, undeclared_imports

# this checkout's pyproject, also when edgeaudit is imported from an installed wheel (the device test run)
REPO_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_every_lazily_imported_package_is_a_core_dependency():
    # Before onnx-ir was declared this listed it (onnxruntime's int4 quantiser imports it undeclared).
    assert undeclared_imports(core_closure(pyproject=REPO_PYPROJECT)) == []


def test_a_dropped_dependency_is_reported(tmp_path: Path):
    text = REPO_PYPROJECT.read_text(encoding="utf-8")
    assert '"onnx-ir>=1.0",' in text
    trimmed = tmp_path / "pyproject.toml"
    trimmed.write_text(text.replace('"onnx-ir>=1.0",', ""), encoding="utf-8")
    assert "onnx-ir" in undeclared_imports(core_closure(pyproject=trimmed))


def test_a_module_that_cannot_be_imported_is_reported():
    found = undeclared_imports({}, modules=("edgeaudit_no_such_module",))
    assert len(found) == 1 and "not importable" in found[0]


def test_make_edge_check_uses_a_core_only_venv():
    """The check needs only the device install: it must not build the 1.7 GB workstation venv (torch)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    plan = subprocess.run(["make", "-n", "-B", "edge-check"], cwd=REPO_PYPROJECT.parent, capture_output=True,
                          text=True, timeout=60)
    assert plan.returncode == 0, plan.stderr
    assert "torch" not in plan.stdout and "[export" not in plan.stdout, plan.stdout
    assert '.venv-device/bin/python -m pip install --quiet ".[dev]"' in plan.stdout
    assert ".venv-device/bin/python -m edgeaudit._edge_check" in plan.stdout
