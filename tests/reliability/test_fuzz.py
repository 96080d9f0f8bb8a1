"""Fuzzing the readers and the word alignment: only documented outcomes, never anything else.

Documented outcomes are a result (with every rejected item listed as a counted skip of a known kind) or
an ``EdgeAuditError`` whose message is one line. Any other exception is a bug. Each target runs a small
budget in the default run and 2,000 examples under ``pytest -m slow``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from edgeaudit.data import read_categories, read_conllu, read_norms
from edgeaudit.data.treebank import tree_problem
from edgeaudit.errors import EdgeAuditError
from edgeaudit.runtime.alignment import Alignment, AlignmentSkip, WordTokenizer
from tests.tiny_models import byte_level_tokenizer, metaspace_tokenizer, wordpiece_tokenizer

BUDGETS = [pytest.param(100, id="default-100"), pytest.param(2000, id="slow-2000", marks=pytest.mark.slow)]
HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture,
          HealthCheck.large_base_example]

TREEBANK_SKIPS = {"bad-columns", "bad-head", "bad-id", "parse-error", "missing-head", "missing-relation",
                  "empty-sentence", "head-out-of-range", "cycle", "no-root", "several-roots", "bad-range",
                  "duplicate-id"}
NORMS_SKIPS = {"no-features", "duplicate-word"}
RARELY = st.sampled_from([False] * 9 + [True])  # hypothesis favours the first element
ALIGNMENT_SKIPS = {"too-long", "unaligned-word", "empty"}


def run_budget(budget: int, strategy, check) -> int:
    """Run ``check`` on ``budget`` examples of ``strategy``; return how many ran."""
    calls = [0]

    @settings(max_examples=budget, deadline=None, suppress_health_check=HEALTH)
    @given(strategy)
    def run(example):
        calls[0] += 1
        check(example)

    run()
    assert calls[0] >= budget, f"only {calls[0]} of {budget} examples ran"
    return calls[0]


def assert_documented_error(error: EdgeAuditError) -> None:
    text = error.one_line()
    assert text and "\n" not in text and "\r" not in text, repr(text)


# --- CoNLL-U -------------------------------------------------------------------------------------
# Mostly well-formed sentences (random trees), each damaged by a few of the mistakes real files contain,
# then file-level damage (BOM, CRLF / CR line ends, a non-UTF-8 byte, truncation) now and then.

FORMS = st.one_of(
    st.sampled_from(["The", "cat", "sat", ".", "dogs", "Dogs", "barked", "東京", "🙂", "don't"]),
    st.text(st.characters(blacklist_categories=["Cs", "Cc", "Zs"]), min_size=1, max_size=6),
    st.sampled_from(["_", "New York", "a  b", "\u200b", "#", "1-2", " "]),  # odd but possible forms
)
RELATIONS = st.sampled_from(["dep", "nsubj", "nsubj:pass", "punct", "obl:tmod"])
BAD_IDS = st.sampled_from(["x", "", "-1", "1.0", "01", "3-1", "0-1", "1-1", "2.1", "0.1"])
BAD_HEADS = st.one_of(st.integers(-2, 12).map(str), st.sampled_from(["_", "x", "", "1.5"]))
MUTATIONS = ("head", "id", "columns", "spaces", "deprel", "range", "empty-node", "comment", "blank-column")


@st.composite
def tree_rows(draw) -> list[list[str]]:
    """A random single-rooted tree as 10-column rows."""
    n = draw(st.integers(1, 9))
    order = draw(st.permutations(range(1, n + 1)))
    heads = [0] * n
    for position, node in enumerate(order[1:], start=1):
        heads[node - 1] = order[draw(st.integers(0, position - 1))]
    rows = []
    for i in range(1, n + 1):
        relation = "root" if heads[i - 1] == 0 else draw(RELATIONS)
        rows.append([str(i), draw(FORMS), "_", "X", "_", "_", str(heads[i - 1]), relation, "_", "_"])
    return rows


@st.composite
def damaged_sentence(draw, sent_id: str) -> list[str]:
    rows = draw(tree_rows())
    extra: list[tuple[int, str]] = []  # (insert before row index, line)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        kind, at = draw(st.sampled_from(MUTATIONS)), draw(st.integers(0, len(rows) - 1))
        if len(rows[at]) < 8:  # already collapsed by an earlier mutation
            continue
        if kind == "head":
            rows[at][6] = draw(BAD_HEADS)
        elif kind == "id":
            rows[at][0] = draw(BAD_IDS)
        elif kind == "columns":
            rows[at] = rows[at][: draw(st.sampled_from([7, 8, 9]))] if draw(st.booleans()) else rows[at] + ["_"]
        elif kind == "deprel":
            rows[at][7] = draw(st.sampled_from(["_", "root"]))
        elif kind == "blank-column":
            rows[at][draw(st.integers(0, len(rows[at]) - 1))] = draw(st.sampled_from(["", " "]))
        elif kind == "range":
            first = draw(st.integers(1, len(rows) + 1))
            last = first + draw(st.integers(-1, 3))
            extra.append((at, f"{first}-{last}\t{draw(FORMS)}" + "\t_" * 8))
        elif kind == "empty-node":
            extra.append((at, f"{at}.{draw(st.integers(1, 2))}\tghost" + "\t_" * 8))
        elif kind == "comment":
            extra.append((at, draw(st.sampled_from(["# text = x", "#", "# global.columns = ID FORM HEAD DEPREL"]))))
        else:  # spaces instead of tabs on one line
            rows[at] = [" ".join(rows[at])]
    lines = ["\t".join(row) for row in rows]
    for at, line in sorted(extra, reverse=True):
        lines.insert(at, line)
    header = [f"# sent_id = {sent_id}"] if sent_id else []
    return header + lines


@st.composite
def conllu_documents(draw) -> bytes:
    ids = draw(st.lists(st.sampled_from(["s1", "s2", "s3", "s4", "s5", "s6", ""]), min_size=2, max_size=6))
    blocks = ["\n".join(draw(damaged_sentence(sent_id))) for sent_id in ids]
    text = "\n\n".join(blocks) + draw(st.sampled_from(["\n\n", "\n", "", "\n \n\t\n"]))
    if draw(RARELY):
        text = "\ufeff" + text
    ending = draw(st.sampled_from(["\n"] * 10 + ["\r\n", "\r"]))
    data = text.replace("\n", ending).encode("utf-8")
    if draw(RARELY) and data:  # a stray non-UTF-8 byte somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xe9", b"\xc3", b"\x00"])) + data[at:]
    if draw(RARELY):  # cut short, as a half-copied file is
        data = data[: draw(st.integers(0, len(data)))]
    return data


def check_treebank_file(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        treebank = read_conllu(path)
    except EdgeAuditError as error:
        assert_documented_error(error)
        event("treebank: error")
        return
    event(f"treebank: {len(treebank)} sentence(s) kept")
    n_lines = data.count(b"\n") + 1
    assert len(treebank) >= 1
    assert len({sentence.sent_id for sentence in treebank}) == len(treebank), "duplicate sentence ids kept"
    for sentence in treebank:
        assert len(sentence) >= 1 and tree_problem(sentence.heads) is None
        assert all(relation not in ("", "_") for relation in sentence.relations)
        assert 1 <= sentence.line <= n_lines
    for skip in treebank.skipped:
        assert skip.kind in TREEBANK_SKIPS, skip
        assert 1 <= skip.line <= n_lines and str(skip).startswith(f"{path}:{skip.line}: "), skip
        event(f"treebank skip: {skip.kind}")


@pytest.mark.parametrize("budget", BUDGETS)
def test_conllu_reader_fuzz(budget, tmp_path):
    path = tmp_path / "fuzz.conllu"
    run_budget(budget, conllu_documents(), lambda data: check_treebank_file(path, data))


@pytest.mark.parametrize("budget", BUDGETS)
def test_conllu_reader_on_arbitrary_bytes(budget, tmp_path):
    path = tmp_path / "bytes.conllu"
    run_budget(budget, st.binary(max_size=400), lambda data: check_treebank_file(path, data))


# --- norms and categories ------------------------------------------------------------------------
# Tables in the three shapes the readers expect (long norms, wide norms, word -> category), mostly valid,
# with the usual damage (odd cells, ragged rows, duplicate or odd header names) and option values.

SAFE_TEXT = st.text(st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters=',;"\t\r\n'),
                    min_size=1, max_size=6)
WORD_CELLS = st.one_of(st.sampled_from(["dog", "cat", "bat_(animal)", "bat_(club)", "Dog", "ice_cream", "été",
                                        "null", "NA", "nan", "noun.animal", "n", '"a,b"']), SAFE_TEXT)
NUMBER_CELLS = st.one_of(st.integers(0, 30).map(str), st.floats(-5, 50, allow_nan=False).map(repr), st.just(""))
ODD_CELLS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                      st.sampled_from(["_", "", " ", "(x)", '"open', "a,b", "a;b", "a\tb", "1e400", "inf", "nan", "many",
                                       "2,5", " 3 ", "-0", "0"]))
DAMAGE = ["none"] * 6 + ["ragged-row", "odd-cell", "odd-cell", "latin-1-byte"]
TEXT_COLUMNS = ("feature", "lemma", "pos", "category", "supersense", "class", "lexfile", "dom_pos")
HEADERS = {
    "long": [["concept", "feature", "prod_freq"], ["Concept", "Feature"], ["cue", "lemma", "n"], ["concept", "prod_freq"]],
    "wide": [["word", "size", "weight"], ["Word", "Conc.M", "Conc.SD", "Dom_Pos"], ["item", "a", "b"],
             ["word", "", "size"], ["size", "weight"], ["word", "size", "category"]],
    "categories": [["word", "category"], ["lemma", "pos", "supersense"], ["cue", "class", "pos"], ["word"]],
}


@st.composite
def tables(draw) -> bytes:
    """A table of one of the three shapes with at most one kind of damage, in one of three delimiters."""
    shape = draw(st.sampled_from(sorted(HEADERS)))
    header = draw(st.sampled_from(HEADERS[shape]))
    delimiter = draw(st.sampled_from(["\t", ",", ";"]))
    rows = [[draw(WORD_CELLS if j == 0 or name.lower() in TEXT_COLUMNS else NUMBER_CELLS) for j, name in enumerate(header)]
            for _ in range(draw(st.integers(0, 8)))]
    damage = draw(st.sampled_from(DAMAGE))
    if rows and damage == "ragged-row":
        at = draw(st.integers(0, len(rows) - 1))
        rows[at] = rows[at][:-1] if draw(st.booleans()) else rows[at] + ["1"]
    elif rows and damage == "odd-cell":
        at = draw(st.integers(0, len(rows) - 1))
        rows[at][draw(st.integers(0, len(header) - 1))] = draw(ODD_CELLS)
    text = "\n".join(delimiter.join(cells) for cells in [header, *rows])
    text = draw(st.sampled_from(["", "", "\ufeff"])) + text + draw(st.sampled_from(["\n", "", "\n\n"]))
    data = text.replace("\n", draw(st.sampled_from(["\n", "\n", "\r\n"]))).encode("utf-8")
    if damage == "latin-1-byte" and data:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\xe9" + data[at:]
    return data


NORMS_OPTIONS = {
    "layout": st.sampled_from(["auto", "long", "wide", "auto", "long", "wide", "diagonal"]),
    "duplicates": st.sampled_from(["keep", "first", "drop", "error", "keep", "first", "drop", "merge"]),
    "duplicate_pairs": st.sampled_from(["max", "sum", "first", "error", "max", "sum", "first", "mean"]),
    "delimiter": st.sampled_from([None, None, ",", "\t", ";", "ab", '"']),
    "concept_column": st.sampled_from([None, None, "concept", "word", "missing"]),
    "value_columns": st.sampled_from([None, None, ["size"], ["size", "weight"], ["word"], [], ["missing"]]),
    "category_column": st.sampled_from([None, None, "category", "missing"]),
}
CATEGORY_OPTIONS = {
    "word_column": st.sampled_from([None, None, "word", "lemma", "missing"]),
    "category_column": st.sampled_from([None, None, "category", "supersense", "missing"]),
    "pos": st.sampled_from([None, None, "n", "v"]),
    "policy": st.sampled_from(["majority", "first", "majority", "first", "vote"]),
    "prefer": st.sampled_from([None, ["noun.animal"], ["x", "animal"]]),
    "delimiter": st.sampled_from([None, None, ",", "\t", ";", "ab"]),
}


def option_sets(values: dict) -> st.SearchStrategy[dict]:
    """A few options at a time (each key present with probability 1/4)."""
    return st.fixed_dictionaries({key: st.one_of(st.none(), st.none(), st.none(), strategy)
                                  for key, strategy in values.items()}).map(
        lambda options: {key: value for key, value in options.items() if value is not None})


def check_norms(path: Path, example: tuple[bytes, dict]) -> None:
    data, options = example
    path.write_bytes(data)
    try:
        norms = read_norms(path, **options)
    except EdgeAuditError as error:
        assert_documented_error(error)
        event("norms: error")
        return
    event("norms: read")
    n, m = len(norms), len(norms.features)
    assert n >= 1 and m >= 1 and norms.matrix.shape == (n, m)
    assert len(norms.names) == len(norms.senses) == n
    assert all(isinstance(word, str) and word for word in norms.concepts), norms.concepts
    assert not np.isinf(norms.matrix).any()
    assert not np.all((norms.matrix == 0) | np.isnan(norms.matrix), axis=1).any(), "a featureless concept was kept"
    assert {skip.kind for skip in norms.skipped} <= NORMS_SKIPS
    json.dumps(norms.summary())  # reports serialise it


def check_categories(path: Path, example: tuple[bytes, dict]) -> None:
    data, options = example
    path.write_bytes(data)
    try:
        categories = read_categories(path, **options)
    except EdgeAuditError as error:
        assert_documented_error(error)
        event("categories: error")
        return
    event("categories: read")
    assert len(categories) >= 1
    assert all(word and category for word, category in categories.mapping.items())
    for word, candidates in categories.alternatives.items():
        assert categories.mapping[word] == candidates[0][0]
    json.dumps(categories.summary())


@pytest.mark.parametrize("budget", BUDGETS)
def test_norms_reader_fuzz(budget, tmp_path):
    path = tmp_path / "norms.csv"
    run_budget(budget, st.tuples(tables(), option_sets(NORMS_OPTIONS)), lambda example: check_norms(path, example))


@pytest.mark.parametrize("budget", BUDGETS)
def test_categories_reader_fuzz(budget, tmp_path):
    path = tmp_path / "categories.csv"
    run_budget(budget, st.tuples(tables(), option_sets(CATEGORY_OPTIONS)),
               lambda example: check_categories(path, example))


# --- word alignment ------------------------------------------------------------------------------

TOKENIZERS = {
    "wordpiece": (wordpiece_tokenizer, "wordpiece"),
    "byte-level": (byte_level_tokenizer, "byte-level-bpe"),
    "roberta": (lambda: byte_level_tokenizer(roberta=True), "byte-level-bpe"),
    "metaspace": (metaspace_tokenizer, "sentencepiece-bpe"),
}
WORDS = st.one_of(
    st.text(max_size=10),  # any code point: controls, combining marks, whitespace, empty
    st.sampled_from(["[CLS]", "[SEP]", "[UNK]", "[PAD]", "<s>", "</s>", "<pad>", "<unk>", "<|endoftext|>", " ", "\t",
                     "\u200b", "\ufeff", "\u0301", "é", "東京", "🙂", "don't", "a" * 120, "\x00", "Ġ", "▁", "##a"]),
)


@pytest.fixture(scope="module")
def word_tokenizers() -> dict[str, tuple[WordTokenizer, int]]:
    built = {}
    for name, (factory, kind) in TOKENIZERS.items():
        tokenizer = factory()
        vocab = tokenizer.get_vocab_size(with_added_tokens=True)
        built[name] = (WordTokenizer(tokenizer, kind=kind, tokenizer_json=json.loads(tokenizer.to_str()),
                                     max_length=10_000), vocab)
    return built


def check_alignment(word_tokenizers, example: tuple[str, list[list[str]], int]) -> None:
    name, sentences, max_length = example
    words_tokenizer, vocab = word_tokenizers[name]
    words_tokenizer.max_length = max_length
    outcomes = words_tokenizer.align_many(sentences)
    assert len(outcomes) == len(sentences)
    for words, outcome in zip(sentences, outcomes, strict=True):
        if isinstance(outcome, AlignmentSkip):
            assert outcome.kind in ALIGNMENT_SKIPS and outcome.reason, outcome
            event(f"alignment skip: {outcome.kind}")
            continue
        event("alignment: aligned")
        assert isinstance(outcome, Alignment)
        assert outcome.n_words == len(words) >= 1 and outcome.n_tokens <= max_length
        assert outcome.word_of_token.shape == outcome.input_ids.shape
        assert ((outcome.input_ids >= 0) & (outcome.input_ids < vocab)).all()
        owners = outcome.word_of_token[outcome.word_of_token >= 0]
        assert (outcome.word_of_token >= -1).all() and (owners < len(words)).all()
        assert set(owners.tolist()) == set(range(len(words))), "a word without subtokens was aligned"
        assert (np.diff(owners) >= 0).all(), "subtokens out of word order"


@pytest.mark.parametrize("budget", BUDGETS)
def test_word_alignment_fuzz(budget, word_tokenizers):
    strategy = st.tuples(st.sampled_from(sorted(TOKENIZERS)), st.lists(st.lists(WORDS, max_size=16), max_size=4),
                         st.sampled_from([10_000, 512, 64, 24, 8]))
    run_budget(budget, strategy, lambda example: check_alignment(word_tokenizers, example))
