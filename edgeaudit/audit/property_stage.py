"""Property inference on concept vectors: norms + categories -> probe with every control -> claims.

Also reports MDL (Voita & Titov 2020) per binary property with a type-level control task, so a property a
layer "encodes" can be read as compression over the control, not only as a probe score.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from edgeaudit.audit.concepts import concept_vectors
from edgeaudit.audit.options import AuditOptions
from edgeaudit.audit.property_claims import property_claims
from edgeaudit.bundle import Bundle
from edgeaudit.data import load_categories, load_norms
from edgeaudit.data.skips import count_skips
from edgeaudit.errors import EdgeAuditError
from edgeaudit.probes import run_property_probe
from edgeaudit.probes.property.mdl import feature_mdl
from edgeaudit.runtime.progress import progress_bar
from edgeaudit.verdict import Claim

DEFAULT_NORMS = "builtin:concepts"
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


def load_property_data(options: AuditOptions) -> tuple[Any, list[str] | None, list[dict]]:
    """Norms, one category per kept concept (or None), and the concepts left out with reasons."""
    spec = options.norms or DEFAULT_NORMS
    norms = load_norms(spec) if spec.startswith("builtin:") else load_norms(spec, duplicates="first")
    left_out = _drop_incomplete(norms, spec)
    if not len(norms.concepts):
        raise EdgeAuditError(f"{spec}: every concept has empty values ({len(left_out)} left out)",
                             hint="fill in the blanks, or use a table without missing cells")
    categories = norms.categories
    if options.categories is not None:
        extra = {} if options.categories_pos is None else {"pos": options.categories_pos}
        table = load_categories(options.categories, **extra)
        found, missing = table.lookup(norms.concepts)
        keep = [i for i, c in enumerate(found) if c is not None]
        if not keep:
            raise EdgeAuditError(
                f"{options.categories}: no category for any of the {len(norms.concepts)} concepts of {spec} "
                f"(e.g. {', '.join(map(repr, norms.concepts[:3]))})",
                hint="check that the categories file's word column holds the norms' concept words")
        left_out += [{"concept": w, "reason": f"no category in {options.categories}"} for w in missing]
        _keep_rows(norms, keep)
        categories = [found[i] for i in keep]
    if categories is not None and len(set(categories)) < 2:
        raise EdgeAuditError(
            f"{options.categories or spec}: all {len(categories)} usable concepts are in one category "
            f"{categories[0]!r}; the category controls need at least 2",
            hint="use a table with several categories" + (", or leave out --categories" if options.categories else ""))
    if len(norms.concepts) < options.folds * 2:
        raise EdgeAuditError(f"{spec}: only {len(norms.concepts)} concepts usable, too few for {options.folds}-fold "
                             "cross-validation", hint="use more concepts or lower --folds")
    return norms, categories, left_out


def run_property_stage(bundle: Bundle, twin: Bundle | None, options: AuditOptions, out_dir: Path,
                       *, log: Callable[[str], None], data=None) -> tuple[dict, list[Claim]]:
    """``data`` is ``load_property_data(options)`` when the caller already loaded (and so validated) it."""
    norms, categories, left_out = data if data is not None else load_property_data(options)
    name = _norms_name(options.norms or DEFAULT_NORMS)
    last = bundle.manifest.num_layers
    layers = sorted(set(options.property_layers if options.property_layers is not None else (0, last)))
    bad = [layer for layer in layers if not 0 <= layer <= last]
    if bad:
        raise EdgeAuditError(f"option --property-layers: {bad} outside 0..{last}")
    vectors = concept_vectors(bundle, norms.concepts, layers, out_dir / "concept-activations",
                              progress=options.progress)
    twin_vectors = None
    if twin is not None:
        twin_vectors = concept_vectors(twin, norms.concepts, layers, out_dir / "concept-twin-activations",
                                       progress=options.progress)
    kept = vectors.kept
    Y = norms.matrix[kept]
    concepts = [norms.labels[i] for i in kept]
    cats = None if categories is None else [categories[i] for i in kept]
    section: dict[str, Any] = {
        "norms": {"source": norms.source, "name": name, "concepts": len(norms.concepts), "features": len(norms.features),
                  "binary": bool(np.isin(norms.matrix, (0.0, 1.0)).all()), "notes": norms.notes,
                  "skipped": [str(skip) for skip in norms.skipped], "skipped_by_kind": count_skips(norms.skipped)},
        "categories": options.categories or ("from norms" if categories is not None else None),
        "left_out": left_out + vectors.skipped, "layers": {},
    }
    claims: list[Claim] = []
    with progress_bar(len(layers), "property", options.progress, unit="layer") as shown:
        for layer in layers:
            log(f"property probe: layer {layer} ({len(kept)} concepts x {Y.shape[1]} features, {options.mapper})")
            X = vectors.vectors[layer]
            X_twin = twin_vectors.vectors[layer] if twin_vectors is not None and twin_vectors.kept == kept else None
            with threadpool_limits(limits=1, user_api="blas"):
                result = run_property_probe(X, Y, concepts=concepts, categories=cats, X_twin=X_twin, mapper=options.mapper,
                                            folds=options.folds, n_shuffles=options.shuffles, n_resamples=options.bootstrap,
                                            confidence=options.confidence, seed=options.seed,
                                            n_jobs=options.workers)
                layer_section = {"probe": result.to_dict()}
                if section["norms"]["binary"]:
                    mdl = feature_mdl(X, Y, concepts=concepts, seed=options.seed,
                                      features=_most_balanced(Y, MAX_MDL_FEATURES))
                    layer_section["mdl"] = {norms.features[j]: r.to_dict() for j, r in mdl.items()}
            section["layers"][str(layer)] = layer_section
            claims += property_claims(result, layer=layer, norms_name=name, thresholds=options.thresholds,
                                      n_concepts=len(kept))
            shown.update(1)
    return section, claims


def _most_balanced(Y: np.ndarray, limit: int) -> list[int]:
    """The binary features closest to a 50/50 split (MDL says most about them), capped for time."""
    rates = Y.mean(axis=0)
    order = np.argsort(np.abs(rates - 0.5))
    return [int(j) for j in order[:limit] if 0 < rates[j] < 1]
