"""PLS2 regression with exact per-component weights, for many targets (private).

scikit-learn's ``PLSRegression`` finds each component's weight vector by NIPALS power iteration on the
deflated matrices. With thousands of norm features (McRae: 2,526) and close singular values it needs hundreds
of iterations per component — about a minute per fit for 500 concepts x 384 dims x 50 components, and a
probe with its controls fits thousands of times. NIPALS converges to the dominant left singular vector of the
deflated cross-covariance ``C_k = X_kᵀ Y_k`` (Wold 1984; Höskuldsson 1988), which this module computes
directly, deflating the Gram matrix ``S_k = C_k C_kᵀ`` by rank-two updates instead of the data (the
"improved kernel" idea of Dayal & MacGregor 1997). The model — scores, loadings, coefficients — is the one
``PLSRegression(scale=False)`` converges to, in a small fraction of the time; a test checks they agree.

Deflation identities used (regression mode, ``t = X_k w``, ``p = X_kᵀ t / tᵀt``, ``q = Y_kᵀ t / tᵀt``):
``X_{k+1}ᵀ t = 0`` hence ``C_{k+1} = C_k − (tᵀt) p qᵀ`` (so ``C_k`` is never formed, only ``C_k q``), and
``Y_kᵀ t = Y_0ᵀ t`` because ``t`` is orthogonal to every earlier score.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from scipy.linalg.blas import dger
from scipy.linalg.lapack import get_lapack_funcs
from scipy.sparse.linalg import ArpackNoConvergence, eigsh

_EPS = 1e-12
_DENSE_LIMIT = 256  # below this many dims a dense eigensolver beats Lanczos (ARPACK call overhead)


@functools.lru_cache(maxsize=64)
def _syevr_for(d: int) -> tuple[Any, dict[str, int]]:
    """LAPACK's ``dsyevr`` and its workspace sizes for ``d × d`` matrices (queried once per size)."""
    syevr, syevr_lwork = get_lapack_funcs(("syevr", "syevr_lwork"), (np.zeros((1, 1)),))
    lwork, liwork, info = syevr_lwork(n=d, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dsyevr workspace query failed for {d} x {d} (info {info})")
    return syevr, {"lwork": int(lwork), "liwork": int(liwork)}


def _top_eigenpair_dense(S: np.ndarray) -> tuple[np.ndarray, float]:
    """The largest eigenpair by ``dsyevr`` — the call ``scipy.linalg.eigh(S, subset_by_index=[d-1, d-1])`` makes,
    without its per-call validation and workspace query, which cost more than the solve itself at the sizes
    a probe fits (a 75 × 75 Gram fifty times per fit, thousands of fits per audit). Same routine, same
    arguments, so the same bits (a test compares them)."""
    d = S.shape[0]
    syevr, workspace = _syevr_for(d)
    values, vectors, _found, _support, info = syevr(a=S, range="I", il=d, iu=d, lower=1, compute_v=1,
                                                    overwrite_a=0, **workspace)
    if info != 0 or not np.isfinite(values[0]):
        raise np.linalg.LinAlgError(f"dsyevr failed on a {d} x {d} Gram matrix (info {info})")
    return vectors[:, 0], float(values[0])


def _dominant_eigenvector(S: np.ndarray) -> tuple[np.ndarray, float]:
    """Top eigenpair of a symmetric PSD matrix: Lanczos (ARPACK, fixed start vector) or dense for small ``S``."""
    d = S.shape[0]
    if d > _DENSE_LIMIT:
        try:
            values, vectors = eigsh(S, k=1, which="LA", v0=np.ones(d))
            return vectors[:, 0], float(values[0])
        except ArpackNoConvergence:
            pass
    return _top_eigenpair_dense(S)


def _rank_one_update(alpha: float, x: np.ndarray, y: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``A += alpha x yᵀ`` in place (BLAS ``dger`` on a Fortran-ordered ``A``), without the temporary outer
    product ``np.outer`` allocates every component."""
    return dger(alpha, x, y, a=A, overwrite_a=1)


def _left_singular(C: np.ndarray) -> tuple[np.ndarray, float]:
    """Dominant left singular vector of ``C`` [dim, feature] and its squared singular value, via CᵀC."""
    vector, value = _dominant_eigenvector(C.T @ C)
    w = C @ vector
    norm = float(np.linalg.norm(w))
    return (w / norm if norm > 0 else w), value


def fit_pls2(
    X: np.ndarray, Y: np.ndarray, n_components: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Fit PLS2 on centred data; returns ``(x_mean [dim], y_mean [feature], coef [dim, feature], components)``.

    Stops early when ``X`` or the cross-covariance is exhausted (further components would be zero).
    ``X`` is never deflated: the deflated scores and loadings come from the centred ``X_0`` and the earlier
    components (module docstring), which saves rewriting a [concept, dim] matrix per component — a third of a
    fit's time at a probe's sizes — and agrees with explicit deflation to ~1e-14 (a test compares them).
    """
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    X0 = X - x_mean  # [concept, dim]
    Y0 = Y - y_mean  # [concept, feature]
    C0 = X0.T @ Y0  # [dim, feature] cross-covariance before deflation
    # With fewer features than dims, the dominant left singular vector of C_k comes cheapest from the small
    # [feature, feature] Gram CₖᵀCₖ (C_k kept explicitly, Fortran-ordered for BLAS's in-place rank-1 update);
    # otherwise from the [dim, dim] Gram S_k.
    few_features = Y.shape[1] < X.shape[1]
    Ck = np.asfortranarray(C0) if few_features else None
    S = None if few_features else C0 @ C0.T  # [dim, dim] Gram of the deflated cross-covariance, updated in place
    scale = max(float(np.sum(C0 * C0)), _EPS)
    limit = max(0, min(n_components, X.shape[1]))
    W = np.empty((X.shape[1], limit))  # weights
    P = np.empty((X.shape[1], limit))  # x loadings
    Q = np.empty((Y.shape[1], limit))  # y loadings
    T = np.empty((X.shape[0], limit))  # scores
    TT = np.empty(limit)  # tᵀt
    k = 0
    while k < limit:
        w, top = _left_singular(Ck) if few_features else _dominant_eigenvector(S)
        t = X0 @ w  # X_k w, with X_k = X_0 − Σ_j t_j p_jᵀ
        if k:
            t -= T[:, :k] @ (P[:, :k].T @ w)
        tt = float(t @ t)
        if top <= _EPS * scale or tt <= _EPS:
            break
        p = X0.T @ t / tt  # X_kᵀ t = X_0ᵀ t: t is orthogonal to every earlier score
        q = Y0.T @ t / tt
        if few_features:
            Ck = _rank_one_update(-tt, p, q, Ck)
        else:
            Cq = C0 @ q  # C_k q, with C_k = C0 − Σ_j tt_j p_j q_jᵀ
            if k:
                Cq -= P[:, :k] @ (TT[:k] * (Q[:, :k].T @ q))
            S -= tt * (np.outer(p, Cq) + np.outer(Cq, p)) - tt**2 * float(q @ q) * np.outer(p, p)
        W[:, k], P[:, k], Q[:, k], T[:, k], TT[k] = w, p, q, t, tt
        k += 1
    if not k:
        return x_mean, y_mean, np.zeros((X.shape[1], Y.shape[1])), 0
    W_, P_, Q_ = W[:, :k], P[:, :k], Q[:, :k]  # [dim, comp] x2, [feature, comp]
    rotations = W_ @ np.linalg.pinv(P_.T @ W_)  # [dim, comp]
    return x_mean, y_mean, rotations @ Q_.T, k
