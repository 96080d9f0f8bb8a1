"""Verdict rules: each branch reached by a claim built to need it, and both correspondence disagreements."""

from __future__ import annotations

import pytest

from edgeaudit.errors import EdgeAuditError
from edgeaudit.verdict import (
    Claim,
    ControlScore,
    LayerCorrespondence,
    VerdictThresholds,
    attach_margin,
    decide,
    flag_correspondence,
)

DEFAULT = VerdictThresholds()


def claim(score=0.8, n=500, controls=None, margins=None) -> Claim:
    controls = controls if controls is not None else [ControlScore("offset", 0.3), ControlScore("random-init", 0.2)]
    made = Claim("c", "attention-head", "head 1.2 tracks nsubj", "accuracy", score, n, controls)
    return attach_margin(made, margins or {})


def test_supported_when_margin_ci_is_above_zero_and_effect_is_large():
    made = decide(claim(margins={"offset": (0.5, 0.45, 0.55)}), DEFAULT)
    assert made.verdict == "supported" and made.strongest_control == "offset"
    assert "beats offset by +0.500" in made.reason


def test_artifact_names_the_control_that_reaches_the_score():
    controls = [ControlScore("offset", 0.79), ControlScore("random-init", 0.2)]
    made = decide(claim(controls=controls, margins={"offset": (0.01, -0.02, 0.04)}), DEFAULT)
    assert made.verdict == "artifact" and "offset" in made.reason


def test_significant_but_tiny_margin_is_an_artifact():
    made = decide(claim(margins={"offset": (0.02, 0.01, 0.03)}), DEFAULT)
    assert made.verdict == "artifact" and "minimum effect" in made.reason


def test_too_few_instances_is_inconclusive():
    made = decide(claim(n=5, margins={"offset": (0.5, 0.4, 0.6)}), DEFAULT)
    assert made.verdict == "inconclusive" and "only 5 instances" in made.reason
    assert "only 1 instance (<" in decide(claim(n=1, margins={"offset": (0.5, 0.4, 0.6)}), DEFAULT).reason


def test_wide_interval_straddling_zero_is_inconclusive_not_artifact():
    made = decide(claim(margins={"offset": (0.2, -0.1, 0.5)}), DEFAULT)
    assert made.verdict == "inconclusive" and "wide CI" in made.reason


def test_without_controls_nothing_can_be_supported():
    assert decide(claim(controls=[]), DEFAULT).verdict == "inconclusive"


def test_strongest_control_is_the_highest_scoring_one():
    controls = [ControlScore("offset", 0.3), ControlScore("random-init", 0.6)]
    made = claim(controls=controls, margins={"random-init": (0.2, 0.1, 0.3), "offset": (0.5, 0.4, 0.6)})
    assert made.strongest_control == "random-init" and made.margin == 0.2


# Token correspondence can disagree: MiniLM keeps identifiability ≥ 0.9 while rollout self-share falls to ~0.03.
MIXED_BUT_RECOVERABLE = LayerCorrespondence(layer=5, rollout_self_share=0.03, identifiability=0.93)
UNMIXED_BUT_LOST = LayerCorrespondence(layer=2, rollout_self_share=0.6, identifiability=0.2)


@pytest.mark.parametrize(
    ("signal", "layer", "flagged"),
    [
        ("rollout", MIXED_BUT_RECOVERABLE, True),
        ("identifiability", MIXED_BUT_RECOVERABLE, False),
        ("both", MIXED_BUT_RECOVERABLE, True),
        ("rollout", UNMIXED_BUT_LOST, False),
        ("identifiability", UNMIXED_BUT_LOST, True),
        ("both", UNMIXED_BUT_LOST, True),
    ],
)
def test_correspondence_rule_tests_the_named_signal(signal, layer, flagged):
    thresholds = VerdictThresholds(correspondence_signal=signal)
    made = flag_correspondence(decide(claim(margins={"offset": (0.5, 0.45, 0.55)}), thresholds), layer, thresholds)
    assert made.evidence["correspondence"]["rollout_self_share"] == layer.rollout_self_share
    assert made.evidence["correspondence"]["identifiability"] == layer.identifiability
    assert made.evidence["correspondence"]["signal_tested"] == signal
    if flagged:
        assert made.verdict == "unwarranted-assumption" and made.score_verdict == "supported"
        assert f"layer {layer.layer}" in made.reason
    else:
        assert made.verdict == "supported" and made.score_verdict is None


def test_bad_threshold_options_are_user_errors():
    with pytest.raises(EdgeAuditError, match="--correspondence-signal"):
        VerdictThresholds(correspondence_signal="vibes")
    with pytest.raises(EdgeAuditError, match="--min-effect"):
        VerdictThresholds(min_effect=-1)


def test_claim_json_has_no_nan():
    made = claim(controls=[ControlScore("offset", float("nan"))])
    data = made.to_dict()
    assert data["controls"][0]["score"] is None
