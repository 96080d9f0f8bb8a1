"""The runtime's view of a corpus: sentence ids and word lists, and a hash that identifies them.

The runtime does not depend on a dataset class: anything with ``sent_id`` and ``words`` attributes (a
treebank sentence) or a ``(sent_id, words)`` pair will do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from edgeaudit.errors import DataError


@dataclass(frozen=True)
class SentenceInput:
    sent_id: str
    words: tuple[str, ...]
    space_after: tuple[bool, ...] | None = None  # per word: followed by a space in running text (None: unknown)


def as_sentence(item: object, position: int) -> SentenceInput:
    """One sentence object or ``(sent_id, words)`` pair as the runtime's :class:`SentenceInput`."""
    space_after = None
    if hasattr(item, "words") and hasattr(item, "sent_id"):
        sent_id, words = item.sent_id, item.words  # type: ignore[attr-defined]
        space_after = getattr(item, "space_after", None)
    else:
        sent_id, words = item  # type: ignore[misc]
    if isinstance(words, str):
        raise TypeError(f"sentence {position} ({sent_id!r}): words must be a list of strings, not one string")
    spacing = None if space_after is None else tuple(bool(flag) for flag in space_after)
    return SentenceInput(str(sent_id), tuple(str(word) for word in words), spacing)


def _duplicate(sent_id: str) -> ValueError:
    return ValueError(f"sentence id {sent_id!r} occurs twice; ids must be unique")


def as_sentences(items: Iterable[object]) -> list[SentenceInput]:
    """Normalise sentence objects or ``(sent_id, words)`` pairs; ids must be unique."""
    if isinstance(items, StreamedCorpus):
        return list(items)
    sentences = [as_sentence(item, position) for position, item in enumerate(items)]
    seen: set[str] = set()
    for sentence in sentences:
        if sentence.sent_id in seen:
            raise _duplicate(sentence.sent_id)
        seen.add(sentence.sent_id)
    return sentences


class _CorpusHash:
    """sha256 of ids, words and spacing in order, fed one sentence at a time."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def update(self, sentence: SentenceInput) -> None:
        record: list = [sentence.sent_id, list(sentence.words)]
        if sentence.space_after is not None:  # spacing changes how byte-level BPE tokenises the words
            record.append("".join("1" if flag else "0" for flag in sentence.space_after))
        self._digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8"))
        self._digest.update(b"\n")

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def corpus_sha256(sentences: Iterable[SentenceInput]) -> str:
    """Hash of ids and words in order: a stored extraction is reused only for the very same corpus."""
    if isinstance(sentences, StreamedCorpus):
        return sentences.sha256
    digest = _CorpusHash()
    for sentence in sentences:
        digest.update(sentence)
    return digest.hexdigest()


class StreamedCorpus:
    """A corpus that is read again on every pass instead of held in memory, so memory does not grow with it.

    ``source`` must be re-iterable (each ``iter()`` starts over, as :class:`~edgeaudit.data.ConlluStream`
    does). Construction makes the first pass: it counts the sentences, checks that ids are unique and
    computes :func:`corpus_sha256`, which a store needs before the first shard. Passes that do not see the
    same corpus (the file changed underneath) are refused rather than mixed.
    """

    def __init__(self, source: Iterable[object]):
        self._source = source
        digest, seen = _CorpusHash(), set()
        for sentence in self._read():
            if sentence.sent_id in seen:
                raise _duplicate(sentence.sent_id)
            seen.add(sentence.sent_id)
            digest.update(sentence)
        self._length, self.sha256 = len(seen), digest.hexdigest()

    def _read(self):
        for position, item in enumerate(self._source):
            yield as_sentence(item, position)

    def __len__(self) -> int:
        return self._length

    def __iter__(self):
        digest, count = _CorpusHash(), 0
        for sentence in self._read():
            digest.update(sentence)
            count += 1
            yield sentence
        if (count, digest.hexdigest()) != (self._length, self.sha256):
            raise DataError("the corpus changed between two passes over it (was the data file modified during the run?)",
                            hint="rerun once the file stays unchanged")


def iter_chunks(corpus: Iterable[SentenceInput], size: int):
    """``(start, sentences)`` for consecutive chunks of ``size``: one pass, one chunk in memory at a time."""
    chunk: list[SentenceInput] = []
    start = 0
    for sentence in corpus:
        chunk.append(sentence)
        if len(chunk) == size:
            yield start, chunk
            start, chunk = start + size, []
    if chunk:
        yield start, chunk
