"""Is the audited graph the deployed graph? Taps change what onnxruntime may fuse.

A bundle's graph exposes every attention matrix and hidden state as an output. A graph output must be
materialised, so onnxruntime cannot fuse across it: exposing ``attention_l`` keeps Softmax out of a fused
``Attention`` kernel, exposing ``hidden_state_l`` can keep the residual Add out of ``SkipLayerNormalization``.
The device runs the *deployed* graph — the same model with only its final output — at full optimisation.
If the two graphs compute different outputs, an audit of the tapped graph is an audit of a different
program. :func:`audited_vs_deployed` builds the deployed graph, runs both on the same batches and reports

- the final output's agreement at real (non-pad) positions: per-token cosine (mean, min) and max |diff|;
- ``faithful``: cosine min >= ``min_cosine`` and max |diff| <= ``tolerance``;
- the op types of both *optimised* graphs (as onnxruntime saved them) and their difference, the
  "prevented fusions" table: e.g. ``com.microsoft:Attention`` present only in the deployed graph.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from edgeaudit.bundle import Bundle
from edgeaudit.runtime import BatchOptions, SessionOptions, WordTokenizer
from edgeaudit.runtime.corpus import as_sentences
from edgeaudit.runtime.paired import run_paired
from edgeaudit.runtime.session import _ort_options, model_feeds

DEFAULT_SENTENCES = 200
DEFAULT_TOLERANCE = 1e-2  # max |diff| of the final output: above fp16 rounding (1 ulp = 0.0078 at |x| = 8)
DEFAULT_MIN_COSINE = 0.999
DEPLOYED_OPTIMIZATION = "all"


def deployed_model(bundle: Bundle):
    """The bundle's model with every graph output removed except the final output (weights loaded)."""
    import onnx

    model = onnx.load(str(bundle.onnx_path), load_external_data=True)
    final = bundle.manifest.final_output
    keep = [output for output in model.graph.output if output.name == final]
    removed = len(model.graph.output) - len(keep)
    del model.graph.output[:]
    model.graph.output.extend(keep)
    return model, removed


