"""compare refuses a variant that was not compressed from the reference (twin, sibling, chain) unless told."""

from __future__ import annotations

import json

from edgeaudit.bundle import load_bundle
from tests.edgeaudit.compare.test_cli import assert_one_line_error, run_cli


def test_a_random_init_twin_is_refused_with_one_line(tiny_bundle, twin_bundle, tmp_path):
    result = run_cli(str(tiny_bundle("bert")), str(twin_bundle), "--out", str(tmp_path / "out"), "-q")
    line = assert_one_line_error(result, 2, "random-init", "records no parent", "--unrelated-ok")
    assert str(twin_bundle) in line
    assert not (tmp_path / "out" / "compare.json").exists()


def test_a_finished_audit_is_checked_against_the_twin_too(reference_audit, twin_bundle, tmp_path):
    result = run_cli(str(reference_audit), str(twin_bundle), "--out", str(tmp_path / "out"), "-q")
    assert_one_line_error(result, 2, "records no parent")


def test_swapped_arguments_are_named(tiny_bundle, broken_bundle, tmp_path):
    result = run_cli(str(broken_bundle), str(tiny_bundle("bert")), "--out", str(tmp_path / "out"), "-q")
    assert_one_line_error(result, 2, "is the parent of the reference", "swapped")


def test_a_variant_of_a_variant_is_explained(tiny_bundle, broken_bundle, tmp_path):
    import onnx

    from tests.edgeaudit.compare.helpers import _rehashed

    model = onnx.load(str(load_bundle(broken_bundle).onnx_path))
    model.doc_string = "a variant of the previous-token variant"
    chain = _rehashed(broken_bundle, tmp_path / "chain", model, "chain", {})
    assert load_bundle(chain).manifest.data["variant"]["parent_sha256"] == load_bundle(broken_bundle).sha256
    result = run_cli(str(tiny_bundle("bert")), str(chain), "--out", str(tmp_path / "out"), "-q")
    assert_one_line_error(result, 2, f"was made from {load_bundle(broken_bundle).sha256[:12]}",
                          "variant of a variant", "direct parent")


def test_unrelated_ok_compares_and_records_why(reference_audit, twin_bundle, tmp_path):
    result = run_cli(str(reference_audit), str(twin_bundle), "--out", str(tmp_path / "out"), "-q", "--unrelated-ok",
                     "--no-fidelity", "--no-applied")
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert document["options"]["unrelated_ok"] is True
    assert any("unrelated bundles compared" in note for note in document["provenance"]["notes"])


def test_the_reference_against_itself_is_not_unrelated(reference_audit, tmp_path):
    result = run_cli(str(reference_audit), str(reference_audit), "--out", str(tmp_path / "out"), "-q",
                     "--no-fidelity", "--no-applied")
    assert result.returncode == 0, result.stderr
