"""Audited (tapped) graph vs deployed (final output only, ORT_ENABLE_ALL) graph."""

from __future__ import annotations

import onnx
import pytest

from edgeaudit.bundle import load_bundle
from edgeaudit.data import load_treebank
from edgeaudit.fidelity import audited_vs_deployed, deployed_model, fusion_table


@pytest.fixture(scope="module")
def sentences():
    return load_treebank("builtin:treebank").sentences[:40]


def test_deployed_graph_keeps_only_the_final_output(tiny_bundle):
    bundle = load_bundle(tiny_bundle("bert"))
    model, removed = deployed_model(bundle)
    assert [output.name for output in model.graph.output] == [bundle.manifest.final_output] == ["hidden_state_2"]
    assert removed == 4  # hidden_state_0/1 and attention_0/1
    onnx.checker.check_model(model)


def test_tiny_bundle_deployed_graph_matches_the_audited_one(tiny_bundle, sentences, tmp_path):
    result = audited_vs_deployed(load_bundle(tiny_bundle("bert")), sentences, work_dir=tmp_path)
    assert result["faithful"] is True
    assert result["output_cosine"]["min"] == pytest.approx(1.0, abs=1e-6)
    assert result["output_max_abs_diff"] < 1e-4
    assert result["sentences"] + result["skipped_sentences"] == 40 and result["tokens"] > 0
    assert result["audited"]["optimization"] == "extended" and result["deployed"]["optimization"] == "all"
    for side in ("audited", "deployed"):
        counts = result[side]["op_counts"]
        assert isinstance(counts, dict) and counts and all(isinstance(n, int) and n > 0 for n in counts.values())
        assert result[side]["nodes"] == sum(counts.values())
    assert isinstance(result["prevented_fusions"], dict)
    assert (tmp_path / "deployed.optimized.onnx").is_file() and (tmp_path / "audited.optimized.onnx").is_file()


def test_a_decoder_keeps_its_logits(tiny_bundle, sentences):
    bundle = load_bundle(tiny_bundle("gpt2"))
    result = audited_vs_deployed(bundle, sentences[:10])
    assert result["final_output"] == "logits" and result["faithful"] is True


def test_fusion_table_lists_op_types_whose_count_differs():
    table = fusion_table({"Softmax": 6, "MatMul": 42, "Add": 10}, {"com.microsoft:Attention": 6, "MatMul": 24, "Add": 10})
    assert table == {"MatMul": {"audited": 42, "deployed": 24, "difference": -18},
                     "Softmax": {"audited": 6, "deployed": 0, "difference": -6},
                     "com.microsoft:Attention": {"audited": 0, "deployed": 6, "difference": 6}}


def test_strict_tolerance_flags_unfaithful(tiny_bundle, sentences):
    result = audited_vs_deployed(load_bundle(tiny_bundle("bert")), sentences[:5], min_cosine=1.01)
    assert result["faithful"] is False
