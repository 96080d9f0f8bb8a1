"""Sentences to padded model batches: the align → plan → pad steps every model pass shares.

Extraction, compare's paired drift pass and the fidelity check all run a bundle over pre-split sentences. They
align the words to subtokens, record the sentences that cannot be aligned (as ``SkippedSentence``, the one way
skips are kept), group the rest into batches by length and pad them. Only what they do with a batch's outputs
differs, so that is all they keep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from edgeaudit.runtime.alignment import Alignment, AlignmentSkip, WordTokenizer
from edgeaudit.runtime.batching import BatchOptions, pad_right, plan_batches
from edgeaudit.runtime.summary import SkippedSentence


@dataclass(frozen=True)
class AlignedSentence:
    index: int  # position in the caller's input
    alignment: Alignment


@dataclass(frozen=True)
class PaddedBatch:
    sentences: list[AlignedSentence]  # in row order
    input_ids: np.ndarray  # [batch, seq] int64
    attention_mask: np.ndarray  # [batch, seq] int64


def align_sentences(words: WordTokenizer, sentences: Sequence[object], *, start: int = 0,
                    skipped: list[SkippedSentence] | None = None,
                    on_skip: Callable[[SkippedSentence], None] | None = None) -> list[AlignedSentence]:
    """Align ``sentences`` (objects with ``words`` and ``sent_id``), numbered from ``start``; each one that cannot
    be aligned is appended to ``skipped`` and passed to ``on_skip``."""
    aligned = []
    for offset, outcome in enumerate(words.align_inputs(sentences)):
        index = start + offset
        if isinstance(outcome, AlignmentSkip):
            skip = SkippedSentence(index, str(getattr(sentences[offset], "sent_id", index)), outcome.kind,
                                   outcome.reason)
            if skipped is not None:
                skipped.append(skip)
            if on_skip is not None:
                on_skip(skip)
        else:
            aligned.append(AlignedSentence(index, outcome))
    return aligned


def padded_batches(aligned: Sequence[AlignedSentence], options: BatchOptions, pad_id: int, *,
                   attention_floats_per_seq2: int = 0) -> Iterator[PaddedBatch]:
    """``aligned`` cut into batches by ``plan_batches`` (longest first) and right-padded with ``pad_id``."""
    lengths = [sentence.alignment.n_tokens for sentence in aligned]
    for members in plan_batches(lengths, options, attention_floats_per_seq2=attention_floats_per_seq2):
        batch = [aligned[m] for m in members]
        ids, mask = pad_right([sentence.alignment.input_ids for sentence in batch], pad_id)
        yield PaddedBatch(batch, ids, mask)
