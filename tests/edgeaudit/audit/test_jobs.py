"""Worker processes change how fast an audit runs, never what it finds, and never force a rerun."""

from __future__ import annotations

import pytest

import edgeaudit.audit.structural as audit_structural
from edgeaudit.audit.options import AuditOptions, available_cores
from edgeaudit.audit.run import run_audit
from edgeaudit.errors import EdgeAuditError

FAST = dict(max_sentences=60, min_count=10, shuffles=4, bootstrap=50, folds=4, structural_max_iter=10,
            structural_max_train=40, progress=False)


def _findings(document: dict) -> dict:
    """Everything an audit found: claims and probe sections (not provenance, timing or the jobs option)."""
    return {"claims": document["claims"], "probes": document["probes"], "summary": document["summary"],
            "structural": document["runs"]["model"]["structural"]}


def test_one_worker_and_two_workers_find_the_same(tiny_bundle, tmp_path):
    bundle = tiny_bundle("bert")
    alone = run_audit(bundle, tmp_path / "one", AuditOptions(**FAST, jobs=1))
    shared = run_audit(bundle, tmp_path / "two", AuditOptions(**FAST, jobs=2))
    assert alone["options"]["jobs"] == 1 and shared["options"]["jobs"] == 2
    assert _findings(alone) == _findings(shared)
    structural = shared["runs"]["model"]["structural"]["layers"]
    assert [layer["layer"] for layer in structural] == list(range(len(structural)))  # layers back in order


def test_another_jobs_value_resumes_every_stage(tiny_bundle, tmp_path, monkeypatch):
    bundle = tiny_bundle("bert")
    run_audit(bundle, tmp_path, AuditOptions(**FAST, jobs=1))
    monkeypatch.setattr(audit_structural, "run_structural", lambda *a, **k: pytest.fail("structural was refitted"))
    document = run_audit(bundle, tmp_path, AuditOptions(**FAST, jobs=2))
    assert document["provenance"]["stages"]["computed"] == []


def test_jobs_default_to_the_cores_this_process_may_use():
    assert AuditOptions().workers == available_cores() >= 1
    assert AuditOptions(jobs=3).workers == 3
    with pytest.raises(EdgeAuditError, match="--jobs"):
        AuditOptions(jobs=0)
