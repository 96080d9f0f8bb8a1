"""Structural probes: a low-rank linear map whose geometry reproduces the dependency tree.

Hewitt & Manning (2019), "A structural probe for finding syntax in word representations":

- the **distance probe** learns ``B`` (rank × hidden) so that ``‖B(hᵢ − hⱼ)‖²`` approximates the number of
  tree edges between words i and j;
- the **depth probe** learns ``B`` so that ``‖B hᵢ‖²`` approximates word i's depth in the tree.

Loss (as in the paper): L1 between predicted and gold values, summed over word pairs (distance) or words
(depth) of a sentence, divided by the squared sentence length (distance) or the length (depth), and averaged
over sentences. Training is full-batch L-BFGS (``scipy.optimize``) with an analytic gradient, no autograd.
L1 is not differentiable at zero residual, so it is replaced by the pseudo-Huber ``√(r² + δ²) − δ`` with a
small ``smoothing`` δ (identical to L1 for ``|r| ≫ δ``); ``smoothing=0`` gives plain L1 with a subgradient.

Gold targets come from ``tree_distances`` / ``tree_depths``; evaluation metrics and the linear-chain baseline
live in ``probes.structural_metrics``.

Features are standardised (each dimension to zero mean and unit variance on the training words) before ``B``
is fitted. A per-dimension rescaling is absorbed by ``B``, so the probe can express exactly the same maps; it
only conditions the optimisation. That matters for decoders, whose hidden states carry a few dimensions (and
a first position) hundreds of times larger than the rest: unscaled, L-BFGS stops at its iteration cap far from
the optimum. Whether the fit converged is reported (``fit_report``), never hidden.

Stopping. With held-out development sentences (``fit(..., X_dev=, heads_dev=)``), the fit stops where the
development loss stops falling and keeps the parameters of its lowest development loss — the paper's rule (it
trains until the dev loss no longer improves). On real encoders and decoders the training loss keeps falling for
hundreds of L-BFGS iterations while the dev loss turns upward after 20-80 (a rank-32 map of a 384-576-wide layer
has 12-18k parameters for a few thousand training words), so a fixed iteration budget both wastes time and scores
an over-fitted map. The dev loss is checked every ``check_every`` iterations; after ``patience`` checks without a
relative improvement of ``min_improvement`` the fit has *converged* (its minimum lies behind it). Reaching
``max_iter`` first is reported as not converged. Without dev sentences the fit runs L-BFGS to its own tolerance or
``max_iter``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.preprocessing import StandardScaler

from ._trees import tree_depths, tree_distances
from .structural_metrics import DepthMetrics, DistanceMetrics, depth_metrics, distance_metrics


def split_sentences(
    num_sentences: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle sentence indices with ``seed`` and cut them into disjoint train/dev/test index arrays.

    Splitting by sentence (never by word) keeps every word of a test sentence unseen during training.
    """
    if num_sentences < 0:
        raise ValueError("num_sentences must be >= 0")
    frac = np.asarray(fractions, dtype=np.float64)
    if frac.shape != (3,) or np.any(frac < 0) or not np.isclose(frac.sum(), 1.0):
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    order = np.random.default_rng(seed).permutation(num_sentences)
    n_train = int(round(frac[0] * num_sentences))
    n_dev = int(round(frac[1] * num_sentences))
    n_dev = min(n_dev, num_sentences - n_train)
    return order[:n_train], order[n_train : n_train + n_dev], order[n_train + n_dev :]


def _robust_l1(residual: np.ndarray, smoothing: float) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-Huber value and derivative (plain L1 and its sign when ``smoothing == 0``)."""
    if smoothing == 0:
        return np.abs(residual), np.sign(residual)
    root = np.sqrt(residual**2 + smoothing**2)
    return root - smoothing, residual / root


def _stack_words(X: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate ``[word, hidden]`` arrays; returns ``[all_words, hidden]`` and per-sentence offsets."""
    if len(X) == 0:
        raise ValueError("no sentences given")
    mats = [np.asarray(x, dtype=np.float64) for x in X]
    dims = {m.shape[1] if m.ndim == 2 else None for m in mats}
    if len(dims) != 1 or None in dims:
        raise ValueError(f"every sentence must be a [word, hidden] array with one hidden size, got {dims}")
    offsets = np.cumsum([0] + [m.shape[0] for m in mats])
    return np.concatenate(mats, axis=0), offsets


