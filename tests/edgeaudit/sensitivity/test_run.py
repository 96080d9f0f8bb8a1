"""A real sweep of the tiny BERT: every block, the same results on a Dask LocalCluster, resumable, verified fallback."""

from __future__ import annotations

import json

import pytest

from edgeaudit.audit.options import AuditOptions
from edgeaudit.bundle import load_bundle
from edgeaudit.compare.options import CompareOptions
from edgeaudit.gates import collect_gates
from edgeaudit.report import render_html, render_markdown, validate_result
from edgeaudit.sensitivity import run_sensitivity
from tests.edgeaudit.sensitivity.conftest import FAST, sweep_options

BLOCKS = ["layer0.attention", "layer0.mlp", "layer1.attention", "layer1.mlp"]


def comparable(document: dict) -> dict:
    """A sweep without where and how it ran: folders, fingerprints (they name the folder), provenance."""
    variants = [{k: v for k, v in r.items() if k not in ("fingerprint", "bundle")} for r in document["variants"]]
    return {**{k: v for k, v in document.items() if k not in ("provenance", "reference", "variants")},
            "variants": variants}


def test_every_block_is_swept_alone_and_all_but(sequential_sweep):
    document, out = sequential_sweep
    validate_result(document)
    assert [b["name"] for b in document["blocks"]] == BLOCKS
    names = [v["name"] for v in document["variants"]]
    assert names[0] == "full" and len(names) == 1 + 2 * len(BLOCKS)
    assert {f"only:{b}" for b in BLOCKS} | {f"all-but:{b}" for b in BLOCKS} <= set(names)
    assert not document["summary"]["variant_errors"]
    only = next(v for v in document["variants"] if v["name"] == "only:layer0.mlp")
    assert set(only["float_blocks"]) == set(BLOCKS) - {"layer0.mlp"}
    assert only["counts"]["claims"] == len(only["claims"]) > 0
    assert sorted(document["ranking"]["by_explanation"]) == sorted(BLOCKS)
    assert set(document["heatmap"]["blocks"]) == set(BLOCKS)
    # quantising one block moves the output less than quantising all of them
    full = document["variants"][0]["output_damage"]
    assert all(v["output_damage"] <= full for v in document["variants"] if v["kind"] == "only")
    # variants' bundles and stores are deleted; their comparisons stay
    assert not (out / "variants" / "full" / "bundle").exists()
    assert (out / "variants" / "full" / "compare" / "compare.json").is_file()
    sizes = document["sizes"]
    assert sizes["full"] < sizes["float"]
    assert "Claim × block damage" in render_markdown(document) and "layer1.mlp" in render_html(document)


def test_a_local_cluster_gives_the_same_results_as_one_process(sequential_sweep, tiny_bundle, tmp_path):
    pytest.importorskip("distributed", reason="the [distributed] extra is not installed")
    document, _ = sequential_sweep
    clustered = run_sensitivity(tiny_bundle("bert"), tmp_path, sweep_options(scheduler="local", workers=2))
    assert clustered["provenance"]["scheduler"]["kind"] == "local"
    assert clustered["provenance"]["scheduler"]["workers"] == 2
    assert len({run["pid"] for run in clustered["provenance"]["tasks"].values()}) == 2  # both workers ran tasks
    assert comparable(clustered) == comparable(document)


def test_a_rerun_resumes_without_recomputing(sequential_sweep, tiny_bundle):
    document, out = sequential_sweep
    stamps = {p: p.stat().st_mtime_ns for p in (out / "variants").glob("*/result.json")}
    again = run_sensitivity(tiny_bundle("bert"), out, sweep_options(scheduler="none"))
    assert sorted(again["provenance"]["resumed"]) == sorted(v["name"] for v in document["variants"])
    assert {p: p.stat().st_mtime_ns for p in (out / "variants").glob("*/result.json")} == stamps
    assert comparable(again) == comparable(document)


