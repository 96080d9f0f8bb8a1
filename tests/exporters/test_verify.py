"""The verification criterion: differences relative to each tap's magnitude, absolute below magnitude 1."""

from __future__ import annotations

import numpy as np
from edgeaudit.exporters.verify import tap_difference

MASK = np.array([[1, 1, 1, 0]])  # one sequence, last position padded


def _hidden(scale: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((1, 4, 8)) * scale).astype(np.float32)


def test_large_activations_are_judged_relative_to_their_magnitude():
    # Llama-like residual stream: values ~900, an fp32 rounding-sized difference of 0.02 passes at 1e-4
    want = _hidden(300.0)
    got = want + np.float32(0.02)
    tap = tap_difference("hidden_state_28", want, got, MASK, attention=False)
    assert tap.absolute > 1e-4 and tap.relative < 1e-4
    assert tap.scale == np.abs(want[:, :3]).max()


def test_small_activations_keep_the_absolute_criterion():
    want = _hidden(0.1)
    got = want + np.float32(1e-3)
    tap = tap_difference("hidden_state_1", want, got, MASK, attention=False)
    assert tap.scale == 1.0 and tap.relative == tap.absolute


def test_a_proportional_error_fails_at_any_magnitude():
    for scale in (0.5, 10.0, 1000.0):
        want = _hidden(scale)
        tap = tap_difference("hidden_state_3", want, want * 1.05, MASK, attention=False)
        assert tap.relative > 1e-3, scale


def test_padded_positions_are_not_compared():
    want = _hidden(1.0)
    got = want.copy()
    got[:, 3] += 100.0  # garbage at the padded position only
    assert tap_difference("hidden_state_0", want, got, MASK, attention=False).absolute < 1e-6


def test_non_finite_output_fails():
    want = _hidden(1.0)
    got = want.copy()
    got[0, 1, 2] = np.nan
    assert tap_difference("hidden_state_2", want, got, MASK, attention=False).relative == float("inf")
