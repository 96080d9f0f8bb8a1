"""Result types of a property probe: the real run, each control, and the margins between them.

Per-unit score arrays are kept on the objects (for later bootstraps and plots); ``to_dict()`` gives the
JSON-serialisable summary the audit stores: means, bootstrap intervals, margins, p-values and flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._serialise import jsonable
from ..bootstrap import ConfidenceInterval, bootstrap_margin_ci, bootstrap_mean_ci
from .crossval import CrossValScores


@dataclass(frozen=True)
class BootstrapSettings:
    """How every interval of one probe is computed (one seed: all margins share their resamples)."""

    n_resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0

    def mean(self, scores: np.ndarray) -> ConfidenceInterval:
        return bootstrap_mean_ci(
            scores, n_resamples=self.n_resamples, confidence=self.confidence, seed=self.seed
        )

    def margin(self, scores: np.ndarray, baseline: np.ndarray) -> ConfidenceInterval:
        return bootstrap_margin_ci(
            scores, baseline, n_resamples=self.n_resamples, confidence=self.confidence, seed=self.seed
        )


def _intervals_dict(intervals: dict[str, ConfidenceInterval]) -> dict[str, Any]:
    return {name: ci.to_dict() for name, ci in intervals.items()}


@dataclass
class ScoredRun:
    """Per-unit scores of one run and a bootstrap interval of each metric's mean."""

    scores: CrossValScores
    intervals: dict[str, ConfidenceInterval]

    @classmethod
    def from_scores(cls, scores: CrossValScores, bootstrap: BootstrapSettings) -> ScoredRun:
        return cls(scores, {name: bootstrap.mean(v) for name, v in scores.per_unit.items()})

    @property
    def means(self) -> dict[str, float]:
        return self.scores.means

    def to_dict(self) -> dict[str, Any]:
        return {**self.scores.to_dict(), "intervals": _intervals_dict(self.intervals)}


@dataclass
class ControlResult:
    """One control's scores and its margin to the real run (real − control, paired over units)."""

    description: str
    splits: str
    n_runs: int
    run: ScoredRun
    margins: dict[str, ConfidenceInterval]
    margin_name: str = "margin"
    p_values: dict[str, float] | None = None
    nonsense: bool = False
    uninformative: dict[str, str] = field(default_factory=dict)  # metric -> why this control cannot inform it

    @property
    def p_value_floor(self) -> float | None:
        """The smallest p-value ``n_runs`` permutations can give, ``1 / (n_runs + 1)`` (None: not a permutation)."""
        return None if self.p_values is None else 1.0 / (self.n_runs + 1)

    @property
    def real_above_control(self) -> dict[str, bool]:
        """Per metric: the margin's whole interval is above zero (the control does not explain the score)."""
        return {name: ci.excludes_zero_above() for name, ci in self.margins.items()}

    @property
    def cannot_tell_sense_from_nonsense(self) -> dict[str, bool] | None:
        """For nonsense-norm controls: per metric, True when the nonsense scores as well as the real norms."""
        if not self.nonsense:
            return None
        return {name: not above for name, above in self.real_above_control.items()}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "description": self.description,
            "splits": self.splits,
            "n_runs": self.n_runs,
            **self.run.to_dict(),
            "margin_name": self.margin_name,
            "margins": _intervals_dict(self.margins),
            "real_above_control": self.real_above_control,
        }
        if self.p_values is not None:
            out["p_values"] = self.p_values
            out["p_value_floor"] = self.p_value_floor
        if self.uninformative:
            out["uninformative"] = dict(self.uninformative)
        if self.nonsense:
            out["cannot_tell_sense_from_nonsense"] = self.cannot_tell_sense_from_nonsense
        return jsonable(out)


@dataclass
class PropertyProbeResult:
    """The real property-probe scores next to every applicable control, run with the same mapper and folds."""

    real: ScoredRun
    controls: dict[str, ControlResult]
    skipped_controls: dict[str, str] = field(default_factory=dict)  # name -> reason
    chance: dict[str, float] = field(default_factory=dict)  # metric -> score of an unrelated prediction
    settings: dict[str, Any] = field(default_factory=dict)

    def margin(self, control: str, metric: str) -> ConfidenceInterval:
        """Bootstrap interval of real − control for one metric."""
        return self.controls[control].margins[metric]

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "probe": "property_inference",
                "settings": self.settings,
                "chance": self.chance,
                "real": self.real.to_dict(),
                "controls": {name: c.to_dict() for name, c in self.controls.items()},
                "skipped_controls": self.skipped_controls,
            }
        )


def p_value(real_mean: float, null_means: np.ndarray) -> float:
    """Permutation p-value ``(1 + #{null >= real}) / (1 + n)`` (Phipson & Smyth 2010; never 0)."""
    null_means = np.asarray(null_means, dtype=float)
    if not np.isfinite(real_mean):
        return float("nan")
    return float((1 + np.sum(null_means >= real_mean)) / (1 + null_means.size))
