"""all-MiniLM-L6-v2 fp32 vs int8-dynamic-full on the first 300 sentences of UD EWT test (attention probes)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def minilm_pair(minilm_dir, shared_data, tmp_path_factory):
    from edgeaudit.exporters import ExportOptions, export_checkpoint

    from edgeaudit.compress import compress

    treebank = shared_data / "ud_english_ewt" / "en_ewt-ud-test.conllu"
    if not treebank.is_file():
        pytest.skip(f"{treebank} is missing")
    root = tmp_path_factory.mktemp("minilm-compare")
    reference = export_checkpoint(minilm_dir, root / "fp32", ExportOptions(exporter="torchscript"), log=lambda m: None)
    variant = compress(reference.directory, root / "int8", "int8-dynamic-full", progress=False).bundle
    return reference.directory, variant.directory, treebank, root


def test_minilm_int8_dynamic_full_comparison_is_complete(minilm_pair):
    from edgeaudit.audit.options import AuditOptions
    from edgeaudit.compare import CompareOptions, run_compare
    from edgeaudit.gates import collect_gates

    reference, variant, treebank, root = minilm_pair
    audit = AuditOptions(data=str(treebank), max_sentences=300, probes=("attention", "tree", "correspondence"),
                         bootstrap=200, progress=False)
    options = CompareOptions(audit=audit, fidelity_sentences=100, gates=tuple(collect_gates(["flips>0"])),
                             progress=False)
    document = run_compare(reference, variant, root / "compare", options)

    summary, drift = document["summary"], document["numeric_drift"]
    assert summary["claims"] == len(document["claims"]) > 20
    assert {c["kind"] for c in document["claims"]} == {"attention-head", "attention-tree"}
    assert all(c["survival"] in ("survives", "drifts", "breaks") for c in document["claims"])
    assert all(c["applied"] is not None for c in document["claims"])
    assert drift["computed"] and drift["sentences"] == 300
    assert len(drift["layers"]) == 7 and all(layer["sqnr_db"] is not None for layer in drift["layers"])
    assert len(drift["attention_jsd"]) == 6 and all(len(row) == 12 for row in drift["attention_jsd"])
    assert 0.9 < drift["output_cosine"]["mean"] < 1.0
    assert document["explanation_drift"]["explanation_to_output_ratio"] is not None
    assert document["fidelity"]["reference"]["faithful"] is True
    assert document["gates"][0]["value"] == summary["flips"]
    flipped = [f"{c['id']} ({c['flip']})" for c in document["claims"] if c["flip"]]
    print(f"\nMiniLM fp32 vs int8-dynamic-full, 300 EWT test sentences: output cosine mean "
          f"{drift['output_cosine']['mean']:.4f} (min {drift['output_cosine']['min']:.4f}); worst SQNR "
          f"{drift['min_sqnr_db']:.1f} dB at hidden_state_{drift['worst_sqnr_layer']}; max head JSD "
          f"{drift['worst_attention_head']['jsd']:.4f}; {summary['flips']} flips of {summary['claims']} claims "
          f"({summary['breaks']} break, {summary['drifts']} drift): {', '.join(flipped) or 'none'}; "
          f"explanation/output drift {document['explanation_drift']['explanation_to_output_ratio']:.2f}")
