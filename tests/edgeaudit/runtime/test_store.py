"""Activation store: reuse, resume after interruption, redo of half-written shards, key refusal."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeaudit.bundle import load_bundle
from edgeaudit.runtime import BatchOptions, ModelSession, StoredActivations, StoreError, extract
from tests.edgeaudit.runtime.helpers import corpus_sentences

SHARD = 3  # sentences per shard: 12 sentences -> 4 shards


@pytest.fixture(scope="module")
def bundle(tiny_bundle):
    return load_bundle(tiny_bundle("gpt2"))


@pytest.fixture(scope="module")
def sentences():
    return corpus_sentences()  # 12 sentences


@pytest.fixture(scope="module")
def reference(bundle, sentences, tmp_path_factory):
    """An uninterrupted run's arrays, per layer."""
    directory = tmp_path_factory.mktemp("reference") / "store"
    summary = extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False)
    assert summary.complete and summary.store["shards_written"] == 4
    store = StoredActivations(directory)
    return store, [np.array(store.layer(layer)) for layer in range(store.num_layers)]


@pytest.fixture
def runs(monkeypatch):
    """Counts model runs (batches sent to onnxruntime)."""
    calls = {"n": 0}
    original = ModelSession.run

    def counting(self, *args):
        calls["n"] += 1
        return original(self, *args)

    monkeypatch.setattr(ModelSession, "run", counting)
    return calls


def assert_same_as_reference(directory, reference) -> None:
    ref_store, ref_layers = reference
    store = StoredActivations(directory)
    assert store.sentence_ids == ref_store.sentence_ids
    np.testing.assert_array_equal(store.word_offsets, ref_store.word_offsets)
    assert store.layer(0).shape == (int(store.word_offsets[-1]), store.hidden_size)
    for layer, want in enumerate(ref_layers):
        np.testing.assert_allclose(store.layer(layer), want, atol=1e-6, rtol=0)


def mtimes(directory) -> dict[str, int]:
    return {str(p.relative_to(directory)): p.stat().st_mtime_ns for p in sorted(directory.glob("shard_*/*"))}


def test_layer_view_is_memory_mapped_for_one_shard(bundle, sentences, tmp_path):
    extract(bundle, sentences, store_dir=tmp_path / "s", shard_sentences=100, progress=False)
    store = StoredActivations(tmp_path / "s")
    assert isinstance(store.layer(1), np.memmap)
    assert store.layer(1).dtype == np.float32
    assert len(store.word_offsets) == len(sentences) + 1


def test_interrupted_run_resumes_without_recomputing_done_shards(bundle, sentences, reference, tmp_path, runs):
    directory = tmp_path / "store"
    first = extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False, max_shards=2)
    assert not first.complete and first.store["shards_written"] == 2
    with pytest.raises(StoreError, match="did not finish"):
        StoredActivations(directory)
    before, runs_before = mtimes(directory), runs["n"]
    assert len({name.split("/")[0] for name in before}) == 2
    second = extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False)
    assert second.complete and second.store["shards_reused"] == 2 and second.store["shards_written"] == 2
    assert second.extracted == len(sentences)
    after = mtimes(directory)
    assert all(after[name] == stamp for name, stamp in before.items())  # first shards untouched
    assert runs["n"] - runs_before == second.batches  # only the two new shards were run
    assert_same_as_reference(directory, reference)


def test_collector_exception_interrupts_and_resume_completes(bundle, sentences, reference, tmp_path):
    class Boom:
        needs = frozenset()

        def __init__(self, after: int):
            self.after, self.seen = after, 0

        def update(self, batch):
            self.seen += 1
            if self.seen > self.after:
                raise RuntimeError("interrupted")

        def result(self):
            return self.seen

    directory = tmp_path / "store"
    with pytest.raises(RuntimeError, match="interrupted"):
        extract(bundle, sentences, collectors=[Boom(after=2)], store_dir=directory, shard_sentences=SHARD,
                progress=False, batch=BatchOptions(max_batch_size=3))
    done = mtimes(directory)
    assert {name.split("/")[0] for name in done} == {"shard_00000", "shard_00001"}
    summary = extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False)
    assert summary.store["shards_reused"] == 2
    assert all(mtimes(directory)[name] == stamp for name, stamp in done.items())
    assert_same_as_reference(directory, reference)


@pytest.mark.parametrize("damage", ["truncate", "delete-layer", "delete-record"])
def test_half_written_shard_is_redone(bundle, sentences, reference, tmp_path, damage):
    directory = tmp_path / "store"
    extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False, max_shards=3)
    victim = directory / "shard_00001"
    if damage == "truncate":
        path = victim / "layer_01.npy"
        path.write_bytes(path.read_bytes()[:-64])
    elif damage == "delete-layer":
        (victim / "layer_02.npy").unlink()
    else:
        (victim / "shard.json").unlink()
    kept = {k: v for k, v in mtimes(directory).items() if k.startswith("shard_00000")}
    summary = extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False)
    assert summary.store["shards_reused"] == 1 and summary.store["shards_written"] == 3
    assert all(mtimes(directory)[name] == stamp for name, stamp in kept.items())
    assert_same_as_reference(directory, reference)


