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
    assert made.verdict == "supported" and made.strongest_control == "offset" and made.finding == "beats-control"
    assert "beats offset by +0.500" in made.reason


def test_artifact_names_the_control_that_reaches_the_score():
    controls = [ControlScore("offset", 0.79), ControlScore("random-init", 0.2)]
    made = decide(claim(controls=controls, margins={"offset": (0.01, -0.02, 0.04)}), DEFAULT)
    assert made.verdict == "artifact" and made.finding == "control-reaches" and "offset control reaches" in made.reason


def test_significant_but_tiny_margin_is_an_artifact_of_its_own_kind():
    """Reliably above the control, reliably below the minimum effect: not the same as 'the control reaches it'."""
    made = decide(claim(margins={"offset": (0.02, 0.01, 0.03)}), DEFAULT)
    assert made.verdict == "artifact" and made.finding == "small-effect"
    assert "reliably above the offset control" in made.reason and "minimum effect 0.05" in made.reason


def test_too_few_instances_is_inconclusive():
    made = decide(claim(n=5, margins={"offset": (0.5, 0.4, 0.6)}), DEFAULT)
    assert made.verdict == "inconclusive" and made.finding == "few-instances" and "only 5 instances" in made.reason
    assert "only 1 instance (<" in decide(claim(n=1, margins={"offset": (0.5, 0.4, 0.6)}), DEFAULT).reason


@pytest.mark.parametrize("margin", [(0.084, -0.013, 0.179), (0.2, -0.1, 0.5), (0.03, -0.01, 0.05)])
def test_a_ci_from_zero_to_the_minimum_effect_is_too_little_data_not_an_artifact(margin):
    """+0.084 [-0.013, +0.179] (a real EWT claim) used to be 'artifact': the CI cannot exclude either a zero
    margin or one above the minimum effect, so the data cannot decide, whatever the CI's width."""
    made = decide(claim(margins={"offset": margin}), DEFAULT)
    assert made.verdict == "inconclusive" and made.finding == "underpowered"
    assert "too little data" in made.reason and f"{margin[1]:+.3f}" in made.reason


def test_a_margin_just_below_the_minimum_effect_with_a_ci_reaching_it_is_undecided():
    """+0.049 [0.029, 0.069] and +0.054 [0.034, 0.074] are the same finding up to noise: one must not be
    'artifact' and the other 'supported'."""
    below = decide(claim(margins={"offset": (0.049, 0.029, 0.069)}), DEFAULT)
    above = decide(claim(margins={"offset": (0.054, 0.034, 0.074)}), DEFAULT)
    assert below.verdict == "inconclusive" and below.finding == "effect-undecided"
    assert above.verdict == "supported"


def test_a_real_but_imprecise_margin_is_inconclusive_for_its_width():
    made = decide(claim(margins={"offset": (0.4, 0.05, 0.75)}), DEFAULT)
    assert made.verdict == "inconclusive" and made.finding == "wide-ci" and "wider than 0.3" in made.reason


def test_the_ci_upper_end_exactly_at_the_minimum_effect_is_not_reliably_below_it():
    assert decide(claim(margins={"offset": (0.02, -0.01, 0.05)}), DEFAULT).finding == "underpowered"
    assert decide(claim(margins={"offset": (0.02, -0.01, 0.0499)}), DEFAULT).finding == "control-reaches"


def _tested(p_values, verdict="supported"):
    made = []
    for i, p in enumerate(p_values):
        c = decide(claim(margins={"offset": (0.5, 0.45, 0.55, p)}), DEFAULT)
        c.claim_id = f"c{i}"
        if verdict != "supported":
            c.score_verdict, c.verdict = c.verdict, verdict
        made.append(c)
    return made


def test_benjamini_hochberg_demotes_supported_claims_that_do_not_survive_the_run_s_many_tests():
    from edgeaudit.verdict import control_false_discoveries

    claims = _tested([0.001, 0.001, 0.02, 0.04, 0.3])
    # BH q-values: rank-scaled p * m / rank, made monotone: 0.0025, 0.0025, 0.0333, 0.05, 0.3
    assert control_false_discoveries(claims, DEFAULT) == 1
    assert [round(c.margin_q, 4) for c in claims] == [0.0025, 0.0025, 0.0333, 0.05, 0.3]
    assert [c.verdict for c in claims] == ["supported"] * 4 + ["inconclusive"]
    assert claims[4].finding == "multiplicity" and "5 claims" in claims[4].reason
    strict = _tested([0.001, 0.001, 0.02, 0.04, 0.3])
    assert control_false_discoveries(strict, VerdictThresholds(max_false_discovery_rate=0.01)) == 3


