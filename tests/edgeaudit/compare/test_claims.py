"""Claim matching, applied scores and survival labels on hand-made audit documents."""

from __future__ import annotations

import pytest

from edgeaudit.compare.claims import compare_claims, explanation_drift, survival
from edgeaudit.results.compare_result import AppliedScore, ComparedClaim
from tests.edgeaudit.results.factories import audit_result


def head_claim(layer, head, relation, direction, score, verdict, ci=None):
    return {"id": f"head:{layer}.{head}:{relation}:{direction}", "kind": "attention-head", "metric": "accuracy",
            "text": f"head {layer}.{head} tracks {relation}", "score": score, "verdict": verdict,
            "score_ci": ci or [score - 0.05, score + 0.05],
            "subject": {"layer": layer, "head": head, "relation": relation, "direction": direction}}


def document(claims, accuracy=None, trees=None):
    relations = {rel: {d: {"accuracy": m} for d, m in by_dir.items()} for rel, by_dir in (accuracy or {}).items()}
    return audit_result(claims, probes={"attention_heads": {"relations": relations}}, trees=trees)


def test_head_claims_match_by_relation_and_direction_even_when_the_head_moves():
    ref = document([head_claim(3, 1, "nsubj", "dependent_to_head", 0.80, "supported")])
    var = document([head_claim(2, 0, "nsubj", "dependent_to_head", 0.60, "artifact")],
                   accuracy={"nsubj": {"dependent_to_head": [[0.1, 0.1], [0.1, 0.1], [0.6, 0.1], [0.2, 0.55]]}})
    (entry,) = compare_claims(ref, var).entries
    assert entry.id == "head:3.1:nsubj:dependent_to_head"
    assert entry.variant.id == "head:2.0:nsubj:dependent_to_head" and "another subject" in entry.note
    assert entry.delta == pytest.approx(-0.2)
    assert entry.delta_ci == pytest.approx([0.55 - 0.85, 0.65 - 0.75])
    assert entry.applied.score == 0.55  # head 3.1 read off the variant's matrix
    assert entry.applied.delta == pytest.approx(-0.25)
    assert entry.flip == "supported→artifact" and entry.survival == "breaks"


def test_tree_claims_match_by_subject_and_read_the_reference_head_and_layer():
    def tree(claim_id, subject, score):
        return {"id": claim_id, "kind": "attention-tree", "score": score, "verdict": "artifact",
                "score_ci": [score - 0.01, score + 0.01], "subject": subject}

    ref = document([tree("tree:head:1.1", {"layer": 1, "head": 1}, 0.40), tree("tree:layer:0", {"layer": 0}, 0.35)])
    var = document([tree("tree:head:0.2", {"layer": 0, "head": 2}, 0.38), tree("tree:layer:1", {"layer": 1}, 0.36)],
                   trees={"per_head": [[0.1, 0.2, 0.38], [0.3, 0.33, 0.2]], "layer_mean": [0.30, 0.36]})
    entries = {e.id: e for e in compare_claims(ref, var).entries}
    assert entries["tree:head:1.1"].applied.score == 0.33
    assert entries["tree:layer:0"].applied.score == 0.30
    assert entries["tree:layer:0"].delta == pytest.approx(0.01)


@pytest.mark.parametrize(("ref", "var", "delta", "ci", "expected"), [
    ("supported", "supported", 0.0, [-0.01, 0.01], "survives"),
    ("supported", "supported", -0.10, [-0.15, -0.05], "drifts"),  # beyond tolerance, CI excludes 0
    ("supported", "supported", -0.10, [-0.20, 0.01], "survives"),  # CI includes 0
    ("supported", "supported", -0.015, [-0.02, -0.01], "survives"),  # within tolerance
    ("supported", "artifact", -0.01, [-0.05, 0.03], "breaks"),
    ("artifact", "supported", 0.2, [0.1, 0.3], "breaks"),
    ("unwarranted-assumption", "supported", 0.0, None, "breaks"),
    ("artifact", "inconclusive", 0.0, [-0.1, 0.1], "drifts"),  # a flip that does not cross "supported"
    ("supported", "absent", None, None, "breaks"),
])
def test_survival_rules(ref, var, delta, ci, expected):
    assert survival(ref, var, delta, ci, 0.02) == expected


def test_claims_on_one_side_only_are_listed_as_flips_to_or_from_absent():
    ref = document([{"id": "structural:1", "kind": "structural-probe", "score": 0.5, "verdict": "supported",
                     "score_ci": [0.4, 0.6], "subject": {"layer": 1}}])
    var = document([{"id": "structural:2", "kind": "structural-probe", "score": 0.5, "verdict": "artifact",
                     "score_ci": [0.4, 0.6], "subject": {"layer": 2}}])
    comparison = compare_claims(ref, var)
    assert [(e.id, e.flip, e.survival) for e in comparison.entries] == [
        ("structural:1", "supported→absent", "breaks"), ("structural:2", "absent→artifact", "breaks")]
    assert comparison.counts() == {"survives": 0, "drifts": 0, "breaks": 2, "flips": 2}


def test_precomputed_applied_scores_are_used_for_probe_claims():
    claim = {"id": "structural:1", "kind": "structural-probe", "score": 0.5, "verdict": "artifact",
             "score_ci": [0.4, 0.6], "subject": {"layer": 1}}
    (entry,) = compare_claims(document([claim]), document([claim]),
                              applied={"structural:1": AppliedScore(0.45, "refit")}).entries
    assert entry.applied.to_json() == {"score": 0.45, "source": "refit", "delta": pytest.approx(-0.05)}


def test_explanation_to_output_ratio():
    entries = [ComparedClaim(id=f"c{i}", kind=kind, text=None, reference=None, variant=None, delta=delta,
                             survival="survives", flip=None) for i, (kind, delta) in enumerate([("a", 0.02), ("b", -0.04)])]
    drift = explanation_drift(entries, 0.999, [])
    assert drift.mean_abs_score_delta == pytest.approx(0.03)
    assert drift.output_drift == pytest.approx(0.001)
    assert drift.explanation_to_output_ratio == pytest.approx(30.0)
    assert drift.mean_abs_score_delta_by_kind == pytest.approx({"a": 0.02, "b": 0.04})
    assert explanation_drift(entries, 1.0, []).explanation_to_output_ratio is None
    quiet = explanation_drift(entries, 1 - 4e-5, [])  # fp16-like noise: no alarm ratio of 750
    assert quiet.explanation_to_output_ratio == pytest.approx(30.0) and "below the floor" in quiet.ratio_note
    assert explanation_drift(entries, None, []).ratio_note == "the output drift was not computed"
