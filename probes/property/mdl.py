"""Minimum description length probing: online codelength of labels given representations.

Voita & Titov (2020), "Information-theoretic probing with minimum description length": instead of a probe's
accuracy, measure how many bits it takes to transmit the labels when sender and receiver share the
representations and a probe architecture. *Online code*: order the examples at random and cut them at
``t_1 < t_2 < ... < t_S = n`` (the standard fractions 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.25, 12.5, 25, 50 and
100 % of the data); the first ``t_1`` labels are sent with the uniform code (``log2 K`` bits each); then for
each block a probe trained on all earlier examples encodes the next block's labels at ``-log2 p(y | x)``.
Compression = uniform codelength / online codelength; a representation that makes the task easy to *learn*
from little data compresses more.

The probe is a seeded logistic regression on standardised features (scikit-learn's ``LogisticRegression``).
Two practical details a linear model needs that Voita & Titov's neural probes did not:

- when the training prefix holds a single class, the block is coded with the Laplace-smoothed class
  frequencies of the prefix (the best feature-free code);
- every probability is mixed with the uniform distribution at weight ``PROBABILITY_FLOOR`` (1e-3), so a class
  absent from the prefix costs a finite number of bits; this adds at most ``log2(1 / 0.999)`` ≈ 0.0014 bits
  per example.

Block ends are ``floor(n * fraction)``, clipped to at least 1 and de-duplicated for small ``n``.

**Calibration.** A logistic probe trained on a few dozen examples is over-confident, and on sparse properties
(a feature 3% of concepts have) its online code can cost more than sending the labels with the uniform code —
"compression" below 1, which reads as the representation *hurting*. The online code is therefore a two-part
code per block: the sender codes each block with the cheaper of the probe and the prefix's Laplace-smoothed
class frequencies, and spends one bit per block saying which (so the receiver can decode; the choice is
part of the message, not a peek). The codelength stays an honest codelength, is never more than one bit per
block above the frequency code, and ``coders`` records which coder sent each block. ``probe_codelength`` is
the probe-only code of the original recipe; ``beats_uniform`` says outright whether the result is below the
uniform code.

Selectivity (Hewitt & Liang 2019) is reported against a *control task*: the same representations with labels
assigned per type (``control_data.type_level_labels``), coded over the same classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.parallel import Parallel, delayed

from .._serialise import jsonable
from .control_data import type_level_labels

BLOCK_PERCENTAGES: tuple[float, ...] = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.25, 12.5, 25.0, 50.0, 100.0)
PROBABILITY_FLOOR = 1e-3


@dataclass
class OnlineCodelength:
    """Online (prequential) codelength of one labelling, in bits."""

    codelength: float
    uniform_codelength: float
    n_examples: int
    n_classes: int
    block_ends: list[int]
    block_bits: list[float]  # bits per block; block 0 is the uniform-coded prefix
    coders: list[str] | None = None  # per block: "uniform" (the first), "probe" or "frequency"
    probe_codelength: float | None = None  # the probe-only online code (no per-block choice)

    @property
    def compression(self) -> float:
        return self.uniform_codelength / self.codelength if self.codelength > 0 else float("inf")

    @property
    def beats_uniform(self) -> bool:
        return self.codelength < self.uniform_codelength

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "codelength_bits": self.codelength,
                "uniform_codelength_bits": self.uniform_codelength,
                "compression": self.compression,
                "n_examples": self.n_examples,
                "n_classes": self.n_classes,
                "block_ends": self.block_ends,
                "block_bits": self.block_bits,
                "coders": self.coders,
                "probe_codelength_bits": self.probe_codelength,
                "beats_uniform": self.beats_uniform,
            }
        )


def block_ends(n: int, percentages: Sequence[float] = BLOCK_PERCENTAGES) -> list[int]:
    """Ends ``t_1 < ... < t_S = n`` of the online-code blocks."""
    ends = sorted({min(n, max(1, int(n * p / 100.0))) for p in percentages} | {n})
    return ends


def _probe(seed: int, C: float) -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000, random_state=seed))


def _frequency_probabilities(y_train: np.ndarray, n_test: int, n_classes: int) -> np.ndarray:  # [example, class]
    """The best feature-free code: Laplace-smoothed class frequencies of the prefix."""
    counts = np.bincount(y_train, minlength=n_classes) + 1.0
    return np.tile(counts / counts.sum(), (n_test, 1))


def _block_probabilities(
    X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, n_classes: int, *, seed: int, C: float
) -> np.ndarray:  # [example, class]
    """Probability of each class for the test block, from a probe fitted on the training prefix."""
    seen = np.unique(y_train)
    if seen.size < 2:
        probs = _frequency_probabilities(y_train, len(X_test), n_classes)
    else:
        model = _probe(seed, C).fit(X_train, y_train)
        probs = np.zeros((len(X_test), n_classes))
        probs[:, model.classes_] = model.predict_proba(X_test)
    return (1.0 - PROBABILITY_FLOOR) * probs + PROBABILITY_FLOOR / n_classes


def _encode(y: Sequence[Any], classes: Sequence[Any] | None) -> tuple[np.ndarray, int]:
    y = np.asarray(y)
    classes = np.unique(y) if classes is None else np.unique(np.asarray(classes))
    if classes.size < 2:
        raise ValueError(f"an online code needs at least 2 classes, got {classes.size}")
    codes = np.searchsorted(classes, y)
    if np.any(codes >= classes.size) or np.any(classes[np.minimum(codes, classes.size - 1)] != y):
        raise ValueError("labels contain values outside the given classes")
    return codes, int(classes.size)


def online_codelength(
    X: np.ndarray,  # [example, dim]
    y: Sequence[Any],  # [example] labels (binary or multi-class)
    *,
    classes: Sequence[Any] | None = None,
    percentages: Sequence[float] = BLOCK_PERCENTAGES,
    seed: int = 0,
    C: float = 1.0,
    calibrated: bool = True,
) -> OnlineCodelength:
    """Online codelength of ``y`` given ``X`` (Voita & Titov 2020), examples ordered by a seeded shuffle.

    ``calibrated`` codes each block with the cheaper of probe and class frequencies plus one bit for the
    choice (module docstring); ``False`` is the probe-only original.
    """
    X = np.asarray(X, dtype=float)
    codes, k = _encode(y, classes)
    if len(X) != len(codes):
        raise ValueError(f"{len(X)} representations for {len(codes)} labels")
    order = np.random.default_rng(seed).permutation(len(codes))
    X, codes = X[order], codes[order]
    ends = block_ends(len(codes), percentages)
    bits = [ends[0] * float(np.log2(k))]
    probe_bits = list(bits)
    coders = ["uniform"]
    for start, stop in pairwise(ends):
        block = np.arange(stop - start)
        probs = _block_probabilities(X[:start], codes[:start], X[start:stop], k, seed=seed, C=C)
        probe = float(-np.log2(probs[block, codes[start:stop]]).sum())
        probe_bits.append(probe)
        if not calibrated:
            bits.append(probe)
            coders.append("probe")
            continue
        frequency_probs = (1.0 - PROBABILITY_FLOOR) * _frequency_probabilities(codes[:start], stop - start, k)
        frequency = float(-np.log2(frequency_probs[block, codes[start:stop]] + PROBABILITY_FLOOR / k).sum())
        coders.append("probe" if probe <= frequency else "frequency")
        bits.append(min(probe, frequency) + 1.0)  # + the one bit that names the coder
    return OnlineCodelength(float(sum(bits)), len(codes) * float(np.log2(k)), len(codes), k, ends, bits,
                            coders, float(sum(probe_bits)))


@dataclass
class MDLProbeResult:
    """Online codelength of the real labels and of control-task labels on the same representations."""

    real: OnlineCodelength
    control: OnlineCodelength

    @property
    def selectivity(self) -> float:
        """Real compression minus control-task compression (Hewitt & Liang's selectivity, in MDL terms)."""
        return self.real.compression - self.control.compression

    @property
    def codelength_gap_bits(self) -> float:
        """Bits saved on the real labels relative to the control labels (same classes, same uniform code)."""
        return self.control.codelength - self.real.codelength

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "real": self.real.to_dict(),
                "control": self.control.to_dict(),
                "selectivity": self.selectivity,
                "codelength_gap_bits": self.codelength_gap_bits,
            }
        )


