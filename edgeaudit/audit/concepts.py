"""Word vectors of norm concepts from a bundle: each concept word run alone through the model.

A concept name such as ``ball_bearing`` becomes the two-word input "ball bearing" and its vector is the
mean of its words' vectors. Running the word alone (no context sentence) gives the closest thing to a
static embedding that every layer of the deployed graph can provide.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeaudit.audit.layers import layer_sentences
from edgeaudit.bundle import Bundle
from edgeaudit.runtime import StoredActivations, extract


@dataclass
class ConceptVectors:
    kept: list[int]  # indices into the concept list that have vectors
    skipped: list[dict]  # {"concept", "reason"}
    vectors: dict[int, np.ndarray]  # hidden_state layer -> [kept concept, hidden]


def concept_words(concept: str) -> list[str]:
    return [part for part in concept.replace("_", " ").split() if part]


def concept_vectors(bundle: Bundle, concepts: list[str], layers: list[int], store_dir: Path, *,
                    progress: bool, batch=None, session=None) -> ConceptVectors:
    inputs = [(f"concept-{i}", concept_words(c) or [c]) for i, c in enumerate(concepts)]
    summary = extract(bundle, inputs, store_dir=store_dir, progress=progress, batch=batch, session=session)
    kept, vectors = vectors_from_store(StoredActivations(store_dir), layers)
    skipped = [{"concept": concepts[int(s.sent_id.split("-", 1)[1])], "reason": s.reason} for s in summary.skipped]
    return ConceptVectors(kept=kept, skipped=skipped, vectors=vectors)


def vectors_from_store(store: StoredActivations, layers: list[int]) -> tuple[list[int], dict[int, np.ndarray]]:
    """(kept concept indices, layer -> [concept, hidden]) from a concept store: the mean over a concept's words."""
    kept = [int(sid.split("-", 1)[1]) for sid in store.sentence_ids]
    vectors = {}
    for layer in layers:
        per_concept = layer_sentences(store, layer)
        vectors[layer] = np.stack([v.mean(axis=0) for v in per_concept]) if per_concept else np.zeros((0, 0))
    return kept, vectors
