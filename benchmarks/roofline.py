"""B6: roofline — the model GFLOP/s achieved during extraction vs a numpy matmul on the same threads.

Model FLOPs are counted analytically (multiply-add = 2 FLOPs), per layer and per sentence of length ``s``:

    2·s·(4·d² + 2·d·d_ff)   projections Q, K, V, O and the two feed-forward matmuls
  + 2·2·heads·s²·d_head     Q·Kᵀ and attention·V

(embeddings, layer norms, softmax and GELU are left out: a few percent at these lengths). "Padded" FLOPs use
the padded batch shapes (what the hardware computes), "useful" FLOPs the real sentence lengths.

Each repetition alternates three measurements: numpy ``float32`` matmul (1024³, and the model's own
feed-forward shape) with BLAS limited to the same threads, then an edgeaudit extraction of the subset with
fp32 and with int8 (the latter counted in the same operations, i.e. effective GOP/s), timed stage by stage
(tokenise, pad, model forward, pooling, collectors) with the runtime's public pieces — the same steps
``extract`` takes.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.throughput import collectors


def model_shape(bundle) -> dict[str, int]:
    config = common.model_config()
    manifest = bundle.manifest
    d = manifest.hidden_size
    return {"layers": manifest.num_layers, "heads": manifest.num_heads, "d": d,
            "d_ff": int(config.get("intermediate_size", 4 * d)), "d_head": d // manifest.num_heads}


def flops(batch: int, seq: int, shape: dict[str, int]) -> float:
    d, d_ff, heads, d_head = shape["d"], shape["d_ff"], shape["heads"], shape["d_head"]
    per_layer = 2.0 * batch * seq * (4 * d * d + 2 * d * d_ff) + 2.0 * 2.0 * batch * heads * seq * seq * d_head
    return shape["layers"] * per_layer


def numpy_gflops(threads: int, shape: dict[str, int], repeats: int) -> dict[str, float]:
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    out: dict[str, float] = {}
    cases = {"square_1024": (1024, 1024, 1024), "ffn_512x384x1536": (512, shape["d"], shape["d_ff"])}
    with threadpool_limits(limits=threads, user_api="blas"):
        for name, (m, k, n) in cases.items():
            a = rng.standard_normal((m, k), dtype=np.float32)
            b = rng.standard_normal((k, n), dtype=np.float32)
            a @ b  # warm
            times = []
            for _ in range(repeats):
                began = time.perf_counter()
                a @ b
                times.append(time.perf_counter() - began)
            out[name] = round(2.0 * m * k * n / float(np.median(times)) / 1e9, 2)
    return out


def staged_extract(bundle, sentences, batch_options, threads: int) -> dict[str, Any]:
    """``extract``'s steps with a stopwatch on each: open, align, pad, forward, pool, collect."""
    from edgeaudit.runtime import (
        Alignment,
        ModelSession,
        SessionOptions,
        WordBatch,
        WordSentence,
        WordTokenizer,
        pad_right,
        plan_batches,
        word_attention,
        word_hidden,
    )

    manifest = bundle.manifest
    attention_taps, hidden_taps = manifest.attention_taps, manifest.hidden_state_taps
    stages = dict.fromkeys(("open", "align", "plan_pad", "forward", "pool", "collect"), 0.0)
    made = collectors()
    began = time.perf_counter()
    words = WordTokenizer.from_bundle(bundle)
    session = ModelSession(bundle, SessionOptions(threads=threads))
    stages["open"] = time.perf_counter() - began
    mark = time.perf_counter()
    aligned = [(i, a) for i, a in enumerate(words.align_many([s.words for s in sentences]))
               if isinstance(a, Alignment)]
    stages["align"] = time.perf_counter() - mark
    mark = time.perf_counter()
    plan = plan_batches([a.n_tokens for _, a in aligned], batch_options,
                        attention_floats_per_seq2=manifest.num_layers * manifest.num_heads)
    stages["plan_pad"] += time.perf_counter() - mark
    shapes = []
    for members in plan:
        rows = [aligned[m] for m in members]
        mark = time.perf_counter()
        ids, mask = pad_right([a.input_ids for _, a in rows], int(manifest.tokenizer["pad_token_id"]))
        stages["plan_pad"] += time.perf_counter() - mark
        mark = time.perf_counter()
        outputs = session.run(ids, mask, attention_taps + hidden_taps)
        stages["forward"] += time.perf_counter() - mark
        mark = time.perf_counter()
        pooled = []
        for row, (index, alignment) in enumerate(rows):
            n = alignment.n_tokens
            attn = np.stack([outputs[name][row, :, :n, :n] for name in attention_taps])
            attention, special = word_attention(attn, alignment.word_of_token, alignment.n_words)
            states = np.stack([outputs[name][row, :n] for name in hidden_taps])
            hidden = word_hidden(states, alignment.word_of_token, alignment.n_words, "mean")
            source = sentences[index]
            pooled.append(WordSentence(index, source.sent_id, list(source.words), n, attention, special, hidden))
        stages["pool"] += time.perf_counter() - mark
        mark = time.perf_counter()
        batch = WordBatch(pooled)
        for collector in made:
            collector.update(batch)
        stages["collect"] += time.perf_counter() - mark
        shapes.append(ids.shape)
    total = time.perf_counter() - began
    del session
    return {"seconds": total, "stages": stages, "shapes": shapes,
            "lengths": [a.n_tokens for _, a in aligned]}


