"""merge: audits from several devices/variants of one model, claim by claim."""

from __future__ import annotations

import copy
import json

import pytest

from edgeaudit.audit.options import AuditOptions
from edgeaudit.errors import EdgeAuditError
from edgeaudit.merge import merge
from edgeaudit.report import render_html, render_markdown, validate_result

LIGHT = AuditOptions(probes=("attention", "correspondence"), max_sentences=40, shuffles=3, bootstrap=100,
                     min_count=10, progress=False)


@pytest.fixture(scope="module")
def audits(tiny_bundle, tmp_path_factory):
    """The tiny BERT audited as fp32 and as its int8 variant (real audits, same corpus and options)."""
    from edgeaudit.audit.run import run_audit
    from edgeaudit.compress import compress_bundle

    root = tmp_path_factory.mktemp("merge")
    compress_bundle(tiny_bundle("bert"), root / "int8", "int8-dynamic", progress=False)
    run_audit(tiny_bundle("bert"), root / "fp32-audit", LIGHT)
    run_audit(root / "int8", root / "int8-audit", LIGHT)
    return root


def device_copy(root, name: str, edit) -> str:
    """The fp32 audit as another board would have written it, with ``edit`` applied to its claims."""
    document = json.loads((root / "fp32-audit" / "audit.json").read_text())
    other = copy.deepcopy(document)
    other["provenance"]["machine"] = "aarch64"
    edit(other["claims"])
    folder = root / name
    folder.mkdir(exist_ok=True)
    (folder / "audit.json").write_text(json.dumps(other))
    return str(folder)


def test_identical_audits_agree_everywhere(audits):
    result = merge([audits / "fp32-audit", audits / "fp32-audit" / "audit.json"])
    validate_result(result)
    s = result["summary"]
    assert s["claims"] == s["verdicts_agree"] > 0 and s["verdicts_differ"] == s["numbers_differ"] == 0
    assert [i["label"] for i in result["inputs"]] == ["fp32-audit (fp32, x86_64)", "fp32-audit (fp32, x86_64) #2"]


def test_a_changed_verdict_and_a_moved_score_are_found_and_named(audits):
    def edit(claims):
        claims[0]["verdict"] = "supported" if claims[0]["verdict"] != "supported" else "artifact"
        claims[1]["score"] = claims[1]["score"] + 0.01

    device = device_copy(audits, "pi5", edit)
    result = merge([audits / "fp32-audit", device], labels=["x86", "pi5"])
    rows = {tuple(r["key"]): r for r in result["claims"]}
    first, second = result["claims"][0], result["claims"][1]
    assert not first["verdicts_agree"] and second["verdicts_agree"] and second["numbers_differ"]
    assert second["score_spread"] == pytest.approx(0.01)
    assert result["summary"]["verdicts_differ"] == 1 and result["summary"]["numbers_differ"] == 1
    assert set(first["cells"]) == {"x86", "pi5"} and len(rows) == len(result["claims"])
    assert "verdict differs" in render_markdown(result) and "pi5" in render_html(result)
    # a looser tolerance hides the score difference, never the verdict
    loose = merge([audits / "fp32-audit", device], labels=["x86", "pi5"], tolerance=0.1)
    assert loose["summary"]["numbers_differ"] == 0 and loose["summary"]["verdicts_differ"] == 1


def test_claims_are_matched_by_relation_even_when_a_device_picks_another_head(audits):
    def edit(claims):
        head = next(c for c in claims if c["kind"] == "attention-head")
        head["id"] = head["id"] + "-elsewhere"  # same relation and direction, another head

    result = merge([audits / "fp32-audit", device_copy(audits, "jetson", edit)])
    assert result["summary"]["claims"] == len(json.loads((audits / "fp32-audit" / "audit.json").read_text())["claims"])
    assert result["summary"]["subjects_differ"] == 1


def test_a_variant_merges_with_its_reference(audits):
    result = merge([audits / "fp32-audit", audits / "int8-audit"])
    assert [i["variant"] for i in result["inputs"]] == ["fp32", "int8-dynamic"]
    assert result["summary"]["claims"] >= result["summary"]["verdicts_agree"]


def test_inputs_that_cannot_be_merged_are_refused_in_one_line(audits, tmp_path):
    with pytest.raises(EdgeAuditError, match="at least two"):
        merge([audits / "fp32-audit"])
    with pytest.raises(EdgeAuditError, match="2 label\\(s\\) for 3 input"):
        merge([audits / "fp32-audit"] * 3, labels=["a", "b"])
    with pytest.raises(EdgeAuditError, match="holds neither audit.json nor compare.json"):
        merge([audits / "fp32-audit", tmp_path])

    def other_corpus(claims):
        pass

    folder = device_copy(audits, "other-data", other_corpus)
    document = json.loads((audits / "other-data" / "audit.json").read_text())
    document["data"]["sha256"] = "0" * 64
    (audits / "other-data" / "audit.json").write_text(json.dumps(document))
    with pytest.raises(EdgeAuditError, match="different corpora"):
        merge([audits / "fp32-audit", folder])


def test_comparisons_merge_with_their_gates_and_never_with_audits(audits, tmp_path):
    from edgeaudit.compare import CompareOptions, run_compare
    from edgeaudit.gates import collect_gates

    options = CompareOptions(gates=tuple(collect_gates(["output_cosine<0.9"])), fidelity=False, progress=False)
    run_compare(audits / "fp32-audit", audits / "int8-audit", tmp_path / "x86", options)
    document = json.loads((tmp_path / "x86" / "compare.json").read_text())
    document["gates"][0]["tripped"] = True  # the board's int8 kernels moved the output further
    document["provenance"]["machine"] = "aarch64"
    (tmp_path / "arm").mkdir()
    (tmp_path / "arm" / "compare.json").write_text(json.dumps(document))
    result = merge([tmp_path / "x86", tmp_path / "arm"])
    validate_result(result)
    assert result["kind"] == "compare" and result["summary"]["gates_differ"] == ["output_cosine<0.9"]
    assert result["summary"]["survival_differs"] == 0
    assert "TRIPPED" in render_markdown(result)
    with pytest.raises(EdgeAuditError, match="mix audits and comparisons"):
        merge([tmp_path / "x86", audits / "fp32-audit"])
