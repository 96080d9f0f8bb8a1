"""The runtime's paired mode: two models over the same padded batches, their outputs handed to paired collectors.

compare's numeric drift (reference vs compressed variant) and the fidelity check (a bundle's audited vs deployed
graph) ask the same question of two models: what does each compute on exactly the same input? Both run here:
sentences are aligned once in chunks (skips recorded one way, as ``SkippedSentence``), cut into padded batches,
each batch is run through the first and the second model, and every collector gets the batch with both outputs.
Only what a collector does with them differs, as with the single-model collectors of ``extract``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from edgeaudit.runtime.alignment import WordTokenizer
from edgeaudit.runtime.batching import BatchOptions
from edgeaudit.runtime.padded import PaddedBatch, align_sentences, padded_batches
from edgeaudit.runtime.progress import progress_bar
from edgeaudit.runtime.summary import SkippedSentence

CHUNK = 1024  # sentences aligned and bucketed together
Outputs = dict[str, np.ndarray]
RunBatch = Callable[[PaddedBatch], Outputs]  # one model's outputs for one padded batch


class PairedCollector(Protocol):
    def update(self, batch: PaddedBatch, first: Outputs, second: Outputs) -> None: ...


def run_paired(first: RunBatch, second: RunBatch, words: WordTokenizer, sentences: Sequence[object],
               collectors: Sequence[PairedCollector], *, batch: BatchOptions, pad_id: int,
               attention_floats_per_seq2: int = 0, progress: bool = False,
               label: str = "paired run") -> list[SkippedSentence]:
    """Feed both models every batch of ``sentences`` and each collector both outputs; returns the skipped sentences.

    A batch's outputs are dropped once every collector has seen them, so memory holds one batch pair at a time.
    """
    skips: list[SkippedSentence] = []
    with progress_bar(len(sentences), label, progress) as bar:
        for start in range(0, len(sentences), CHUNK):
            aligned = align_sentences(words, sentences[start:start + CHUNK], start=start, skipped=skips,
                                      on_skip=lambda _: bar.update(1))
            for padded in padded_batches(aligned, batch, pad_id, attention_floats_per_seq2=attention_floats_per_seq2):
                one, two = first(padded), second(padded)
                for collector in collectors:
                    collector.update(padded, one, two)
                del one, two
                bar.update(len(padded.sentences))
    return skips


def session_runner(session: Any, outputs: list[str]) -> RunBatch:
    """A ``ModelSession`` fetching ``outputs`` as a ``RunBatch``."""
    return lambda padded: session.run(padded.input_ids, padded.attention_mask, outputs)
