"""Property inference on concept vectors: norms + categories -> probe with every control -> claims.

Also reports MDL (Voita & Titov 2020) per binary property with a type-level control task, so a property a
layer "encodes" can be read as compression over the control, not only as a probe score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from edgeaudit.audit.concepts import concept_vectors
from edgeaudit.audit.fitted import PropertyFit
from edgeaudit.audit.options import AuditOptions
from edgeaudit.audit.property_claims import property_claims
from edgeaudit.bundle import Bundle
from edgeaudit.data import load_categories, load_norms
from edgeaudit.data.skips import count_skips
from edgeaudit.errors import EdgeAuditError
from edgeaudit.probes import run_property_probe
from edgeaudit.probes.property import concept_kfold
from edgeaudit.probes.property.mdl import feature_mdl
from edgeaudit.runtime.progress import progress_bar
from edgeaudit.verdict import Claim

DEFAULT_NORMS = "builtin:concepts"
# What the property stage's numbers mean; part of its checkpoint key so a rerun never reuses older results.
PROPERTY_RULE = ("targets/min-feature-concepts/template conventions; senses in one fold; tie-aware Spearman; "
                 "F1 cut on training folds; calibrated MDL; rotated norms only where informative")
MAX_MDL_FEATURES = 25


def _norms_name(spec: str) -> str:
    return spec.split(":", 1)[1] if spec.startswith("builtin:") else Path(spec).parent.name or Path(spec).stem


def _keep_rows(norms: Any, keep: list[int]) -> None:
    """Restrict ``norms`` to the rows ``keep`` (in place: concepts, senses, names, matrix, categories)."""
    rows = np.asarray(keep, dtype=np.int64)
    norms.concepts = [norms.concepts[i] for i in keep]
    norms.senses = [norms.senses[i] for i in keep]
    norms.names = [norms.names[i] for i in keep]
    norms.matrix = norms.matrix[rows].reshape(len(keep), len(norms.features))
    if norms.categories is not None:
        norms.categories = [norms.categories[i] for i in keep]


def _drop_incomplete(norms: Any, spec: str) -> list[dict]:
    """Concepts with empty (missing) cells cannot be regressed on: left out, each with its count of blanks."""
    missing = np.isnan(norms.matrix).sum(axis=1)
    left_out = [{"concept": norms.names[i], "reason": f"{int(n)} empty value(s) in {spec}"}
                for i, n in enumerate(missing) if n]
    if left_out:
        _keep_rows(norms, [i for i, n in enumerate(missing) if not n])
    return left_out


@dataclass
class PropertyData:
    """The norms as the probe sees them (targets after the conventions), with everything left out and why."""

    norms: Any  # edgeaudit.data.Norms, rows and columns already filtered
    categories: list[str | None] | None  # per concept; None inside = no category (its own singleton)
    left_out: list[dict]  # {"concept", "reason"}
    conventions: dict[str, Any]


def _as_targets(norms: Any, spec: str, targets: str) -> None:
    """Binary: a feature is listed (above 0) or not. A wide table of ratings has no "listed", so refuse it."""
    if targets == "value":
        return
    values = norms.matrix
    rated = ~np.isin(values, (0.0, 1.0))  # [concept, feature]
    if norms.layout == "wide" and rated.any():
        row, column = np.argwhere(rated)[0]
        example = values[row, column]
        raise EdgeAuditError(
            f"{spec}: column {norms.features[column]!r} holds ratings (e.g. {example:g}), not 0/1; binary targets "
            "would mark every rated concept as having the feature",
            hint="pass --norm-targets value to predict the ratings themselves")
    norms.matrix = (values > 0).astype(float)


def _frequent_features(norms: Any, spec: str, minimum: int) -> tuple[list[dict], str | None]:
    """Keep features listed (non-zero) for at least ``minimum`` concepts; then drop concepts left featureless."""
    counts = (norms.matrix != 0).sum(axis=0)  # [feature]
    keep = np.flatnonzero(counts >= minimum)
    if keep.size == 0:
        raise EdgeAuditError(f"{spec}: no feature is listed for {minimum} or more of its {len(norms.concepts)} "
                             f"usable concepts (the most: {int(counts.max(initial=0))})",
                             hint="lower --min-feature-concepts")
    note = None
    if keep.size < len(norms.features):
        note = (f"--min-feature-concepts {minimum}: kept {keep.size} of {len(norms.features)} features "
                f"({len(norms.features) - keep.size} listed for fewer concepts)")
        norms.features = [norms.features[j] for j in keep]
        norms.matrix = norms.matrix[:, keep]
    empty = ~(norms.matrix != 0).any(axis=1)
    left_out = [{"concept": norms.names[i], "reason": f"none of its features is listed for {minimum} or more "
                 "concepts"} for i in np.flatnonzero(empty)]
    if left_out:
        _keep_rows(norms, [int(i) for i in np.flatnonzero(~empty)])
    return left_out, note


def _category_per_concept(norms: Any, options: AuditOptions) -> tuple[list[str | None] | None, int]:
    """One category (or None) per concept, and how many concepts the categories file does not cover."""
    if options.categories is None:
        return norms.categories, 0
    extra = {} if options.categories_pos is None else {"pos": options.categories_pos}
    table = load_categories(options.categories, **extra)
    found, missing = table.lookup(norms.concepts)
    if all(c is None for c in found):
        raise EdgeAuditError(
            f"{options.categories}: no category for any of the {len(norms.concepts)} concepts of "
            f"{options.norms or DEFAULT_NORMS} (e.g. {', '.join(map(repr, norms.concepts[:3]))})",
            hint="check that the categories file's word column holds the norms' concept words")
    return list(found), sum(c is None for c in found)


def load_property_data(options: AuditOptions) -> PropertyData:
    """Norms under the audit's conventions, one category per concept (or None), and what was left out.

    Conventions (all options, echoed into audit.json): binary or value targets, the minimum number of concepts
    a feature must be listed for, sense-tagged concepts kept apart (``bat (animal)`` and ``bat (baseball)``,
    held out together since they share an embedding), and categories used only by the category controls:
    a concept without one still counts for the probe and every other control.
    """
    spec = options.norms or DEFAULT_NORMS
    extra: dict[str, Any] = {} if options.norm_columns is None else {"value_columns": options.norm_columns}
    norms = load_norms(spec, **extra) if spec.startswith("builtin:") else load_norms(spec, duplicates="keep", **extra)
    left_out = _drop_incomplete(norms, spec)
    if not len(norms.concepts):
        raise EdgeAuditError(f"{spec}: every concept has empty values ({len(left_out)} left out)",
                             hint="fill in the blanks, or use a table without missing cells")
    _as_targets(norms, spec, options.norm_targets)
    dropped, note = _frequent_features(norms, spec, options.min_feature_concepts)
    if len(norms.features) < 2:
        raise EdgeAuditError(
            f"{spec}: only 1 feature ({norms.features[0]!r}) is left; property claims compare each concept's "
            "feature vector (neighbours, precision, Spearman) and need at least 2 features",
            hint="name more value columns with --norm-columns, or lower --min-feature-concepts")
    left_out += dropped
    if note:
        norms.notes.append(note)
    categories, uncovered = _category_per_concept(norms, options)
    named = None if categories is None else {c for c in categories if c is not None}
    if named is not None and len(named) < 2:
        raise EdgeAuditError(
            f"{options.categories or spec}: all {len(categories) - uncovered} usable concepts with a category are "
            f"in one category {next(iter(named))!r}; the category controls need at least 2",
            hint="use a table with several categories" + (", or leave out --categories" if options.categories else ""))
    if len(norms.concepts) < options.folds * 2:
        raise EdgeAuditError(f"{spec}: only {len(norms.concepts)} concepts usable, too few for {options.folds}-fold "
                             "cross-validation", hint="use more concepts or lower --folds")
    conventions = {
        "targets": options.norm_targets, "value_columns": list(options.norm_columns or []) or "detected",
        "min_feature_concepts": options.min_feature_concepts, "features_kept": len(norms.features),
        "senses": "kept apart; concepts sharing a word are held out in one fold",
        "ambiguous_words": len(norms.ambiguous_words()),
        "categories": None if categories is None else
        {"with_category": len(categories) - uncovered, "without": uncovered,
         "used_by": "category controls only (a concept without one is a category of its own)"},
        "template": options.concept_template or "the concept word alone",
    }
    return PropertyData(norms, categories, left_out, conventions)


def category_labels(categories: list[str | None] | None) -> list[str] | None:
    """Categories for the probe: a concept without one becomes a singleton category no other concept shares."""
    if categories is None:
        return None
    return [c if c is not None else f"\x00uncategorised-{i}" for i, c in enumerate(categories)]


def _fold_mappers(fit: PropertyFit, layer: int, X: np.ndarray, options: AuditOptions, words: list[str]) -> None:
    """The probe's mapper of every fold at ``layer`` into ``fit`` (refitted here: the probe's runs keep only
    scores; same folds, mapper and seed, so the same fit), for compare to apply to a variant's vectors."""
    from edgeaudit.probes.property import concept_kfold, fit_folds, make_mapper, mapper_state

    splits = concept_kfold(len(X), options.folds, seed=options.seed, words=words)
    fits = fit_folds(X, fit.Y, make_mapper(options.mapper, seed=options.seed), splits)
    fit.mappers[layer] = [mapper_state(mapper) for mapper in fits.mappers]
    fit.thresholds[layer] = fits.thresholds
    if not np.array_equal(fit.fold_of, splits.fold_of):
        raise AssertionError("property folds differ between layers")  # one kfold over one concept list


