"""An audit interrupted after some stages resumes from ``OUT/stages``: same claims, finished stages not redone."""

from __future__ import annotations

import json

import numpy as np
import pytest

import edgeaudit.audit.property_stage as property_stage
import edgeaudit.audit.run as audit_run
import edgeaudit.audit.structural as audit_structural
from edgeaudit.audit.checkpoint import Checkpoints, stage_key
from edgeaudit.audit.options import AuditOptions
from edgeaudit.audit.run import run_audit

FAST = dict(max_sentences=60, min_count=10, shuffles=3, bootstrap=50, folds=4, structural_max_iter=10,
            structural_max_train=40, progress=False)


class Interrupted(KeyboardInterrupt):
    """What Ctrl-C raises, injected at a chosen point."""


def _comparable(document: dict) -> list[dict]:
    return document["claims"]


@pytest.fixture(scope="module")
def clean(tiny_bundle, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    return run_audit(tiny_bundle("bert"), out, AuditOptions(**FAST))


def test_interrupted_in_property_stage_resumes_without_redoing_finished_stages(tiny_bundle, clean, tmp_path,
                                                                               monkeypatch):
    bundle = tiny_bundle("bert")
    with monkeypatch.context() as patch:
        def stop(*args, **kwargs):
            raise Interrupted()
        patch.setattr(property_stage, "run_property_stage", stop)
        with pytest.raises(Interrupted):
            run_audit(bundle, tmp_path, AuditOptions(**FAST))
    assert not (tmp_path / "audit.json").exists()
    finished = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "stages").glob("*.json")}
    assert {"extract.json", "structural.json", "identifiability.json", "claims.json"} <= set(finished)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished stage was recomputed")
    monkeypatch.setattr(audit_run, "extract", must_not_run)
    monkeypatch.setattr(audit_structural, "run_structural", must_not_run)
    monkeypatch.setattr(audit_structural, "run_identifiability", must_not_run)
    messages: list[str] = []
    document = run_audit(bundle, tmp_path, AuditOptions(**FAST), log=messages.append)
    assert any(m.startswith("resuming: extract, extract-nonce, identifiability, structural, claims done; running property")
               for m in messages), messages
    assert document["provenance"]["stages"]["computed"] == ["property"]
    assert _comparable(document) == _comparable(clean)
    assert document["runs"]["model"]["extraction"]["extracted"] == clean["runs"]["model"]["extraction"]["extracted"]
    assert document["probes"]["attention_heads"] == clean["probes"]["attention_heads"]
    for name, stamp in finished.items():
        assert (tmp_path / "stages" / name).stat().st_mtime_ns == stamp, name


def test_changed_option_recomputes_only_the_stages_that_depend_on_it(tiny_bundle, clean, tmp_path, monkeypatch):
    bundle = tiny_bundle("bert")
    run_audit(bundle, tmp_path, AuditOptions(**{**FAST, "probes": ("attention", "structural")}))
    calls = []
    original = audit_structural.run_structural
    monkeypatch.setattr(audit_run, "extract", lambda *a, **k: pytest.fail("extraction was redone"))
    monkeypatch.setattr(audit_structural, "run_structural", lambda *a, **k: calls.append(1) or original(*a, **k))
    document = run_audit(bundle, tmp_path, AuditOptions(**{**FAST, "probes": ("attention", "structural"),
                                                          "structural_max_iter": 5}))
    assert calls and document["provenance"]["stages"]["resumed"] == ["extract", "extract-nonce"]


def test_a_new_structural_fit_rule_recomputes_the_structural_stage_only(tiny_bundle, clean, tmp_path, monkeypatch):
    """Finished structural probes made under another stopping rule are not reused (same options, other numbers)."""
    bundle = tiny_bundle("bert")
    run_audit(bundle, tmp_path, AuditOptions(**{**FAST, "probes": ("attention", "structural")}))
    calls = []
    original = audit_structural.run_structural
    monkeypatch.setattr(audit_run, "STRUCTURAL_FIT_RULE", audit_run.STRUCTURAL_FIT_RULE + " (changed)")
    monkeypatch.setattr(audit_structural, "run_structural", lambda *a, **k: calls.append(1) or original(*a, **k))
    document = run_audit(bundle, tmp_path, AuditOptions(**{**FAST, "probes": ("attention", "structural")}))
    assert calls and document["provenance"]["stages"]["resumed"] == ["extract", "extract-nonce"]


def test_a_new_verdict_rule_redoes_the_claims_but_nothing_measured(tiny_bundle, clean, tmp_path, monkeypatch):
    """Claims decided under another verdict rule are not reused; extraction and probe fits are."""
    bundle = tiny_bundle("bert")
    run_audit(bundle, tmp_path, AuditOptions(**{**FAST, "probes": ("attention", "structural")}))
    monkeypatch.setattr(audit_run, "VERDICT_RULE", audit_run.VERDICT_RULE + " (changed)")
    monkeypatch.setattr(audit_structural, "run_structural", lambda *a, **k: pytest.fail("structural probes were refitted"))
    document = run_audit(bundle, tmp_path, AuditOptions(**{**FAST, "probes": ("attention", "structural")}))
    stages = document["provenance"]["stages"]
    assert "claims" in stages["computed"] and "claims" not in stages["resumed"]
    assert {"extract", "structural"} <= set(stages["resumed"])


def test_checkpoint_round_trips_arrays_tuples_int_keys_and_generators(tmp_path):
    rng = np.random.default_rng(5)
    rng.random(3)
    value = {"a": np.arange(6, dtype=np.int64).reshape(2, 3), 3: (1.5, float("nan")), "s": np.array(["x", "y"],
             dtype=object), "g": rng, "f": np.float32(0.1)}
    checkpoints = Checkpoints(tmp_path)
    key = stage_key(stage="t", seed=1)
    checkpoints.save("t", key, value)
    done, back = checkpoints.load("t", key)
    assert done and checkpoints.load("t", stage_key(stage="t", seed=2)) == (False, None)
    np.testing.assert_array_equal(back["a"], value["a"])
    assert back[3][0] == 1.5 and np.isnan(back[3][1]) and isinstance(back[3], tuple)
    assert back["s"].dtype == object and back["s"].tolist() == ["x", "y"]
    assert back["g"].random() == rng.random()
    assert type(back["f"]) is np.float32


def test_damaged_checkpoint_is_recomputed_not_trusted(tmp_path):
    checkpoints = Checkpoints(tmp_path)
    checkpoints.save("t", "k", {"x": 1})
    (tmp_path / "stages" / "t.json").write_text(json.dumps({"key": "k", "result": {"__object__": "os.system"}}))
    assert checkpoints.load("t", "k") == (False, None)
    assert checkpoints.run("t", "k", lambda: {"x": 2}) == {"x": 2}
