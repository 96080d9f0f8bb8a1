"""Calibration inputs: sentences from a file, a treebank loader or a list; feed dicts checked on the way."""

from __future__ import annotations

import types

import numpy as np
import pytest

from edgeaudit.bundle import load_bundle
from edgeaudit.compress import CompressError, FeedReader, compress_bundle, feeds_from_sentences
from edgeaudit.compress import calibration as calibration_module
from tests.edgeaudit.compress.conftest import SENTENCES


def test_feeds_are_padded_int64_batches_of_the_bundle_inputs(tiny_bundle):
    bundle = load_bundle(tiny_bundle("gpt2"))
    feeds = feeds_from_sentences(bundle, [*SENTENCES, "   "], batch_size=4)
    assert [len(f["input_ids"]) for f in feeds] == [4, 2]  # the blank sentence is dropped
    for feed in feeds:
        assert set(feed) == set(bundle.manifest.inputs)
        assert all(a.dtype == np.int64 and a.shape == feed["input_ids"].shape for a in feed.values())
    assert (feeds[0]["attention_mask"] == 0).any()  # padded to the longest sentence


def test_reader_hands_out_each_feed_once_then_none(tiny_bundle):
    feeds = feeds_from_sentences(load_bundle(tiny_bundle("bert")), SENTENCES, batch_size=2)
    seen = []
    reader = FeedReader(feeds, ["input_ids", "attention_mask"], on_batch=lambda: seen.append(1))
    batches = list(iter(reader.get_next, None))
    assert len(batches) == 3 == reader.batches == len(seen)
    assert reader.get_next() is None


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        ({"input_ids": np.zeros((1, 3), np.int64)}, "lacks model input.*attention_mask"),
        ({"input_ids": np.zeros(3, np.int64), "attention_mask": np.ones(3, np.int64)}, r"integer \[batch, seq\]"),
        ({"input_ids": np.zeros((1, 3)), "attention_mask": np.ones((1, 3))}, "float64"),
        (["not", "a", "dict"], "expected a dict"),
    ],
)
def test_reader_rejects_malformed_feeds(feed, message):
    reader = FeedReader([feed], ["input_ids", "attention_mask"])
    with pytest.raises(CompressError, match=message):
        reader.get_next()


def test_library_accepts_feed_dicts_and_sentence_lists(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle("bert"))
    feeds = feeds_from_sentences(bundle, SENTENCES, batch_size=3)
    by_feeds = compress_bundle(bundle.directory, tmp_path / "a", "int8-static", calibration=feeds, progress=False)
    assert by_feeds.manifest.data["variant"]["settings"]["calibration"]["batches"] == 2
    by_list = compress_bundle(bundle.directory, tmp_path / "b", "int8-static", calibration=SENTENCES,
                              progress=False)
    assert by_list.manifest.data["variant"]["settings"]["calibration"]["sentences"] == len(SENTENCES)


def test_builtin_needs_the_treebank_loader(monkeypatch, tiny_bundle, tmp_path):
    monkeypatch.setattr(calibration_module, "_treebank_loader", lambda: None)
    with pytest.raises(CompressError, match="builtin:treebank' needs edgeaudit.data.load_treebank"):
        compress_bundle(tiny_bundle("bert"), tmp_path / "out", "int8-static", calibration="builtin:treebank",
                        progress=False)


def test_builtin_goes_through_the_treebank_loader(monkeypatch, tiny_bundle, tmp_path):
    asked = []

    def load_treebank(spec):
        asked.append(spec)
        sentence = types.SimpleNamespace(words=["The", "cat", "sat", "."])
        return types.SimpleNamespace(sentences=[sentence] * 5)

    monkeypatch.setattr(calibration_module, "_treebank_loader", lambda: load_treebank)
    bundle = compress_bundle(tiny_bundle("bert"), tmp_path / "out", "int8-static", calibration="builtin:treebank",
                             progress=False)
    assert asked == ["builtin:treebank"]
    record = bundle.manifest.data["variant"]["settings"]["calibration"]
    assert (record["source"], record["sentences"]) == ("builtin:treebank", 5)


def test_token_ids_beyond_the_vocabulary_fail_in_one_line(tiny_bundle, tmp_path):
    bad = {"input_ids": np.full((1, 4), 10_000, np.int64), "attention_mask": np.ones((1, 4), np.int64)}
    with pytest.raises(CompressError, match="could not run the model on calibration batch 1"):
        compress_bundle(tiny_bundle("bert"), tmp_path / "out", "int8-static", calibration=[bad], progress=False)
    assert not (tmp_path / "out").exists()
