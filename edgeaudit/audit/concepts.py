"""Word vectors of norm concepts from a bundle: each concept run alone, or inside a template sentence.

A concept name such as ``ball_bearing`` becomes the two-word input "ball bearing" and its vector is the
mean of its words' vectors. Alone (the default), a concept gives the closest thing to a static embedding that
every layer of the deployed graph can provide. A template ("This is a {word}.") gives it a context, which
decoders need: a word at the first position of a causal model sits on its attention sink, and concept vectors
there are nearly identical. Only the concept's own words are pooled; the template's words are context.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeaudit.audit.layers import layer_sentences
from edgeaudit.audit.options import TEMPLATE_SLOT
from edgeaudit.bundle import Bundle
from edgeaudit.runtime import StoredActivations, extract
from edgeaudit.runtime.corpus import SentenceInput


@dataclass
class ConceptVectors:
    kept: list[int]  # indices into the concept list that have vectors
    skipped: list[dict]  # {"concept", "reason"}
    vectors: dict[int, np.ndarray]  # hidden_state layer -> [kept concept, hidden]


@dataclass(frozen=True)
class Template:
    """A sentence with one ``{word}`` slot, split into words around it, with the running text's spacing."""

    before: tuple[str, ...]
    after: tuple[str, ...]
    space_before_slot: bool  # "a {word}" vs "'{word}"
    space_after_slot: bool  # "{word} is" vs "{word}."
    alone: bool = False  # no template: the words alone, spacing left to the tokenizer's default

    @classmethod
    def parse(cls, text: str | None) -> Template:
        if text is None:
            return cls((), (), True, True, alone=True)
        before, after = text.split(TEMPLATE_SLOT)
        return cls(tuple(before.split()), tuple(after.split()), not before or before[-1].isspace(),
                   not after or after[0].isspace())

    def sentence(self, sent_id: str, words: list[str]) -> SentenceInput:
        """The template with ``words`` in its slot, spaced as the template writes it."""
        all_words = (*self.before, *words, *self.after)
        if self.alone:
            return SentenceInput(sent_id, all_words)
        spacing = [True] * len(all_words)
        if self.before and not self.space_before_slot:
            spacing[len(self.before) - 1] = False
        if self.after and not self.space_after_slot:
            spacing[len(self.before) + len(words) - 1] = False
        spacing[-1] = False
        return SentenceInput(sent_id, all_words, tuple(spacing))

    def slot(self, n_words: int) -> slice:
        """Positions of the concept's words in a sentence of ``n_words`` words."""
        return slice(len(self.before), n_words - len(self.after))


def concept_words(concept: str) -> list[str]:
    return [part for part in concept.replace("_", " ").split() if part]


def concept_vectors(bundle: Bundle, concepts: list[str], layers: list[int], store_dir: Path, *,
                    progress: bool, batch=None, session=None, template: str | None = None) -> ConceptVectors:
    shape = Template.parse(template)
    inputs = [shape.sentence(f"concept-{i}", concept_words(c) or [c]) for i, c in enumerate(concepts)]
    summary = extract(bundle, inputs, store_dir=store_dir, progress=progress, batch=batch, session=session)
    kept, vectors = vectors_from_store(StoredActivations(store_dir), layers, template=template)
    skipped = [{"concept": concepts[int(s.sent_id.split("-", 1)[1])], "reason": s.reason} for s in summary.skipped]
    return ConceptVectors(kept=kept, skipped=skipped, vectors=vectors)


def vectors_from_store(store: StoredActivations, layers: list[int], *,
                       template: str | None = None) -> tuple[list[int], dict[int, np.ndarray]]:
    """(kept concept indices, layer -> [concept, hidden]) from a concept store: the mean over a concept's words."""
    shape = Template.parse(template)
    kept = [int(sid.split("-", 1)[1]) for sid in store.sentence_ids]
    vectors = {}
    for layer in layers:
        per_concept = layer_sentences(store, layer)
        vectors[layer] = (np.stack([v[shape.slot(len(v))].mean(axis=0) for v in per_concept]) if per_concept
                          else np.zeros((0, 0)))
    return kept, vectors
