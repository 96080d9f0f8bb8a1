"""The reference's fitted probes applied unchanged to the variant's activations.

The variant's own audit *retrains* every probe on the variant, which answers "can the variant's
activations still be read as a tree / as norms?". A deployed explanation is the reference's probe, so we
also ask "does the reference's probe still read the variant?" — the applied score. Audits do not keep fitted
probes, so the reference's probes are refitted here exactly as the audit fitted them (same split, settings
and seed, on the reference's stored activations; deterministic) and then scored on the variant's stored
activations of the same test sentences / concepts:

- structural claims: the distance probe of each layer (Hewitt & Manning 2019), UUAS of the MST;
- property claims: the mapper refitted per cross-validation fold on the reference's concept vectors,
  predicting each held-out fold from the *variant's* vectors, scored with the claim's metric.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from edgeaudit.audit.concepts import vectors_from_store
from edgeaudit.audit.layers import layer_parts, layer_sentences
from edgeaudit.audit.options import AuditOptions
from edgeaudit.claim_kinds import PROPERTY_INFERENCE, STRUCTURAL_PROBE
from edgeaudit.errors import EdgeAuditError
from edgeaudit.runtime import StoredActivations


def _open_store(directory: Path) -> StoredActivations | None:
    try:
        return StoredActivations(directory)
    except EdgeAuditError:
        return None


def _paired_stores(reference_dir: Path, variant_dir: Path, subdir: str, kind: str,
                   notes: list[str]) -> tuple[StoredActivations, StoredActivations] | None:
    """Both audits' stores of one kind, holding the same items — or None with the reason in ``notes``."""
    ref_store = _open_store(reference_dir / subdir)
    var_store = _open_store(variant_dir / subdir)
    if ref_store is None or var_store is None:
        notes.append(f"{kind} claims: applied is null — an audit's {subdir} store is missing")
        return None
    if ref_store.sentence_ids != var_store.sentence_ids:
        notes.append(f"{kind} claims: applied is null — the audits stored different items")
        return None
    return ref_store, var_store


def applied_structural(reference_dir: Path, variant_dir: Path, options: AuditOptions, layers: list[int],
                       log: Callable[[str], None], notes: list[str]) -> dict[int, float]:
    """hidden-state layer -> UUAS of the reference-fitted distance probe on the variant's test sentences."""
    from edgeaudit.audit.structural import StructuralSettings, fit_structural_probe, make_split
    from edgeaudit.data import load_treebank
    from edgeaudit.probes import DistanceProbe, distance_metrics

    stores = _paired_stores(reference_dir, variant_dir, "activations", "structural", notes)
    if stores is None:
        return {}
    ref_store, var_store = stores
    try:
        treebank = load_treebank(options.data)
    except EdgeAuditError as error:
        notes.append(f"structural claims: applied is null — the treebank cannot be read ({error.one_line()})")
        return {}
    sentences = treebank.sentences[: options.max_sentences] if options.max_sentences else treebank.sentences
    trees = [sentences[i] for i in ref_store.sentence_index]
    heads = [np.asarray(t.heads) for t in trees]
    punct = [t.is_punct for t in trees]
    settings = StructuralSettings.from_options(options)
    split = make_split(len(ref_store.sentence_ids), settings)
    out: dict[int, float] = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for layer in layers:
            X_train, X_dev = layer_parts(ref_store, layer, split.train, split.dev)
            probe = fit_structural_probe(DistanceProbe, X_train, X_dev, split, heads, settings)
            pred = probe.predict(layer_sentences(var_store, layer, split.test))
            metrics = distance_metrics(pred, [heads[i] for i in split.test], [punct[i] for i in split.test])
            if metrics.num_edges:
                out[layer] = float(metrics.uuas)
            log(f"applied structural probe: layer {layer} done")
    return out


def applied_property(reference_dir: Path, variant_dir: Path, options: AuditOptions, layers: list[int],
                     notes: list[str]) -> dict[tuple[int, str], float]:
    """(layer, metric) -> score of the reference-fitted mapper fed the variant's concept vectors."""
    from edgeaudit.audit.property_stage import load_property_data
    from edgeaudit.probes.property import (
        PROBE_METRICS,
        concept_kfold,
        cross_validated_predictions,
        make_mapper,
    )
    from edgeaudit.probes.property.crossval import score_predictions
    from edgeaudit.probes.property.metrics import EvalContext

    stores = _paired_stores(reference_dir, variant_dir, "concept-activations", "property", notes)
    if stores is None:
        return {}
    ref_store, var_store = stores
    try:
        norms = load_property_data(options).norms
    except EdgeAuditError as error:
        notes.append(f"property claims: applied is null — the norms cannot be read ({error.one_line()})")
        return {}
    kept, X_ref = vectors_from_store(ref_store, layers, template=options.concept_template)
    _, X_var = vectors_from_store(var_store, layers, template=options.concept_template)
    Y = np.asarray(norms.matrix[kept], dtype=float)
    splits = concept_kfold(len(kept), options.folds, seed=options.seed, words=[norms.concepts[i] for i in kept])
    mapper = make_mapper(options.mapper, seed=options.seed)
    out: dict[tuple[int, str], float] = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for layer in layers:
            xr, xv = np.asarray(X_ref[layer], dtype=float), np.asarray(X_var[layer], dtype=float)
            folds = cross_validated_predictions(xr, Y, mapper, splits, X_apply=xv)
            context = EvalContext(splits.fold_of, "fold", None, folds.thresholds)
            scores = score_predictions(folds.P, Y, PROBE_METRICS, context)
            for metric, value in scores.means.items():
                if np.isfinite(value):
                    out[(layer, metric)] = float(value)
    return out


def applied_scores(reference_doc: dict[str, Any], reference_dir: Path, variant_dir: Path, options: AuditOptions,
                   *, log: Callable[[str], None], notes: list[str]) -> dict[str, dict[str, Any]]:
    """Reference claim id -> {"score", "source"} for structural and property claims that could be refitted."""
    claims = reference_doc.get("claims", [])
    structural = sorted({c["subject"]["layer"] for c in claims if c["kind"] == STRUCTURAL_PROBE})
    prop = sorted({c["subject"]["layer"] for c in claims if c["kind"] == PROPERTY_INFERENCE})
    out: dict[str, dict[str, Any]] = {}
    if structural:
        scores = applied_structural(reference_dir, variant_dir, options, structural, log, notes)
        for claim in claims:
            if claim["kind"] == STRUCTURAL_PROBE and claim["subject"]["layer"] in scores:
                out[claim["id"]] = {"score": scores[claim["subject"]["layer"]],
                                    "source": "the reference's distance probe (refitted) on the variant's layer"}
    if prop:
        scores = applied_property(reference_dir, variant_dir, options, prop, notes)
        for claim in claims:
            key = (claim["subject"]["layer"], claim.get("metric"))
            if claim["kind"] == PROPERTY_INFERENCE and key in scores:
                out[claim["id"]] = {"score": scores[key],
                                    "source": "the reference's mapper (refitted per fold) fed the variant's vectors"}
    return out
