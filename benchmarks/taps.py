"""B3: what the taps cost — the audited graph vs the graph a product would deploy, model forward only.

* audited: the bundle's ``model.onnx`` as edgeaudit runs it (``ModelSession`` at its default optimisation
  level), fetching every tap (attention of every layer and hidden states of every layer), as an audit does;
* deployed: a copy of ``model.onnx`` cut down with ``onnx.utils.Extractor`` to the model's own final output
  (``taps.final_output``), opened at ``ORT_ENABLE_ALL``; same threads, spinning off;
* diagnostic (not in the ratio): the audited graph fetching only the final output, which separates the cost
  of copying the taps out from the cost of the graph itself.

Same right-padded batches (from ``plan_batches`` with the attention budget) on every side; each session is
opened, warmed up on the largest batch, timed over all batches, and closed before the next one opens.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmarks import common


def deployed_model(settings: common.Settings, bundle) -> Path:
    """``model.onnx`` with only the final output kept (cached next to the bundle)."""
    import onnx

    target = settings.cache_dir / f"deployed-{bundle.manifest.onnx_sha256[:16]}.onnx"
    if target.is_file():
        return target
    model = onnx.load(str(bundle.onnx_path))
    extracted = onnx.utils.Extractor(model).extract_model([i.name for i in model.graph.input],
                                                         [bundle.manifest.final_output])
    tmp = target.with_suffix(".tmp")
    onnx.save(extracted, str(tmp))
    tmp.replace(target)
    return target


def _deployed_session(path: Path, threads: int):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def padded_batches(bundle, sentences, batch_options):
    """[(input_ids, attention_mask)] exactly as extraction batches them when attention is fetched."""
    from edgeaudit.runtime import Alignment, WordTokenizer, pad_right, plan_batches

    words = WordTokenizer.from_bundle(bundle)
    aligned = [a for a in words.align_many([s.words for s in sentences]) if isinstance(a, Alignment)]
    manifest = bundle.manifest
    plan = plan_batches([a.n_tokens for a in aligned], batch_options,
                        attention_floats_per_seq2=manifest.num_layers * manifest.num_heads)
    pad_id = int(manifest.tokenizer["pad_token_id"])
    return [pad_right([aligned[m].input_ids for m in members], pad_id) for members in plan], aligned


def time_side(name: str, bundle, deployed: Path, batches, threads: int) -> dict[str, Any]:
    from edgeaudit.runtime import ModelSession, SessionOptions

    opened = time.perf_counter()
    if name == "deployed":
        session = _deployed_session(deployed, threads)
        final = bundle.manifest.final_output
        inputs = bundle.manifest.inputs

        def run(ids, mask):
            feeds = {"input_ids": ids, "attention_mask": mask}
            return session.run([final], {key: feeds[key] for key in inputs})
    else:
        session = ModelSession(bundle, SessionOptions(threads=threads))
        outputs = (bundle.manifest.attention_taps + bundle.manifest.hidden_state_taps if name == "audited"
                   else [bundle.manifest.final_output])

        def run(ids, mask):
            return session.run(ids, mask, outputs)
    open_seconds = time.perf_counter() - opened
    run(*batches[0])  # warm-up on the largest batch (sizes the memory arena)
    began = time.perf_counter()
    for ids, mask in batches:
        run(ids, mask)
    seconds = time.perf_counter() - began
    return {"seconds": round(seconds, 4), "session_open_seconds": round(open_seconds, 4)}


def run(settings: common.Settings) -> dict[str, Any]:
    from edgeaudit.bundle import load_bundle
    from edgeaudit.runtime import BatchOptions

    record = common.result_record(
        "B3", title="tap overhead: audited graph (all taps fetched) vs deployed graph (final output only)",
        measure="overhead = audited forward seconds / deployed forward seconds, same padded batches (lower is better)",
        target={"op": "<=", "value": 1.10, "unit": "x"}, settings=settings)
    watch = common.Stopwatch()
    bundle = load_bundle(common.ensure_bundles(settings, int8=False)["fp32"])
    deployed = deployed_model(settings, bundle)
    data = common.load_corpus()
    sentences, data_info = common.subset(data, settings.subset)
    batch_options = BatchOptions()
    batches, aligned = padded_batches(bundle, sentences, batch_options)
    record["config"].update({
        "data": data_info, "bundle": str(bundle.directory), "deployed_model": str(deployed),
        "batches": len(batches), "padded_tokens": int(sum(ids.size for ids, _ in batches)),
        "real_tokens": int(sum(a.n_tokens for a in aligned)),
        "batch_shapes": [list(ids.shape) for ids, _ in batches],
        "audited": {"optimization": "extended (ModelSession default)",
                    "outputs": bundle.manifest.attention_taps + bundle.manifest.hidden_state_taps},
        "deployed": {"optimization": "all (ORT_ENABLE_ALL)", "outputs": [bundle.manifest.final_output]},
        "timing": "forward only over all batches; session opened and warmed on the largest batch beforehand",
    })
    sides = ["audited", "deployed", "audited_final_only"]
    settings.log(f"B3: warm-up ({len(batches)} batches)")
    record["warmup"] = {name: time_side(name, bundle, deployed, batches, settings.threads)["seconds"] for name in sides}
    ratios = []
    for rep, order in enumerate(common.alternate(settings.reps, sides)):
        row: dict[str, Any] = {"rep": rep, "order": order, "quiet": common.wait_for_quiet(settings)}
        for name in order:
            with common.LoadMeter() as meter:
                row[name] = time_side(name, bundle, deployed, batches, settings.threads)
            row[name]["foreign_share"] = meter.foreign_share
        common.foreign_max(row, order)
        row["overhead"] = round(row["audited"]["seconds"] / row["deployed"]["seconds"], 4)
        row["graph_only_overhead"] = round(row["audited_final_only"]["seconds"] / row["deployed"]["seconds"], 4)
        ratios.append(row["overhead"])
        record["repetitions"].append(row)
        settings.log(f"B3: rep {rep + 1}/{settings.reps}: audited {row['audited']['seconds']:.3f} s, "
                     f"deployed {row['deployed']['seconds']:.3f} s -> {row['overhead']:.3f}x (other load {row['foreign_share_max']})")
    record["diagnostics"] = {
        "graph_only_overhead": common.summary([r["graph_only_overhead"] for r in record["repetitions"]]),
        "note": "graph_only_overhead = audited graph fetching only the final output / deployed graph",
    }
    if not data.real:
        record["notes"].append(data.note)
    return common.finish(record, ratios, watch)
