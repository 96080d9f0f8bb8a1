"""How a compressed decoder's next-token predictions drift from its reference, on the audit's own text.

Output cosine on raw logits misleads for language models: adding a constant to every logit changes nothing the
model predicts yet moves the cosine arbitrarily, while a reshuffled top of the distribution can keep the cosine
near 1. What users of an LLM feel is the next-token distribution, so for bundles whose final output is logits
compare reports, over every position whose next token is a word token of the text:

- ``kl_mean`` / ``kl_p99``: KL(reference ‖ variant) of the next-token distributions, in nats — mean and 99th
  percentile over positions, as llama.cpp's perplexity tool reports it for quantized models;
- ``top1_agreement``: share of positions where both pick the same most likely token;
- ``perplexity`` of each side on the text and their ratio;
- ``centred_cosine_mean``: cosine of the logit rows after removing each row's mean (shift-invariant).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class NextTokenAgreement:
    """Streaming next-token comparison; keeps one float per scored position (for the 99th percentile)."""

    def __init__(self) -> None:
        self.kl: list[np.ndarray] = []
        self.same_top1 = 0
        self.nll = np.zeros(2)  # reference, variant
        self.centred_cosine_sum = 0.0
        self.positions = 0

    def update(self, reference: np.ndarray, variant: np.ndarray, input_ids: np.ndarray,
               word_of_token: np.ndarray) -> None:
        """reference/variant: ``[token, vocab]`` logits of one sentence; position t is scored when token t + 1
        belongs to a word (not a special token)."""
        scored = np.flatnonzero(word_of_token[1:] >= 0)
        if scored.size == 0:
            return
        ref = _log_softmax(reference[scored].astype(np.float64))
        var = _log_softmax(variant[scored].astype(np.float64))
        targets = input_ids[scored + 1]
        self.kl.append((np.exp(ref) * (ref - var)).sum(axis=-1).clip(min=0.0))
        self.same_top1 += int((ref.argmax(axis=-1) == var.argmax(axis=-1)).sum())
        rows = np.arange(scored.size)
        self.nll -= np.array([ref[rows, targets].sum(), var[rows, targets].sum()])
        a = reference[scored] - reference[scored].mean(axis=-1, keepdims=True)
        b = variant[scored] - variant[scored].mean(axis=-1, keepdims=True)
        norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
        self.centred_cosine_sum += float(np.divide((a * b).sum(axis=-1), norms, out=np.ones(scored.size),
                                                   where=norms > 0).sum())
        self.positions += int(scored.size)

    def to_dict(self) -> dict[str, Any] | None:
        if not self.positions:
            return None
        kl = np.concatenate(self.kl)
        perplexity = np.exp(self.nll / self.positions)
        return {
            "positions": self.positions,
            "kl_mean": float(kl.mean()), "kl_p99": float(np.percentile(kl, 99)),
            "top1_agreement": self.same_top1 / self.positions,
            "perplexity": {"reference": float(perplexity[0]), "variant": float(perplexity[1])},
            "perplexity_ratio": float(perplexity[1] / perplexity[0]),
            "centred_cosine_mean": self.centred_cosine_sum / self.positions,
        }
