"""The replication measurement: the pre-issue-16 rule as recomputed from audit.json, and the cross-table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.replication import agreement, legacy_verdict
from edgeaudit.verdict import Claim, ControlScore, VerdictThresholds, attach_margin, decide

THRESHOLDS = VerdictThresholds().to_dict()
ROOT = Path(__file__).resolve().parents[2]


def claim(margin, low, high, n=500, verdict=None, relation="nsubj", head="1.2"):
    made = Claim(f"head:{head}:{relation}:dependent_to_head", "attention-head", f"head {head} tracks {relation}",
                 "accuracy", 0.8, n, [ControlScore("offset", 0.8 - margin)],
                 subject={"relation": relation, "direction": "dependent_to_head"})
    data = decide(attach_margin(made, {"offset": (margin, low, high)}), VerdictThresholds()).to_dict()
    if verdict is not None:
        data["verdict"] = verdict
    return data


@pytest.mark.parametrize(("margin", "expected_before", "expected_now"), [
    ((0.5, 0.45, 0.55), "supported", "supported"),
    ((0.084, -0.013, 0.179), "artifact", "inconclusive"),  # underpowered: was an artifact
    ((0.049, 0.029, 0.069), "artifact", "inconclusive"),  # effect undecided: was an artifact
    ((0.02, 0.01, 0.03), "artifact", "artifact"),
    ((0.2, -0.1, 0.5), "inconclusive", "inconclusive"),
    ((0.01, -0.02, 0.04), "artifact", "artifact"),
])
def test_the_legacy_rule_is_the_old_one_and_differs_only_where_issue_16_says(margin, expected_before, expected_now):
    data = claim(*margin)
    assert legacy_verdict(data, THRESHOLDS) == expected_before and data["verdict"] == expected_now


def test_the_legacy_rule_reads_the_in_sample_margin_when_the_claim_was_cross_fitted():
    data = claim(0.03, -0.01, 0.07)  # held out: underpowered
    data["evidence"]["selection"] = {"in_sample_margin": [0.5, 0.45, 0.55]}  # what the old rule saw
    assert data["verdict"] == "inconclusive" and legacy_verdict(data, THRESHOLDS) == "supported"


def test_few_instances_and_flags_are_kept_by_the_legacy_rule():
    assert legacy_verdict(claim(0.5, 0.45, 0.55, n=3), THRESHOLDS) == "inconclusive"
    assert legacy_verdict(claim(0.5, 0.45, 0.55, verdict="unwarranted-assumption"), THRESHOLDS) == \
        "unwarranted-assumption"


def test_agreement_matches_claims_by_subject_not_head_and_counts_opposite_verdicts():
    dev = {"thresholds": THRESHOLDS, "claims": [claim(0.5, 0.45, 0.55, head="1.2"),
                                                claim(0.049, 0.029, 0.069, relation="amod"),
                                                claim(0.3, 0.25, 0.35, relation="obj")]}
    test = {"thresholds": THRESHOLDS, "claims": [claim(0.5, 0.45, 0.55, head="3.4"),  # another head, same claim
                                                 claim(0.054, 0.034, 0.074, relation="amod"),
                                                 claim(0.3, 0.25, 0.35, relation="case")]}
    now, before = agreement(dev, test, "current"), agreement(dev, test, "legacy")
    assert now["claims"] == 2 and now["only_in_dev"] == 1 and now["only_in_test"] == 1
    assert now["agree"] == 1 and now["supported_artifact_flips"] == 0
    assert now["table"]["inconclusive"]["supported"] == 1
    assert before["supported_artifact_flips"] == 1 and before["table"]["artifact"]["supported"] == 1
    assert [c["claim"] for c in before["changes"]] == ["head 1.2 tracks amod"]


def test_the_committed_measurement_shows_fewer_opposite_verdicts_than_the_old_rule():
    path = ROOT / "benchmarks" / "results" / "replication.json"
    if not path.is_file():
        pytest.skip("benchmarks/results/replication.json not committed yet (python -m benchmarks.replication)")
    result = json.loads(path.read_text(encoding="utf-8"))
    assert result["current"]["supported_artifact_flips"] < result["before_issue_16"]["supported_artifact_flips"]
    assert result["current"]["claims"] == result["before_issue_16"]["claims"] > 0
