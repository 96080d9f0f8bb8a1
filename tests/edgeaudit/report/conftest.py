"""A real audit.json of a tiny model (made once) and hand-made compare.json documents, each alone in a folder."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from edgeaudit.audit.options import AuditOptions

# As tests/edgeaudit/audit/test_run_audit.py: every probe group, seconds instead of minutes.
FAST = dict(max_sentences=120, min_count=20, shuffles=3, bootstrap=100, folds=4, structural_max_iter=15,
            structural_max_train=60, progress=False)


def _alone(document: dict, folder: Path, name: str) -> Path:
    """Write ``document`` into an otherwise empty folder, its bundle paths pointing nowhere."""
    document = copy.deepcopy(document)
    for section in [document.get("bundle")] + [run.get("bundle") for run in (document.get("runs") or {}).values()
                                               if run]:
        if isinstance(section, dict) and "directory" in section:
            section["directory"] = "/nonexistent/bundle"
    path = folder / name
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return path


_AUDITS: dict[str, dict] = {}  # made once per session even when another conftest imports the fixture


@pytest.fixture(scope="session")
def audit_document(tiny_bundle, tiny_twin_bundle, tmp_path_factory) -> dict:
    """audit.json of the tiny BERT bundle with a random-init twin, every probe group, FAST settings."""
    if "tiny" not in _AUDITS:
        from edgeaudit.audit.run import run_audit

        twin = tiny_twin_bundle("bert", seed=3)
        out = tmp_path_factory.mktemp("report-audit")
        run_audit(tiny_bundle("bert"), out, AuditOptions(twin=str(twin), **FAST))
        _AUDITS["tiny"] = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    return copy.deepcopy(_AUDITS["tiny"])


@pytest.fixture()
def audit_json(audit_document, tmp_path) -> Path:
    """The audit.json copied into an empty temporary folder (no bundle, no activations beside it)."""
    return _alone(audit_document, tmp_path, "audit.json")


def minimal_compare() -> dict:
    """Only what compare.schema.json requires: the renderer must cope without drift, fidelity or provenance."""
    return {
        "schema": "edgeaudit.compare",
        "schema_version": 1,
        "summary": {"claims": 1, "survives": 1, "drifts": 0, "breaks": 0, "flips": 0, "gates_tripped": 0},
        "gates": [],
        "claims": [{"id": "head:2.3:nsubj:dependent_to_head", "kind": "attention-head",
                    "text": "head 2.3 tracks nsubj (dependent → head)",
                    "reference": {"score": 0.62, "verdict": "supported", "ci": [0.57, 0.67]},
                    "variant": {"score": 0.61, "verdict": "supported", "ci": [0.56, 0.66]},
                    "delta": -0.01, "survival": "survives", "flip": None}],
        "reference": {"bundle": "/nonexistent/minilm", "audit": "/nonexistent/a/audit.json"},
        "variant": {"bundle": "/nonexistent/minilm-int8", "audit": "/nonexistent/b/audit.json"},
    }


def full_compare() -> dict:
    """Every part of the compare layout, with a verdict flip, a tripped gate and 3 layers x 4 heads."""
    document = minimal_compare()
    document["summary"] = {"claims": 3, "survives": 1, "drifts": 1, "breaks": 1, "flips": 1, "gates_tripped": 1}
    document["gates"] = [
        {"expression": "flips>0", "metric": "flips", "op": ">", "threshold": 0, "value": 1, "tripped": True},
        {"expression": "output_cosine<0.99", "metric": "output_cosine", "op": "<", "threshold": 0.99,
         "value": 0.9962, "tripped": False},
    ]
    document["claims"] += [
        {"id": "structural:2", "kind": "structural-probe", "text": "hidden layer 2 encodes the dependency tree",
         "reference": {"score": 0.75, "verdict": "supported", "ci": [0.72, 0.79]},
         "variant": {"score": 0.70, "verdict": "supported", "ci": [0.66, 0.74]}, "applied": {"score": 0.69},
         "delta": -0.05, "delta_ci": [-0.13, 0.02], "survival": "drifts", "flip": None},
        {"id": "head:5.10:advcl:dependent_to_head", "kind": "attention-head",
         "text": "head 5.10 tracks advcl <dependent → head> & more",
         "reference": {"score": 0.43, "verdict": "supported", "ci": [0.31, 0.55]},
         "variant": {"score": 0.30, "verdict": "artifact", "ci": [0.19, 0.41]}, "applied": None,
         "delta": -0.13, "delta_ci": [-0.36, 0.10], "survival": "breaks", "flip": "supported→artifact"},
    ]
    document["numeric_drift"] = {
        "computed": True,
        "layers": [{"layer": layer, "sqnr_db": value} for layer, value in enumerate([41.0, 33.5, 28.2, None])],
        "attention_jsd": [[0.001, 0.002, 0.010, 0.004], [0.003, 0.020, 0.001, None], [0.030, 0.002, 0.005, 0.011]],
        "output_cosine": {"mean": 0.9962, "min": 0.981},
        "output_max_abs_diff": 0.21,
    }
    document["explanation_drift"] = {"mean_abs_score_delta": 0.063, "output_drift": 0.0038,
                                     "explanation_to_output_ratio": 16.6}
    document["fidelity"] = {"reference": {"computed": True, "faithful": True, "output_cosine": {"min": 1.0}},
                            "variant": {"computed": True, "faithful": False, "output_cosine": {"min": 0.97}}}
    document["data"] = {"spec": "ewt-test.conllu", "sentences": 118, "total_sentences": 120,
                        "skipped_by_kind": {"head-out-of-range": 1, "too-long": 1}}
    document["options"] = {"drift_tolerance": 0.05}
    document["provenance"] = {"tool_versions": {"edgeaudit": "0.1.0"}, "timings": {"total": 12.5}}
    return document


@pytest.fixture()
def compare_json(tmp_path) -> Path:
    return _alone(full_compare(), tmp_path, "compare.json")


@pytest.fixture()
def minimal_compare_json(tmp_path) -> Path:
    return _alone(minimal_compare(), tmp_path, "compare.json")
