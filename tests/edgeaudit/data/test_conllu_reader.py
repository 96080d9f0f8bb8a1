"""CoNLL-U reader: what it keeps, what it skips (with file:line), what is fatal for the file."""

from __future__ import annotations

import pytest

from edgeaudit.data import read_conllu, stream_conllu
from edgeaudit.errors import DataError

from .samples import GOOD_SENTENCE


def _row(i, form, head, rel, upos="NOUN"):
    return f"{i}\t{form}\t{form.lower()}\t{upos}\t_\t_\t{head}\t{rel}\t_\t_"


def _sentence(sent_id: str, rows: list[str]) -> str:
    return "\n".join([f"# sent_id = {sent_id}", *rows]) + "\n"


def test_reads_syntactic_words_and_drops_ranges_and_empty_nodes(write_file):
    path = write_file("good.conllu", GOOD_SENTENCE)
    treebank = read_conllu(path)
    [sentence] = treebank.sentences
    assert sentence.words == ["I", "do", "n't", "know", "."]
    assert sentence.heads.tolist() == [4, 4, 4, 0, 4]
    assert sentence.relations == ["nsubj", "aux", "advmod", "root", "punct"]
    assert sentence.upos == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert (sentence.sent_id, sentence.line, sentence.text) == ("s1", 1, "I don't know.")
    assert sentence.source == str(path)
    assert treebank.skipped == [] and treebank.n_words == 5


def test_space_after_rebuilds_the_running_text(write_file):
    text = GOOD_SENTENCE.replace("4\tknow\tknow\tVERB\tVB\t_\t0\troot\t_\t_", "4\tknow\tknow\tVERB\tVB\t_\t0\troot\t_\tSpaceAfter=No")
    [sentence] = read_conllu(write_file("space.conllu", text)).sentences
    # "do" and "n't" are written together inside the multiword token "don't", which is followed by a space
    assert sentence.space_after == (True, False, True, False, True)
    rebuilt = "".join(w + (" " if s else "") for w, s in zip(sentence.words, sentence.space_after, strict=True))
    assert rebuilt.strip() == sentence.text == "I don't know."
    glued = text.replace("2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_", "2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No")
    assert read_conllu(write_file("glued.conllu", glued))[0].space_after == (True, False, False, False, True)


def test_a_space_after_per_word_is_checked():
    from edgeaudit.data import Sentence

    with pytest.raises(ValueError, match="same length"):
        Sentence("x", ["a", "b"], [0, 1], ["root", "dep"], ["X", "X"], "t", 1, space_after=(True,))


def test_base_relations_drop_subtypes(write_file):
    rows = [_row(1, "it", 2, "nsubj:pass", "PRON"), _row(2, "went", 0, "root", "VERB"), _row(3, "x", 2, "obl:tmod")]
    sentence = read_conllu(write_file("sub.conllu", _sentence("a", rows)))[0]
    assert sentence.relations == ["nsubj:pass", "root", "obl:tmod"]
    assert sentence.base_relations == ["nsubj", "root", "obl"]
    assert sentence.arcs() == [(0, 1, "nsubj:pass"), (1, -1, "root"), (2, 1, "obl:tmod")]


def test_bom_and_crlf_are_handled(write_file):
    path = write_file("bom.conllu", "\ufeff" + GOOD_SENTENCE.replace("\n", "\r\n"))
    [sentence] = read_conllu(path).sentences
    assert sentence.words == ["I", "do", "n't", "know", "."] and sentence.sent_id == "s1"
    assert sentence.relations[-1] == "punct"


def test_missing_sent_id_gets_a_stable_fallback(write_file):
    text = GOOD_SENTENCE.replace("# sent_id = s1\n", "") + "\n" + GOOD_SENTENCE.replace("# sent_id = s1\n", "")
    treebank = read_conllu(write_file("noid.conllu", text))
    assert [s.sent_id for s in treebank] == ["noid#1", "noid#2"]


def test_global_columns_of_conllu_plus(write_file):
    text = "# global.columns = ID FORM UPOS HEAD DEPREL\n# sent_id = p\n1\tDogs\tNOUN\t2\tnsubj\n2\tbark\tVERB\t0\troot\n"
    [sentence] = read_conllu(write_file("plus.conllup", text)).sentences
    assert sentence.words == ["Dogs", "bark"] and sentence.heads.tolist() == [2, 0]
    assert sentence.upos == ["NOUN", "VERB"]


