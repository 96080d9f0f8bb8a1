"""Check the exported graph against PyTorch on generated inputs, padded the way the tokenizer pads.

Differences are measured at real (unpadded) query positions only: padded rows are never read by the
runtime, and their values depend on how each side fills masked scores.

The pass criterion is relative to each tap's magnitude: max |onnx - torch| / max(1, max |torch|). Llama-style
residual streams reach magnitudes of ~1e3 from the third layer on, where fp32 rounding alone moves values by
~1e-3 (measured on SmolLM2-135M: 0.0195 at hidden_state_28, i.e. 2e-5 of the tap's scale). Attention
probabilities and LayerNorm-scaled encoder states stay below 1-10, so for them the criterion is the absolute
one; a wrong graph differs by a large fraction of the tap's scale and still fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from edgeaudit.exporters.wrapper import TappedModel

from edgeaudit.errors import ExportError

DEFAULT_LENGTHS = (3, 8, 17, 33)


GROUPS = ("hidden_states", "attentions", "final_output")
CRITERION = "max |onnx - torch| / max(1, max |torch|) per tap, at real positions"


@dataclass(frozen=True)
class TapDifference:
    """How far one tap of the ONNX graph is from PyTorch: absolute, and relative to the tap's magnitude."""

    name: str
    absolute: float
    scale: float  # max(1, max |torch|) over real positions

    @property
    def relative(self) -> float:
        return self.absolute / self.scale


@dataclass(frozen=True)
class VerifyReport:
    worst_absolute: dict[str, TapDifference]  # group -> the tap with the largest absolute difference
    worst_relative: dict[str, TapDifference]  # group -> the tap with the largest relative difference
    lengths: list[int]
    padding_side: str
    tolerance: float

    @property
    def worst(self) -> TapDifference:
        """The tap that decides pass or fail: the largest relative difference."""
        return max(self.worst_relative.values(), key=lambda tap: tap.relative)

    def to_manifest(self) -> dict:
        return {
            "verified": True,
            "criterion": CRITERION,
            "tolerance": self.tolerance,
            "lengths": self.lengths,
            "padding_side": self.padding_side,
            "max_abs_diff": {group: self.worst_absolute[group].absolute for group in GROUPS},
            "max_rel_diff": {group: self.worst_relative[group].relative for group in GROUPS},
            "worst_tap": {group: self.worst_relative[group].name for group in GROUPS},
        }

    def summary(self) -> str:
        worst = self.worst
        return (f"max |onnx - torch| = {max(t.absolute for t in self.worst_absolute.values()):.2e}, "
                f"relative to the tap's magnitude {worst.relative:.2e} at {worst.name} "
                f"(tolerance {self.tolerance:g})")


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


def tap_difference(name: str, want: np.ndarray, got: np.ndarray, mask: np.ndarray, attention: bool) -> TapDifference:
    """Max |want-got| and the tap's scale over real positions; for attention, real query rows and key columns."""
    rows = mask.astype(bool)
    if attention:  # [batch, head, query, key]
        sel = rows[:, None, :, None] & rows[:, None, None, :]
        sel = np.broadcast_to(sel, want.shape)
    else:  # [batch, seq, ...]
        sel = np.broadcast_to(rows.reshape(rows.shape + (1,) * (want.ndim - 2)), want.shape)
    reference = want.astype(np.float64)[sel]
    diff = np.abs(reference - got.astype(np.float64)[sel])
    if not diff.size:
        return TapDifference(name, 0.0, 1.0)
    if not (np.all(np.isfinite(diff)) and np.all(np.isfinite(reference))):
        return TapDifference(name, float("inf"), 1.0)
    return TapDifference(name, float(diff.max()), max(1.0, float(np.abs(reference).max())))


def _group_of(name: str) -> str:
    return "attentions" if name.startswith("attention_") else "final_output" if name == "logits" else "hidden_states"


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
    differences: dict[str, list[TapDifference]] = {group: [] for group in GROUPS}
    for name, want, got in zip(names, expected, actual, strict=True):
        if want.shape != got.shape:
            raise ExportError(f"verification: tap {name} has shape {got.shape} in ONNX but {want.shape} in PyTorch")
        group = _group_of(name)
        differences[group].append(tap_difference(name, want, got, mask, attention=group == "attentions"))
    if not wrapper.decoder:  # the encoder's final output is its last hidden state
        differences["final_output"] = [differences["hidden_states"][wrapper.num_layers]]
    report = VerifyReport(
        worst_absolute={g: max(taps, key=lambda t: t.absolute) for g, taps in differences.items()},
        worst_relative={g: max(taps, key=lambda t: t.relative) for g, taps in differences.items()},
        lengths=lengths, padding_side=padding_side, tolerance=tolerance)
    worst = report.worst
    if not worst.relative <= tolerance:
        raise ExportError(
            f"verification failed: ONNX and PyTorch differ by {worst.absolute:.3g} at {worst.name} "
            f"({worst.relative:.3g} of the tap's magnitude {worst.scale:.3g}; tolerance {tolerance:g}, "
            f"lengths {lengths}, padded {padding_side})",
            hint="try the other --exporter, a higher --opset, or raise --tolerance if the difference is expected",
        )
    return report
