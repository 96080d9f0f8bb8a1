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
