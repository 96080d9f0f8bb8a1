"""The runtime's view of a corpus: sentence ids and word lists, and a hash that identifies them.

The runtime does not depend on a dataset class: anything with ``sent_id`` and ``words`` attributes (a
treebank sentence) or a ``(sent_id, words)`` pair will do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SentenceInput:
    sent_id: str
    words: tuple[str, ...]


def as_sentences(items: Iterable[object]) -> list[SentenceInput]:
    """Normalise sentence objects or ``(sent_id, words)`` pairs; ids must be unique."""
    sentences: list[SentenceInput] = []
    for position, item in enumerate(items):
        if hasattr(item, "words") and hasattr(item, "sent_id"):
            sent_id, words = item.sent_id, item.words  # type: ignore[attr-defined]
        else:
            sent_id, words = item  # type: ignore[misc]
        if isinstance(words, str):
            raise TypeError(f"sentence {position} ({sent_id!r}): words must be a list of strings, not one string")
        sentences.append(SentenceInput(str(sent_id), tuple(str(word) for word in words)))
    seen: set[str] = set()
    for sentence in sentences:
        if sentence.sent_id in seen:
            raise ValueError(f"sentence id {sentence.sent_id!r} occurs twice; ids must be unique")
        seen.add(sentence.sent_id)
    return sentences


def corpus_sha256(sentences: Iterable[SentenceInput]) -> str:
    """Hash of ids and words in order: a stored extraction is reused only for the very same corpus."""
    digest = hashlib.sha256()
    for sentence in sentences:
        digest.update(json.dumps([sentence.sent_id, list(sentence.words)], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