def run_property_stage(bundle: Bundle, twin: Bundle | None, options: AuditOptions, out_dir: Path, *,
                       log: Callable[[str], None],
                       data: PropertyData | None = None) -> tuple[dict, list[Claim], PropertyFit]:
    """``data`` is ``load_property_data(options)`` when the caller already loaded (and so validated) it. Returns the
    report section, the claims, and what compare needs to apply the fitted probes to a variant."""
    data = data if data is not None else load_property_data(options)
    norms, categories, left_out = data.norms, data.categories, data.left_out
    name = _norms_name(options.norms or DEFAULT_NORMS)
    last = bundle.manifest.num_layers
    layers = sorted(set(options.property_layers if options.property_layers is not None else (0, last)))
    bad = [layer for layer in layers if not 0 <= layer <= last]
    if bad:
        raise EdgeAuditError(f"option --property-layers: {bad} outside 0..{last}")
    template = options.concept_template
    vectors = concept_vectors(bundle, norms.concepts, layers, out_dir / "concept-activations",
                              progress=options.progress, template=template)
    twin_vectors = None
    if twin is not None:
        twin_vectors = concept_vectors(twin, norms.concepts, layers, out_dir / "concept-twin-activations",
                                       progress=options.progress, template=template)
    kept = vectors.kept
    Y = norms.matrix[kept]
    concepts = [norms.labels[i] for i in kept]
    words = [norms.concepts[i] for i in kept]
    labels = category_labels(categories)
    cats = None if labels is None else [labels[i] for i in kept]
    section: dict[str, Any] = {
        "norms": {"source": norms.source, "name": name, "concepts": len(norms.concepts), "features": len(norms.features),
                  "binary": bool(np.isin(norms.matrix, (0.0, 1.0)).all()), "notes": norms.notes,
                  "skipped": [str(skip) for skip in norms.skipped], "skipped_by_kind": count_skips(norms.skipped)},
        "conventions": data.conventions,
        "categories": options.categories or ("from norms" if categories is not None else None),
        "left_out": left_out + vectors.skipped, "layers": {},
    }
    claims: list[Claim] = []
    fit = PropertyFit(kept=list(kept), template=template, Y=np.asarray(Y, dtype=float),
                      fold_of=concept_kfold(len(kept), options.folds, seed=options.seed, words=words).fold_of)
    with progress_bar(len(layers), "property", options.progress, unit="layer") as shown:
        for layer in layers:
            log(f"property probe: layer {layer} ({len(kept)} concepts x {Y.shape[1]} features, {options.mapper})")
            X = vectors.vectors[layer]
            X_twin = twin_vectors.vectors[layer] if twin_vectors is not None and twin_vectors.kept == kept else None
            with threadpool_limits(limits=1, user_api="blas"):
                result = run_property_probe(X, Y, concepts=concepts, categories=cats, X_twin=X_twin, words=words,
                                            mapper=options.mapper,
                                            folds=options.folds, n_shuffles=options.shuffles, n_resamples=options.bootstrap,
                                            confidence=options.confidence, seed=options.seed,
                                            n_jobs=options.workers)
                layer_section = {"probe": result.to_dict()}
                _fold_mappers(fit, layer, X, options, words)
                if section["norms"]["binary"]:
                    mdl = feature_mdl(X, Y, concepts=concepts, seed=options.seed,
                                      features=_most_balanced(Y, MAX_MDL_FEATURES), n_jobs=options.workers)
                    layer_section["mdl"] = {norms.features[j]: r.to_dict() for j, r in mdl.items()}
            section["layers"][str(layer)] = layer_section
            claims += property_claims(result, layer=layer, norms_name=name, thresholds=options.thresholds,
                                      n_concepts=len(kept))
            shown.update(1)
    return section, claims, fit


def _most_balanced(Y: np.ndarray, limit: int) -> list[int]:
    """The binary features closest to a 50/50 split (MDL says most about them), capped for time."""
    rates = Y.mean(axis=0)
    order = np.argsort(np.abs(rates - 0.5))
    return [int(j) for j in order[:limit] if 0 < rates[j] < 1]
