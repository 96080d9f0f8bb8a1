"""audit.json names its bundle by an absolute path, and compare finds the bundle from any working directory."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

from edgeaudit.audit.document import _bundle_info
from edgeaudit.bundle import load_bundle
from edgeaudit.compare.sources import resolve_side


def test_the_audited_bundle_is_recorded_absolute(tiny_bundle, tmp_path, monkeypatch):
    monkeypatch.chdir(tiny_bundle("bert").parent)
    info = _bundle_info(SimpleNamespace(bundle=load_bundle(Path(tiny_bundle("bert").name))))
    assert Path(info["directory"]).is_absolute()
    assert Path(info["directory"]) == tiny_bundle("bert").resolve()


def _audit_with_directory(reference_audit: Path, target: Path, directory: str) -> Path:
    shutil.copytree(reference_audit, target)
    document = json.loads((target / "audit.json").read_text())
    document["bundle"]["directory"] = directory
    (target / "audit.json").write_text(json.dumps(document))
    return target


def test_a_relative_path_is_found_beside_the_audit_from_another_directory(reference_audit, tiny_bundle, tmp_path,
                                                                           monkeypatch):
    audit_dir = tmp_path / "work" / "audit"
    shutil.copytree(tiny_bundle("bert"), tmp_path / "work" / "bundle")
    _audit_with_directory(reference_audit, audit_dir, "../bundle")  # as an old audit.json written from work/audit
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    side = resolve_side(audit_dir, "reference")
    assert side.bundle_note is None
    assert side.bundle is not None and side.bundle.sha256 == load_bundle(tiny_bundle("bert")).sha256


def test_compare_from_another_directory_runs_numeric_drift(reference_audit, tiny_bundle, tmp_path):
    from tests.edgeaudit.compare.test_cli import run_cli

    audit_dir = tmp_path / "work" / "audit"
    shutil.copytree(tiny_bundle("bert"), tmp_path / "work" / "bundle")
    _audit_with_directory(reference_audit, audit_dir, "../bundle")
    (tmp_path / "elsewhere").mkdir()
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path / "elsewhere")
        result = run_cli(str(audit_dir), str(audit_dir), "--out", "out", "-q", "--no-fidelity", "--no-applied")
    finally:
        os.chdir(cwd)
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "elsewhere" / "out" / "compare.json").read_text())
    assert document["numeric_drift"]["computed"] is True, document["numeric_drift"]
    assert Path(document["reference"]["audit"]).is_absolute()
