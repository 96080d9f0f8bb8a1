"""Numeric drift of a variant from its reference, by one paired pass over the audit corpus.

Both sessions run on the *same* padded batches (the runtime's paired mode, ``runtime/paired.py``; the bundles must
share a tokenizer), and every batch is reduced at once to running sums, so the corpus' attention is never held:

- per hidden-state layer l = 0..L, the SQNR of word-level hidden states,
  ``10·log10(Σ ref² / Σ (ref − var)²)`` over every word of the corpus (null when identical: +∞);
- per head, the Jensen–Shannon divergence (base 2, in [0, 1]) between the two models' word-level attention
  rows, each row extended by one column holding the mass on special tokens so that it is a distribution
  (Clark et al. 2019 pooling, as in the audit), averaged over every word row of the corpus;
- the final output per word (mean over its subtokens): cosine mean and min, and the max |diff| over real
  (non-pad) tokens;
- for decoders whose final output is logits, next-token KL, top-1 agreement and perplexity on the corpus text
  (:mod:`edgeaudit.compare.next_token`).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from edgeaudit.bundle import Bundle
from edgeaudit.compare.next_token import NextTokenAgreement
from edgeaudit.fidelity import OutputAgreement, output_batch_tokens
from edgeaudit.runtime import (
    BatchOptions,
    ModelSession,
    SessionOptions,
    WordTokenizer,
    word_attention,
    word_hidden,
)
from edgeaudit.runtime.alignment import Alignment
from edgeaudit.runtime.padded import PaddedBatch
from edgeaudit.runtime.paired import run_paired, session_runner


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen–Shannon divergence in bits of matching rows (last axis), inputs renormalised; in [0, 1].

    p, q: [..., outcome] non-negative; returns [...]. Zero-probability outcomes contribute nothing.
    """
    p = np.clip(p.astype(np.float64), 0.0, None)
    q = np.clip(q.astype(np.float64), 0.0, None)
    p = p / np.maximum(p.sum(axis=-1, keepdims=True), 1e-300)
    q = q / np.maximum(q.sum(axis=-1, keepdims=True), 1e-300)
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> np.ndarray:
        ratio = np.divide(a, m, out=np.ones_like(a), where=a > 0)
        return (a * np.log2(ratio)).sum(axis=-1)

    return np.clip(0.5 * kl(p) + 0.5 * kl(q), 0.0, 1.0)


def attention_rows(attention: np.ndarray, special_mass: np.ndarray) -> np.ndarray:
    """[layer, head, word, word + 1]: word-level rows with the special-token mass as a last column."""
    return np.concatenate([attention, special_mass[..., None]], axis=-1)


