"""Peak memory of an extraction does not grow with the corpus (attention is never held for it)."""

from __future__ import annotations

import tracemalloc

from edgeaudit.bundle import load_bundle
from edgeaudit.runtime import SpecialTokenMass, extract
from tests.edgeaudit.runtime.helpers import corpus_sentences


def peak_bytes(bundle, sentences, directory) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        extract(bundle, sentences, collectors=[SpecialTokenMass()], store_dir=directory, shard_sentences=12,
                progress=False)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_peak_memory_is_flat_in_corpus_size(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle("bert"))
    peak_bytes(bundle, corpus_sentences(1), tmp_path / "warm")  # first-use allocations (session, caches)
    small = peak_bytes(bundle, corpus_sentences(4), tmp_path / "small")
    large = peak_bytes(bundle, corpus_sentences(32), tmp_path / "large")  # 8x the sentences
    assert large < 1.5 * small, (small, large)


def _treebank_file(path, repeat: int, words: int = 16):
    rows = "".join(f"{i}\tword{i}\tword\tNOUN\t_\t_\t{0 if i == 1 else 1}\t{'root' if i == 1 else 'dep'}\t_\t_\n"
                   for i in range(1, words + 1))
    path.write_text("".join(f"# sent_id = s{i}\n{rows}\n" for i in range(repeat)), encoding="utf-8")
    return path


def test_the_extract_command_streams_a_data_file(tiny_bundle, tmp_path):
    """`edgeaudit extract --data FILE` must not hold the treebank: Python's peak is flat in the file's length."""
    from edgeaudit.cli import main

    bundle = str(tiny_bundle("bert"))

    def peak(repeat: int) -> int:
        data = _treebank_file(tmp_path / f"t{repeat}.conllu", repeat)
        tracemalloc.start()
        try:
            assert main(["extract", bundle, "--data", str(data), "--out", str(tmp_path / f"o{repeat}"), "-q"]) == 0
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(50)  # first-use allocations
    small, large = peak(300), peak(2300)
    # What may grow is the store's index and the summary (ids, offsets: 0.5-1.5 KB a sentence); holding the
    # parsed treebank costs ~6 KB a sentence of 16 words (measured: 5.7 KB before streaming).
    per_sentence = (large - small) / 2000
    assert per_sentence < 3000, per_sentence
