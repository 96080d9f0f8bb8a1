"""Property inference with its controls: embeddings -> human feature norms, scored next to what chance,
geometry and categories alone would score.

Mapping embeddings onto feature norms (McRae et al. 2005; Buchanan et al. 2019) with PLSR or an MLP gives
high scores that shuffled or random data also reach: the score reflects the mapper and the dataset's
geometry ("Prediction is not Explanation", arXiv 2508.13729). ``run_property_probe`` therefore runs the real
probe and every applicable registered control with the same mapper, hyper-parameters and folds, and reports
each control's margin (real − control) with a paired bootstrap interval over concepts (features for F1).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from sklearn.utils.parallel import Parallel, delayed

from .controls import (
    CONTROLS,
    ControlEntry,
    ControlRun,
    ProbeSetup,
    get_control,
    missing_requirements,
)
from .crossval import (
    CrossValScores,
    average_runs,
    concept_kfold,
    cross_validated_scores,
)
from .mappers import describe_mapper, make_mapper, rotation_equivariant
from .metrics import (
    CANDIDATE_PROTOCOLS,
    DEFAULT_METRICS,
    MetricSpec,
    get_metric,
    neighbour_chance,
)
from .results import (
    BootstrapSettings,
    ControlResult,
    PropertyProbeResult,
    ScoredRun,
    p_value,
)

PROBE_METRICS: tuple[str, ...] = (*DEFAULT_METRICS, "feature_f1")


def _as_matrix(name: str, value: Any, n: int | None = None) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D [concept, ...], got shape {array.shape}")
    if n is not None and array.shape[0] != n:
        raise ValueError(f"{name} has {array.shape[0]} rows for {n} concepts")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _as_labels(name: str, value: Sequence[Any] | None, n: int) -> tuple[str, ...] | None:
    if value is None:
        return None
    labels = tuple(str(v) for v in value)
    if len(labels) != n:
        raise ValueError(f"{name} has {len(labels)} entries for {n} concepts")
    return labels


def _setup(
    X: Any,
    Y: Any,
    concepts: Sequence[str],
    categories: Sequence[Any] | None,
    X_twin: Any,
    estimator: Any,
    folds: int,
    n_shuffles: int,
    seed: int,
    words: Sequence[str] | None = None,
) -> ProbeSetup:
    """Validate the inputs and fix the folds every run will share (concepts of one word in one fold)."""
    X = _as_matrix("X", X)
    n = X.shape[0]
    if concepts is None:
        raise ValueError("concepts are required: type-level controls key on the concept names")
    return ProbeSetup(
        X=X,
        Y=_as_matrix("Y", Y, n),
        concepts=_as_labels("concepts", concepts, n) or (),
        mapper=estimator,
        splits=concept_kfold(n, folds, seed=seed, words=_as_labels("words", words, n)),
        seed=seed,
        n_shuffles=n_shuffles,
        categories=_as_labels("categories", categories, n),
        X_twin=None if X_twin is None else _as_matrix("X_twin", X_twin, n),
    )


def _cross_validate(run: ControlRun, metrics: Sequence[str | MetricSpec], candidates: str) -> CrossValScores:
    """One cross-validated run (a task of its own, so runs can go to worker processes)."""
    return cross_validated_scores(
        run.X, run.Y, run.predictor, run.splits, metrics, candidates=candidates, n_gold=run.n_gold
    )


ROTATION_TAUTOLOGY = ("the mapper is rotation-equivariant and this metric depends only on cosines, so rotated "
                      "norms score exactly as the real ones by construction: the control says nothing here")


def _uninformative(entry: ControlEntry, mapper: Any, metrics: Sequence[str]) -> dict[str, str]:
    """Metrics a nonsense-norm control cannot inform with this mapper, with the reason."""
    if not entry.nonsense or not rotation_equivariant(mapper):
        return {}
    return {m: ROTATION_TAUTOLOGY for m in metrics if get_metric(m).rotation_invariant}


def _control_result(
    entry: ControlEntry,
    splits_name: str,
    runs: list[CrossValScores],
    real: ScoredRun,
    bootstrap: BootstrapSettings,
    mapper: Any,
) -> ControlResult:
    """A control's runs scored with the real run's metrics, then its margins to the real run.

    Metrics the control cannot inform by construction get no margin, only the reason.
    """
    scored = ScoredRun.from_scores(average_runs(runs), bootstrap)
    uninformative = _uninformative(entry, mapper, list(scored.scores.per_unit))
    shared = [m for m in real.scores.per_unit if m in scored.scores.per_unit and m not in uninformative]
    margins = {m: bootstrap.margin(real.scores.per_unit[m], scored.scores.per_unit[m]) for m in shared}
    p_values = None
    if entry.permutation:
        p_values = {m: p_value(real.means[m], np.array([r.means[m] for r in runs])) for m in shared}
    return ControlResult(
        entry.description,
        splits_name,
        len(runs),
        scored,
        margins,
        entry.margin_name,
        p_values,
        entry.nonsense,
        uninformative,
    )


def _all_runs(setup: ProbeSetup, chosen: Sequence[str]) -> Iterator[tuple[str | None, ControlRun]]:
    """The real run (name None), then every run of every chosen control, built lazily in a fixed order."""
    yield None, ControlRun(setup.X, setup.Y, setup.mapper, setup.splits)
    for name in chosen:
        for run in CONTROLS[name].build(setup):
            yield name, run


def _cross_validate_all(
    setup: ProbeSetup, chosen: Sequence[str], metrics: Sequence[str | MetricSpec], candidates: str, n_jobs: int | None
) -> tuple[CrossValScores, dict[str, tuple[str, list[CrossValScores]]]]:
    """Every cross-validated run of the probe: the real one and each control's, on ``n_jobs`` processes.

    The runs are independent, so they are handed out one per task (the 100 shuffles of a permutation control are
    most of the work); each run is the same computation wherever it happens, so the results do not depend on
    ``n_jobs``. Runs are built lazily and at most a few are in flight, so only a few shuffled copies of the norms
    exist at a time.
    """
    names: list[str | None] = []
    splits: list[str] = []

    def tasks() -> Iterator[Any]:
        for name, run in _all_runs(setup, chosen):
            names.append(name)
            splits.append(run.splits.name)
            yield delayed(_cross_validate)(run, metrics, candidates)

    scores = Parallel(n_jobs=n_jobs, pre_dispatch="2*n_jobs")(tasks())
    real = scores[0]
    per_control: dict[str, tuple[str, list[CrossValScores]]] = {}
    for name, split_name, score in zip(names[1:], splits[1:], scores[1:], strict=True):
        per_control.setdefault(name, (split_name, []))[1].append(score)
    return real, per_control


def _select_controls(names: Sequence[str] | None, setup: ProbeSetup) -> tuple[list[str], dict[str, str]]:
    """Controls to run and the skipped ones with reasons; an explicitly requested unmet control raises."""
    chosen, skipped = [], {}
    for name in CONTROLS if names is None else names:
        missing = missing_requirements(get_control(name), setup)
        if not missing:
            chosen.append(name)
        elif names is not None:
            raise ValueError(f"control {name!r} needs {', '.join(missing)}; pass it to run_property_probe")
        else:
            skipped[name] = f"needs {', '.join(missing)} (not supplied)"
    return chosen, skipped


def _chance(metrics: Sequence[str], fold_of: np.ndarray, candidates: str) -> dict[str, float]:
    groups = fold_of if candidates == "fold" else None
    out = {}
    for name in metrics:
        if name.startswith("neighbour@"):
            out[name] = neighbour_chance(int(name.split("@")[1]), groups=groups, n=fold_of.size)
    return out


def run_property_probe(
    X: np.ndarray,  # [concept, dim]
    Y: np.ndarray,  # [concept, feature]
    *,
    concepts: Sequence[str],
    categories: Sequence[Any] | None = None,
    X_twin: np.ndarray | None = None,  # [concept, twin_dim]
    words: Sequence[str] | None = None,  # [concept] the word each concept is embedded as
    mapper: str | Any = "plsr",
    mapper_params: dict[str, Any] | None = None,
    metrics: Sequence[str | MetricSpec] = PROBE_METRICS,
    folds: int = 10,
    n_shuffles: int = 100,
    candidates: str = "fold",
    controls: Sequence[str] | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    n_jobs: int | None = None,
) -> PropertyProbeResult:
    """Real property-probe scores and every applicable control's, with bootstrap margins.

    ``mapper`` is a registered name (``plsr``, ``ridge``, ``mlp``; ``mapper_params`` passed on) or any
    unfitted scikit-learn regressor. ``candidates`` is the neighbour-score protocol (``"fold"`` or ``"all"``,
    see ``probes.property.metrics``). ``words`` keeps concepts embedded as one word (senses) in one fold.
    ``controls=None`` runs every registered control whose requirements are
    met and lists the others in ``skipped_controls``. ``n_jobs`` worker processes share the cross-validated runs
    (scikit-learn's convention: None = 1, -1 = all cores); the result is the same for any value.
    """
    if n_shuffles < 1:
        raise ValueError(f"n_shuffles must be >= 1, got {n_shuffles}")
    if candidates not in CANDIDATE_PROTOCOLS:
        raise ValueError(f"candidates must be one of {CANDIDATE_PROTOCOLS}, got {candidates!r}")
    metric_names = [m.name if isinstance(m, MetricSpec) else get_metric(m).name for m in metrics]
    estimator = make_mapper(mapper, seed=seed, **(mapper_params or {})) if isinstance(mapper, str) else mapper
    setup = _setup(X, Y, concepts, categories, X_twin, estimator, folds, n_shuffles, seed, words)
    chosen, skipped = _select_controls(controls, setup)  # before any fitting: unmet requests fail fast
    bootstrap = BootstrapSettings(n_resamples, confidence, seed)
    real_scores, per_control = _cross_validate_all(setup, chosen, metrics, candidates, n_jobs)
    real = ScoredRun.from_scores(real_scores, bootstrap)
    results = {
        name: _control_result(CONTROLS[name], *per_control[name], real, bootstrap, estimator) for name in chosen
    }
    settings = {
        "mapper": mapper if isinstance(mapper, str) else type(mapper).__name__,
        "mapper_description": describe_mapper(estimator),
        "metrics": metric_names,
        "candidates": candidates,
        "splits": setup.splits.to_dict(),
        "n_shuffles": n_shuffles,
        "n_resamples": n_resamples,
        "confidence": confidence,
        "seed": seed,
        "n_concepts": setup.X.shape[0],
        "n_features": setup.Y.shape[1],
        "dim": setup.X.shape[1],
    }
    chance = _chance(metric_names, setup.splits.fold_of, candidates)
    return PropertyProbeResult(real, results, skipped, chance, settings)
