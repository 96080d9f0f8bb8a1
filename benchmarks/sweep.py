"""B10 (issue 15): a per-block sensitivity sweep on a 2-worker Dask LocalCluster vs the same sweep in one process.

Both sides are ``edgeaudit sensitivity`` of all-MiniLM-L6-v2 under ``int8-dynamic-full`` (13 blocks: embeddings and
each layer's attention and MLP; 27 variants: the full one, each block alone, all blocks but one) on the first
``SENTENCES`` EWT test sentences, the head/tree/correspondence claims (``--probes attention,tree,correspondence``),
without the fallback search (``--no-recommend``: its verifications run one after another by construction). Each
side is a fresh process in a fresh --out folder, measured as B4 (wall time, peak RSS of the largest process); the
sequential side uses every core inside each task (onnxruntime threads, joblib probe fits), the cluster side runs one
task per worker with one thread each. The headline is the wall-time ratio of the whole command (the reference audit,
which both sides run the same way, included); the sweep stage alone is a diagnostic beside it, and so is the check
that both sides wrote identical results (rankings, heatmap and every variant's record, paths aside). A third,
diagnostic side runs the sequential sweep with one core inside each variant (``--jobs 1 --threads 1``): the cluster's
gain over it is the most two workers can give; over the default sequential sweep the gain is smaller by however much
a variant already uses the second core on its own.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import common, contention
from benchmarks.audit import _time_supports_verbose, edgeaudit_command, failed, run_measured

SENTENCES = 200
QUICK_SENTENCES = 20
PRESET = "int8-dynamic-full"
PROBES = "attention,tree,correspondence"
PATHS = ("fingerprint", "bundle")


#: side -> extra arguments; "one-core" is a diagnostic: the sequential sweep held to one core inside each variant
SIDES = {"none": ["--scheduler", "none"], "local": ["--scheduler", "local", "--workers", "2"],
         "one-core": ["--scheduler", "none", "--jobs", "1", "--threads", "1"]}


def _sweep(settings: common.Settings, bundle: Path, data: Path, work: Path, side: str,
           use_time: bool) -> dict[str, Any]:
    out, logs = work / f"{side}-out", work / f"{side}-logs"
    logs.mkdir(parents=True)
    settings.log(f"B10: sensitivity sweep, {side} ...")
    common.wait_for_quiet(settings)
    command = edgeaudit_command("sensitivity", str(bundle), "--preset", PRESET, "--data", str(data), "--probes", PROBES,
                                "--out", str(out), "--no-recommend", "--quiet", *SIDES[side])
    result = run_measured(command, use_time=use_time, log_dir=logs)
    if not failed(result):
        document = json.loads((out / "sensitivity.json").read_text(encoding="utf-8"))
        provenance = document["provenance"]
        result["timings"] = provenance["timings"]
        result["scheduler"] = provenance["scheduler"]
        result["variants"] = len(document["variants"])
        result["task_peak_rss_mib"] = max((run or {}).get("process_peak_rss_mib") or 0
                                          for run in provenance["tasks"].values())
        result["task_seconds"] = sorted(((run or {}).get("timings") or {}).get("total") or 0
                                        for run in provenance["tasks"].values())
        result["document"] = _comparable(document)
    settings.log(f"B10: {side}: {result['seconds']:.0f} s")
    return result


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    variants = [{k: v for k, v in record.items() if k not in PATHS} for record in document["variants"]]
    return {"ranking": document["ranking"], "heatmap": document["heatmap"], "variants": variants,
            "summary": document["summary"], "blocks": document["blocks"]}


def run(settings: common.Settings) -> dict[str, Any]:
    sentences = QUICK_SENTENCES if settings.quick else SENTENCES
    record = common.result_record(
        "B10", title="sensitivity sweep: 2-worker Dask LocalCluster vs sequential (MiniLM, int8-dynamic-full)",
        measure="wall time of `edgeaudit sensitivity --scheduler none` / the same with `--scheduler local --workers 2`",
        target={"op": ">=", "value": 1.6, "unit": "x"}, settings=settings)
    watch = common.Stopwatch()
    try:
        import distributed  # noqa: F401
    except ImportError:
        return common.not_measured(record, "dask.distributed is not installed (the [distributed] extra)", watch)
    bundle = common.ensure_bundles(settings, int8=False)["fp32"]
    files, data_info = common.conllu_files(settings, [sentences])
    use_time = _time_supports_verbose()
    record["config"].update({"data": data_info, "sentences": sentences, "preset": PRESET, "probes": PROBES,
                             "repetitions": 1, "workers": 2,
                             "rss_method": "/usr/bin/time -v" if use_time else "os.wait4 ru_maxrss"})
    work = Path(tempfile.mkdtemp(prefix="edgeaudit-b10-"))
    try:
        row = {side: _sweep(settings, bundle, files[sentences], work, side, use_time) for side in SIDES}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    broken = [side for side in row.values() if failed(side)]
    if broken:
        return common.not_measured(record, "a sweep failed: " + " | ".join(broken[0]["stderr_tail"][-2:]), watch)
    documents = [row[side].pop("document") for side in SIDES]
    identical = all(document == documents[0] for document in documents)
    ratio = row["none"]["seconds"] / row["local"]["seconds"]
    row["rep"], row["ratio"] = 0, round(ratio, 3)
    record["repetitions"] = [row]
    record["diagnostics"] = {
        "identical_results": identical,
        "sweep_stage_ratio": round(row["none"]["timings"]["sweep"] / row["local"]["timings"]["sweep"], 3),
        "one_core_ratio": round(row["one-core"]["seconds"] / row["local"]["seconds"], 3),
        "seconds": {side: row[side]["seconds"] for side in SIDES},
        "stage_seconds": {side: row[side]["timings"] for side in SIDES},
        "peak_rss_mib": {side: row[side]["peak_rss_mib"] for side in SIDES},
        "task_peak_rss_mib": {side: row[side]["task_peak_rss_mib"] for side in SIDES},
        "task_seconds_median": {side: row[side]["task_seconds"][len(row[side]["task_seconds"]) // 2] for side in SIDES},
        "variants": row["none"]["variants"],
        "core_contention": contention.measure(),
    }
    if not identical:
        record["notes"].append("the sides wrote different results: see the sweep outputs")
    return common.finish(record, [ratio], watch)