def length_buckets(lengths: np.ndarray, *, max_padding: float = 1.2, max_size: int = 128) -> list[np.ndarray]:
    """Sentence indices grouped by length so that padding every sentence of a group to its longest costs at most
    ``max_padding`` times the group's real ``Σ n²`` word pairs (and a group holds at most ``max_size`` sentences).

    Why: the distance objective works on ``[sentence, word, word]`` blocks, so its cost is the padded pair count.
    Fixed groups of 128 sorted sentences padded EWT's training sentences to 4.9× their real pairs (each group's
    longest sentence sets everyone's size); bounding the padding costs a few more, smaller array operations."""
    order = np.argsort(lengths, kind="stable")
    groups: list[np.ndarray] = []
    start, real = 0, 0
    for end, s in enumerate(order):
        n2 = int(lengths[s]) ** 2  # ascending: the newcomer is the group's longest
        size = end - start + 1
        if size > 1 and (size > max_size or size * n2 > max_padding * (real + n2)):
            groups.append(order[start:end])
            start, real = end, 0
        real += n2
    if len(order):
        groups.append(order[start:])
    return groups


class _DistanceObjective:
    """Loss and gradient of the distance probe, with sentences padded into length buckets.

    For ``P = H Bᵀ`` and ``wᵢⱼ = ∂loss/∂predᵢⱼ``: ``∂loss/∂Pₐ = 2 Σⱼ (wₐⱼ + wⱼₐ)(Pₐ − Pⱼ)``, and
    ``∂loss/∂B = (∂loss/∂P)ᵀ H``, so each evaluation costs two big matrix products plus ``O(n²·rank)``
    per sentence.
    """

    def __init__(self, X: Sequence[np.ndarray], targets: Sequence[np.ndarray], smoothing: float):
        self.H, offsets = _stack_words(X)
        self.smoothing = smoothing
        lengths = np.diff(offsets)
        pad_row = self.H.shape[0]
        self.buckets = []
        for chunk in length_buckets(lengths):
            m = int(lengths[chunk].max())
            idx = np.full((len(chunk), m), pad_row, dtype=np.int64)
            gold = np.zeros((len(chunk), m, m))
            for row, s in enumerate(chunk):
                n = lengths[s]
                idx[row, :n] = np.arange(offsets[s], offsets[s + 1])
                gold[row, :n, :n] = targets[s]
            mask = idx != pad_row
            pairs = mask[:, :, None] & mask[:, None, :] & ~np.eye(m, dtype=bool)
            weight = pairs / (lengths[chunk].astype(np.float64) ** 2 * len(lengths))[:, None, None]
            self.buckets.append((idx, mask, gold, weight))

    def predict_padded(self, P: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Pb = P[idx]  # [sentence, word, rank]
        sq = np.einsum("swk,swk->sw", Pb, Pb)
        pred = sq[:, :, None] + sq[:, None, :] - 2.0 * (Pb @ np.swapaxes(Pb, 1, 2))
        return Pb, pred

    def __call__(self, b: np.ndarray, rank: int) -> tuple[float, np.ndarray]:
        B = b.reshape(rank, -1)
        P = np.vstack([self.H @ B.T, np.zeros((1, rank))])  # [all_words + pad, rank]
        grad_P = np.zeros_like(P)
        loss = 0.0
        for idx, mask, gold, weight in self.buckets:
            Pb, pred = self.predict_padded(P, idx)
            value, slope = _robust_l1(pred - gold, self.smoothing)
            loss += float((weight * value).sum())
            w = weight * slope
            w = w + np.swapaxes(w, 1, 2)
            g = 2.0 * (w.sum(axis=2)[:, :, None] * Pb - w @ Pb)
            grad_P[idx[mask]] = g[mask]
        return loss, (grad_P[:-1].T @ self.H).ravel()

    def mean_prediction_and_target(self, B: np.ndarray) -> tuple[float, float]:
        P = np.vstack([self.H @ B.T, np.zeros((1, B.shape[0]))])
        pred_sum = gold_sum = 0.0
        for idx, _, gold, weight in self.buckets:
            pred_sum += float((weight * self.predict_padded(P, idx)[1]).sum())
            gold_sum += float((weight * gold).sum())
        return pred_sum, gold_sum


class _DepthObjective:
    """Loss and gradient of the depth probe: ``∂loss/∂Pᵢ = 2 wᵢ Pᵢ`` with ``wᵢ = ∂loss/∂predᵢ``."""

    def __init__(self, X: Sequence[np.ndarray], targets: Sequence[np.ndarray], smoothing: float):
        self.H, offsets = _stack_words(X)
        self.smoothing = smoothing
        lengths = np.diff(offsets).astype(np.float64)
        self.gold = np.concatenate([np.asarray(t, dtype=np.float64) for t in targets])
        self.weight = np.repeat(1.0 / (lengths * len(lengths)), np.diff(offsets))  # [all_words]

    def __call__(self, b: np.ndarray, rank: int) -> tuple[float, np.ndarray]:
        B = b.reshape(rank, -1)
        P = self.H @ B.T
        value, slope = _robust_l1(np.einsum("wk,wk->w", P, P) - self.gold, self.smoothing)
        grad_P = 2.0 * (self.weight * slope)[:, None] * P
        return float((self.weight * value).sum()), (grad_P.T @ self.H).ravel()

    def mean_prediction_and_target(self, B: np.ndarray) -> tuple[float, float]:
        P = self.H @ B.T
        return float((self.weight * np.einsum("wk,wk->w", P, P)).sum()), float(
            (self.weight * self.gold).sum()
        )


class _DevLossWatch:
    """L-BFGS callback: the development loss every ``check_every`` iterations, the best parameters so far, and a
    stop (``StopIteration``, which scipy turns into a clean return) once ``patience`` checks brought no relative
    improvement of ``min_improvement``."""

    def __init__(self, dev, rank: int, check_every: int, patience: int, min_improvement: float,
                 x0: np.ndarray, train_loss: float):
        self.dev, self.rank = dev, rank
        self.check_every, self.patience, self.min_improvement = check_every, patience, min_improvement
        self.iteration = 0
        self.stale = 0
        self.stopped = False
        self.best_x, self.best_iter, self.best_train_loss = x0.copy(), 0, train_loss
        self.best_loss = dev(x0, rank)[0]

    def observe(self, iteration: int, x: np.ndarray, train_loss: float, *, final: bool = False) -> None:
        loss = self.dev(x, self.rank)[0]
        if loss < self.best_loss * (1.0 - self.min_improvement):
            self.best_x, self.best_iter, self.best_train_loss, self.best_loss = x.copy(), iteration, train_loss, loss
            self.stale = 0
        elif not final:
            self.stale += 1

    def __call__(self, intermediate_result) -> None:
        self.iteration += 1
        if self.iteration % self.check_every:
            return
        self.observe(self.iteration, intermediate_result.x, float(intermediate_result.fun))
        if self.stale >= self.patience:
            self.stopped = True
            raise StopIteration


class _StructuralProbe(BaseEstimator):
    """Shared fitting machinery: random init (seeded) rescaled to the target's scale, then L-BFGS."""

    def __init__(
        self,
        rank: int = 64,
        *,
        l2: float = 0.0,
        smoothing: float = 1e-2,
        max_iter: int = 500,
        tol: float = 1e-9,
        random_state: int = 0,
        standardize: bool = True,
        check_every: int = 5,
        patience: int = 4,
        min_improvement: float = 1e-4,
    ):
        self.standardize = standardize
        self.check_every = check_every
        self.patience = patience
        self.min_improvement = min_improvement
        self.rank = rank
        self.l2 = l2
        self.smoothing = smoothing
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _objective(self, X, heads):  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def fit(self, X: Sequence[np.ndarray], heads: Sequence[np.ndarray], *,
            X_dev: Sequence[np.ndarray] | None = None,
            heads_dev: Sequence[np.ndarray] | None = None) -> _StructuralProbe:
        """Fit on sentences ``X`` (each ``[word, hidden]``) with gold trees ``heads`` (each ``[word]``); with
        ``X_dev``/``heads_dev``, stop at the development loss's minimum (module docstring)."""
        self._check_sentences(X, heads, "training")
        if (X_dev is None) != (heads_dev is None):
            raise ValueError("give both X_dev and heads_dev, or neither")
        if X_dev is not None:
            self._check_sentences(X_dev, heads_dev, "development")
        if self.rank < 1:
            raise ValueError("rank must be >= 1")
        if self.check_every < 1 or self.patience < 1 or self.min_improvement < 0:
            raise ValueError("check_every and patience must be >= 1 and min_improvement >= 0")
        self.scaler_ = StandardScaler().fit(_stack_words(X)[0]) if self.standardize else None
        objective = self._objective(self._scaled(X), heads)
        dev = self._objective(self._scaled(X_dev), heads_dev) if X_dev is not None and len(X_dev) else None
        hidden = objective.H.shape[1]
        rng = np.random.default_rng(self.random_state)
        B0 = rng.standard_normal((self.rank, hidden)) / np.sqrt(hidden)
        pred, gold = objective.mean_prediction_and_target(B0)
        if pred > 0 and gold > 0:
            B0 *= np.sqrt(gold / pred)

        def loss_and_grad(b: np.ndarray) -> tuple[float, np.ndarray]:
            loss, grad = objective(b, self.rank)
            return loss + self.l2 * float(b @ b), grad + 2.0 * self.l2 * b

        x0 = B0.ravel()
        watch = None if dev is None else _DevLossWatch(dev, self.rank, self.check_every, self.patience,
                                                       self.min_improvement, x0, loss_and_grad(x0)[0])
        opt = minimize(loss_and_grad, x0, jac=True, method="L-BFGS-B", tol=self.tol,
                       options={"maxiter": self.max_iter}, callback=watch)
        self.n_iter_ = int(opt.nit)
        if watch is None:
            self.B_, self.loss_ = opt.x.reshape(self.rank, hidden), float(opt.fun)
            self.converged_ = bool(opt.success)
            self.stopped_ = "tolerance" if opt.success else "iteration-cap"
            self.best_iter_, self.dev_loss_ = self.n_iter_, None
        else:
            if not watch.stopped:  # the last iterate, unless it was just checked
                watch.observe(self.n_iter_, opt.x, float(opt.fun), final=True)
            self.B_, self.loss_ = watch.best_x.reshape(self.rank, hidden), watch.best_train_loss
            self.converged_ = watch.stopped or bool(opt.success)
            self.stopped_ = "dev-loss-minimum" if watch.stopped else ("tolerance" if opt.success else "iteration-cap")
            self.best_iter_, self.dev_loss_ = watch.best_iter, watch.best_loss
        self.n_features_in_ = hidden
        return self

    @staticmethod
    def _check_sentences(X: Sequence[np.ndarray], heads: Sequence[np.ndarray], which: str) -> None:
        if len(X) != len(heads):
            raise ValueError(f"{len(X)} {which} sentences of vectors but {len(heads)} trees")
        for s, (x, h) in enumerate(zip(X, heads, strict=True)):
            if np.shape(x)[0] != len(h):
                raise ValueError(f"{which} sentence {s}: {np.shape(x)[0]} vectors for {len(h)} words")

    def fit_report(self) -> dict[str, object]:
        """How the fit ended, for the record beside every score: iterations, cap, convergence, scaling."""
        if not hasattr(self, "B_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first")
        return {"converged": self.converged_, "stopped": self.stopped_, "iterations": self.n_iter_,
                "best_iteration": self.best_iter_, "max_iter": self.max_iter, "standardized": self.standardize,
                "loss": self.loss_, "dev_loss": self.dev_loss_}

    def fitted_state(self) -> dict[str, np.ndarray]:
        """The fitted probe as named arrays (its projection and input scaling), to save without pickling."""
        if not hasattr(self, "B_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first")
        scaler = getattr(self, "scaler_", None)
        return {"B": self.B_, **({} if scaler is None else {"mean": scaler.mean_, "scale": scaler.scale_})}

    @classmethod
    def from_fitted_state(cls, state: dict[str, np.ndarray]) -> _StructuralProbe:
        """A probe that predicts exactly as the one ``fitted_state`` was taken from (it cannot be refitted)."""
        probe = cls(rank=int(state["B"].shape[0]), standardize="mean" in state)
        probe.B_ = np.asarray(state["B"], dtype=np.float64)
        probe.n_features_in_ = probe.B_.shape[1]
        probe.scaler_ = None
        if "mean" in state:
            scaler = StandardScaler()
            scaler.mean_, scaler.scale_ = np.asarray(state["mean"]), np.asarray(state["scale"])
            scaler.var_, scaler.n_features_in_ = scaler.scale_ ** 2, probe.n_features_in_
            scaler.n_samples_seen_ = 0
            probe.scaler_ = scaler
        return probe

    def _scaled(self, X: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The sentences standardised with the training scaler, in one call over all their words (per-sentence
        calls spent more time validating inputs than scaling; the arithmetic is row-wise, so the same numbers)."""
        scaler = getattr(self, "scaler_", None)
        mats = [np.asarray(x, dtype=np.float64) for x in X]
        if scaler is None or not mats:
            return mats
        stacked, offsets = _stack_words(mats)
        return np.split(scaler.transform(stacked), offsets[1:-1])

    def evaluate(
        self,
        X: Sequence[np.ndarray],
        heads: Sequence[np.ndarray],
        is_punct: Sequence[np.ndarray] | None = None,
    ) -> DistanceMetrics | DepthMetrics:
        """The probe's metrics on the given sentences (see ``probes.structural_metrics``)."""
        return self._metrics(self.predict(X), heads, is_punct)

    def score(
        self,
        X: Sequence[np.ndarray],
        heads: Sequence[np.ndarray],
        is_punct: Sequence[np.ndarray] | None = None,
    ) -> float:
        """UUAS for the distance probe, depth Spearman for the depth probe."""
        return getattr(self.evaluate(X, heads, is_punct), self._score_field)

    def transform(self, X: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Project each sentence into the probe space: ``[word, hidden]`` -> ``[word, rank]``."""
        if not hasattr(self, "B_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first")
        mats = [np.asarray(x, dtype=np.float64) for x in X]
        for x in mats:
            if x.ndim != 2 or x.shape[1] != self.n_features_in_:
                raise ValueError(f"expected [word, {self.n_features_in_}] vectors, got shape {x.shape}")
        return [x @ self.B_.T for x in self._scaled(mats)]


class DistanceProbe(_StructuralProbe):
    """Hewitt & Manning's distance probe: ``‖B(hᵢ − hⱼ)‖² ≈`` tree distance. Score = UUAS."""

    def _objective(self, X, heads) -> _DistanceObjective:
        return _DistanceObjective(X, [tree_distances(h) for h in heads], self.smoothing)

    def predict(self, X: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Predicted squared distances per sentence: each ``[word, word]``."""
        out = []
        for P in self.transform(X):
            sq = np.einsum("wk,wk->w", P, P)
            out.append(np.maximum(sq[:, None] + sq[None, :] - 2.0 * P @ P.T, 0.0))
        return out

    _metrics = staticmethod(distance_metrics)  # UUAS and distance Spearman
    _score_field = "uuas"


class DepthProbe(_StructuralProbe):
    """Hewitt & Manning's depth probe: ``‖B hᵢ‖² ≈`` tree depth. Score = depth Spearman."""

    def _objective(self, X, heads) -> _DepthObjective:
        return _DepthObjective(X, [tree_depths(h) for h in heads], self.smoothing)

    def predict(self, X: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Predicted depths per sentence: each ``[word]``."""
        return [np.einsum("wk,wk->w", P, P) for P in self.transform(X)]

    _metrics = staticmethod(depth_metrics)  # depth Spearman and root accuracy
    _score_field = "spearman"