def run(settings: common.Settings) -> dict[str, Any]:
    from edgeaudit.bundle import load_bundle
    from edgeaudit.runtime import BatchOptions

    record = common.result_record(
        "B6", title="roofline: achieved model GFLOP/s during extraction vs numpy matmul GFLOP/s",
        measure="fraction of numpy float32 matmul GFLOP/s (1024³, same threads) that the model forward achieves",
        target=None, settings=settings)
    watch = common.Stopwatch()
    paths = common.ensure_bundles(settings, int8=True)
    bundles = {name: load_bundle(path) for name, path in paths.items()}
    shape = model_shape(bundles["fp32"])
    data = common.load_corpus()
    sentences, data_info = common.subset(data, settings.subset)
    batch_options = BatchOptions()
    repeats = 3 if settings.quick else 10
    record["config"].update({
        "data": data_info, "model_shape": shape, "numpy_matmul_repeats": repeats,
        "flop_formula": "per layer: 2*tokens*(4*d^2 + 2*d*d_ff) + 2*2*heads*seq^2*d_head (per sequence)",
        "variants": {"fp32": str(paths["fp32"]), "int8": f"{paths['int8']} ({common.INT8_PRESET})"},
    })
    sides = ["numpy", "fp32", "int8"]
    settings.log("B6: warm-up")
    for name in ("fp32", "int8"):
        staged_extract(bundles[name], sentences, batch_options, settings.threads)
    numpy_gflops(settings.threads, shape, 1)
    ratios = []
    for rep, order in enumerate(common.alternate(settings.reps, sides)):
        row: dict[str, Any] = {"rep": rep, "order": order, "quiet": common.wait_for_quiet(settings)}
        for name in order:
            if name == "numpy":
                with common.LoadMeter() as meter:
                    row["numpy_gflops"] = numpy_gflops(settings.threads, shape, repeats)
                row["numpy_gflops"]["foreign_share"] = meter.foreign_share
                continue
            with common.LoadMeter() as meter:
                result = staged_extract(bundles[name], sentences, batch_options, settings.threads)
            padded = sum(flops(b, s, shape) for b, s in result["shapes"])
            useful = sum(flops(1, n, shape) for n in result["lengths"])
            stages = result["stages"]
            row[name] = {
                "seconds": round(result["seconds"], 4),
                "stages_seconds": {key: round(value, 4) for key, value in stages.items()},
                "padded_gflop": round(padded / 1e9, 3),
                "useful_gflop": round(useful / 1e9, 3),
                "forward_gflops": round(padded / stages["forward"] / 1e9, 2),
                "end_to_end_useful_gflops": round(useful / result["seconds"] / 1e9, 2),
                "foreign_share": meter.foreign_share,
            }
        common.foreign_max(row, ["fp32", "int8", "numpy_gflops"])
        peak = row["numpy_gflops"]["square_1024"]
        for name in ("fp32", "int8"):
            row[name]["fraction_of_numpy_peak"] = round(row[name]["forward_gflops"] / peak, 4)
        ratios.append(row["fp32"]["fraction_of_numpy_peak"])
        record["repetitions"].append(row)
        settings.log(f"B6: rep {rep + 1}/{settings.reps}: numpy {peak:.1f} GFLOP/s, fp32 forward "
                     f"{row['fp32']['forward_gflops']:.1f}, int8 forward {row['int8']['forward_gflops']:.1f} GOP/s")
    reps = record["repetitions"]
    record["report"] = {
        "numpy_square_1024_gflops": common.summary([r["numpy_gflops"]["square_1024"] for r in reps]),
        "numpy_ffn_shape_gflops": common.summary([r["numpy_gflops"]["ffn_512x384x1536"] for r in reps]),
        **{f"{name}_{key}": common.summary([r[name][key] for r in reps])
           for name in ("fp32", "int8") for key in ("forward_gflops", "end_to_end_useful_gflops",
                                                    "fraction_of_numpy_peak")},
        "stage_share_fp32": _shares([r["fp32"] for r in reps]),
        "stage_share_int8": _shares([r["int8"] for r in reps]),
        "padding_overhead": round(reps[0]["fp32"]["padded_gflop"] / reps[0]["fp32"]["useful_gflop"], 4),
    }
    if not data.real:
        record["notes"].append(data.note)
    return common.finish(record, ratios, watch)


def _shares(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Median share of each stage in the total."""
    keys = rows[0]["stages_seconds"].keys()
    return {key: round(float(np.median([r["stages_seconds"][key] / r["seconds"] for r in rows])), 4) for key in keys}
