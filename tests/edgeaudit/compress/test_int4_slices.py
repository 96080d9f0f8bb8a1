"""The sliced HQQ and k-quant solvers must give onnxruntime's bytes exactly, whatever the slicing."""

from __future__ import annotations

import numpy as np
import pytest
from onnxruntime.quantization.matmul_nbits_quantizer import HQQWeightOnlyQuantConfig, HQQWeightOnlyQuantizer

from edgeaudit.compress import int4_slices

try:
    import torch
except ImportError:  # the device install: k-quant is numpy-only, HQQ needs PyTorch
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="HQQ quantises with PyTorch (the [export] extra)")
CONFIG = HQQWeightOnlyQuantConfig(block_size=32, bits=4)


def _weight(k: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((k, n)).astype(np.float32)
    weight *= rng.gamma(1.0, 1.0, size=n).astype(np.float32)  # columns of very different ranges
    weight[:32, 1] = 0.25  # one constant group: the zero-span branch
    return weight


def _uniform(k: int, n: int, seed: int) -> np.ndarray:
    """Weights on which the solver stops before its iteration cap (measured: 14 of 20 at 64 x 300)."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(k, n)).astype(np.float32)


@needs_torch
@pytest.mark.parametrize(("make", "k", "n", "slice_rows"),
                         [(_weight, 64, 300, 7), (_weight, 70, 100, 1000), (_weight, 96, 257, 64),
                          (_uniform, 64, 300, 50), (_uniform, 80, 130, 3)])
def test_sliced_solver_gives_onnxruntime_bytes(monkeypatch, make, k, n, slice_rows):
    monkeypatch.setattr(int4_slices, "SLICE_ROWS", slice_rows)
    tensor = torch.from_numpy(make(k, n, seed=k + n)).T  # the quantiser is handed the transposed weight
    codes_ref, scale_ref, zero_ref = HQQWeightOnlyQuantizer(CONFIG).quantize_internal(tensor, bits=4, group_size=32)
    codes, scale, zero = int4_slices.frugal_hqq_quantizer(CONFIG).quantize_internal(tensor, bits=4, group_size=32)
    assert codes.dtype == torch.uint8
    assert torch.equal(codes.to(torch.int32), codes_ref)
    assert torch.equal(scale, scale_ref)
    assert torch.equal(zero, zero_ref)


@needs_torch
def test_solver_stops_early_on_the_whole_weights_error(monkeypatch):
    """Guards the comparison above: without an early stop the global stopping rule would go untested."""
    steps = []
    real_shrink = int4_slices._shrink

    def counting(x, beta, p):
        steps.append(beta)
        return real_shrink(x, beta, p)

    monkeypatch.setattr(int4_slices, "_shrink", counting)
    monkeypatch.setattr(int4_slices, "SLICE_ROWS", 50)
    int4_slices.quantize_sliced(torch.from_numpy(_uniform(64, 300, seed=0)).T, bits=4, group_size=32)
    iterations = len(set(steps))
    assert 1 < iterations < int4_slices.SOLVER["iters"]
    assert len(steps) == iterations * 6  # every slice (300 rows / 50) took part in every iteration


@pytest.mark.parametrize(("k", "n", "slice_rows"), [(64, 300, 7), (96, 130, 1000), (32, 257, 64)])
def test_sliced_kquant_gives_onnxruntime_bytes(monkeypatch, k, n, slice_rows):
    from onnxruntime.quantization.neural_compressor import weight_only

    monkeypatch.setattr(int4_slices, "SLICE_ROWS", slice_rows)
    data = np.ascontiguousarray(_weight(k, n, seed=k * n).T)  # [N, K]: what onnxruntime hands the solver
    reference = weight_only.quant_tensor_k_quant_cpu(data, 4, 32)
    sliced = int4_slices.kquant_sliced(data, 4, 32)
    assert sliced[0].dtype == np.uint8
    np.testing.assert_array_equal(sliced[0], reference[0].astype(np.uint8))
    np.testing.assert_array_equal(sliced[1], reference[1])
    np.testing.assert_array_equal(sliced[2], reference[2])


def test_sliced_kquant_is_installed_only_inside_its_block(monkeypatch):
    from onnxruntime.quantization.neural_compressor import weight_only

    original = weight_only.quant_tensor_k_quant_cuda
    calls = []
    monkeypatch.setattr(int4_slices, "kquant_sliced", lambda *args, **kwargs: calls.append(args) or "sliced")
    with int4_slices.sliced_kquant():
        assert weight_only.quant_tensor_k_quant_cuda(np.zeros((2, 32), np.float32)) == "sliced"
    assert weight_only.quant_tensor_k_quant_cuda is original and len(calls) == 1
