"""Shared bits for runtime tests: small corpora and a collector that keeps copies (tests only)."""

from __future__ import annotations

import re

import numpy as np

from tests.tiny_models import CORPUS


def split_words(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text)


def corpus_sentences(repeat: int = 1) -> list[tuple[str, list[str]]]:
    """The tiny-model corpus split into words, plus short and one-word sentences (varied lengths)."""
    lines = list(CORPUS) + ["Hi !", "Dogs", "The cat sat .", "Edge devices run models"]
    sentences = []
    for r in range(repeat):
        for i, line in enumerate(lines):
            sentences.append((f"s{r}-{i}", split_words(line)))
    return sentences


class KeepAll:
    """Keeps every sentence's arrays by input index — fine for a dozen sentences in a test."""

    def __init__(self) -> None:
        self.sentences: dict[int, object] = {}
        self.batches: list[list[int]] = []

    def update(self, batch) -> None:
        self.batches.append([s.index for s in batch])
        for sentence in batch:
            assert sentence.index not in self.sentences, "a sentence was delivered twice"
            self.sentences[sentence.index] = sentence

    def result(self) -> dict[int, object]:
        return self.sentences


def assert_close(a: np.ndarray, b: np.ndarray, atol: float = 1e-5) -> None:
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, atol=atol, rtol=0)
