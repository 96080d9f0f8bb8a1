"""Streaming collectors: statistics over a corpus without ever holding its attention.

A collector is anything with ``update(batch: WordBatch)`` and ``result()``. The extraction loop calls every
collector once per batch and then drops the batch, so a collector keeps running sums, never the arrays.
A collector may declare ``needs`` (a subset of ``{"attention", "hidden_states"}``) so that outputs nobody
reads are not fetched; without it, both are provided.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

ATTENTION = "attention"
HIDDEN_STATES = "hidden_states"
ALL_NEEDS = frozenset({ATTENTION, HIDDEN_STATES})


@dataclass(frozen=True)
class WordSentence:
    """One extracted sentence at word level; arrays are None when no consumer asked for them."""

    index: int  # position of the sentence in the extraction input
    sent_id: str
    words: list[str]
    n_tokens: int  # subtokens including special tokens
    attention: np.ndarray | None  # [layer, head, word_from, word_to]
    special_mass: np.ndarray | None  # [layer, head, word_from]: each word row's mass on special tokens
    hidden: np.ndarray | None  # [layer, word, hidden]; layer 0 = embedding output


@dataclass(frozen=True)
class WordBatch:
    """The sentences of one model batch (length-bucketed, so not in input order; see ``index``)."""

    sentences: list[WordSentence]

    def __iter__(self) -> Iterator[WordSentence]:
        return iter(self.sentences)

    def __len__(self) -> int:
        return len(self.sentences)


class Collector(Protocol):
    def update(self, batch: WordBatch) -> None: ...

    def result(self) -> Any: ...


def collector_needs(collector: object) -> frozenset[str]:
    """What a collector reads from a batch (everything unless it says otherwise)."""
    needs = getattr(collector, "needs", None)
    return ALL_NEEDS if needs is None else frozenset(needs)


class CountingCollector:
    """Counts batches, sentences, words and subtokens; reads no arrays."""

    needs = frozenset()

    def __init__(self) -> None:
        self.batches = self.sentences = self.words = self.tokens = 0

    def update(self, batch: WordBatch) -> None:
        self.batches += 1
        for sentence in batch:
            self.sentences += 1
            self.words += len(sentence.words)
            self.tokens += sentence.n_tokens

    def result(self) -> dict[str, int]:
        return {"batches": self.batches, "sentences": self.sentences, "words": self.words, "tokens": self.tokens}


@dataclass(frozen=True)
class AttentionMass:
    """Mean attention mass per layer/head over every word row of the corpus."""

    special: np.ndarray  # [layer, head]: mass on special tokens ([CLS], [SEP], <s>)
    first_word: np.ndarray  # [layer, head]: mass on the first word, from rows of later words
    rows: int  # word rows averaged

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "special": np.round(self.special, 6).tolist(),
            "first_word": np.round(self.first_word, 6).tolist(),
        }


class SpecialTokenMass:
    """How much attention goes to special tokens (and to the first word) per layer and head.

    Word-level rows sum to 1 minus this mass, so a head that parks most of its attention on [SEP] or on a
    decoder's <s> (an attention sink) has little left for words; reports show it next to head claims.
    """

    needs = frozenset({ATTENTION})

    def __init__(self) -> None:
        self._special: np.ndarray | None = None  # [layer, head] float64 sums
        self._first: np.ndarray | None = None
        self._rows = 0
        self._later_rows = 0

    def update(self, batch: WordBatch) -> None:
        for sentence in batch:
            if sentence.special_mass is None or sentence.attention is None:
                raise ValueError("SpecialTokenMass needs attention; the extraction did not fetch it")
            special = sentence.special_mass.sum(axis=-1, dtype=np.float64)  # [layer, head]
            first = sentence.attention[:, :, 1:, 0].sum(axis=-1, dtype=np.float64)  # [layer, head]
            if self._special is None:
                self._special, self._first = np.zeros_like(special), np.zeros_like(first)
            self._special += special
            self._first += first
            self._rows += sentence.special_mass.shape[-1]
            self._later_rows += sentence.special_mass.shape[-1] - 1

    def result(self) -> AttentionMass | None:
        if self._special is None:
            return None
        return AttentionMass(self._special / max(self._rows, 1), self._first / max(self._later_rows, 1), self._rows)
