"""Percentile bootstrap confidence intervals over units (concepts, features or sentences).

A probe score is a mean over units, and a claim rests on the *margin* between the real score and a control's
score. Both get a percentile bootstrap interval (Efron & Tibshirani 1993, ch. 13): resample the units with
replacement, recompute the mean, and read the interval off the ``(1 - confidence) / 2`` and
``(1 + confidence) / 2`` quantiles. For a margin the two score arrays are *paired* (the same concept scored by
the real probe and by the control), so units are resampled jointly and the interval is of the mean
difference — which is much tighter than comparing two separate intervals.

Units whose score is NaN (a score with no data behind it, e.g. the Spearman correlation of a constant vector)
are dropped before resampling; for a margin a unit is dropped when either of its two scores is NaN.

The resamples are an index matrix ``[resample, unit]`` drawn with a seeded generator, processed in chunks
so memory stays bounded for many units (sentences) without a Python loop per resample.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95
_MAX_CHUNK_ENTRIES = 4_000_000  # indices held at once: chunk_rows * n_units


class ConfidenceInterval(NamedTuple):
    """A point estimate with its percentile bootstrap interval; unpacks as ``(estimate, low, high)``."""

    estimate: float
    low: float
    high: float

    def excludes_zero_above(self) -> bool:
        """True when the whole interval is above zero (a margin that a control does not explain)."""
        return bool(np.isfinite(self.low) and self.low > 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {key: (float(value) if np.isfinite(value) else None) for key, value in self._asdict().items()}


NAN_INTERVAL = ConfidenceInterval(float("nan"), float("nan"), float("nan"))


def resample_indices(n_units: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap index matrix ``[resample, unit]``: each row draws ``n_units`` units with replacement."""
    return rng.integers(0, n_units, size=(n_resamples, n_units))


def bootstrap_means(
    values: np.ndarray,  # [unit]
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> np.ndarray:  # [resample]
    """Means of ``n_resamples`` bootstrap resamples of ``values`` (seeded; chunked to bound memory)."""
    values = np.asarray(values, dtype=float)
    n = values.size
    rng = np.random.default_rng(seed)
    rows = max(1, _MAX_CHUNK_ENTRIES // max(n, 1))
    out = np.empty(n_resamples)
    for start in range(0, n_resamples, rows):
        stop = min(start + rows, n_resamples)
        idx = resample_indices(n, stop - start, rng)  # [resample, unit]
        out[start:stop] = values[idx].mean(axis=1)
    return out


def _check(n_resamples: int, confidence: float) -> None:
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def _percentile_interval(
    values: np.ndarray, n_resamples: int, confidence: float, seed: int
) -> ConfidenceInterval:
    if values.size == 0:
        return NAN_INTERVAL
    means = bootstrap_means(values, n_resamples=n_resamples, seed=seed)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return ConfidenceInterval(float(values.mean()), float(low), float(high))


def bootstrap_mean_ci(
    scores: np.ndarray,  # [unit]
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> ConfidenceInterval:
    """Mean of per-unit scores with its percentile bootstrap interval (NaN units dropped)."""
    _check(n_resamples, confidence)
    scores = np.asarray(scores, dtype=float).ravel()
    return _percentile_interval(scores[np.isfinite(scores)], n_resamples, confidence, seed)


def bootstrap_margin_ci(
    scores: np.ndarray,  # [unit]
    baseline: np.ndarray,  # [unit], paired with scores
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> ConfidenceInterval:
    """Mean of ``scores - baseline`` over paired units, with units resampled jointly (NaN pairs dropped)."""
    _check(n_resamples, confidence)
    scores = np.asarray(scores, dtype=float).ravel()
    baseline = np.asarray(baseline, dtype=float).ravel()
    if scores.shape != baseline.shape:
        raise ValueError(f"paired scores differ in length: {scores.size} vs {baseline.size}")
    diff = scores - baseline
    return _percentile_interval(diff[np.isfinite(diff)], n_resamples, confidence, seed)
