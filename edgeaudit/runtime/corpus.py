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
    space_after: tuple[bool, ...] | None = None  # per word: followed by a space in running text (None: unknown)


def as_sentences(items: Iterable[object]) -> list[SentenceInput]:
    """Normalise sentence objects or ``(sent_id, words)`` pairs; ids must be unique."""
    sentences: list[SentenceInput] = []
    for position, item in enumerate(items):
        space_after = None
        if hasattr(item, "words") and hasattr(item, "sent_id"):
            sent_id, words = item.sent_id, item.words  # type: ignore[attr-defined]
            space_after = getattr(item, "space_after", None)
        else:
            sent_id, words = item  # type: ignore[misc]
        if isinstance(words, str):
            raise TypeError(f"sentence {position} ({sent_id!r}): words must be a list of strings, not one string")
        spacing = None if space_after is None else tuple(bool(flag) for flag in space_after)
        sentences.append(SentenceInput(str(sent_id), tuple(str(word) for word in words), spacing))
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
        record: list = [sentence.sent_id, list(sentence.words)]
        if sentence.space_after is not None:  # spacing changes how byte-level BPE tokenises the words
            record.append("".join("1" if flag else "0" for flag in sentence.space_after))
        digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
