"""Check the exported graph against PyTorch on generated inputs, padded the way the tokenizer pads.

Differences are measured at real (unpadded) query positions only: padded rows are never read by the
runtime, and their values depend on how each side fills masked scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from edgeaudit.errors import ExportError
from exporters.wrapper import TappedModel

DEFAULT_LENGTHS = (3, 8, 17, 33)


@dataclass(frozen=True)
class VerifyReport:
    hidden_states: float
    attentions: float
    final_output: float
    lengths: list[int]
    padding_side: str
    tolerance: float

    @property
    def worst(self) -> float:
        return max(self.hidden_states, self.attentions, self.final_output)

    def to_manifest(self) -> dict:
        return {
            "verified": True,
            "tolerance": self.tolerance,
            "lengths": self.lengths,
            "padding_side": self.padding_side,
            "max_abs_diff": {
                "hidden_states": self.hidden_states,
                "attentions": self.attentions,
                "final_output": self.final_output,
            },
        }


def verification_batch(lengths: list[int], *, vocab_size: int, pad_id: int, padding_side: str,
                       special_ids: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random non-special token ids for each length, padded into one batch; returns (ids, mask) [batch, seq]."""
    rng = np.random.default_rng(seed)
    allowed = np.setdiff1d(np.arange(vocab_size), np.asarray(special_ids, dtype=np.int64))
    if allowed.size == 0:
        allowed = np.arange(vocab_size)
    width = max(lengths)
    ids = np.full((len(lengths), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(lengths), width), dtype=np.int64)
    for row, length in enumerate(lengths):
        tokens = rng.choice(allowed, size=length)
        span = slice(width - length, width) if padding_side == "left" else slice(0, length)
        ids[row, span] = tokens
        mask[row, span] = 1
    return ids, mask


def _max_diff(a: np.ndarray, b: np.ndarray, mask: np.ndarray, attention: bool) -> float:
    """Max |a-b| over real positions; for attention, real query rows and real key columns."""
    rows = mask.astype(bool)
    if attention:  # [batch, head, query, key]
        sel = rows[:, None, :, None] & rows[:, None, None, :]
        sel = np.broadcast_to(sel, a.shape)
    else:  # [batch, seq, ...]
        sel = np.broadcast_to(rows.reshape(rows.shape + (1,) * (a.ndim - 2)), a.shape)
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))[sel]
    if not np.all(np.isfinite(diff)):
        return float("inf")
    return float(diff.max()) if diff.size else 0.0


ExtraInputs = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]


def verify_export(wrapper: TappedModel, onnx_file: Path, *, vocab_size: int, pad_id: int, padding_side: str,
                  special_ids: list[int], max_length: int, tolerance: float,
                  extra_inputs: ExtraInputs | None = None) -> VerifyReport:
    """Run both sides; raise ``ExportError`` naming the worst tap if any difference exceeds ``tolerance``.

    ``extra_inputs(ids, mask)`` returns further named inputs (e.g. ``position_ids``) that graphs from other
    exporters take; they are fed to onnxruntime and passed to ``wrapper`` as keyword arguments, so both
    sides see the same values the runtime will feed.
    """
    import onnxruntime as ort

    lengths = sorted({min(n, max_length) for n in DEFAULT_LENGTHS})
    ids, mask = verification_batch(lengths, vocab_size=vocab_size, pad_id=pad_id, padding_side=padding_side,
                                   special_ids=special_ids)
    extra = extra_inputs(ids, mask) if extra_inputs is not None else {}
    with torch.no_grad():
        torch_extra = {name: torch.from_numpy(value) for name, value in extra.items()}
        outputs = wrapper(torch.from_numpy(ids), torch.from_numpy(mask), **torch_extra)
        expected = [t.detach().float().numpy() for t in outputs]
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    names = wrapper.output_names()
    actual = session.run(names, {"input_ids": ids, "attention_mask": mask, **extra})
    worst = {"hidden_states": 0.0, "attentions": 0.0, "final_output": 0.0}
    worst_tap = {key: "" for key in worst}
    for name, want, got in zip(names, expected, actual, strict=True):
        if want.shape != got.shape:
            raise ExportError(f"verification: tap {name} has shape {got.shape} in ONNX but {want.shape} in PyTorch")
        group = "attentions" if name.startswith("attention_") else "final_output" if name == "logits" else "hidden_states"
        diff = _max_diff(want, got, mask, attention=group == "attentions")
        if diff >= worst[group]:
            worst[group], worst_tap[group] = diff, name
    if not wrapper.decoder:  # the encoder's final output is its last hidden state
        worst["final_output"] = _max_diff(expected[wrapper.num_layers], actual[wrapper.num_layers], mask, False)
        worst_tap["final_output"] = names[wrapper.num_layers]
    report = VerifyReport(lengths=lengths, padding_side=padding_side, tolerance=tolerance, **worst)
    if report.worst > tolerance:
        group = max(worst, key=worst.get)
        raise ExportError(
            f"verification failed: ONNX and PyTorch differ by {worst[group]:.3g} at {worst_tap[group]} "
            f"(tolerance {tolerance:g}, lengths {lengths}, padded {padding_side})",
            hint="try the other --exporter, a higher --opset, or raise --tolerance if the difference is expected",
        )
    return report
