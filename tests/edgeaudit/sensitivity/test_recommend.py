"""The greedy float-fallback search, on records shaped like a sweep's (the search itself, step by step)."""

from __future__ import annotations

from edgeaudit.sensitivity.recommend import next_block, recommend

CLAIMS = ("c1", "c2", "c3")


def record(name: str, failing=(), damage: float = 0.0, output: float = 0.0, gates_tripped: int = 0) -> dict:
    claims = [{"id": c, "survival": "breaks" if c in failing else "survives", "delta": 0.0} for c in CLAIMS]
    return {"name": name, "claims": claims, "explanation_damage": damage, "output_damage": output,
            "gates_tripped": gates_tripped, "gates": [{"tripped": bool(gates_tripped)}]}


BLOCKS = ["a", "b", "c", "d"]


class Verifier:
    """Pretend builds: a fallback holds when its float blocks include all of ``needed``."""

    def __init__(self, needed: set[str], still_failing=("c1",)):
        self.needed, self.still_failing, self.calls = needed, still_failing, []

    def __call__(self, step: int, float_blocks: list[str]) -> dict:
        self.calls.append(list(float_blocks))
        failing = () if self.needed <= set(float_blocks) else self.still_failing
        return record(f"fallback:{step}", failing)


def test_a_full_variant_that_holds_needs_no_fallback():
    verify = Verifier(set())
    result = recommend(BLOCKS, record("full"), {}, {}, verify, gated=False)
    assert result["status"] == "holds" and result["float_blocks"] == [] and verify.calls == []


def test_the_block_whose_float_copy_saves_most_failing_claims_goes_first():
    full = record("full", failing=("c1", "c2"))
    all_but = {"a": record("all-but:a", failing=("c1", "c2")), "b": record("all-but:b", failing=("c2",)),
               "c": record("all-but:c", failing=()), "d": record("all-but:d", failing=("c1",))}
    only = {name: record(f"only:{name}", damage=9.0 if name == "a" else 0.0) for name in BLOCKS}
    verify = Verifier({"c"})
    result = recommend(BLOCKS, full, only, all_but, verify, gated=False)
    assert verify.calls == [["c"]]  # c saves both claims; a's damage does not outrank that
    assert result["status"] == "verified" and result["float_blocks"] == ["c"]
    assert result["steps"][0] == {"added": "c", "float_blocks": ["c"], "variant": "fallback:1", "error": None,
                                  "holds": True, "failing": []}


def test_when_no_block_saves_a_claim_the_most_damaging_block_is_added_and_verified_again():
    full = record("full", failing=("c1",))
    only = {"a": record("only:a", damage=0.1), "b": record("only:b", damage=2.5), "c": record("only:c", damage=1.0),
            "d": record("only:d", damage=1.0, output=0.5)}
    all_but = {name: record(f"all-but:{name}", failing=("c1",)) for name in BLOCKS}
    verify = Verifier({"b", "d"})
    result = recommend(BLOCKS, full, only, all_but, verify, gated=False)
    assert verify.calls == [["b"], ["b", "d"]]  # then d: equal damage to c, more output damage
    assert result["status"] == "verified" and result["float_blocks"] == ["b", "d"]


def test_claims_no_fallback_saves_are_named_and_nothing_is_left_unquantised():
    full = record("full", failing=("c3",))
    verify = Verifier({"never"}, still_failing=("c3",))
    result = recommend(BLOCKS, full, {}, {}, verify, gated=False)
    assert result["status"] == "not-found" and result["unsaved_claims"] == ["c3"]
    assert len(verify.calls) == len(BLOCKS) - 1  # never every block in float: that is the float model
    assert "c3" in result["note"] and "nothing to quantise" in result["note"]


def test_max_steps_caps_the_verifications():
    verify = Verifier({"never"})
    result = recommend(BLOCKS, record("full", failing=("c1",)), {}, {}, verify, gated=False, max_steps=2)
    assert len(verify.calls) == 2 and result["status"] == "not-found" and "--max-fallback-steps" in result["note"]


def test_with_gates_the_target_is_the_gates_not_the_claims():
    full = record("full", failing=("c1",))  # a failing claim, but the gates hold: nothing to do
    assert recommend(BLOCKS, full, {}, {}, Verifier(set()), gated=True)["status"] == "holds"
    tripped = record("full", gates_tripped=1)
    verify = Verifier(set(), still_failing=("c1", "c2"))  # the fallback's claims fail, its gates hold
    result = recommend(BLOCKS, tripped, {}, {}, verify, gated=True)
    assert result["status"] == "verified" and result["target"] == "every --fail-on gate holds"
    assert verify.calls == [["a"]]


def test_ties_keep_the_model_order():
    assert next_block(["x", "y", "z"], set(), {}, {}) == "x"


def test_without_only_variants_ties_go_to_the_block_whose_float_copy_removes_most_damage():
    """In an all-but sweep where no single block saves a claim, the tie-break is full − all-but damage, not the
    model order."""
    full = {"explanation_damage": 2.0, "output_damage": 0.5, "claims": []}
    all_but = {"x": {"explanation_damage": 2.0, "output_damage": 0.5, "claims": []},
               "y": {"explanation_damage": 1.2, "output_damage": 0.5, "claims": []},
               "z": {"explanation_damage": 2.0, "output_damage": 0.1, "claims": []}}
    assert next_block(["x", "y", "z"], {"c1"}, {}, all_but, full) == "y"
    all_but["y"]["explanation_damage"] = 2.0
    assert next_block(["x", "y", "z"], {"c1"}, {}, all_but, full) == "z"