def test_complete_store_is_reused_without_running_the_model(bundle, sentences, reference, tmp_path, runs):
    directory = tmp_path / "store"
    extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False)
    stamps, count = mtimes(directory), runs["n"]
    again = extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False)
    assert runs["n"] == count and again.batches == 0
    assert again.store["shards_reused"] == 4 and again.store["shards_written"] == 0
    assert again.extracted == len(sentences) and again.words == reference[0].word_offsets[-1]
    assert mtimes(directory) == stamps


def test_different_key_is_refused_unless_overwrite(bundle, sentences, tmp_path):
    directory = tmp_path / "store"
    extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False)
    with pytest.raises(StoreError, match="different corpus_sha256") as info:
        extract(bundle, sentences[:-1], store_dir=directory, shard_sentences=SHARD, progress=False)
    assert "--overwrite" in info.value.one_line() and "\n" not in info.value.one_line()
    with pytest.raises(StoreError, match="settings"):
        extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, pooling="first", progress=False)
    summary = extract(bundle, sentences[:-1], store_dir=directory, shard_sentences=SHARD, overwrite=True,
                      progress=False)
    assert summary.store["shards_written"] == 4 and summary.store["shards_reused"] == 0
    assert len(StoredActivations(directory).sentence_ids) == len(sentences) - 1
    key = json.loads((directory / "store.json").read_text())["key"]
    assert key["bundle_sha256"] == bundle.sha256


def test_foreign_directory_is_not_used(bundle, sentences, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not an activation store"):
        extract(bundle, sentences, store_dir=tmp_path, progress=False)
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("overwrite", [False, True])
def test_store_creation_that_fails_leaves_a_replaceable_state(bundle, sentences, reference, tmp_path, monkeypatch,
                                                              overwrite):
    """A failure while store.json is being put in place (disk full, Ctrl-C) must not block every rerun."""
    import edgeaudit.runtime.store as store_module

    directory = tmp_path / "store"
    real_replace = store_module.os.replace

    def failing_replace(src, dst, *args, **kwargs):
        if str(dst).endswith("store.json"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(store_module.os, "replace", failing_replace)
        with pytest.raises(OSError):
            extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False)
    assert not directory.exists() or not any(directory.iterdir())
    assert not list(tmp_path.glob(".store.creating-*"))
    summary = extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, overwrite=overwrite,
                      progress=False)
    assert summary.complete and summary.store["shards_written"] == 4
    assert_same_as_reference(directory, reference)


@pytest.mark.parametrize("leftover", ["store.json.tmp", "shard_00000"])
def test_half_created_store_from_an_older_run_is_recognised_and_replaced(bundle, sentences, reference, tmp_path,
                                                                         leftover):
    directory = tmp_path / "store"
    directory.mkdir()
    if leftover.startswith("shard_"):
        (directory / leftover).mkdir()
        (directory / leftover / "layer_00.npy.tmp").write_bytes(b"partial")
    else:
        (directory / leftover).write_text("{")
    (tmp_path / ".store.creating-abc").mkdir()
    summary = extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False)
    assert summary.complete
    assert_same_as_reference(directory, reference)
    assert not (tmp_path / ".store.creating-abc").exists()


def test_a_resumed_run_s_progress_bar_starts_where_the_interrupted_one_stopped(bundle, sentences, tmp_path,
                                                                               monkeypatch):
    import tqdm

    bars = []
    real_tqdm = tqdm.tqdm

    def recording(*args, **kwargs):
        bar = real_tqdm(*args, **{**kwargs, "disable": True})
        bars.append((kwargs.get("desc"), kwargs.get("initial", 0), kwargs.get("total")))
        return bar

    monkeypatch.setattr(tqdm, "tqdm", recording)
    directory = tmp_path / "store"
    extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False, max_shards=2)
    extract(bundle, sentences, store_dir=directory, shard_sentences=SHARD, progress=False, label="extract-twin")
    assert bars == [("extract", 0, 12), ("extract-twin", 2 * SHARD, 12)]


def test_a_streamed_corpus_gives_the_same_store_as_a_list(bundle, sentences, reference, tmp_path):
    """The CLI streams data files; the store (and its key, so reuse) must not depend on that."""
    from edgeaudit.runtime.corpus import StreamedCorpus

    directory = tmp_path / "store"
    summary = extract(bundle, StreamedCorpus(sentences), store_dir=directory, shard_sentences=SHARD, progress=False)
    assert summary.complete and summary.extracted == len(sentences) and summary.sentences == len(sentences)
    assert_same_as_reference(directory, reference)
    assert StoredActivations(directory).key == reference[0].key
