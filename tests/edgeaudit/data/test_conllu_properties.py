"""Property tests: valid trees round-trip through CoNLL-U text; garbage only ever raises DataError."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeaudit.data import read_conllu
from edgeaudit.data.treebank import tree_problem
from edgeaudit.errors import DataError

RELATIONS = ["nsubj", "obj", "det", "amod", "nsubj:pass", "obl:tmod", "punct", "compound:prt", "dep"]
UPOS = ["NOUN", "VERB", "ADJ", "DET", "PRON", "PUNCT", "X"]
FORM_CHARS = st.characters(blacklist_categories=["Cc", "Cs", "Zs", "Zl", "Zp"], blacklist_characters="\ufeff")
forms = st.text(FORM_CHARS, min_size=1, max_size=6)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def trees(draw) -> dict:
    """A random single-rooted tree with forms, relations, and where to put ranges and empty nodes."""
    n = draw(st.integers(1, 12))
    order = draw(st.permutations(range(1, n + 1)))
    heads = [0] * n
    for position, node in enumerate(order[1:], start=1):  # attach each node to one placed before it
        heads[node - 1] = order[draw(st.integers(0, position - 1))]
    heads[order[0] - 1] = 0
    return {
        "heads": heads,
        "forms": draw(st.lists(forms, min_size=n, max_size=n)),
        "relations": draw(st.lists(st.sampled_from(RELATIONS), min_size=n, max_size=n)),
        "upos": draw(st.lists(st.sampled_from(UPOS), min_size=n, max_size=n)),
        "ranges": draw(st.sets(st.integers(1, max(1, n - 1)), max_size=3)) if n > 1 else set(),
        "empty_after": draw(st.sets(st.integers(0, n), max_size=2)),
    }


def to_conllu(sent_id: str, tree: dict) -> str:
    """Write one tree as CoNLL-U, with multiword ranges before words and empty nodes after them."""
    lines = [f"# sent_id = {sent_id}", f"# text = {' '.join(tree['forms'])}"]
    n = len(tree["heads"])
    covered: set[int] = set()
    if 0 in tree["empty_after"]:
        lines.append("0.1\tghost\t_\tX\t_\t_\t_\t_\t1:dep\t_")
    for i in range(1, n + 1):
        if i in tree["ranges"] and i not in covered and i + 1 <= n:
            covered |= {i, i + 1}
            lines.append(f"{i}-{i + 1}\t{tree['forms'][i - 1]}{tree['forms'][i]}\t_\t_\t_\t_\t_\t_\t_\t_")
        form, head, rel, upos = tree["forms"][i - 1], tree["heads"][i - 1], tree["relations"][i - 1], tree["upos"][i - 1]
        lines.append(f"{i}\t{form}\t{form}\t{upos}\t_\t_\t{head}\t{rel}\t_\t_")
        if i in tree["empty_after"]:
            lines.append(f"{i}.1\tghost\t_\tX\t_\t_\t_\t_\t{i}:dep\t_")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("conllu-properties") / "sample.conllu"


@SETTINGS
@given(st.lists(trees(), min_size=1, max_size=4), st.booleans(), st.booleans())
def test_valid_trees_round_trip(scratch, sample_trees, crlf, bom):
    text = "\n".join(to_conllu(f"t{k}", tree) for k, tree in enumerate(sample_trees))
    if crlf:
        text = text.replace("\n", "\r\n")
    scratch.write_bytes((("\ufeff" if bom else "") + text).encode("utf-8"))
    treebank = read_conllu(scratch)
    assert treebank.skipped == []
    assert [s.sent_id for s in treebank] == [f"t{k}" for k in range(len(sample_trees))]
    for sentence, tree in zip(treebank, sample_trees, strict=True):
        assert tree_problem(tree["heads"]) is None
        assert sentence.words == tree["forms"]
        assert sentence.heads.tolist() == tree["heads"]
        assert sentence.relations == tree["relations"]
        assert sentence.upos == tree["upos"]


FRAGMENTS = ["1", "2", "0", "-1", "3-4", "2.1", "_", "\t", "\t", "#", " = ", "root", "x", "\r", "  ", "é", "\n"]
garbage_lines = st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join)


@SETTINGS
@given(st.lists(st.one_of(garbage_lines, st.text(max_size=40)), max_size=12))
def test_garbage_text_raises_only_data_error(scratch, lines):
    scratch.write_bytes("\n".join(lines).encode("utf-8", errors="surrogatepass"))
    _read_or_data_error(scratch)


@SETTINGS
@given(st.binary(max_size=300))
def test_garbage_bytes_raise_only_data_error(scratch, data):
    scratch.write_bytes(data)
    _read_or_data_error(scratch)


@SETTINGS
@given(trees(), st.integers(0, 10_000), st.sampled_from(["", "_", "x", "-3", "99", "1-1", "0.0", "a  b", "\t"]))
def test_one_corrupted_field_never_escapes_as_a_traceback(scratch, tree, seed, junk):
    lines = to_conllu("c", tree).splitlines()
    rng = random.Random(seed)
    row = rng.randrange(2, len(lines))
    fields = lines[row].split("\t")
    fields[rng.randrange(len(fields))] = junk
    lines[row] = "\t".join(fields)
    scratch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _read_or_data_error(scratch)
    if result is not None:  # whatever survived is a valid tree
        assert all(tree_problem(s.heads) is None for s in result)


def _read_or_data_error(path: Path):
    try:
        treebank = read_conllu(path)
    except DataError as error:
        assert "\n" not in error.one_line()
        return None
    for skip in treebank.skipped:
        assert str(skip).startswith(f"{path}:")
    return treebank
