"""Peak memory of an extraction does not grow with the corpus (attention is never held for it)."""

from __future__ import annotations

import json
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


def _treebank_file(path, repeat: int, words: int = 6):
    rows = "".join(f"{i}\tthe\tthe\tDET\t_\t_\t{0 if i == 1 else 1}\t{'root' if i == 1 else 'det'}\t_\t_\n"
                   for i in range(1, words + 1))
    path.write_text("".join(f"# sent_id = s{i}\n{rows}\n" for i in range(repeat)), encoding="utf-8")
    return path


def test_the_extract_command_streams_a_data_file(tiny_bundle, tmp_path, monkeypatch):
    """`edgeaudit extract --data FILE` holds one shard of parsed sentences at a time, never the whole file."""
    import weakref

    from edgeaudit.cli import main
    from edgeaudit.data import treebank

    alive, most = weakref.WeakSet(), [0]
    original = treebank.Sentence.__post_init__

    def counted(self):
        original(self)
        alive.add(self)
        most[0] = max(most[0], len(alive))

    monkeypatch.setattr(treebank.Sentence, "__post_init__", counted)
    data = _treebank_file(tmp_path / "t.conllu", 2500)
    out = tmp_path / "out"
    assert main(["extract", str(tiny_bundle("bert")), "--data", str(data), "--out", str(out), "-q",
                 "--json"]) == 0
    shard = json.loads((out / "extraction.json").read_text(encoding="utf-8"))["summary"]["settings"]["shard_sentences"]
    assert shard < 2500 and most[0] <= shard + 1, (most[0], shard)  # one chunk (+ the sentence being read)