def mdl_probe(
    X: np.ndarray,  # [example, dim]
    y: Sequence[Any],  # [example]
    *,
    types: Sequence[str],  # [example] the type of each example (word, concept) for the control task
    seed: int = 0,
    C: float = 1.0,
    percentages: Sequence[float] = BLOCK_PERCENTAGES,
) -> MDLProbeResult:
    """MDL of the real labels and of type-level control labels drawn from the real label distribution."""
    y = np.asarray(y)
    if len(types) != len(y):
        raise ValueError(f"{len(types)} types for {len(y)} labels")
    control = type_level_labels(y, [str(t) for t in types], seed=seed)
    classes = np.unique(y)
    kw: dict[str, Any] = {"classes": classes, "percentages": percentages, "seed": seed, "C": C}
    return MDLProbeResult(online_codelength(X, y, **kw), online_codelength(X, control, **kw))


def feature_mdl(
    X: np.ndarray,  # [concept, dim]
    Y: np.ndarray,  # [concept, feature] binary norms
    *,
    concepts: Sequence[str],
    features: Sequence[int] | None = None,
    seed: int = 0,
    C: float = 1.0,
    n_jobs: int | None = None,
) -> dict[int, MDLProbeResult]:
    """``mdl_probe`` for each binary feature (one binary task per property); features with one class skipped.

    ``n_jobs`` worker processes share the features (scikit-learn's convention: None = 1, -1 = all cores); each
    feature's codelengths are the same computation wherever they run."""
    Y = np.asarray(Y)
    columns = [int(j) for j in (range(Y.shape[1]) if features is None else features) if np.unique(Y[:, j]).size == 2]
    results = Parallel(n_jobs=n_jobs)(delayed(mdl_probe)(X, Y[:, j], types=concepts, seed=seed, C=C)
                                      for j in columns)
    return dict(zip(columns, results, strict=True))
