"""What an audit fitted, saved beside ``audit.json`` (``fitted.json`` + ``fitted.npz``) for ``edgeaudit compare``.

A deployed explanation is the reference's own probe, so compare asks whether *that* probe still reads a compressed
variant. Saving what was fitted lets compare apply it directly instead of rebuilding it: compare of two finished
audits then needs neither the treebank nor the norms (they may live on another machine) and refits nothing.
Saved: the audited sentences (ids, words, spacing: numeric drift and fidelity run on them) and, per probe group,
what its plugin's ``fitted`` returned — the structural group: the distance probe of every layer with the test
split and the test sentences' gold trees; the property group: per layer the mapper of every cross-validation
fold, the folds, the F1 cuts and the kept concepts' norms. Written with the stage checkpoints'
encoder: JSON plus arrays, never pickle. The file names its audit (bundle and corpus sha256), so a stale file
left beside a newer audit.json is refused rather than applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeaudit.audit.checkpoint import read_encoded, write_encoded
from edgeaudit.probes.property import MapperState
from edgeaudit.runtime.corpus import SentenceInput, as_sentences, corpus_sha256

if TYPE_CHECKING:
    from edgeaudit.results import AuditResult

FITTED_FILE = "fitted.json"
FITTED_ARRAYS = "fitted.npz"
FITTED_FORMAT = 1


@dataclass
class StructuralFit:
    """Every layer's distance probe and what scoring it on another model's activations needs."""

    sentence_ids: list[str]  # the activation store's sentences, in store order
    test: list[int]  # store positions of the held-out sentences the probes are scored on
    heads: list[np.ndarray]  # gold tree of each test sentence
    punct: list[np.ndarray]  # punctuation flags of each test sentence
    probes: dict[int, dict[str, np.ndarray]]  # hidden-state layer -> DistanceProbe.fitted_state()


@dataclass
class PropertyFit:
    """The property probe's per-fold mappers per layer, with the folds, cuts and norms they are scored against."""

    kept: list[int]  # the concepts that have vectors (indices into the norms' concept list), in store order
    template: str | None
    Y: np.ndarray  # [concept, feature] norms of those concepts
    fold_of: np.ndarray  # [concept] the fold that holds the concept out
    mappers: dict[int, list[MapperState]] = field(default_factory=dict)  # layer -> one mapper per fold
    thresholds: dict[int, np.ndarray | None] = field(default_factory=dict)  # layer -> [fold, feature] F1 cuts


@dataclass
class FittedState:
    bundle_sha256: str
    corpus_sha256: str
    sentences: list[SentenceInput]
    fits: dict[str, Any] = field(default_factory=dict)  # probe group -> what its plugin's ``apply`` reads


def structural_fit(result: Any, sentence_ids: list[str], trees: list) -> StructuralFit:
    """``result`` (a StructuralResult) with its store's sentence ids and gold trees (in store order)."""
    test = list(result.split.test)
    return StructuralFit(sentence_ids=list(sentence_ids), test=test,
                         heads=[np.asarray(trees[i].heads) for i in test],
                         punct=[np.asarray(trees[i].is_punct) for i in test],
                         probes={layer.layer: layer.distance_state for layer in result.layers})


def fitted_state(bundle_sha256: str, sentences: list, fits: dict[str, Any]) -> FittedState:
    inputs = as_sentences(sentences)
    return FittedState(bundle_sha256, corpus_sha256(inputs), inputs, {k: v for k, v in fits.items() if v is not None})


def variant_store(variant_dir: Path, subdir: str, kind: str, items: list, notes: list[str]) -> Any:
    """The variant audit's activation store ``subdir`` if it holds exactly the items the reference's probes were
    fitted on, else None with the reason in ``notes``."""
    from edgeaudit.errors import EdgeAuditError
    from edgeaudit.runtime import StoredActivations

    try:
        store = StoredActivations(variant_dir / subdir)
    except EdgeAuditError:
        notes.append(f"{kind} claims: applied is null — the variant audit's {subdir} store is missing")
        return None
    if list(store.sentence_ids) != list(items):
        notes.append(f"{kind} claims: applied is null — the audits stored different items")
        return None
    return store


def save_fitted(out_dir: Path, state: FittedState) -> None:
    write_encoded(out_dir / FITTED_FILE, out_dir / FITTED_ARRAYS, {"format": FITTED_FORMAT}, state)


def load_fitted(audit_dir: Path, audit: AuditResult) -> tuple[FittedState | None, str | None]:
    """The fitted state saved with ``audit`` in ``audit_dir``, or (None, why it cannot be used)."""
    path = audit_dir / FITTED_FILE
    if not path.is_file():
        return None, f"{path} is missing (audits by edgeaudit before fitted states were saved): re-run the audit"
    try:
        header, state = read_encoded(path, audit_dir / FITTED_ARRAYS)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        return None, f"{path} cannot be read ({type(error).__name__}: {error}): re-run the audit"
    if header.get("format") != FITTED_FORMAT or not isinstance(state, FittedState):
        return None, f"{path}: format {header.get('format')!r}, this edgeaudit reads {FITTED_FORMAT}: re-run the audit"
    if state.bundle_sha256 != audit.bundle.sha256 or state.corpus_sha256 != audit.data.sha256:
        return None, f"{path} belongs to another audit (bundle or corpus differs from audit.json's): re-run the audit"
    if corpus_sha256(state.sentences) != state.corpus_sha256:
        return None, f"{path}: its sentences do not hash to the corpus it names (damaged): re-run the audit"
    return state, None