def test_a_changed_variant_is_recomputed_not_reused(sequential_sweep, tiny_bundle, tmp_path):
    """Another drift tolerance changes every comparison, so no finished result may be taken for it."""
    _, out = sequential_sweep
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    from edgeaudit.audit.options import AuditOptions

    options = sweep_options(scheduler="none", layers=(0,), mode="only",
                            compare=CompareOptions(audit=AuditOptions(**FAST), drift_tolerance=0.5, progress=False))
    again = run_sensitivity(tiny_bundle("bert"), copy, options)
    assert again["provenance"]["resumed"] == []
    assert [v["name"] for v in again["variants"]] == ["full", "only:layer0.attention", "only:layer0.mlp"]


def test_a_gate_the_full_variant_trips_gets_a_verified_fallback(sequential_sweep, tiny_bundle, tmp_path):
    """The gate sits between the fully quantised output cosine and the best single fallback's: the search must
    keep something in float, build it, and show the gate holding on it."""
    document, _ = sequential_sweep
    cosine = {v["name"]: v["output"]["cosine_mean"] for v in document["variants"]}
    best_all_but = max(c for name, c in cosine.items() if name.startswith("all-but:"))
    assert cosine["full"] < best_all_but
    threshold = (cosine["full"] + best_all_but) / 2
    compare = CompareOptions(audit=AuditOptions(**FAST),
                             gates=tuple(collect_gates([f"output_cosine<{threshold!r}"])), progress=False)
    result = run_sensitivity(tiny_bundle("bert"), tmp_path, sweep_options(scheduler="none", compare=compare))
    rec = result["recommendation"]
    assert rec["status"] == "verified" and rec["float_blocks"]
    final = next(v for v in result["variants"] if v["name"] == rec["variant"])
    assert final["gates_tripped"] == 0 and final["kind"] == "fallback"
    assert set(final["float_blocks"]) == set(rec["float_blocks"])
    kept = load_bundle(rec["bundle"])  # the recommended variant is kept, and keeps exactly those blocks in float
    kept_nodes = kept.manifest.data["variant"]["settings"]["keep_float"]["nodes"]
    blocks = {b["name"]: b["nodes"] for b in result["blocks"]}
    assert sorted(kept_nodes) == sorted(n for name in rec["float_blocks"] for n in blocks[name])
    assert result["sizes"]["full"] < result["sizes"]["recommended"] < result["sizes"]["float"]
    json.dumps(result)


def test_layers_choose_the_swept_blocks_and_unknown_layers_are_named(tiny_bundle, tmp_path):
    from edgeaudit.errors import EdgeAuditError

    with pytest.raises(EdgeAuditError, match="option --layers: layer 7 is not in the model"):
        run_sensitivity(tiny_bundle("bert"), tmp_path, sweep_options(scheduler="none", layers=(7,)))


def test_a_running_cluster_given_by_address_runs_the_same_variants(sequential_sweep, tiny_bundle, tmp_path):
    distributed = pytest.importorskip("distributed", reason="the [distributed] extra is not installed")
    document, _ = sequential_sweep
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster:
        result = run_sensitivity(tiny_bundle("bert"), tmp_path,
                                 sweep_options(scheduler=cluster.scheduler_address, layers=(1,), mode="only"))
    assert result["provenance"]["scheduler"] | {"notes": []} == {
        "kind": "address", "address": cluster.scheduler_address, "workers": 1, "threads_per_task": 1, "notes": []}
    expected = {v["name"]: v for v in comparable(document)["variants"]}
    for variant in comparable(result)["variants"]:
        assert variant == expected[variant["name"]]


def test_without_a_progress_bar_each_variant_gets_a_numbered_log_line(sequential_sweep, tiny_bundle):
    _, out = sequential_sweep
    lines: list[str] = []
    run_sensitivity(tiny_bundle("bert"), out, sweep_options(scheduler="none"), log=lines.append)
    numbered = [line for line in lines if line.startswith("  [") and "/" in line.split("]")[0]]
    assert [line.split("]")[0] for line in numbered] == [f"  [{i}/9" for i in range(1, 10)]
    assert all("(resumed)" in line for line in numbered)