class DriftAccumulator:
    """Running sums for SQNR, attention JSD and output agreement (constant memory in the corpus size)."""

    def __init__(self, num_layers: int, num_heads: int, hidden_layers: int):
        self.signal = np.zeros(hidden_layers)  # Σ ref²  per hidden-state layer
        self.noise = np.zeros(hidden_layers)  # Σ (ref − var)²
        self.hidden_cos_sum = np.zeros(hidden_layers)
        self.jsd_sum = np.zeros((num_layers, num_heads))
        self.rows = 0  # attention rows (words) per head
        self.words = 0
        self.sentences = 0
        self.tokens = 0
        self.output = OutputAgreement()  # per word
        self.output_token_max_abs = 0.0
        self.next_token = NextTokenAgreement()  # decoders with a logits output only

    def add_sentence(self, ref_hidden: np.ndarray | None, var_hidden: np.ndarray | None,  # [layer, word, hidden]
                     ref_rows: np.ndarray | None, var_rows: np.ndarray | None,  # [layer, head, word, word + 1]
                     ref_out: np.ndarray, var_out: np.ndarray,  # [word, dim]
                     token_max_abs: float, n_tokens: int) -> None:
        if ref_hidden is not None:
            a, b = ref_hidden.astype(np.float64), var_hidden.astype(np.float64)
            self.signal += (a * a).sum(axis=(1, 2))
            self.noise += ((a - b) ** 2).sum(axis=(1, 2))
            dot = (a * b).sum(axis=-1)
            norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
            self.hidden_cos_sum += np.divide(dot, norms, out=np.ones_like(dot), where=norms > 0).sum(axis=1)
        if ref_rows is not None:
            self.jsd_sum += js_divergence(ref_rows, var_rows).sum(axis=-1)
            self.rows += ref_rows.shape[2]
        self.output.update(ref_out, var_out)
        self.output_token_max_abs = max(self.output_token_max_abs, token_max_abs)
        self.words += ref_out.shape[0]
        self.tokens += n_tokens
        self.sentences += 1

    def layers(self) -> list[dict[str, Any]]:
        out = []
        for layer, (signal, noise) in enumerate(zip(self.signal, self.noise, strict=True)):
            if noise == 0:
                sqnr = None
            elif signal == 0:
                sqnr = -math.inf
            else:
                sqnr = 10.0 * math.log10(signal / noise)
            entry = {"layer": layer, "sqnr_db": None if sqnr is None or not math.isfinite(sqnr) else sqnr,
                     "hidden_cosine_mean": float(self.hidden_cos_sum[layer] / self.words) if self.words else None}
            if sqnr is None:
                entry["note"] = "identical to the reference (SQNR +inf)"
            out.append(entry)
        return out


def _unpack(outputs: dict[str, np.ndarray], row: int, alignment: Alignment, attention_taps: list[str],
            hidden_taps: list[str], final: str) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray, np.ndarray]:
    """One sentence out of a batch: word hidden [layer, word, hidden], attention rows, output per word/token."""
    n, word_of_token, n_words = alignment.n_tokens, alignment.word_of_token, alignment.n_words
    hidden = rows = None
    if hidden_taps:
        states = np.stack([outputs[name][row, :n] for name in hidden_taps])  # [layer, token, hidden]
        hidden = word_hidden(states, word_of_token, n_words)
    if attention_taps:
        tokens = np.stack([outputs[name][row, :, :n, :n] for name in attention_taps])  # [layer, head, q, k]
        rows = attention_rows(*word_attention(tokens, word_of_token, n_words))
    final_tokens = outputs[final][row, :n]
    final_tokens = final_tokens.reshape(n, -1)  # [token, dim]
    final_words = word_hidden(final_tokens[None], word_of_token, n_words)[0]  # [word, dim]
    return hidden, rows, final_words, final_tokens


class DriftCollector:
    """compare's numeric drift as a paired collector: per sentence, both models' word hidden states, attention
    rows and outputs into the running sums (and, for decoders, next-token agreement)."""

    def __init__(self, manifest: Any, next_token: bool):
        self.taps = (manifest.attention_taps, manifest.hidden_state_taps, manifest.final_output)
        self.acc = DriftAccumulator(manifest.num_layers, manifest.num_heads, len(manifest.hidden_state_taps))
        self.next_token = next_token

    @property
    def names(self) -> list[str]:
        attention, hidden, final = self.taps
        return list(dict.fromkeys([*attention, *hidden, final]))

    def update(self, batch: PaddedBatch, reference: dict[str, np.ndarray], variant: dict[str, np.ndarray]) -> None:
        for row, sentence in enumerate(batch.sentences):
            alignment = sentence.alignment
            r = _unpack(reference, row, alignment, *self.taps)
            v = _unpack(variant, row, alignment, *self.taps)
            token_diff = float(np.max(np.abs(r[3].astype(np.float64) - v[3]))) if r[3].size else 0.0
            self.acc.add_sentence(r[0], v[0], r[1], v[1], r[2], v[2], token_diff, alignment.n_tokens)
            if self.next_token:
                self.acc.next_token.update(r[3], v[3], alignment.input_ids, alignment.word_of_token)


