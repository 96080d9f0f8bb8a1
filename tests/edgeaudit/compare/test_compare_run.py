"""run_compare end to end on tiny bundles: the model against itself, a broken variant, an int8 variant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeaudit.compare import CompareOptions, run_compare
from edgeaudit.compare.claims import SURVIVAL
from edgeaudit.errors import EdgeAuditError
from edgeaudit.gates import collect_gates
from edgeaudit.report.schema import validate_result
from tests.edgeaudit.compare.conftest import FAST
from tests.golden import pinned as golden_table

TOP_LEVEL = ["schema", "schema_version", "summary", "gates", "claims", "data", "numeric_drift", "explanation_drift",
             "fidelity", "reference", "variant", "options", "provenance"]
CLAIM_KEYS = {"id", "kind", "text", "reference", "variant", "applied", "delta", "delta_ci", "survival", "flip"}


def _check_layout(document: dict) -> None:
    assert list(document) == TOP_LEVEL
    assert document["schema"] == "edgeaudit.compare" and document["schema_version"] == 1
    assert set(document["summary"]) >= {"claims", "survives", "drifts", "breaks", "flips", "gates_tripped"}
    assert document["summary"]["claims"] == len(document["claims"]) > 0
    assert sum(document["summary"][name] for name in SURVIVAL) == len(document["claims"])
    for claim in document["claims"]:
        assert CLAIM_KEYS <= set(claim), claim["id"]
        assert claim["survival"] in SURVIVAL
        for side in ("reference", "variant"):
            assert {"score", "verdict", "ci"} <= set(claim[side])
    drift = document["numeric_drift"]
    assert {"layers", "attention_jsd", "output_cosine", "output_max_abs_diff"} <= set(drift)
    assert {"mean_abs_score_delta", "output_drift", "explanation_to_output_ratio"} <= set(document["explanation_drift"])
    assert set(document["fidelity"]) == {"reference", "variant"}
    json.dumps(document, allow_nan=False)
    validate_result(document)  # the shipped compare.schema.json the report renderer reads


@pytest.fixture(scope="module")
def full_audit(tiny_bundle, tmp_path_factory):
    """An audit with every probe group, property included (for the applied-probe check)."""
    from edgeaudit.audit.options import AuditOptions
    from edgeaudit.audit.run import run_audit

    out = tmp_path_factory.mktemp("full-audit")
    run_audit(tiny_bundle("bert"), out, AuditOptions(property_layers=(2,), **FAST))
    return out


def test_the_reference_against_itself_survives_everything(full_audit, tmp_path):
    gates = tuple(collect_gates(["flips>0", "output_cosine<0.99"]))
    document = run_compare(full_audit, full_audit, tmp_path, CompareOptions(gates=gates, progress=False))
    _check_layout(document)
    assert json.loads((tmp_path / "compare.json").read_text()) == document
    assert {claim["survival"] for claim in document["claims"]} == {"survives"}
    assert document["summary"]["flips"] == 0 and document["summary"]["gates_tripped"] == 0
    assert [gate["tripped"] for gate in document["gates"]] == [False, False]
    drift = document["numeric_drift"]
    assert all(layer["sqnr_db"] is None for layer in drift["layers"])  # identical: +inf, written as null
    assert all(value == 0 for row in drift["attention_jsd"] for value in row)
    assert drift["output_cosine"]["mean"] == pytest.approx(1.0) and drift["output_max_abs_diff"] == 0
    assert document["explanation_drift"]["explanation_to_output_ratio"] is None
    kinds = {claim["kind"] for claim in document["claims"]}
    assert kinds == {"attention-head", "attention-tree", "structural-probe", "property-inference"}
    for claim in document["claims"]:  # the reference's own probes, applied to identical activations
        assert claim["delta"] == 0 and claim["flip"] is None
        assert claim["applied"] is not None, claim["id"]
        assert claim["applied"]["score"] == pytest.approx(claim["reference"]["score"], abs=1e-9), claim["id"]
    assert document["fidelity"]["reference"]["faithful"] is True


def test_a_broken_variant_flips_and_drifts(broken_comparison):
    document, out = broken_comparison
    _check_layout(document)
    summary = document["summary"]
    assert summary["flips"] >= 1 and summary["drifts"] >= 1
    flipped = [claim for claim in document["claims"] if claim["flip"]]
    # every head of layer 1 now copies the offset -1 baseline: a claim moves onto one of them and changes verdict
    assert any((claim["variant"] or {}).get("subject", {}).get("layer") == 1
               and (claim["reference"] or {}).get("subject", {}).get("layer") != 1 for claim in flipped), flipped
    gates = {gate["expression"]: gate for gate in document["gates"]}
    assert gates["flips>0"]["tripped"] is True and gates["flips>0"]["value"] == summary["flips"]
    assert gates["output_cosine<0.99"]["tripped"] is False
    assert summary["gates_tripped"] == 1
    drift = document["numeric_drift"]
    sqnr = [layer["sqnr_db"] for layer in drift["layers"]]
    assert sqnr[0] is None and sqnr[1] is None  # before the broken layer: bit-identical
    assert sqnr[2] is not None and sqnr[2] < 80  # after it
    assert drift["worst_sqnr_layer"] == 2
    assert all(value == 0 for value in drift["attention_jsd"][0])
    assert all(value > 0.3 for value in drift["attention_jsd"][1])
    assert drift["output_cosine"]["min"] < 1.0
    assert document["explanation_drift"]["explanation_to_output_ratio"] > 1  # explanations moved more than outputs
    assert (out / "variant" / "audit.json").is_file()  # the bundle side was audited into DIR/variant


def test_head_claims_carry_the_reference_head_applied_to_the_variant(broken_comparison):
    document, _ = broken_comparison
    heads = [claim for claim in document["claims"] if claim["kind"] == "attention-head"]
    assert heads and all(claim["applied"] is not None for claim in heads)
    for claim in heads:
        subject = claim["reference"]["subject"]
        assert claim["applied"]["delta"] == pytest.approx(claim["applied"]["score"] - claim["reference"]["score"])
        assert f"{subject['layer']}.{subject['head']}" in claim["applied"]["source"]
        if claim["variant"]["id"] != claim["id"]:
            assert "note" in claim  # the variant's audit picked another head


def test_int8_dynamic_variant_gets_a_label_for_every_claim(tiny_bundle, light_options, tmp_path):
    from edgeaudit.compress import compress

    variant = compress(tiny_bundle("bert"), tmp_path / "int8", "int8-dynamic", progress=False).bundle
    document = run_compare(tiny_bundle("bert"), variant.directory, tmp_path / "cmp",
                           CompareOptions(audit=light_options, progress=False))
    _check_layout(document)
    assert (tmp_path / "cmp" / "reference" / "audit.json").is_file()
    assert all(claim["survival"] in SURVIVAL for claim in document["claims"])
    drift = document["numeric_drift"]
    assert 0.9 < drift["output_cosine"]["mean"] < 1.0
    assert all(layer["sqnr_db"] is not None and layer["sqnr_db"] > 0 for layer in drift["layers"][1:])
    assert document["variant"]["bundle"]["variant"] == "int8-dynamic"
    assert document["fidelity"]["variant"]["computed"] is True


def test_audits_with_different_options_are_refused(reference_audit, tiny_bundle, tmp_path):
    from edgeaudit.audit.options import AuditOptions
    from edgeaudit.audit.run import run_audit

    other = tmp_path / "other"
    run_audit(tiny_bundle("bert"), other, AuditOptions(**{**FAST, "min_count": 20}, probes=("attention",)))
    with pytest.raises(EdgeAuditError, match="different options"):
        run_compare(reference_audit, other, tmp_path / "cmp", CompareOptions(progress=False))


def test_bundles_with_different_tokenizers_are_refused(tiny_bundle, tmp_path):
    import shutil

    from edgeaudit.bundle import load_bundle

    copy = tmp_path / "copy"
    shutil.copytree(tiny_bundle("bert"), copy)
    path = load_bundle(copy).tokenizer_path
    path.write_text(path.read_text() + "\n")
    with pytest.raises(EdgeAuditError, match="tokenizer"):
        run_compare(tiny_bundle("bert"), copy, tmp_path / "cmp", CompareOptions(progress=False))


GOLDEN_DIR = Path(__file__).parent / "golden"


def _comparison_table(document: dict) -> dict[str, dict]:
    """What moving compare onto the audit's saved fitted state must not change: per claim, both sides' scores and
    verdicts, the reference probe applied to the variant, survival and flip."""
    def side(entry: dict | None) -> dict | None:
        return None if entry is None else {"score": entry["score"], "verdict": entry["verdict"]}

    return {claim["id"]: {"reference": side(claim["reference"]), "variant": side(claim["variant"]),
                          "applied": None if claim["applied"] is None else claim["applied"]["score"],
                          "survival": claim["survival"], "flip": claim["flip"]}
            for claim in document["claims"]}


def test_compare_of_an_int8_variant_is_pinned(full_audit, tiny_bundle, tmp_path):
    """Same seed, same data: the same per-claim scores, applied scores, survival and flips as the committed golden
    file (one per way the tiny bundle is built; written by EDGEAUDIT_WRITE_GOLDEN=1 from the code that still
    refitted the reference's probes inside compare, before the audit saved them)."""
    from edgeaudit.compress import compress
    from tests.onnx_bundles import onnx_built_bundles

    golden = GOLDEN_DIR / f"tiny_bert_int8_compare_{'onnx' if onnx_built_bundles() else 'torch'}.json"
    variant = compress(tiny_bundle("bert"), tmp_path / "int8", "int8-dynamic-full", progress=False).bundle
    document = run_compare(full_audit, variant.directory, tmp_path / "cmp", CompareOptions(progress=False))
    table = _comparison_table(document)
    pinned = golden_table(golden, table)
    assert sorted(table) == sorted(pinned)
    assert any(row["applied"] is not None for cid, row in pinned.items() if cid.startswith("property:"))
    for cid, row in table.items():
        expected = pinned[cid]
        assert (row["survival"], row["flip"]) == (expected["survival"], expected["flip"]), cid
        for side in ("reference", "variant"):
            assert (row[side] or {}).get("verdict") == (expected[side] or {}).get("verdict"), (cid, side)
            assert (row[side] or {}).get("score") == pytest.approx((expected[side] or {}).get("score"), abs=1e-6)
        assert (row["applied"] is None) == (expected["applied"] is None), cid
        if row["applied"] is not None:
            assert row["applied"] == pytest.approx(expected["applied"], abs=1e-6), cid


def test_the_reference_fidelity_check_is_made_once_per_audit_and_settings(reference_audit, broken_bundle, tmp_path,
                                                                          monkeypatch):
    """A sensitivity sweep compares one reference audit with dozens of variants: its audited-vs-deployed check is
    kept beside the audit and reused while bundle, sentences and criteria are the same."""
    import shutil

    import edgeaudit.fidelity as fidelity
    from edgeaudit.bundle import load_bundle

    reference = tmp_path / "reference"
    shutil.copytree(reference_audit, reference)
    for kept in reference.glob("fidelity-*.json"):  # checks kept by other tests' comparisons of this audit
        kept.unlink()
    first = run_compare(reference, broken_bundle, tmp_path / "a", CompareOptions(progress=False))
    checked: list[str] = []
    real = fidelity.audited_vs_deployed
    monkeypatch.setattr(fidelity, "audited_vs_deployed",
                        lambda bundle, *args, **kwargs: checked.append(bundle.sha256) or real(bundle, *args, **kwargs))
    second = run_compare(reference, broken_bundle, tmp_path / "b", CompareOptions(progress=False))
    variant_sha = load_bundle(broken_bundle).sha256
    assert checked == [variant_sha]  # only the variant was checked again
    reused = dict(second["fidelity"]["reference"])
    assert reused.pop("reused").startswith(str(reference))
    assert reused == first["fidelity"]["reference"]
    run_compare(reference, broken_bundle, tmp_path / "c", CompareOptions(progress=False, fidelity_tolerance=1e-3))
    assert checked[1:] == [first["reference"]["bundle"]["sha256"], variant_sha]  # other criteria: checked anew
