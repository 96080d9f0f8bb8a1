"""Word alignment: every word maps to >= 1 subtoken in order, and pre-split words tokenise like text."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeaudit.runtime.alignment import (
    AS_IS,
    SPACE_BEFORE_REST,
    Alignment,
    AlignmentSkip,
    WordTokenizer,
    reproduces_running_text,
)
from tests.tiny_models import byte_level_tokenizer, metaspace_tokenizer, wordpiece_tokenizer

KINDS = {
    "wordpiece": (wordpiece_tokenizer, "wordpiece"),
    "byte-level": (byte_level_tokenizer, "byte-level-bpe"),
    "roberta": (lambda: byte_level_tokenizer(roberta=True), "byte-level-bpe"),
    "metaspace": (metaspace_tokenizer, "sentencepiece-bpe"),
}
EXPECTED_STRATEGY = {"wordpiece": AS_IS, "byte-level": SPACE_BEFORE_REST, "roberta": SPACE_BEFORE_REST,
                     "metaspace": AS_IS}

ALPHABET = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789.,;:!?'\"()-%$&/éèñüçÅ東京語中文🙂🎉👍"
WORDS = st.text(alphabet=ALPHABET, min_size=1, max_size=8)
SENTENCES = st.lists(WORDS, min_size=1, max_size=12)


def make_word_tokenizer(name: str, max_length: int = 10_000) -> WordTokenizer:
    factory, kind = KINDS[name]
    tokenizer = factory()
    return WordTokenizer(tokenizer, kind=kind, tokenizer_json=json.loads(tokenizer.to_str()), max_length=max_length)


_BYTE_LEVEL = {name: make_word_tokenizer(name) for name in ("byte-level", "roberta")}


@pytest.fixture(scope="module", params=sorted(KINDS))
def word_tokenizer(request) -> tuple[str, WordTokenizer]:
    return request.param, make_word_tokenizer(request.param)


def test_strategy_per_kind_reproduces_running_text(word_tokenizer):
    name, tok = word_tokenizer
    assert tok.strategy == EXPECTED_STRATEGY[name]
    assert tok.verified


def assert_words_in_order(alignment: Alignment, n_words: int) -> None:
    words = alignment.word_of_token[alignment.word_of_token >= 0]
    assert words.size >= n_words
    assert np.all(np.diff(words) >= 0), "subtokens out of word order"
    assert set(words.tolist()) == set(range(n_words)), "a word has no subtoken"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=SENTENCES)
def test_every_word_gets_subtokens_in_order(word_tokenizer, words):
    _, tok = word_tokenizer
    result = tok.align(words)
    assert isinstance(result, Alignment), result
    assert result.n_words == len(words)
    assert_words_in_order(result, len(words))
    assert result.n_tokens == result.input_ids.shape[0] == result.word_of_token.shape[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=SENTENCES)
def test_pre_split_words_tokenise_like_running_text(word_tokenizer, words):
    _, tok = word_tokenizer
    assert reproduces_running_text(tok.tokenizer, words, tok.strategy)


LETTER_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCéñ", min_size=1, max_size=8)
# (word, punctuation attached to it or None): "engine" + "." is written "engine." in running text
ATTACHED = st.lists(st.tuples(LETTER_WORDS, st.sampled_from([None, ".", ",", "!", "?", ")"])), min_size=1, max_size=10)


@settings(max_examples=60, deadline=None)
@given(pairs=ATTACHED, name=st.sampled_from(["byte-level", "roberta"]))
def test_space_after_makes_byte_level_words_tokenise_like_the_original_text(pairs, name):
    tok = _BYTE_LEVEL[name]
    words, space_after = [], []
    for word, punct in pairs:
        words.append(word)
        space_after.append(punct is None)
        if punct is not None:
            words.append(punct)
            space_after.append(True)
    text = "".join(word + (" " if space else "") for word, space in zip(words, space_after, strict=True)).rstrip()
    aligned = tok.align_many([words], space_after=[space_after])[0]
    assert isinstance(aligned, Alignment)
    assert aligned.input_ids.tolist() == tok.tokenizer.encode(text).ids
    assert_words_in_order(aligned, len(words))


def test_space_after_is_ignored_where_words_are_passed_as_they_are():
    tok = make_word_tokenizer("wordpiece")
    words = ["The", "engine", "."]
    with_spacing = tok.align_many([words], space_after=[(True, False, True)])[0]
    assert with_spacing.input_ids.tolist() == tok.align(words).input_ids.tolist()


def test_byte_level_without_leading_space_would_differ():
    tok = make_word_tokenizer("byte-level")
    assert not reproduces_running_text(tok.tokenizer, ["The", "quick", "fox"], AS_IS)


def test_special_tokens_are_marked_and_special_text_is_a_word():
    tok = make_word_tokenizer("roberta")
    result = tok.align(["a", "<s>", "cat"])
    assert isinstance(result, Alignment)
    assert result.special[0] and result.special[-1]  # <s> ... </s> added by the post-processor
    assert not result.special[1:-1].any()  # the literal "<s>" in the text is an ordinary word
    assert_words_in_order(result, 3)


def test_word_without_subtokens_skips_the_sentence_with_reason():
    tok = make_word_tokenizer("wordpiece")  # BertNormalizer(clean_text) deletes control characters
    result = tok.align(["the", "\x07", "cat"])
    assert isinstance(result, AlignmentSkip)
    assert result.kind == "unaligned-word"
    assert "word 2" in result.reason


def test_empty_sentence_is_skipped():
    assert make_word_tokenizer("wordpiece").align([]).kind == "empty"


def test_too_long_is_skipped_never_truncated():
    tok = make_word_tokenizer("wordpiece", max_length=6)
    assert isinstance(tok.align(["the", "cat", "sat", "on"]), Alignment)  # 4 + [CLS] + [SEP] = 6
    skip = tok.align(["the", "cat", "sat", "on", "the"])
    assert isinstance(skip, AlignmentSkip) and skip.kind == "too-long"
    assert "7 subtokens" in skip.reason


def test_truncation_and_padding_in_tokenizer_json_are_ignored():
    tokenizer = wordpiece_tokenizer()
    tokenizer.enable_truncation(max_length=4)
    tokenizer.enable_padding(length=32)
    tok = WordTokenizer(tokenizer, kind="wordpiece", tokenizer_json=json.loads(tokenizer.to_str()), max_length=100)
    result = tok.align(["the", "quick", "brown", "fox", "jumps"])
    assert isinstance(result, Alignment)
    assert result.n_tokens == 7
    assert_words_in_order(result, 5)


def test_align_many_keeps_order_and_mixes_skips():
    tok = make_word_tokenizer("byte-level", max_length=8)
    results = tok.align_many([["a", "cat"], [], ["word"] * 20, ["dog"]])
    assert [type(r).__name__ for r in results] == ["Alignment", "AlignmentSkip", "AlignmentSkip", "Alignment"]
    assert [getattr(r, "kind", None) for r in results] == [None, "empty", "too-long", None]
