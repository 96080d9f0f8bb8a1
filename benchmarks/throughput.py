"""B1/B2: word-level extraction throughput, edgeaudit (fp32 / int8) vs transformers + PyTorch eager.

Both sides do the same work on the same sentences, batches and threads:

* align the pre-split words with edgeaudit's ``WordTokenizer`` (tokenizers),
* bucket them with ``plan_batches`` (the attention-aware budget the runtime uses) and right-pad,
* run the model for attention maps and hidden states of every layer,
* pool to word level with ``word_attention`` / ``word_hidden`` (identical numpy code),
* feed the same collectors: ``SpecialTokenMass`` (reads attention) and ``HiddenTouch`` (reads hidden states),
  so both outputs are really computed and used.

The edgeaudit side is one ``edgeaudit.runtime.extract`` call, timed from the outside (it includes opening the
onnxruntime session, which the PyTorch side does not pay for: its model is loaded once, outside the timing).
The PyTorch side is the usual route: ``AutoModel`` with ``attn_implementation="eager"``,
``output_attentions=True, output_hidden_states=True`` under ``torch.inference_mode()``, with
``torch.set_num_threads`` equal to the onnxruntime intra-op threads.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks import common

CHUNK = 1024  # sentences bucketed together, as edgeaudit's extract does without a store


class HiddenTouch:
    """Reads every word-level hidden state (a running sum), so hidden states are fetched and pooled."""

    needs = frozenset({"hidden_states"})

    def __init__(self) -> None:
        self.total: np.ndarray | None = None
        self.words = 0

    def update(self, batch) -> None:
        for sentence in batch:
            sums = sentence.hidden.sum(axis=1, dtype=np.float64)  # [layer, hidden]
            self.total = sums if self.total is None else self.total + sums
            self.words += sentence.hidden.shape[1]

    def result(self) -> np.ndarray | None:
        return None if self.total is None else self.total / max(self.words, 1)


def collectors():
    from edgeaudit.runtime import SpecialTokenMass

    return [SpecialTokenMass(), HiddenTouch()]


def load_torch_model(threads: int):
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(threads)
    model = AutoModel.from_pretrained(common.model_dir(), attn_implementation="eager")
    return model.train(False)


def torch_extract(model, bundle, sentences, collectors_, batch_options) -> dict[str, Any]:
    """The usual route, with edgeaudit's alignment, batching and pooling on PyTorch's outputs."""
    import torch

    from edgeaudit.runtime import (
        Alignment,
        WordBatch,
        WordSentence,
        WordTokenizer,
        pad_right,
        plan_batches,
        word_attention,
        word_hidden,
    )
    from edgeaudit.runtime.corpus import as_sentences

    began = time.perf_counter()
    corpus = as_sentences(sentences)
    words = WordTokenizer.from_bundle(bundle)
    manifest = bundle.manifest
    pad_id = int(manifest.tokenizer["pad_token_id"])
    cost = manifest.num_layers * manifest.num_heads
    extracted = batches = tokens = 0
    with torch.inference_mode():
        for start in range(0, len(corpus), CHUNK):
            chunk = corpus[start:start + CHUNK]
            aligned = [(start + i, a) for i, a in enumerate(words.align_many([s.words for s in chunk]))
                       if isinstance(a, Alignment)]
            for members in plan_batches([a.n_tokens for _, a in aligned], batch_options,
                                        attention_floats_per_seq2=cost):
                rows = [aligned[m] for m in members]
                ids, mask = pad_right([a.input_ids for _, a in rows], pad_id)
                out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                            output_attentions=True, output_hidden_states=True)
                attentions = [t.numpy() for t in out.attentions]
                hidden = [t.numpy() for t in out.hidden_states]
                pooled = []
                for row, (index, alignment) in enumerate(rows):
                    n, source = alignment.n_tokens, corpus[index]
                    attn = np.stack([a[row, :, :n, :n] for a in attentions])  # [layer, head, q, k]
                    attention, special = word_attention(attn, alignment.word_of_token, alignment.n_words)
                    states = np.stack([h[row, :n] for h in hidden])  # [layer, token, hidden]
                    hid = word_hidden(states, alignment.word_of_token, alignment.n_words, "mean")
                    pooled.append(WordSentence(index, source.sent_id, list(source.words), n, attention, special, hid))
                    tokens += n
                batch = WordBatch(pooled)
                for collector in collectors_:
                    collector.update(batch)
                extracted += len(pooled)
                batches += 1
    return {"seconds": time.perf_counter() - began, "extracted": extracted, "batches": batches, "tokens": tokens}


def edge_extract(bundle, sentences, collectors_, batch_options, threads: int) -> dict[str, Any]:
    from edgeaudit.runtime import SessionOptions, extract

    began = time.perf_counter()
    summary = extract(bundle, sentences, collectors=collectors_, batch=batch_options,
                      session=SessionOptions(threads=threads), progress=False)
    wall = time.perf_counter() - began
    return {"seconds": wall, "extract_reported_seconds": summary.seconds, "extracted": summary.extracted,
            "batches": summary.batches, "tokens": summary.tokens}


def session_open_seconds(bundle, threads: int) -> float:
    """What opening the onnxruntime session costs inside ``extract`` (measured separately, then closed)."""
    from edgeaudit.runtime import ModelSession, SessionOptions

    began = time.perf_counter()
    session = ModelSession(bundle, SessionOptions(threads=threads))
    seconds = time.perf_counter() - began
    del session
    return seconds


def run(settings: common.Settings, variant: str) -> dict[str, Any]:
    """B1 (variant "fp32") or B2 (variant "int8")."""
    from edgeaudit.bundle import load_bundle
    from edgeaudit.runtime import BatchOptions

    bench_id = "B1" if variant == "fp32" else "B2"
    target = {"op": ">=", "value": 2.0 if variant == "fp32" else 3.0, "unit": "x"}
    label = "fp32" if variant == "fp32" else common.INT8_PRESET
    record = common.result_record(
        bench_id, title=f"word-level extraction throughput: edgeaudit {label} vs PyTorch eager fp32",
        measure="speed-up = PyTorch seconds / edgeaudit seconds for the same sentences (higher is better)",
        target=target, settings=settings)
    watch = common.Stopwatch()
    bundles = common.ensure_bundles(settings, int8=variant == "int8")
    bundle = load_bundle(bundles[variant])
    reference_bundle = load_bundle(bundles["fp32"])  # the tokenizer the PyTorch side uses (same file)
    data = common.load_corpus()
    sentences, data_info = common.subset(data, settings.subset)
    batch_options = BatchOptions()
    model = load_torch_model(settings.threads)
    import torch

    record["config"].update({
        "data": data_info, "variant": label, "bundle": str(bundles[variant]),
        "batch_options": batch_options.__dict__, "onnxruntime": {"intra_op_threads": settings.threads,
                                                                 "inter_op_threads": 1, "spinning": False,
                                                                 "optimization": "extended (runtime default)"},
        "torch": {"num_threads": torch.get_num_threads(), "attn_implementation": "eager",
                  "inference_mode": True, "dtype": "float32"},
        "collectors": ["SpecialTokenMass (attention)", "HiddenTouch (hidden states)"],
        "timing": "edgeaudit: wall time of one extract() call incl. opening its session; "
                  "PyTorch: alignment + batching + forward + pooling + collectors, model loaded beforehand",
    })

    def side(name: str) -> tuple[dict[str, Any], list]:
        made = collectors()
        if name == "edgeaudit":
            return edge_extract(bundle, sentences, made, batch_options, settings.threads), made
        return torch_extract(model, reference_bundle, sentences, made, batch_options), made

    settings.log(f"{bench_id}: warm-up ({len(sentences)} sentences)")
    warm = {}
    for name in ("edgeaudit", "pytorch"):
        warm[name], made = side(name)
        warm[name + "_special_mass"] = made[0].result().special
    record["warmup"] = {name: round(warm[name]["seconds"], 4) for name in ("edgeaudit", "pytorch")}
    record["agreement"] = {
        "special_mass_max_abs_diff": float(np.max(np.abs(warm["edgeaudit_special_mass"] - warm["pytorch_special_mass"]))),
    }
    ratios = []
    for rep, order in enumerate(common.alternate(settings.reps, ["edgeaudit", "pytorch"])):
        row: dict[str, Any] = {"rep": rep, "order": order, "quiet": common.wait_for_quiet(settings)}
        for name in order:
            with common.LoadMeter() as meter:
                result, _ = side(name)
            row[name] = {key: round(value, 4) if isinstance(value, float) else value for key, value in result.items()}
            row[name]["sentences_per_second"] = round(result["extracted"] / result["seconds"], 2)
            row[name]["foreign_share"] = meter.foreign_share
        common.foreign_max(row, order)
        row["edgeaudit"]["session_open_seconds"] = round(session_open_seconds(bundle, settings.threads), 4)
        row["speedup"] = round(row["pytorch"]["seconds"] / row["edgeaudit"]["seconds"], 4)
        row["speedup_excluding_session_open"] = round(
            row["pytorch"]["seconds"] / max(row["edgeaudit"]["seconds"] - row["edgeaudit"]["session_open_seconds"], 1e-9), 4)
        ratios.append(row["speedup"])
        record["repetitions"].append(row)
        settings.log(f"{bench_id}: rep {rep + 1}/{settings.reps}: edgeaudit {row['edgeaudit']['seconds']:.2f} s, "
                     f"pytorch {row['pytorch']['seconds']:.2f} s -> {row['speedup']:.2f}x "
                     f"(other load {row['foreign_share_max']})")
    reps = record["repetitions"]
    record["throughput"] = {
        "edgeaudit_sentences_per_second": common.summary([r["edgeaudit"]["sentences_per_second"] for r in reps]),
        "pytorch_sentences_per_second": common.summary([r["pytorch"]["sentences_per_second"] for r in reps]),
        "speedup_excluding_session_open": common.summary([r["speedup_excluding_session_open"] for r in reps]),
    }
    if not data.real:
        record["notes"].append(data.note)
    return common.finish(record, ratios, watch)
