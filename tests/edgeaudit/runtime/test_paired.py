"""The paired mode: both models see the same padded batch, every collector sees both outputs, skips are recorded."""

from __future__ import annotations

import numpy as np

from edgeaudit.bundle import load_bundle
from edgeaudit.runtime import BatchOptions, SentenceInput, WordTokenizer
from edgeaudit.runtime.paired import run_paired


class Recorder:
    def __init__(self):
        self.seen: list[int] = []

    def update(self, batch, first, second):
        np.testing.assert_array_equal(first["ids"], batch.input_ids)  # each side got exactly this batch
        np.testing.assert_array_equal(second["ids"], batch.input_ids + 1)
        self.seen += [sentence.index for sentence in batch.sentences]


def test_each_aligned_sentence_reaches_every_collector_once_with_both_outputs(tiny_bundle):
    words = WordTokenizer.from_bundle(load_bundle(tiny_bundle("bert")))
    corpus = [SentenceInput(str(i), ["the", "cat"] * (1 + i % 5)) for i in range(40)]
    corpus[7] = SentenceInput("long", ["cat"] * 500)
    calls: list[str] = []

    def first(padded):
        calls.append("first")
        return {"ids": padded.input_ids}

    def second(padded):
        calls.append("second")
        return {"ids": padded.input_ids + 1}

    collectors = [Recorder(), Recorder()]
    skips = run_paired(first, second, words, corpus, collectors, batch=BatchOptions(batch_tokens=64), pad_id=0)
    assert [(skip.index, skip.sent_id, skip.kind) for skip in skips] == [(7, "long", "too-long")]
    for collector in collectors:
        assert sorted(collector.seen) == [i for i in range(40) if i != 7]
    assert calls == ["first", "second"] * (len(calls) // 2) and len(calls) > 2  # several batches, always in pairs
