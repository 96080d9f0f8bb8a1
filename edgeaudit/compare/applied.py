"""The reference's fitted probes applied unchanged to the variant's activations.

The variant's own audit *retrains* every probe on the variant, which answers "can the variant's
activations still be read as a tree / as norms?". A deployed explanation is the reference's probe, so we
also ask "does the reference's probe still read the variant?" — the applied score. The reference audit saved
its fitted probes (``audit/fitted.py``); they are scored here on the variant's stored activations of the same
test sentences / concepts, with no dataset read and nothing refitted:

- structural claims: the distance probe of each layer (Hewitt & Manning 2019), UUAS of the MST;
- property claims: each fold's mapper fed the *variant's* vectors of that fold's held-out concepts, scored with
  the claim's metric against the saved norms and F1 cuts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edgeaudit.audit.concepts import vectors_from_store
from edgeaudit.audit.fitted import FittedState, PropertyFit, StructuralFit
from edgeaudit.audit.layers import layer_sentences
from edgeaudit.claim_kinds import PROPERTY_INFERENCE, STRUCTURAL_PROBE
from edgeaudit.errors import EdgeAuditError
from edgeaudit.runtime import StoredActivations


def _variant_store(variant_dir: Path, subdir: str, kind: str, items: list, notes: list[str]) -> StoredActivations | None:
    """The variant audit's store of one kind, holding the items the reference's probes were fitted on — or None
    with the reason in ``notes``."""
    try:
        store = StoredActivations(variant_dir / subdir)
    except EdgeAuditError:
        notes.append(f"{kind} claims: applied is null — the variant audit's {subdir} store is missing")
        return None
    if list(store.sentence_ids) != list(items):
        notes.append(f"{kind} claims: applied is null — the audits stored different items")
        return None
    return store


def applied_structural(fit: StructuralFit, variant_dir: Path, layers: list[int], log: Callable[[str], None],
                       notes: list[str]) -> dict[int, float]:
    """hidden-state layer -> UUAS of the reference's distance probe on the variant's test sentences."""
    from edgeaudit.probes import DistanceProbe, distance_metrics

    store = _variant_store(variant_dir, "activations", "structural", fit.sentence_ids, notes)
    if store is None:
        return {}
    out: dict[int, float] = {}
    for layer in layers:
        if layer not in fit.probes:
            continue
        probe = DistanceProbe.from_fitted_state(fit.probes[layer])
        metrics = distance_metrics(probe.predict(layer_sentences(store, layer, fit.test)), fit.heads, fit.punct)
        if metrics.num_edges:
            out[layer] = float(metrics.uuas)
        log(f"applied structural probe: layer {layer} done")
    return out


def applied_property(fit: PropertyFit, variant_dir: Path, layers: list[int],
                     notes: list[str]) -> dict[tuple[int, str], float]:
    """(layer, metric) -> score of the reference's per-fold mappers fed the variant's concept vectors."""
    from edgeaudit.probes.property import PROBE_METRICS, FoldFits, fold_predictions, predict_from_state
    from edgeaudit.probes.property.crossval import Splits, score_predictions
    from edgeaudit.probes.property.metrics import EvalContext

    store = _variant_store(variant_dir, "concept-activations", "property", [f"concept-{i}" for i in fit.kept], notes)
    if store is None:
        return {}
    layers = [layer for layer in layers if layer in fit.mappers]
    _, vectors = vectors_from_store(store, layers, template=fit.template)
    folds = tuple((np.flatnonzero(fit.fold_of != k), np.flatnonzero(fit.fold_of == k))
                  for k in range(int(fit.fold_of.max()) + 1))
    splits = Splits("saved", folds)
    out: dict[tuple[int, str], float] = {}
    for layer in layers:
        fits = FoldFits(fit.mappers[layer], fit.thresholds[layer])
        predicted = fold_predictions(fits, vectors[layer], splits, fit.Y.shape[1], predict=predict_from_state)
        context = EvalContext(fit.fold_of, "fold", None, predicted.thresholds)
        for metric, value in score_predictions(predicted.P, fit.Y, PROBE_METRICS, context).means.items():
            if np.isfinite(value):
                out[(layer, metric)] = float(value)
    return out


def applied_scores(reference_doc: dict[str, Any], fitted: FittedState | None, why_not: str | None,
                   variant_dir: Path, *, log: Callable[[str], None], notes: list[str]) -> dict[str, dict[str, Any]]:
    """Reference claim id -> {"score", "source"} for the structural and property claims the saved probes cover."""
    claims = reference_doc.get("claims", [])
    structural = sorted({c["subject"]["layer"] for c in claims if c["kind"] == STRUCTURAL_PROBE})
    prop = sorted({c["subject"]["layer"] for c in claims if c["kind"] == PROPERTY_INFERENCE})
    if not structural and not prop:
        return {}
    if fitted is None:
        notes.append(f"structural and property claims: applied is null — the reference's fitted probes: {why_not}")
        return {}
    out: dict[str, dict[str, Any]] = {}
    if structural and fitted.structural is not None:
        scores = applied_structural(fitted.structural, variant_dir, structural, log, notes)
        for claim in claims:
            if claim["kind"] == STRUCTURAL_PROBE and claim["subject"]["layer"] in scores:
                out[claim["id"]] = {"score": scores[claim["subject"]["layer"]],
                                    "source": "the reference's distance probe on the variant's layer"}
    if prop and fitted.property is not None:
        scores = applied_property(fitted.property, variant_dir, prop, notes)
        for claim in claims:
            key = (claim["subject"]["layer"], claim.get("metric"))
            if claim["kind"] == PROPERTY_INFERENCE and key in scores:
                out[claim["id"]] = {"score": scores[key],
                                    "source": "the reference's mapper of each fold fed the variant's vectors"}
    return out