def numeric_drift(reference: Bundle, variant: Bundle, sentences: Sequence[object], *,
                  batch: BatchOptions | None = None, session: SessionOptions | None = None,
                  progress: bool = False) -> dict[str, Any]:
    """Paired run of ``reference`` and ``variant`` over ``sentences`` (objects with ``words``)."""
    began = time.perf_counter()
    manifest = reference.manifest
    batch = batch or BatchOptions()
    batch = BatchOptions(batch_tokens=output_batch_tokens(reference, batch.batch_tokens),
                         max_batch_size=batch.max_batch_size, attention_mb=batch.attention_mb / 2)  # two models
    collector = DriftCollector(manifest, next_token=manifest.causal
                               and manifest.data["taps"].get("final_output_kind") == "logits")
    sessions = ModelSession(reference, session), ModelSession(variant, session)
    try:
        skips = run_paired(session_runner(sessions[0], collector.names), session_runner(sessions[1], collector.names),
                           WordTokenizer.from_bundle(reference), sentences, [collector], batch=batch,
                           pad_id=int(manifest.tokenizer["pad_token_id"]),
                           attention_floats_per_seq2=manifest.num_layers * manifest.num_heads, progress=progress)
    finally:
        for model in sessions:
            model.close()
    return drift_document(collector.acc, dict(Counter(skip.kind for skip in skips)), time.perf_counter() - began)


def drift_document(acc: DriftAccumulator, skipped: dict[str, int], seconds: float) -> dict[str, Any]:
    agreement = acc.output.to_dict()
    layers = acc.layers()
    finite = [(entry["sqnr_db"], entry["layer"]) for entry in layers if entry["sqnr_db"] is not None]
    jsd = (acc.jsd_sum / acc.rows).tolist() if acc.rows else None
    worst_head = None
    if jsd is not None:
        flat = int(np.argmax(acc.jsd_sum))
        layer, head = divmod(flat, acc.jsd_sum.shape[1])
        worst_head = {"layer": layer, "head": head, "jsd": jsd[layer][head]}
    notes = []
    if len(finite) < len(layers):
        notes.append("sqnr_db is null where the variant's hidden states equal the reference's (SQNR +inf)")
    return {
        "computed": True,
        "layers": layers,
        "attention_jsd": jsd,
        "output_cosine": agreement["output_cosine"],
        "output_max_abs_diff": acc.output_token_max_abs if acc.words else None,
        "worst_sqnr_layer": None if not finite else min(finite)[1],
        "min_sqnr_db": None if not finite else min(finite)[0],
        "worst_attention_head": worst_head,
        "next_token": acc.next_token.to_dict(),
        "sentences": acc.sentences, "words": acc.words, "tokens": acc.tokens, "skipped": skipped,
        "seconds": round(seconds, 3),
        "definitions": {
            "sqnr_db": "10·log10(Σ ref² / Σ (ref − variant)²) over word-level (mean-pooled) hidden states of every "
                       "word; hidden_state_0 is the embedding output",
            "attention_jsd": "[layer][head] mean over word rows of the Jensen–Shannon divergence (base 2, 0..1) of "
                             "word-level attention rows extended by their special-token mass",
            "output_cosine": "per word (final output mean-pooled over the word's subtokens)",
            "output_max_abs_diff": "over every real (non-pad) token of the final output",
            "next_token": "decoders: KL(reference ‖ variant) of next-token distributions in nats (mean, 99th "
                          "percentile), top-1 agreement, perplexity of each side, mean-centred logit cosine, over "
                          "positions whose next token belongs to a word",
        },
        "notes": notes,
    }


def not_computed(reason: str) -> dict[str, Any]:
    return {"computed": False, "note": reason, "layers": [], "attention_jsd": None,
            "output_cosine": {"mean": None, "min": None}, "output_max_abs_diff": None,
            "worst_sqnr_layer": None, "min_sqnr_db": None, "worst_attention_head": None, "next_token": None}