def test_global_columns_without_head_is_fatal(write_file):
    path = write_file("plus.conllup", "# global.columns = ID FORM\n1\tx\n")
    with pytest.raises(DataError, match=rf"{path}:1: global.columns lacks HEAD, DEPREL"):
        read_conllu(path)


# (name, bad rows, kind, offset of the reported line from the sentence's first line, words of the reason)
BAD_SENTENCES = [
    ("cycle", [_row(1, "a", 0, "root"), _row(2, "b", 3, "dep"), _row(3, "c", 2, "dep")], "cycle", 0,
     "has a cycle (2 -> 3 -> 2)"),
    ("self-loop", [_row(1, "a", 0, "root"), _row(2, "b", 2, "dep")], "cycle", 0, "word 2 is its own head"),
    ("no-root", [_row(1, "a", 2, "dep"), _row(2, "b", 1, "dep")], "no-root", 0, "has no root"),
    ("two-roots", [_row(1, "a", 0, "root"), _row(2, "b", 0, "root")], "several-roots", 0,
     "has several roots (words 1, 2)"),
    ("out-of-range", [_row(1, "a", 0, "root"), _row(2, "b", 9, "dep")], "head-out-of-range", 2,
     "word 2 with head 9, outside 0..2"),
    ("negative-head", [_row(1, "a", 0, "root"), _row(2, "b", -1, "dep")], "head-out-of-range", 2, "head -1"),
    ("non-int-head", [_row(1, "a", 0, "root"), _row(2, "b", "x", "dep")], "bad-head", 2,
     "HEAD 'x', which is not an integer"),
    ("missing-head", [_row(1, "a", 0, "root"), _row(2, "b", "_", "dep")], "missing-head", 2, "without a head"),
    ("missing-rel", [_row(1, "a", 0, "root"), _row(2, "b", 1, "_")], "missing-relation", 2, "without a relation"),
    ("nine-columns", [_row(1, "a", 0, "root"), "2\tb\tb\tNOUN\t_\t_\t1\tdep\t_"], "bad-columns", 2,
     "9 tab-separated columns, expected 10"),
    ("eleven-columns", [_row(1, "a", 0, "root"), _row(2, "b", 1, "dep") + "\textra"], "bad-columns", 2,
     "11 tab-separated columns"),
    ("empty-column", [_row(1, "a", 0, "root"), "2\t\tb\tNOUN\t_\t_\t1\tdep\t_\t_"], "bad-columns", 2,
     "empty column 2"),
    ("double-space", [_row(1, "a", 0, "root"), _row(2, "b  c", 1, "dep")], "bad-columns", 2, "two consecutive spaces"),
    ("bad-id", [_row(1, "a", 0, "root"), _row("x", "b", 1, "dep")], "bad-id", 2, "ID 'x'"),
    ("skipped-id", [_row(1, "a", 0, "root"), _row(3, "b", 1, "dep")], "bad-id", 2, "word id 3 where 2 was expected"),
    ("zero-id", [_row(0, "a", 0, "root")], "bad-id", 1, "word id 0 where 1 was expected"),
    ("reversed-range", [_row(1, "a", 0, "root"), "3-2\tbc\t_\t_\t_\t_\t_\t_\t_\t_"], "bad-id", 2, "ID '3-2'"),
    ("only-ranges", ["1-2\tab\t_\t_\t_\t_\t_\t_\t_\t_"], "empty-sentence", 0, "has no syntactic words"),
    ("only-comments", ["# text = nothing"], "empty-sentence", 0, "only comment lines"),
]  # fmt: skip


@pytest.mark.parametrize("name, rows, kind, offset, words", BAD_SENTENCES, ids=[b[0] for b in BAD_SENTENCES])
def test_bad_sentence_is_skipped_with_file_line_and_reason(write_file, name, rows, kind, offset, words):
    good = GOOD_SENTENCE + "\n"
    bad = _sentence(name, rows)
    path = write_file("mixed.conllu", good + bad + "\n" + good.replace("s1", "s3"))
    treebank = read_conllu(path)
    assert [s.sent_id for s in treebank] == ["s1", "s3"]
    [skip] = treebank.skipped
    start = good.count("\n") + 1  # line of "# sent_id = name"
    expected_line = start + offset
    assert (skip.kind, skip.line, skip.file, skip.sent_id) == (kind, expected_line, str(path), name)
    assert str(skip).startswith(f"{path}:{expected_line}: sentence '{name}' ")
    assert words in skip.reason
    assert treebank.skip_counts() == {kind: 1}


