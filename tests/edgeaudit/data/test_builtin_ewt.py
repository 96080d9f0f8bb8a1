"""``builtin:ewt``: the packaged, compressed EWT test split reads exactly like the original file."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from edgeaudit.data import builtin_datasets, load_treebank, read_conllu
from edgeaudit.data.registry import EWT_FILE, packaged_file
from edgeaudit.errors import DataError

EWT_TEST_SHA256 = "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd"  # the UD v2.16 file


def test_packaged_file_is_the_unmodified_treebank_with_its_licence():
    assert hashlib.sha256(gzip.decompress(packaged_file(EWT_FILE).read_bytes())).hexdigest() == EWT_TEST_SHA256
    attribution = packaged_file("EWT-ATTRIBUTION.txt").read_text(encoding="utf-8")
    assert EWT_TEST_SHA256 in attribution and "CC BY-SA 4.0" in attribution
    assert "Attribution-ShareAlike 4.0 International" in packaged_file("EWT-LICENSE.txt").read_text(encoding="utf-8")


def test_builtin_ewt_counts_and_source():
    treebank = load_treebank("builtin:ewt")
    assert (len(treebank), treebank.n_words, treebank.skipped) == (2077, 25094, [])
    assert treebank.source == "builtin:ewt" and treebank.sentences[0].source == "builtin:ewt"
    assert all(sentence.text for sentence in treebank)


def test_datasets_lists_ewt_with_its_licence():
    row = next(row for row in builtin_datasets() if row["name"] == "builtin:ewt")
    assert (row["kind"], row["sentences"], row["words"]) == ("treebank", 2077, 25094)
    assert "CC BY-SA 4.0" in row["licence"]


@pytest.mark.integration
def test_builtin_ewt_matches_the_shared_file(shared_file):
    original = read_conllu(shared_file("ud_english_ewt/en_ewt-ud-test.conllu"))
    packaged = load_treebank("builtin:ewt")
    assert len(original) == len(packaged)
    for a, b in zip(original, packaged, strict=True):
        assert (a.sent_id, a.words, a.relations, a.upos, a.line, a.text) == (b.sent_id, b.words, b.relations, b.upos,
                                                                            b.line, b.text)
        assert np.array_equal(a.heads, b.heads)


def test_gzip_treebank_files_are_read_like_plain_ones(tmp_path):
    text = "# sent_id = s1\n1\tHi\thi\tINTJ\t_\t_\t0\troot\t_\t_\n\n"
    plain, packed = tmp_path / "t.conllu", tmp_path / "t.conllu.gz"
    plain.write_text(text, encoding="utf-8")
    packed.write_bytes(gzip.compress(text.encode("utf-8")))
    assert [s.words for s in read_conllu(packed)] == [s.words for s in read_conllu(plain)] == [["Hi"]]


def test_truncated_gzip_is_one_line_error(tmp_path):
    whole = packaged_file(EWT_FILE).read_bytes()
    broken = tmp_path / "cut.conllu.gz"
    broken.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match=r"cut\.conllu\.gz:\d+: reading stopped") as caught:
        read_conllu(broken)
    assert "\n" not in str(caught.value)


def test_not_gzip_despite_the_name_is_one_line_error(tmp_path):
    fake = tmp_path / "fake.conllu.gz"
    fake.write_text("1\tHi\thi\tINTJ\t_\t_\t0\troot\t_\t_\n", encoding="utf-8")
    with pytest.raises(DataError, match="not a readable gzip file"):
        read_conllu(fake)


def test_provenance_hashes_the_bytes_of_the_file_read(tmp_path):
    from edgeaudit.audit.document import _file_sha256, _treebank_provenance

    assert _file_sha256("builtin:ewt") == hashlib.sha256(packaged_file(EWT_FILE).read_bytes()).hexdigest()
    one = tmp_path / "a.conllu"
    two = tmp_path / "b.conllu"
    text = "# sent_id = s1\n1\tHi\thi\tINTJ\t_\t_\t0\troot\t_\t_\n\n"
    one.write_text(text, encoding="utf-8")
    two.write_text("# a comment that changes the file, not the sentences\n" + text, encoding="utf-8")
    a, b = (_treebank_provenance(str(path), read_conllu(path).sentences) for path in (one, two))
    assert a["sha256"] == hashlib.sha256(one.read_bytes()).hexdigest() != b["sha256"]
    assert a["corpus_sha256"] == b["corpus_sha256"]  # the same sentences: only the file hash tells them apart