def test_multiplicity_reaches_the_score_verdict_behind_a_correspondence_flag_and_skips_untested_claims():
    from edgeaudit.verdict import control_false_discoveries

    claims = _tested([0.5], verdict="unwarranted-assumption") + [decide(claim(margins={"offset": (0.5, 0.45, 0.55)}),
                                                                       DEFAULT)]
    assert control_false_discoveries(claims, DEFAULT) == 1
    assert claims[0].verdict == "unwarranted-assumption" and claims[0].score_verdict == "inconclusive"
    assert claims[1].margin_p is None and claims[1].margin_q is None and claims[1].verdict == "supported"


def test_the_margin_p_value_is_carried_into_the_claim():
    made = decide(claim(margins={"offset": (0.5, 0.45, 0.55, 0.000999)}), DEFAULT)
    assert made.to_dict()["margin_p"] == 0.000999 and made.to_dict()["finding"] == "beats-control"


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


@pytest.mark.parametrize(
    ("share", "ci", "decision", "verdict"),
    [
        (0.24, (0.235, 0.245), "fails", "unwarranted-assumption"),  # reliably below the 0.25 floor
        (0.249, (0.241, 0.257), "undecided", "inconclusive"),  # a hair below, CI straddles: no cliff
        (0.251, (0.243, 0.259), "undecided", "inconclusive"),  # a hair above: the same answer
        (0.26, (0.255, 0.265), "holds", "supported"),
        (0.249, None, "fails", "unwarranted-assumption"),  # without a CI the point value decides, as before
    ],
)
def test_correspondence_decides_on_the_signal_ci_not_its_mean(share, ci, decision, verdict):
    thresholds = VerdictThresholds()
    layer = LayerCorrespondence(layer=3, rollout_self_share=share, identifiability=0.99, rollout_ci=ci,
                                sentences={"rollout": "all 415 extracted sentences (7,000 words)"})
    made = flag_correspondence(decide(claim(margins={"offset": (0.5, 0.45, 0.55)}), thresholds), layer, thresholds)
    evidence = made.evidence["correspondence"]
    assert evidence["decision"] == decision and made.verdict == verdict
    assert evidence["rollout_self_share_ci"] == (None if ci is None else list(ci))
    assert evidence["sentences"]["rollout"].startswith("all 415")
    if decision == "undecided":
        assert made.finding == "correspondence-undecided" and "straddles 0.25" in made.reason


def test_an_undecided_layer_leaves_a_non_supported_verdict_alone():
    thresholds = VerdictThresholds()
    layer = LayerCorrespondence(layer=3, rollout_self_share=0.25, identifiability=0.99, rollout_ci=(0.24, 0.26))
    artifact = decide(claim(margins={"offset": (0.01, -0.02, 0.03)}), thresholds)
    assert flag_correspondence(artifact, layer, thresholds).verdict == "artifact"


def test_bad_threshold_options_are_user_errors():
    with pytest.raises(EdgeAuditError, match="--correspondence-signal"):
        VerdictThresholds(correspondence_signal="vibes")
    with pytest.raises(EdgeAuditError, match="--min-effect"):
        VerdictThresholds(min_effect=-1)
    with pytest.raises(EdgeAuditError, match="--max-false-discovery-rate"):
        VerdictThresholds(max_false_discovery_rate=float("nan"))


def test_every_finding_the_rule_can_give_is_in_the_audit_schema():
    import json
    from pathlib import Path

    from edgeaudit.verdict import FINDINGS

    schema = json.loads((Path(__file__).resolve().parents[2] / "edgeaudit" / "schemas" / "audit.schema.json")
                        .read_text(encoding="utf-8"))
    assert set(schema["$defs"]["claim"]["properties"]["finding"]["enum"]) == {None, *FINDINGS}


def test_claim_json_has_no_nan():
    made = claim(controls=[ControlScore("offset", float("nan"))])
    data = made.to_dict()
    assert data["controls"][0]["score"] is None


def test_folds_choosing_heads_on_both_sides_of_the_floor_make_the_layer_undecided():
    """The near-tie case: the named head sits in layer 3 (fails), but the folds also chose heads in layer 2 (holds);
    which layer the claim is about is a coin toss, so it must not be unwarranted-assumption because of it."""
    thresholds = VerdictThresholds()
    layer2 = LayerCorrespondence(layer=2, rollout_self_share=0.29, identifiability=1.0, rollout_ci=(0.285, 0.295))
    layer3 = LayerCorrespondence(layer=3, rollout_self_share=0.16, identifiability=1.0, rollout_ci=(0.155, 0.165))
    made = flag_correspondence(decide(claim(margins={"offset": (0.5, 0.45, 0.55)}), thresholds), layer3, thresholds,
                               [layer2])
    assert made.verdict == "inconclusive" and made.finding == "correspondence-undecided"
    assert made.evidence["correspondence"]["fold_layers"] == {"2": "holds"}
    assert "folds also chose winners in layer 2 (holds)" in made.reason
    agreeing = flag_correspondence(decide(claim(margins={"offset": (0.5, 0.45, 0.55)}), thresholds), layer3,
                                   thresholds, [layer3])
    assert agreeing.verdict == "unwarranted-assumption"
