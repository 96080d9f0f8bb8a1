"""Speed-up proposals tried without touching edgeaudit: each one measured side by side against today's code.

    python -m benchmarks.experiments [blas1] [fused] [spin] [--sentences 500] [--reps 5]

* ``blas1``: ``extract`` as today vs the same call inside ``threadpoolctl.threadpool_limits(1, "blas")``.
  Pooling (``word_attention``/``word_hidden``) is thousands of tiny numpy matmuls between model runs;
  OpenBLAS threads them over all cores, and when any core is busy (onnxruntime's own pool waking, another
  process) each tiny call waits for a descheduled thread. Proposal: limit BLAS to one thread around the
  chunk loop in ``edgeaudit/runtime/extract.py`` (threadpoolctl comes with scikit-learn, already a
  device dependency).
* ``fused``: the bundle's graph vs the same graph after onnxruntime's offline transformer optimiser
  (``onnxruntime.transformers.optimizer``, BERT fusions except attention, whose probabilities are taps):
  SkipLayerNormalization/BiasGelu fusions that the runtime's own level does not find while the layer outputs
  are graph outputs. Forward only, every tap fetched, same padded batches. Proposal: run it in
  ``edgeaudit compress``/``exporters`` when writing a bundle (and keep the check that every tap survives).
* ``spin``: onnxruntime intra-op spinning on vs off (edgeaudit turns it off so a busy-waiting pool does not
  steal the cores tokenisation and pooling need), forward only, fp32 and int8.

Prints one JSON object; nothing is written to ``benchmarks/results``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks import common
from benchmarks.taps import padded_batches
from benchmarks.throughput import collectors


def _blas1(settings: common.Settings, bundle, sentences) -> dict:
    from threadpoolctl import threadpool_limits

    from edgeaudit.runtime import BatchOptions, SessionOptions, extract

    def once(limited: bool) -> float:
        began = time.perf_counter()
        if limited:
            with threadpool_limits(limits=1, user_api="blas"):
                extract(bundle, sentences, collectors=collectors(), batch=BatchOptions(),
                        session=SessionOptions(threads=settings.threads), progress=False)
        else:
            extract(bundle, sentences, collectors=collectors(), batch=BatchOptions(),
                    session=SessionOptions(threads=settings.threads), progress=False)
        return time.perf_counter() - began

    once(False), once(True)
    rows = []
    for order in common.alternate(settings.reps, ["today", "blas1"]):
        row = {}
        for side in order:
            with common.LoadMeter() as meter:
                row[side] = round(once(side == "blas1"), 4)
            row[side + "_foreign_share"] = meter.foreign_share
        row["speedup"] = round(row["today"] / row["blas1"], 4)
        rows.append(row)
        settings.log(f"blas1: {row}")
    return {"speedup": common.summary([r["speedup"] for r in rows]), "repetitions": rows}


def _fused_model(settings: common.Settings, bundle) -> Path:
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    target = settings.cache_dir / f"fused-{bundle.manifest.onnx_sha256[:16]}.onnx"
    if not target.is_file():
        options = FusionOptions("bert")
        options.enable_attention = False  # attention probabilities are taps
        manifest = bundle.manifest
        model = optimize_model(str(bundle.onnx_path), model_type="bert", num_heads=manifest.num_heads,
                               hidden_size=manifest.hidden_size, optimization_options=options, opt_level=0)
        outputs = {o.name for o in model.model.graph.output}
        missing = set(manifest.attention_taps + manifest.hidden_state_taps) - outputs
        if missing:
            raise RuntimeError(f"the optimiser dropped taps {sorted(missing)}")
        model.save_model_to_file(str(target))
    return target


def _fused(settings: common.Settings, bundle, sentences) -> dict:
    import numpy as np
    import onnxruntime as ort

    fused = _fused_model(settings, bundle)
    from edgeaudit.runtime import BatchOptions

    batches, _ = padded_batches(bundle, sentences, BatchOptions())
    names = bundle.manifest.attention_taps + bundle.manifest.hidden_state_taps

    def once(path: Path) -> tuple[float, list]:
        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = settings.threads, 1
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        so.log_severity_level = 3
        session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        session.run(names, {"input_ids": batches[0][0], "attention_mask": batches[0][1]})
        began = time.perf_counter()
        last = None
        for ids, mask in batches:
            last = session.run(names, {"input_ids": ids, "attention_mask": mask})
        return time.perf_counter() - began, last

    _, a = once(bundle.onnx_path)
    _, b = once(fused)
    max_diff = max(float(np.max(np.abs(x - y))) for x, y in zip(a, b, strict=True))
    rows = []
    for order in common.alternate(settings.reps, ["today", "fused"]):
        row = {}
        for side in order:
            with common.LoadMeter() as meter:
                row[side] = round(once(bundle.onnx_path if side == "today" else fused)[0], 4)
            row[side + "_foreign_share"] = meter.foreign_share
        row["speedup"] = round(row["today"] / row["fused"], 4)
        rows.append(row)
        settings.log(f"fused: {row}")
    return {"speedup": common.summary([r["speedup"] for r in rows]), "max_abs_diff_last_batch": max_diff,
            "repetitions": rows}


def _spin(settings: common.Settings, bundle, sentences) -> dict:
    """Forward only, every tap fetched: intra-op spinning on vs off (edgeaudit's choice), fp32 and int8."""
    import onnxruntime as ort

    from edgeaudit.bundle import load_bundle
    from edgeaudit.runtime import BatchOptions

    int8 = load_bundle(common.ensure_bundles(settings, int8=True)["int8"])
    batches, _ = padded_batches(bundle, sentences, BatchOptions())
    names = bundle.manifest.attention_taps + bundle.manifest.hidden_state_taps

    def once(model: Path, spinning: bool) -> float:
        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = settings.threads, 1
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        so.log_severity_level = 3
        session = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
        session.run(names, {"input_ids": batches[0][0], "attention_mask": batches[0][1]})
        began = time.perf_counter()
        for ids, mask in batches:
            session.run(names, {"input_ids": ids, "attention_mask": mask})
        return time.perf_counter() - began

    out = {}
    for variant, b in (("fp32", bundle), ("int8", int8)):
        rows = []
        for order in common.alternate(settings.reps, ["off", "on"]):
            row = {}
            for side in order:
                with common.LoadMeter() as meter:
                    row[side] = round(once(b.onnx_path, side == "on"), 4)
                row[side + "_foreign_share"] = meter.foreign_share
            row["speedup_on_over_off"] = round(row["off"] / row["on"], 4)
            rows.append(row)
            settings.log(f"spin {variant}: {row}")
        out[variant] = {"speedup_on_over_off": common.summary([r["speedup_on_over_off"] for r in rows]),
                        "repetitions": rows}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="*", default=["blas1", "fused"])
    parser.add_argument("--sentences", type=int, default=common.FULL_SUBSET)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    from edgeaudit.bundle import load_bundle

    settings = common.Settings(reps=args.reps, subset=args.sentences)
    bundle = load_bundle(common.ensure_bundles(settings, int8=False)["fp32"])
    sentences, info = common.subset(common.load_corpus(), settings.subset)
    out = {"data": info, "threads": settings.threads, "machine": common.cpu_facts()}
    for name in args.which:
        out[name] = {"blas1": _blas1, "fused": _fused, "spin": _spin}[name](settings, bundle, sentences)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
