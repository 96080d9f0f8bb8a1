"""Same inputs, same seed -> the same document (apart from timings) and the same activations, bit for bit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeaudit.runtime import StoredActivations
from tests.reliability.canonical import assert_same_document, canonical, canonical_text, first_difference
from tests.reliability.cli import assert_success, run_edgeaudit


def test_canonical_drops_timings_at_any_depth_and_sorts_keys():
    document = {
        "summary": {"seconds": 1.5, "sentences_per_second": 20.0, "extracted": 3},
        "provenance": {"created": "2026-01-01T00:00:00+00:00", "tool_versions": {"numpy": "2"}},
        "runs": [{"timings": {"probe": 0.1}, "timestamp": 1, "score": 0.5, "export_seconds": 9}],
        "z": 1, "a": {"Created": "x", "kept": None},
    }  # fmt: skip
    assert canonical(document) == {
        "a": {"kept": None},
        "provenance": {"tool_versions": {"numpy": "2"}},
        "runs": [{"score": 0.5}],
        "summary": {"extracted": 3},
        "z": 1,
    }
    assert list(canonical(document)) == ["a", "provenance", "runs", "summary", "z"]
    assert canonical({"out": {"directory": "/tmp/a"}}, drop=["directory"]) == {"out": {}}
    assert canonical_text({"b": 1, "a": float("nan")}) == '{\n  "a": NaN,\n  "b": 1\n}\n'


def test_first_difference_names_the_path():
    assert first_difference({"a": [1, {"b": 2}]}, {"a": [1, {"b": 3}]}) == "$.a[1].b: 2 vs 3"
    assert first_difference({"a": 1}, {"a": 1, "c": 2}) == "$.c: only in second"
    assert first_difference([float("nan")], [float("nan")]) is None
    with pytest.raises(AssertionError, match=r"\$\.score: 0\.5 vs 0\.25"):
        assert_same_document({"score": 0.5, "seconds": 1}, {"score": 0.25, "seconds": 2})


def test_two_extractions_agree_apart_from_timings_and_places(reliability_bundle, tmp_path):
    for name in ("first", "second"):
        args = ["extract", str(reliability_bundle), "--data", "builtin:treebank", "--out", name, "--quiet",
                "--threads", "1"]
        assert_success(run_edgeaudit(args, tmp_path))
    first, second = (json.loads((tmp_path / name / "extraction.json").read_text()) for name in ("first", "second"))
    assert_same_document(first, second, drop=["directory"])
    stores = [StoredActivations(tmp_path / name / "activations") for name in ("first", "second")]
    for layer in range(stores[0].num_layers):
        assert np.array_equal(stores[0].layer(layer), stores[1].layer(layer)), layer


@pytest.mark.slow
def test_two_audits_with_the_same_seed_agree(reliability_bundle, tmp_path):
    """Determinism of ``edgeaudit audit`` (small settings; the audit command is still being written)."""
    for name in ("first", "second"):
        args = ["audit", str(reliability_bundle), "--out", name, "--max-sentences", "40", "--shuffles", "2",
                "--bootstrap", "20", "--seed", "7", "--threads", "1", "--quiet"]
        assert_success(run_edgeaudit(args, tmp_path))
    first, second = (json.loads((tmp_path / name / "audit.json").read_text()) for name in ("first", "second"))
    assert_same_document(first, second, drop=["directory"])
