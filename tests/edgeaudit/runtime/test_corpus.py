"""The runtime's corpus view: what identifies a corpus for store reuse."""

from __future__ import annotations

from types import SimpleNamespace

from edgeaudit.runtime.corpus import as_sentences, corpus_sha256


def test_corpus_hash_depends_on_spacing_only_when_known():
    plain = as_sentences([("a", ["engine", "."])])
    spaced = as_sentences([SimpleNamespace(sent_id="a", words=["engine", "."], space_after=(True, True))])
    glued = as_sentences([SimpleNamespace(sent_id="a", words=["engine", "."], space_after=(False, True))])
    assert plain[0].space_after is None and glued[0].space_after == (False, True)
    assert len({corpus_sha256(plain), corpus_sha256(spaced), corpus_sha256(glued)}) == 3


class _Rereadable:
    """A source that is read again on every pass (as a ConlluStream is), counting its passes."""

    def __init__(self, sentences):
        self.sentences, self.passes = list(sentences), 0

    def __iter__(self):
        self.passes += 1
        yield from self.sentences


def test_a_streamed_corpus_has_the_length_and_hash_of_the_same_corpus_in_memory():
    from edgeaudit.runtime.corpus import StreamedCorpus, iter_chunks

    pairs = [(f"s{i}", ["word"] * (i % 5 + 1)) for i in range(23)]
    source = _Rereadable(pairs)
    streamed = StreamedCorpus(source)
    assert len(streamed) == 23 and streamed.sha256 == corpus_sha256(as_sentences(pairs))
    assert corpus_sha256(streamed) == streamed.sha256 and source.passes == 1  # hashed once, at construction
    chunks = list(iter_chunks(streamed, 10))
    assert [(start, len(chunk)) for start, chunk in chunks] == [(0, 10), (10, 10), (20, 3)]
    assert [s for _, chunk in chunks for s in chunk] == as_sentences(pairs)


def test_a_streamed_corpus_refuses_duplicate_ids_and_a_file_changed_between_passes():
    import pytest

    from edgeaudit.errors import DataError
    from edgeaudit.runtime.corpus import StreamedCorpus

    with pytest.raises(ValueError, match="'a' occurs twice"):
        StreamedCorpus(_Rereadable([("a", ["x"]), ("a", ["y"])]))
    source = _Rereadable([("a", ["x"]), ("b", ["y"])])
    streamed = StreamedCorpus(source)
    source.sentences[1] = ("b", ["changed"])
    with pytest.raises(DataError, match="changed between two passes"):
        list(streamed)