def test_streaming_yields_lazily_and_collects_skips(write_file):
    bad = _sentence("bad", [_row(1, "a", 2, "dep"), _row(2, "b", 1, "dep")])
    path = write_file("stream.conllu", GOOD_SENTENCE + "\n" + bad + "\n" + GOOD_SENTENCE.replace("s1", "s2"))
    stream = stream_conllu(path)
    iterator = iter(stream)
    assert next(iterator).sent_id == "s1" and stream.skipped == []
    assert next(iterator).sent_id == "s2" and [s.kind for s in stream.skipped] == ["no-root"]
    assert list(iterator) == [] and stream.n_sentences == 2
    assert [s.sent_id for s in stream] == ["s1", "s2"] and len(stream.skipped) == 1  # a second pass restarts


@pytest.mark.parametrize("content", ["", "\n\n  \n", "\r\n"])
def test_empty_file_is_fatal(write_file, content):
    path = write_file("empty.conllu", content)
    with pytest.raises(DataError, match=rf"^{path}:1: contains no sentences"):
        read_conllu(path)


def test_file_where_every_sentence_is_rejected_is_fatal(write_file):
    path = write_file("words.txt", "just some\nplain text\n\nnot conllu\n")
    with pytest.raises(DataError) as error:
        read_conllu(path)
    message = error.value.one_line()
    assert message.startswith(f"{path}:1: sentence 'words#1' has a line with 1 tab-separated columns")
    assert "all 2 sentence(s) in the file were rejected" in message and "\n" not in message


def test_non_utf8_bytes_are_fatal_with_line_and_byte_offset(write_file):
    head = GOOD_SENTENCE.encode("utf-8")
    path = write_file("latin1.conllu", head + b"\n# sent_id = s2\n1\tcaf\xe9\tcaf\xe9\tNOUN\t_\t_\t0\troot\t_\t_\n")
    with pytest.raises(DataError) as error:
        list(stream_conllu(path))
    offset = len(head) + len(b"\n# sent_id = s2\n1\tcaf")
    assert error.value.one_line().startswith(f"{path}:12: byte 0xe9 at byte offset {offset} is not valid UTF-8")
    assert "iconv" in error.value.one_line()


def test_classic_mac_line_endings_are_fatal(write_file):
    path = write_file("mac.conllu", GOOD_SENTENCE.replace("\n", "\r"))
    with pytest.raises(DataError, match=rf"^{path}:1: carriage return inside a line"):
        read_conllu(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_conllu(tmp_path / "absent.conllu")
    with pytest.raises(DataError, match="is a directory"):
        read_conllu(tmp_path)


def test_unbounded_line_is_refused_naming_file_and_line_without_reading_it_whole(tmp_path):
    from edgeaudit.data._textfile import MAX_LINE_BYTES, iter_lines

    path = tmp_path / "huge.conllu"
    with path.open("wb") as handle:
        handle.write(b"# sent_id = a\n")
        handle.write(b"x" * (MAX_LINE_BYTES * 3))
    with pytest.raises(DataError) as info:
        list(iter_lines(path, "huge.conllu"))
    assert info.value.one_line().startswith(f"huge.conllu:2: line is longer than {MAX_LINE_BYTES} bytes")


def test_repeated_forms_and_labels_are_one_object_each(tmp_path):
    """An audit holds every sentence: a form or label repeated across the treebank is stored once."""
    rows = "1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\t_\n"
    path = tmp_path / "t.conllu"
    path.write_text(f"# sent_id = a\n{rows}\n# sent_id = b\n{rows}\n", encoding="utf-8")
    first, second = read_conllu(path).sentences
    assert first.words == second.words and all(x is y for x, y in zip(first.words, second.words, strict=True))
    assert first.relations[1] is second.relations[1] and first.upos[0] is second.upos[0]


def test_base_relations_are_shared_labels():
    from edgeaudit.data.treebank import base_relation

    assert base_relation("nsubj:pass") == "nsubj" and base_relation("nsubj:pass") is base_relation("nsubj:outer")
