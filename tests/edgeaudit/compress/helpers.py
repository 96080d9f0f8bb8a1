"""Independent checks on a variant: run it with onnxruntime directly, not through the code under test."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from edgeaudit.bundle import Bundle


def feed_for(bundle: Bundle, sentences: list[str]) -> dict[str, np.ndarray]:
    """A padded batch built with plain ``tokenizers`` calls (mirrors the manifest's padding rules)."""
    tokenizer = bundle.load_tokenizer()
    settings = bundle.manifest.tokenizer
    tokenizer.enable_padding(direction=settings["padding_side"], pad_id=settings["pad_token_id"])
    encodings = tokenizer.encode_batch(sentences)
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
    }


def run_taps(bundle: Bundle, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every tap and the final output of ``bundle`` on ``feed``."""
    manifest = bundle.manifest
    names = list(dict.fromkeys([*manifest.hidden_state_taps, *manifest.attention_taps, manifest.final_output]))
    session = ort.InferenceSession(str(bundle.onnx_path), providers=["CPUExecutionProvider"])
    return dict(zip(names, session.run(names, feed), strict=True))


def token_cosines(reference: np.ndarray, other: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Cosine similarity per real (non-pad) token of two [batch, seq, dim] arrays."""
    a, b = reference[mask].astype(np.float64), other[mask].astype(np.float64)
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
