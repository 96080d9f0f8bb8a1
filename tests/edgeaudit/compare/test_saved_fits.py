"""compare of two finished audits applies the reference audit's saved probes: no dataset is read, nothing refitted."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from edgeaudit.audit.fitted import FITTED_ARRAYS, FITTED_FILE, load_fitted
from edgeaudit.compare import CompareOptions, run_compare
from edgeaudit.results import AuditResult
from tests.edgeaudit.compare.conftest import FAST


@pytest.fixture(scope="module")
def audits_of_moved_data(tiny_bundle, tmp_path_factory):
    """Audits of the tiny BERT and its int8 variant on copies of the treebank and norms, which are then deleted."""
    from edgeaudit.audit.options import AuditOptions
    from edgeaudit.audit.run import run_audit
    from edgeaudit.compress import compress
    from edgeaudit.data.registry import PACKAGED_FILES, packaged_file

    root = tmp_path_factory.mktemp("moved-data")
    treebank, norms = root / PACKAGED_FILES["builtin:ewt"], root / "norms.csv"
    shutil.copy(packaged_file(PACKAGED_FILES["builtin:ewt"]), treebank)
    shutil.copy(packaged_file(PACKAGED_FILES["builtin:concepts"]), norms)
    options = AuditOptions(data=str(treebank), norms=str(norms), property_layers=(1, 2), **FAST)
    variant = compress(tiny_bundle("bert"), root / "int8", "int8-dynamic-full", progress=False).bundle
    run_audit(tiny_bundle("bert"), root / "reference", options)
    run_audit(variant.directory, root / "variant", options)
    treebank.unlink()
    norms.unlink()
    return root


def test_two_finished_audits_compare_without_their_datasets(audits_of_moved_data, monkeypatch):
    import edgeaudit.data as data

    def refuse(*args, **kwargs):
        raise AssertionError("compare of two finished audits read a dataset")

    monkeypatch.setattr(data, "load_treebank", refuse)
    monkeypatch.setattr(data, "load_norms", refuse)
    root = audits_of_moved_data
    document = run_compare(root / "reference", root / "variant", root / "cmp", CompareOptions(progress=False))
    probes = [c for c in document["claims"] if c["kind"] in ("structural-probe", "property-inference")]
    assert {c["kind"] for c in probes} == {"structural-probe", "property-inference"}
    assert all(c["applied"] is not None for c in probes), [c["id"] for c in probes if c["applied"] is None]
    assert {c["reference"]["subject"]["layer"] for c in probes if c["kind"] == "property-inference"} == {1, 2}
    assert document["numeric_drift"]["computed"] and document["fidelity"]["variant"]["computed"]
    drift = document["numeric_drift"]  # over every audited sentence, read from the saved state
    audited = json.loads((root / "reference" / "audit.json").read_text())["data"]["sentences"]
    assert drift["sentences"] > 0 and drift["sentences"] + sum(drift["skipped"].values()) == audited
    assert not document["provenance"]["notes"] and not document["explanation_drift"].get("notes")


def test_the_saved_state_names_its_audit_and_round_trips(audits_of_moved_data):
    root = audits_of_moved_data / "reference"
    document = json.loads((root / "audit.json").read_text())
    state, why_not = load_fitted(root, AuditResult.from_json(document))
    assert why_not is None
    assert state.bundle_sha256 == document["bundle"]["sha256"] and len(state.sentences) == document["data"]["sentences"]
    assert sorted(state.fits["structural"].probes) == sorted({c["subject"]["layer"] for c in document["claims"]
                                                      if c["kind"] == "structural-probe"})
    assert all(probe["B"].shape == (32, probe["mean"].size)  # the default rank x hidden, and its input scaling
               for probe in state.fits["structural"].probes.values())
    assert len(state.fits["structural"].heads) == len(state.fits["structural"].test) > 0
    assert sorted(state.fits["property"].mappers) == [1, 2]
    assert all(len(fold_maps) == FAST["folds"] for fold_maps in state.fits["property"].mappers.values())
    assert state.fits["property"].Y.shape[0] == len(state.fits["property"].kept) == state.fits["property"].fold_of.size
    with np.load(root / FITTED_ARRAYS, allow_pickle=False) as arrays:  # plain arrays, no pickled objects
        assert all(arrays[name].dtype != object for name in arrays.files)


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda d: (d / FITTED_FILE).unlink(), "is missing"),
    (lambda d: (d / FITTED_ARRAYS).write_bytes(b"not an npz"), "cannot be read"),
    (lambda d: (d / FITTED_FILE).write_text((d / FITTED_FILE).read_text().replace(
        json.loads((d / "audit.json").read_text())["bundle"]["sha256"], "0" * 64)), "belongs to another audit"),
], ids=["missing", "damaged", "stale"])
def test_an_unusable_state_is_refused_with_the_reason(audits_of_moved_data, tmp_path, damage, reason):
    reference = tmp_path / "reference"
    shutil.copytree(audits_of_moved_data / "reference", reference, ignore=shutil.ignore_patterns("*activations"))
    damage(reference)
    state, why_not = load_fitted(reference, AuditResult.read(reference / "audit.json"))
    assert state is None and reason in why_not and "re-run the audit" in why_not


def test_without_a_usable_state_applied_scores_are_null_with_the_reason(audits_of_moved_data, tmp_path):
    reference = tmp_path / "reference"
    shutil.copytree(audits_of_moved_data / "reference", reference)
    (reference / FITTED_FILE).unlink()
    document = run_compare(reference, audits_of_moved_data / "variant", tmp_path / "cmp",
                           CompareOptions(progress=False, fidelity=False))
    probes = [c for c in document["claims"] if c["kind"] in ("structural-probe", "property-inference")]
    assert probes and all(c["applied"] is None for c in probes)
    assert any("is missing" in note and "re-run the audit" in note for note in document["explanation_drift"]["notes"])
    assert document["numeric_drift"]["computed"]  # the variant audit's saved sentences still serve the drift run
