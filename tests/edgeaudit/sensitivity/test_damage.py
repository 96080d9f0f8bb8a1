"""Damage of one variant and the rankings of blocks."""

from __future__ import annotations

import pytest

from edgeaudit.compare.claims import explanation_drift
from edgeaudit.results import ComparedClaim
from edgeaudit.sensitivity.damage import holds, rank_blocks, variant_record
from tests.edgeaudit.results.factories import compare_result


def compare_document(survivals, deltas, cosine=0.999, kl=None, gates=()):
    claims = [ComparedClaim(id=f"c{i}", kind="attention-head", text=f"claim {i}", reference=None, variant=None,
                            delta=d, survival=s, flip=None)
              for i, (s, d) in enumerate(zip(survivals, deltas, strict=False))]
    drift = explanation_drift(claims, cosine, [])
    next_token = None if kl is None else {"positions": 10, "kl_mean": kl, "kl_p99": kl, "top1_agreement": 0.9,
                                          "perplexity": {"reference": 2.0, "variant": 2.1}, "perplexity_ratio": 1.05}
    return compare_result([c.to_json() for c in claims], gates=list(gates), explanation_drift=drift.to_json(),
                          numeric_drift={"output_cosine": {"mean": cosine, "min": cosine - 0.01},
                                         "output_max_abs_diff": 0.1, "min_sqnr_db": 20.0, "worst_sqnr_layer": 3,
                                         "layers": [{"layer": 0, "sqnr_db": 40.0}], "next_token": next_token})


def test_damage_counts_claims_lost_then_mean_delta():
    record = variant_record(compare_document(["survives", "breaks", "drifts"], [0.01, -0.3, None]))
    assert record["explanation_damage"] == pytest.approx(2 + (0.01 + 0.3) / 2)
    assert record["output_damage"] == pytest.approx(0.001)
    assert not holds(record, gated=False)
    assert holds(variant_record(compare_document(["survives"], [0.5])), gated=False)


def test_decoders_use_next_token_kl_as_output_damage():
    record = variant_record(compare_document(["survives"], [0.0], cosine=0.5, kl=0.02))
    assert record["output_damage"] == 0.02 and record["output"]["top1_agreement"] == 0.9


def test_a_gate_that_could_not_be_evaluated_does_not_hold():
    gates = [{"expression": "flips>0", "metric": "flips", "op": ">", "threshold": 0, "value": None, "tripped": None}]
    assert not holds(variant_record(compare_document(["survives"], [0.0], gates=gates)), gated=True)


def test_rankings_and_where_they_disagree():
    only = {name: {"explanation_damage": e, "output_damage": o}
            for name, e, o in [("a", 3.0, 0.001), ("b", 0.1, 0.9), ("c", 0.2, 0.5), ("d", 0.0, 0.0),
                               ("e", 0.05, 0.01), ("f", 0.01, 0.02)]}
    ranking = rank_blocks(list(only), only)
    assert ranking["by_explanation"] == ["a", "c", "b", "e", "f", "d"]
    assert ranking["by_output"] == ["b", "c", "f", "e", "a", "d"]
    assert ranking["top_k"] == 2
    assert ranking["explanation_not_output"] == ["a"] and ranking["output_not_explanation"] == ["b"]
    assert -1.0 <= ranking["spearman"] <= 1.0


def test_blocks_whose_variant_failed_are_left_out_of_the_ranking():
    only = {"a": {"explanation_damage": 1.0, "output_damage": 0.1}, "b": {"error": "no MatMul"}}
    ranking = rank_blocks(["a", "b"], only)
    assert ranking["by_explanation"] == ["a"] and ranking["spearman"] is None


def test_fragility_counts_the_one_block_variants_that_lose_a_claim():
    def rec(kind, failing):
        return {"kind": kind, "claims": [{"id": "a", "survival": "breaks" if "a" in failing else "survives"},
                                         {"id": "b", "survival": "drifts" if "b" in failing else "survives"}]}

    from edgeaudit.sensitivity.damage import fragility

    records = [rec("full", "ab"), rec("only", "a"), rec("only", "ab"), rec("all-but", "b"), rec("fallback", "a"),
               {"kind": "only", "error": "not built"}]
    assert fragility(records, ["a", "b"]) == {"a": {"only": 2, "only_of": 2, "all_but": 0, "all_but_of": 1},
                                              "b": {"only": 1, "only_of": 2, "all_but": 1, "all_but_of": 1}}


def test_an_all_but_sweep_ranks_blocks_by_the_damage_keeping_them_in_float_removes():
    """--mode all-but has no ``only`` variants: block damage = full − all-but, and the ranking says so."""
    full = {"explanation_damage": 3.5, "output_damage": 0.6}
    all_but = {"a": {"explanation_damage": 3.4, "output_damage": 0.2},   # removes 0.1 / 0.4
               "b": {"explanation_damage": 1.5, "output_damage": 0.55},  # removes 2.0 / 0.05
               "c": {"explanation_damage": 3.5, "output_damage": None},   # removes 0.0 / unknown
               "d": {"error": "not built"}}
    ranking = rank_blocks(["a", "b", "c", "d"], {}, all_but, full)
    assert ranking["basis"] == "all-but"
    assert ranking["by_explanation"] == ["b", "a", "c"] and ranking["by_output"] == ["a", "b", "c"]
    assert ranking["ranks"]["b"] == {"explanation": 1, "output": 2}


def test_only_variants_are_the_basis_whenever_the_sweep_has_them():
    only = {"a": {"explanation_damage": 0.0, "output_damage": 0.1}, "b": {"explanation_damage": 1.0, "output_damage": 0.0}}
    all_but = {"a": {"explanation_damage": 0.0, "output_damage": 0.0}, "b": {"explanation_damage": 9.0, "output_damage": 0.0}}
    ranking = rank_blocks(["a", "b"], only, all_but, {"explanation_damage": 9.0, "output_damage": 0.5})
    assert ranking["basis"] == "only" and ranking["by_explanation"] == ["b", "a"]
    assert rank_blocks(["a"], {}, {}, None)["basis"] is None
