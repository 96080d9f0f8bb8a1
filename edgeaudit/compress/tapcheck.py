"""Prove a compressed model still exposes every tap the way the runtime reads it, and measure its drift.

Checked on a real onnxruntime run over a few padded sentences: every tap is a graph output, declared and
returned as float32, with the parent's shape and finite values at real (non-pad) positions. Drift against
the fp32 parent (max |diff| per tap kind, final-output cosine, attention row sums) is recorded in the
variant's ``export_check`` - the parent, not PyTorch, is the reference there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

from edgeaudit.bundle import Bundle
from edgeaudit.compress._ort import ORT_ERRORS, first_line
from edgeaudit.compress.calibration import feeds_from_sentences
from edgeaudit.compress.errors import CompressError

PROBE_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "A cat sat on the mat.",
    "Researchers deploy small transformers to edge devices every day, and they check the explanations.",
    "Why would an explanation change after compression?",
)


@dataclass(frozen=True)
class TapCheck:
    """What the check saw: tap count, probe lengths, and the variant's drift from its parent."""

    taps: int
    lengths: list[int]
    padding_side: str
    final_output_cosine: float
    max_abs_diff: dict[str, float]
    attention_row_sum_error: float

    def export_check(self, preset: str, parent_sha256: str) -> dict[str, Any]:
        """The manifest's ``export_check`` for a variant: not verified against PyTorch, drift vs parent."""
        reason = (f"{preset} variant of {parent_sha256[:12]}: all {self.taps} taps present, float32, parent's "
                  f"shapes; vs parent on {len(self.lengths)} sentences: final-output cosine "
                  f"{self.final_output_cosine:.4f}, attention rows sum to 1 within {self.attention_row_sum_error:.1e}")
        return {"verified": False, "reason": reason, "lengths": list(self.lengths),
                "padding_side": self.padding_side, "max_abs_diff": dict(self.max_abs_diff)}


def _run(path: Path, feed: dict[str, np.ndarray], names: list[str], preset: str) -> dict[str, np.ndarray]:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return dict(zip(names, session.run(names, feed), strict=True))
    except ORT_ERRORS as exc:
        raise CompressError(f"{path}: onnxruntime cannot run the {preset} model ({first_line(exc)})",
                            hint="this preset does not suit this model; try another preset") from None


def _check_declared(path: Path, taps: list[str], preset: str) -> None:
    outputs = {o.name: o.type.tensor_type.elem_type for o in onnx.load(str(path), load_external_data=False).graph.output}
    missing = [name for name in taps if name not in outputs]
    if missing:
        raise CompressError(f"{path}: preset {preset} lost tap output(s) {', '.join(missing[:4])}",
                            hint="this is a bug in the preset; please report it")
    wrong = [name for name in taps if outputs[name] != onnx.TensorProto.FLOAT]
    if wrong:
        kind = onnx.TensorProto.DataType.Name(outputs[wrong[0]])
        raise CompressError(f"{path}: preset {preset} made tap {wrong[0]} {kind} instead of FLOAT",
                            hint="taps must stay float32 so the runtime reads them unchanged")


def _real_rows(array: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Values at real positions: [n_real, ...] for [batch, seq, ...] and [batch, head, seq, seq] arrays."""
    if array.ndim == 4 and array.shape[2] == mask.shape[1] and array.shape[0] == mask.shape[0]:
        return array.transpose(0, 2, 1, 3)[mask]
    if array.shape[:2] == mask.shape:
        return array[mask]
    return array.reshape(1, -1)


def _compare(name: str, ref: np.ndarray, got: np.ndarray, mask: np.ndarray, path: Path, preset: str) -> float:
    if got.dtype != np.float32:
        raise CompressError(f"{path}: tap {name} came back {got.dtype} from onnxruntime, expected float32")
    if got.shape != ref.shape:
        raise CompressError(f"{path}: preset {preset} changed tap {name} from shape {list(ref.shape)} "
                            f"to {list(got.shape)}", hint="this is a bug in the preset; please report it")
    real_ref, real_got = _real_rows(ref, mask), _real_rows(got, mask)
    if not np.isfinite(real_got).all() and np.isfinite(real_ref).all():
        raise CompressError(f"{path}: preset {preset} gives non-finite values in tap {name}",
                            hint="the model overflows at this precision; use an int8 or int4 preset")
    return float(np.nanmax(np.abs(real_ref - real_got)))


def _cosine(ref: np.ndarray, got: np.ndarray) -> float:
    ref, got = ref.reshape(len(ref), -1).astype(np.float64), got.reshape(len(got), -1).astype(np.float64)
    norms = np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1)
    return float(np.mean((ref * got).sum(axis=1) / np.maximum(norms, 1e-30)))


def check_taps(parent: Bundle, variant_path: Path, preset: str) -> TapCheck:
    """Run parent and variant on the probe sentences; raise ``CompressError`` if any tap is unusable."""
    manifest = parent.manifest
    taps = [*manifest.hidden_state_taps, *manifest.attention_taps]
    if manifest.final_output not in taps:
        taps.append(manifest.final_output)
    _check_declared(variant_path, taps, preset)
    feed = feeds_from_sentences(parent, PROBE_SENTENCES, batch_size=len(PROBE_SENTENCES))[0]
    mask = feed["attention_mask"].astype(bool)
    ref, got = _run(parent.onnx_path, feed, taps, "fp32"), _run(variant_path, feed, taps, preset)
    diffs = {name: _compare(name, ref[name], got[name], mask, variant_path, preset) for name in taps}
    rows = np.concatenate([_real_rows(got[name], mask).sum(axis=-1).ravel() for name in manifest.attention_taps])
    final = manifest.final_output
    return TapCheck(
        taps=len(taps),
        lengths=[int(n) for n in mask.sum(axis=1)],
        padding_side=str(manifest.tokenizer["padding_side"]),
        final_output_cosine=_cosine(_real_rows(ref[final], mask), _real_rows(got[final], mask)),
        max_abs_diff={
            "hidden_states": max(diffs[name] for name in manifest.hidden_state_taps),
            "attentions": max(diffs[name] for name in manifest.attention_taps),
            "final_output": diffs[final],
        },
        attention_row_sum_error=float(np.abs(rows - 1.0).max()),
    )
