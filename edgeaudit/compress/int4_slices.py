"""onnxruntime's HQQ and k-quant 4-bit solvers with their working copies made a slice of rows at a time.

Both solvers work on a whole weight at once. HQQ (``HQQWeightOnlyQuantizer``) makes a padded copy, then every
iteration of its proximal solver allocates about ten float tensors of the weight's size; k-quant
(``neural_compressor.weight_only``) tries 20 candidate scales with float64 temporaries of the weight's size. On
an LLM's tied lm_head (SmolLM2: 49,152 × 576, 113 MB) that took ``compress`` to 2.1 GiB (HQQ) and 1.9 GiB
(k-quant). The arithmetic of both is per quantisation group (32 inputs of one output column), so it can run on
slices of output columns. k-quant has no global state, so its slices are simply concatenated. HQQ's stopping
rule is global — it stops at the first iteration whose mean absolute error over the *whole* weight does not
improve — so here every iteration walks the slices in turn and sums their errors before deciding; iterations,
zero points and scales are those of the unsliced solver (the mean is summed in float64 instead of torch's
float32 reduction: a stop could differ only on an exact tie). Integer codes come back as uint8 (the packers
accept them unchanged). Tests check both against onnxruntime's own bytes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

#: output columns per slice: 4,096 × 576 floats is 9 MB per working copy on SmolLM2's lm_head
SLICE_ROWS = 4096

#: onnxruntime's defaults for the proximal solver (``HQQWeightOnlyQuantizer.optimize_weights``)
SOLVER = {"lp_norm": 0.7, "beta": 1e1, "kappa": 1.01, "iters": 20}


def frugal_hqq_quantizer(config: Any) -> Any:
    """An ``HQQWeightOnlyQuantizer`` for ``config`` whose ``quantize_internal`` works slice by slice."""
    from onnxruntime.quantization.matmul_nbits_quantizer import HQQWeightOnlyQuantizer

    class SlicedHQQ(HQQWeightOnlyQuantizer):
        def quantize_internal(self, tensor, bits=4, channel_wise=True, group_size=64, optimize=True,
                              round_zero=True, axis=1):
            if not channel_wise or axis != 1 or group_size is None:  # paths our presets never take
                return super().quantize_internal(tensor, bits, channel_wise, group_size, optimize, round_zero, axis)
            return quantize_sliced(tensor, bits, group_size, optimize, round_zero)

    return SlicedHQQ(config)


def _groups(tensor, rows: slice, group_size: int):
    """Rows ``rows`` of ``tensor`` [N, K] as float32 groups [rows × K/group, group], zero-padded along K."""
    import torch

    part = tensor[rows].float()
    pad = (group_size - part.shape[1] % group_size) % group_size
    return torch.nn.functional.pad(part, (0, pad), "constant", 0).reshape(-1, group_size)


def _shrink(x, beta: float, p: float):
    import torch

    return torch.sign(x) * torch.nn.functional.relu(torch.abs(x) - (1.0 / beta) * torch.pow(torch.abs(x) + 1e-8, p - 1))


def quantize_sliced(tensor, bits: int, group_size: int, optimize: bool = True, round_zero: bool = True):
    """HQQ of ``tensor`` [N, K] in groups of ``group_size`` along K: (codes [N, K'] uint8, scales, zeros)."""
    import torch

    n_rows, n_cols = tensor.shape
    padded_cols = n_cols + (group_size - n_cols % group_size) % group_size
    per_row = padded_cols // group_size
    slices = [slice(start, min(start + SLICE_ROWS, n_rows)) for start in range(0, n_rows, SLICE_ROWS)]
    group_slices = [slice(s.start * per_row, s.stop * per_row) for s in slices]
    max_v = 2**bits - 1

    lows, highs = [], []
    for rows in slices:
        groups = _groups(tensor, rows, group_size)
        lows.append(groups.min(axis=1, keepdim=True)[0])
        highs.append(groups.max(axis=1, keepdim=True)[0])
    low, high = torch.cat(lows), torch.cat(highs)
    span = high - low
    span[span == 0] = max_v
    scale = (max_v / span).clamp(max=2e4)  # the inverse scale, as onnxruntime keeps it while solving
    zero = -low * scale
    if round_zero:
        zero = torch.round(zero)

    if optimize:
        zero = _solve_zero(tensor, slices, group_slices, group_size, scale, zero, max_v)

    codes = torch.empty((n_rows, padded_cols), dtype=torch.uint8)
    for rows, groups_at in zip(slices, group_slices, strict=True):
        groups = _groups(tensor, rows, group_size)
        quantised = torch.round(groups * scale[groups_at] + zero[groups_at]).clamp(0, max_v)
        codes[rows] = quantised.reshape(-1, padded_cols).to(torch.uint8)
    scale = (1.0 / scale).reshape(n_rows, -1)
    return codes, scale.to(tensor.dtype), zero.reshape(n_rows, -1).to(tensor.dtype)


def _solve_zero(tensor, slices, group_slices, group_size: int, scale, zero, max_v: int):
    """onnxruntime's proximal solver for the zero points, run slice by slice in lockstep."""
    import torch

    beta, best_error = SOLVER["beta"], 1e4
    total = scale.shape[0] * group_size  # every (padded) weight entry: groups x group size
    for _ in range(SOLVER["iters"]):
        updated = torch.empty_like(zero)
        error = 0.0
        for rows, groups_at in zip(slices, group_slices, strict=True):
            w_f = _groups(tensor, rows, group_size)
            s, z = scale[groups_at], zero[groups_at]
            w_q = torch.round(w_f * s + z).clamp(0, max_v)
            w_r = (w_q - z) / s
            w_e = _shrink(w_f - w_r, beta, SOLVER["lp_norm"])
            updated[groups_at] = torch.mean(w_q - (w_f - w_e) * s, axis=1, keepdim=True)
            error += float(torch.abs(w_f - w_r).sum(dtype=torch.float64))
        zero = updated
        beta *= SOLVER["kappa"]
        current = error / total
        if current < best_error:
            best_error = current
        else:
            break
    return zero


def kquant_sliced(data: np.ndarray, num_bits: int = 4, group_size: int = 32, *, solver=None):
    """onnxruntime's k-quant of ``data`` [N, K'] (K' a multiple of ``group_size``) run on slices of rows:
    (codes [groups, group_size] uint8, scales [groups, 1] float64, zero points [groups, 1] uint8)."""
    from onnxruntime.quantization.neural_compressor import weight_only

    solver = solver or weight_only.quant_tensor_k_quant_cpu
    codes, scales, zeros = [], [], []
    for start in range(0, data.shape[0], SLICE_ROWS):
        q_weight, scale, zero = solver(data[start:start + SLICE_ROWS], num_bits, group_size)
        codes.append(q_weight.astype(np.uint8))
        scales.append(scale)
        zeros.append(zero)
    return np.concatenate(codes), np.concatenate(scales), np.concatenate(zeros)


@contextlib.contextmanager
def sliced_kquant() -> Iterator[None]:
    """Within the block, onnxruntime's RTN/k-quant path quantises with ``kquant_sliced`` (it looks the solver
    up by name in ``weight_only`` at each call)."""
    from onnxruntime.quantization.neural_compressor import weight_only

    original = weight_only.quant_tensor_k_quant_cuda
    weight_only.quant_tensor_k_quant_cuda = lambda data, num_bits=4, group_size=32: kquant_sliced(
        data, num_bits, group_size, solver=original)
    try:
        yield
    finally:
        weight_only.quant_tensor_k_quant_cuda = original
