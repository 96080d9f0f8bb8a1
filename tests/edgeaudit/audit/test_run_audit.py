"""End to end on a tiny bundle: audit.json leads with claims, carries every control, and is strict JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from edgeaudit.audit.options import AuditOptions
from edgeaudit.audit.run import run_audit
from edgeaudit.verdict import VERDICTS

FAST = dict(max_sentences=120, min_count=20, shuffles=3, bootstrap=100, folds=4, structural_max_iter=15,
            structural_max_train=60, progress=False)


@pytest.fixture(scope="module")
def tiny_twin(tiny_twin_bundle):
    return tiny_twin_bundle("bert", seed=3)


@pytest.fixture(scope="module")
def audit_doc(tiny_bundle, tiny_twin, tmp_path_factory):
    out = tmp_path_factory.mktemp("audit")
    run_audit(tiny_bundle("bert"), out, AuditOptions(twin=str(tiny_twin), **FAST))
    return json.loads((out / "audit.json").read_text()), out


def test_audit_json_leads_with_claims_and_is_strict(audit_doc):
    document, out = audit_doc
    assert list(document)[:4] == ["schema", "schema_version", "summary", "claims"]
    json.dumps(document, allow_nan=False)
    assert document["summary"]["claims"] == len(document["claims"]) > 0
    kinds = {claim["kind"] for claim in document["claims"]}
    assert kinds == {"attention-head", "attention-tree", "structural-probe", "property-inference"}
    for claim in document["claims"]:
        assert claim["verdict"] in VERDICTS and claim["reason"]
        assert claim["controls"], claim["id"]


def test_every_head_is_reported_for_every_claimed_relation(audit_doc):
    document, _ = audit_doc
    heads = document["probes"]["attention_heads"]
    for relation, entry in heads["relations"].items():
        for direction in ("dependent_to_head", "head_to_dependent"):
            matrix = entry[direction]["accuracy"]
            assert len(matrix) == 2 and all(len(row) == 4 for row in matrix), relation
        assert entry["count"] >= 20


def test_twin_and_nonce_controls_are_used(audit_doc):
    document, _ = audit_doc
    head_claims = [c for c in document["claims"] if c["kind"] == "attention-head"]
    assert all({"offset", "random-init"} <= {ctrl["name"] for ctrl in c["controls"]} for c in head_claims)
    assert any("nonce" in c["evidence"] for c in head_claims)
    structural = [c for c in document["claims"] if c["kind"] == "structural-probe"]
    assert len(structural) == 3  # hidden_state_0..2 of a 2-layer model
    assert document["runs"]["random_init_twin"]["bundle"]["variant"] == "random-init"


def test_structural_fits_stop_on_dev_sentences_and_say_how(audit_doc):
    document, _ = audit_doc
    structural = document["runs"]["model"]["structural"]
    split = structural["split"]
    assert split["dev_sentences"] > 0 and split["train_sentences"] > 0 and split["test_sentences"] > 0
    for layer in structural["layers"]:
        for probe in ("distance", "depth"):
            fit = layer[probe]["fit"]
            assert fit["stopped"] in {"dev-loss-minimum", "tolerance", "iteration-cap"}
            assert fit["converged"] == (fit["stopped"] != "iteration-cap")
            assert 0 <= fit["best_iteration"] <= fit["iterations"] <= fit["max_iter"] == 15
            assert fit["dev_loss"] is not None and fit["dev_loss"] >= 0


def test_correspondence_evidence_on_every_head_claim(audit_doc):
    document, _ = audit_doc
    layers = document["probes"]["correspondence"]["layers"]
    assert layers[0]["rollout_self_share"] == 1.0 and 0 < layers[1]["rollout_self_share"] < 1
    for claim in document["claims"]:
        if claim["kind"] == "attention-head":
            evidence = claim["evidence"]["correspondence"]
            assert evidence["layer"] == claim["subject"]["layer"]
            assert evidence["signal_tested"] == "rollout"


def test_thresholds_and_options_are_echoed(audit_doc):
    document, _ = audit_doc
    assert document["thresholds"]["min_effect"] == 0.05
    assert document["options"]["seed"] == 0 and document["options"]["shuffles"] == 3
    assert set(document["provenance"]["timings"]) >= {"extract", "structural", "claims", "property"}


def test_cli_audit_runs_without_torch_and_rejects_bad_probes(tiny_bundle, tmp_path):
    script = (
        "import sys; from edgeaudit.cli import main; "
        f"code = main(['audit', {str(tiny_bundle('gpt2'))!r}, '--out', {str(tmp_path / 'a')!r}, '--probes', "
        "'attention,tree', '--max-sentences', '60', '--min-count', '10', '--bootstrap', '50', '-q']); "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'torch imported'; sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "claims (" in done.stdout and (tmp_path / "a" / "audit.json").is_file()
    bad = subprocess.run([sys.executable, "-m", "edgeaudit", "audit", str(tiny_bundle("gpt2")), "--out",
                          str(tmp_path / "b"), "--probes", "atention"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "did you mean 'attention'" in bad.stderr and bad.stderr.count("\n") == 1


def test_every_long_stage_shows_a_progress_bar(tiny_bundle, tiny_twin, tmp_path, monkeypatch):
    """Structural, identifiability and property fits take most of an audit: each gets its own labelled bar."""
    import tqdm

    bars = []
    real_tqdm = tqdm.tqdm

    def recording(*args, **kwargs):
        bars.append((kwargs.get("desc"), kwargs.get("unit"), kwargs.get("total")))
        return real_tqdm(*args, **{**kwargs, "disable": True})

    monkeypatch.setattr(tqdm, "tqdm", recording)
    run_audit(tiny_bundle("bert"), tmp_path, AuditOptions(twin=str(tiny_twin), **{**FAST, "progress": True}))
    labels = {desc: (unit, total) for desc, unit, total in bars}
    # hidden states 0..2 of the 2-layer model: one identifiability step per layer, a distance and a depth fit each
    assert labels["identifiability"] == ("layer", 3), labels
    for stage in ("structural", "structural-twin"):
        assert labels[stage] == ("fit", 6), (stage, labels)
    assert labels["property"][0] == "layer" and {"extract", "extract-twin"} <= set(labels)