def op_counts(path: Path) -> dict[str, int]:
    """Op types of a saved ONNX graph, ``domain:Op`` for non-default domains (e.g. ``com.microsoft:Attention``)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    counts: Counter[str] = Counter()
    for node in model.graph.node:
        counts[node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}:{node.op_type}"] += 1
    return dict(sorted(counts.items()))


def fusion_table(audited: dict[str, int], deployed: dict[str, int]) -> dict[str, dict[str, int]]:
    """Op types whose count differs: what the deployed graph fuses that the tapped graph cannot (and back)."""
    table = {}
    for op in sorted(set(audited) | set(deployed)):
        a, d = audited.get(op, 0), deployed.get(op, 0)
        if a != d:
            table[op] = {"audited": a, "deployed": d, "difference": d - a}
    return table


def _session(model_path: Path, optimization: str, threads: int | None, optimized_path: Path):
    import onnxruntime as ort

    options = _ort_options(SessionOptions(threads=threads, optimization=optimization))
    options.optimized_model_filepath = str(optimized_path)
    # Large initializers go to a side file so the saved graph stays small (and under protobuf's 2 GB).
    options.add_session_config_entry("session.optimized_model_external_initializers_file_name",
                                     optimized_path.name + ".data")
    options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])


def output_batch_tokens(bundle: Bundle, batch_tokens: int, budget_mb: float = 256.0) -> int:
    """Padded tokens per batch so one batch's final output stays under ``budget_mb`` (decoder logits are vocab wide)."""
    taps = bundle.manifest.data["taps"]
    if taps.get("final_output_kind") != "logits":
        return batch_tokens
    vocab = int(bundle.manifest.data["model"]["vocab_size"])
    return int(max(8, min(batch_tokens, budget_mb * 2**20 // (4 * 2 * vocab))))


class OutputAgreement:
    """Streaming agreement of two final outputs at real positions: per-row cosine and max |diff|."""

    def __init__(self) -> None:
        self.cosine_sum = 0.0
        self.cosine_min = float("inf")
        self.rows = 0
        self.max_abs_diff = 0.0

    def update(self, reference: np.ndarray, other: np.ndarray) -> np.ndarray:
        """reference/other: [row, dim] (tokens or words); returns the rows' cosines."""
        a, b = reference.astype(np.float64), other.astype(np.float64)
        if a.size:
            self.max_abs_diff = max(self.max_abs_diff, float(np.max(np.abs(a - b))))
        cos = cosine_rows(a, b)
        if cos.size:
            self.cosine_sum += float(cos.sum())
            self.cosine_min = min(self.cosine_min, float(cos.min()))
            self.rows += int(cos.size)
        return cos

    def to_dict(self) -> dict[str, Any]:
        mean = self.cosine_sum / self.rows if self.rows else None
        return {"output_cosine": {"mean": mean, "min": self.cosine_min if self.rows else None},
                "output_max_abs_diff": self.max_abs_diff if self.rows else None}


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of matching rows of [row, dim] arrays; two zero rows count as identical (1.0), one as 0.0."""
    dot = (a * b).sum(axis=-1)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    both_zero = (np.linalg.norm(a, axis=-1) == 0) & (np.linalg.norm(b, axis=-1) == 0)
    cos = np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0)
    cos[both_zero] = 1.0
    return np.clip(cos, -1.0, 1.0)


def _final_output(session: Any, bundle: Bundle):
    """A raw onnxruntime session fetching the bundle's final output, as a paired-run ``RunBatch``."""
    final, inputs = bundle.manifest.final_output, bundle.manifest.inputs

    def run(padded) -> dict[str, np.ndarray]:
        (value,) = session.run([final], model_feeds(inputs, padded.input_ids, padded.attention_mask))
        return {final: value}
    return run


class FinalOutputAgreement:
    """The fidelity check as a paired collector: agreement of two graphs' final outputs at real positions."""

    def __init__(self, final: str):
        self.final = final
        self.agreement = OutputAgreement()

    def update(self, batch, first: dict[str, np.ndarray], second: dict[str, np.ndarray]) -> None:
        ref, dep = first[self.final], second[self.final]
        if ref.ndim == 3:
            real = batch.attention_mask.astype(bool)
            self.agreement.update(ref[real], dep[real])
        else:  # a pooled output: one row per sentence
            self.agreement.update(ref.reshape(ref.shape[0], -1), dep.reshape(dep.shape[0], -1))


def audited_vs_deployed(bundle: Bundle, sentences: Iterable[object], *, max_sentences: int | None = DEFAULT_SENTENCES,
                        tolerance: float = DEFAULT_TOLERANCE, min_cosine: float = DEFAULT_MIN_COSINE,
                        threads: int | None = None, audited_optimization: str | None = None,
                        batch: BatchOptions | None = None, work_dir: str | Path | None = None) -> dict[str, Any]:
    """Compare the audited (tapped, runtime default optimisation) and deployed (final output only,
    ``ORT_ENABLE_ALL``) graphs of ``bundle`` on ``sentences`` (the first ``max_sentences``).

    Returns a JSON-ready dict: ``faithful``, ``output_cosine`` {mean, min} per real token,
    ``output_max_abs_diff``, ``audited``/``deployed`` {optimization, op_counts, nodes}, ``prevented_fusions``.
    ``work_dir`` keeps the deployed and optimised graphs (a temporary directory otherwise).
    """
    audited_optimization = audited_optimization or SessionOptions().optimization
    batch = batch or BatchOptions()
    batch = BatchOptions(batch_tokens=output_batch_tokens(bundle, batch.batch_tokens),
                         max_batch_size=batch.max_batch_size, attention_mb=batch.attention_mb)
    corpus = as_sentences(sentences)[:max_sentences]  # a None limit keeps every sentence
    final = bundle.manifest.final_output
    with tempfile.TemporaryDirectory(prefix="edgeaudit-fidelity-") as scratch:
        work = Path(work_dir) if work_dir is not None else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        from edgeaudit.bundle.model_file import save_model

        model, removed = deployed_model(bundle)
        save_model(model, work / "deployed.onnx")
        del model
        audited = _session(bundle.onnx_path, audited_optimization, threads, work / "audited.optimized.onnx")
        deployed = _session(work / "deployed.onnx", DEPLOYED_OPTIMIZATION, threads, work / "deployed.optimized.onnx")
        collector = FinalOutputAgreement(final)
        skips = run_paired(_final_output(audited, bundle), _final_output(deployed, bundle),
                           WordTokenizer.from_bundle(bundle), corpus, [collector], batch=batch,
                           pad_id=int(bundle.manifest.tokenizer["pad_token_id"]))
        agreement = collector.agreement
        audited_ops = op_counts(work / "audited.optimized.onnx")
        deployed_ops = op_counts(work / "deployed.optimized.onnx")
    result = agreement.to_dict()
    cosine = result["output_cosine"]
    faithful = None
    if agreement.rows:
        faithful = bool(cosine["min"] >= min_cosine and result["output_max_abs_diff"] <= tolerance)
    return {
        "faithful": faithful,
        "criteria": {"min_cosine": min_cosine, "max_abs_diff": tolerance},
        "final_output": final,
        "sentences": len(corpus) - len(skips), "skipped_sentences": len(skips), "tokens": agreement.rows,
        **result,
        "audited": {"graph": "tapped (every attention and hidden-state output)", "optimization": audited_optimization,
                    "nodes": sum(audited_ops.values()), "op_counts": audited_ops},
        "deployed": {"graph": "final output only", "optimization": DEPLOYED_OPTIMIZATION,
                     "outputs_removed": removed, "nodes": sum(deployed_ops.values()), "op_counts": deployed_ops},
        "prevented_fusions": fusion_table(audited_ops, deployed_ops),
        "note": "per real (non-pad) token of the final output; op counts are of the graphs onnxruntime optimised "
                "('domain:Op' for contrib ops); prevented_fusions lists op types whose count differs",
    }
