"""Tokenise treebank words (already split) so that each subtoken is known to belong to one word.

Treebank words are tokenised with ``is_pretokenized=True`` and mapped back with ``Encoding.word_ids``. The
catch is that tokenizers then pre-tokenise each word on its own, which must reproduce how the model saw
running text:

* WordPiece (BERT) splits on whitespace anyway: words are passed as they are.
* Byte-level BPE (GPT-2, RoBERTa, Qwen2) marks a preceding space inside the token ("Ġword"): every word but
  the first gets a leading space, as it has in running text.
* Metaspace / SentencePiece (Llama, T5) prepends "▁" to each pre-split word by itself (``prepend_scheme``
  "first"/"always", or a ``Prepend`` normaliser): words are passed as they are; with "never" they get a
  leading space, which Metaspace turns into "▁".

The rule picks the first candidate; :func:`choose_word_prefix` then checks candidates against encoding the
joined sentence text on probe sentences and keeps the first that reproduces it.

Where the corpus says which words are followed by a space (CoNLL-U ``SpaceAfter=No``), the leading space of
byte-level BPE goes only where the running text has one: "engine" + "." is "engine.", not "engine .", as the
model saw it in training. Without that information every word but the first gets a space.

Decoders put most attention on the first position (the attention sink), and a first *word* that is the sink
becomes a massive-activation outlier that every word-level statistic inherits. So for a causal model whose
tokenizer adds nothing before the text, a BOS-like special token is put in front (``<|begin_of_text|>``,
``<s>``, ``<bos>``, ``<|endoftext|>``, ``<|startoftext|>``, the first the vocabulary has), as in training
documents: it is a special token, so it is excluded from words, and the mass attention puts on it is reported
per head with the other special tokens. The manifest's ``tokenizer.prefix`` overrides the choice (a token
string, or null for none); the choice is recorded in every extraction's settings.

Special tokens inside the text (a literal "<s>" in a forum post) are tokenised as text
(``encode_special_tokens``), and the bundle's tokenizer JSON may carry truncation/padding settings, which
are switched off: a sentence longer than the model's limit is skipped with its id, never cut.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgeaudit.bundle import Bundle
from edgeaudit.errors import BundleError

AS_IS = "as-is"  # words passed unchanged
SPACE_BEFORE_REST = "space-before-rest"  # " " + word for every word but the first

BOS_LIKE = ("<|begin_of_text|>", "<s>", "<bos>", "<|endoftext|>", "<|startoftext|>")
AUTO = "auto"

PROBE_SENTENCES = (
    ("The", "old", "man", "'s", "boat", ",", "it", "said", ",", "was", "n't", "sold", "."),
    ("Prices", "rose", "3.5", "%", "in", "2019", "(", "see", "page", "12", ")", "!"),
)


@dataclass(frozen=True)
class Alignment:
    """One sentence's subtokens and the word each belongs to."""

    input_ids: np.ndarray  # [token] int64, special tokens included
    word_of_token: np.ndarray  # [token] int64: word index, or -1 for a special token
    n_words: int

    @property
    def n_tokens(self) -> int:
        return int(self.input_ids.shape[0])

    @property
    def special(self) -> np.ndarray:  # [token] bool
        return self.word_of_token < 0


@dataclass(frozen=True)
class AlignmentSkip:
    """Why a sentence cannot be aligned: ``kind`` is a stable key for counting."""

    kind: str  # "too-long" | "unaligned-word" | "empty"
    reason: str


def _metaspace_settings(tokenizer_json: dict[str, Any]) -> dict[str, Any] | None:
    pre = tokenizer_json.get("pre_tokenizer") or {}
    for item in [pre, *(pre.get("pretokenizers") or [])]:
        if item.get("type") == "Metaspace":
            return item
    return None


def candidate_prefixes(kind: str, tokenizer_json: dict[str, Any]) -> list[str]:
    """Prefix strategies in order of preference for a tokenizer kind (manifest ``tokenizer.kind``)."""
    if kind == "byte-level-bpe":
        return [SPACE_BEFORE_REST, AS_IS]
    metaspace = _metaspace_settings(tokenizer_json)
    if metaspace is not None and (
        metaspace.get("prepend_scheme") == "never" or metaspace.get("add_prefix_space") is False
    ):
        return [SPACE_BEFORE_REST, AS_IS]
    return [AS_IS, SPACE_BEFORE_REST]


def prefixed(words: Sequence[str], strategy: str, space_after: Sequence[bool] | None = None) -> list[str]:
    if strategy == SPACE_BEFORE_REST:
        return [word if i == 0 or (space_after is not None and not space_after[i - 1]) else " " + word
                for i, word in enumerate(words)]
    return list(words)


def reproduces_running_text(tokenizer, words: Sequence[str], strategy: str) -> bool:
    """Whether pre-split encoding gives the same ids as encoding ``" ".join(words)``."""
    split = tokenizer.encode(prefixed(words, strategy), is_pretokenized=True)
    joined = tokenizer.encode(" ".join(words))
    return split.ids == joined.ids


def choose_word_prefix(tokenizer, kind: str, tokenizer_json: dict[str, Any]) -> tuple[str, bool]:
    """(strategy, verified): the first candidate reproducing running text on the probe sentences."""
    candidates = candidate_prefixes(kind, tokenizer_json)
    for strategy in candidates:
        if all(reproduces_running_text(tokenizer, words, strategy) for words in PROBE_SENTENCES):
            return strategy, True
    return candidates[0], False


def decoder_prefix(tokenizer, tokenizer_json: dict[str, Any], *, causal: bool,
                   setting: str | None = AUTO) -> tuple[int, str] | None:
    """(id, token) to put before every sentence, or None: see the module docstring."""
    specials = {str(tok["content"]): int(tok["id"]) for tok in tokenizer_json.get("added_tokens", []) if tok.get("special")}
    if setting is None:
        return None
    if setting != AUTO:
        if setting not in specials:
            raise BundleError(f"edgeaudit.json: tokenizer.prefix {setting!r} is not a special token of the bundle's "
                              "tokenizer", hint=f"use one of {', '.join(sorted(specials)[:8]) or 'none'}, or null")
        return specials[setting], setting
    if not causal:
        return None
    probe = tokenizer.encode(["x"], is_pretokenized=True, add_special_tokens=True)
    if probe.special_tokens_mask and probe.special_tokens_mask[0]:
        return None  # the tokenizer already starts every text with a special token
    return next(((specials[name], name) for name in BOS_LIKE if name in specials), None)


def prepare_tokenizer(tokenizer):
    """Switch off truncation and padding and tokenise special-token strings in the text as text."""
    tokenizer.no_truncation()
    tokenizer.no_padding()
    tokenizer.encode_special_tokens = True
    return tokenizer


class WordTokenizer:
    """Aligns pre-split sentences to a bundle's subtokens; sentences over ``max_length`` are skipped."""

    def __init__(self, tokenizer, *, kind: str, tokenizer_json: dict[str, Any], max_length: int,
                 prefix: tuple[int, str] | None = None):
        self.tokenizer = prepare_tokenizer(tokenizer)
        self.kind = kind
        self.max_length = int(max_length)
        self.strategy, self.verified = choose_word_prefix(self.tokenizer, kind, tokenizer_json)
        self.prefix = prefix  # (id, token) put before every sentence, or None

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> WordTokenizer:
        settings = bundle.manifest.tokenizer
        tokenizer_json = json.loads(bundle.tokenizer_path.read_text(encoding="utf-8"))
        tokenizer = bundle.load_tokenizer()
        prefix = decoder_prefix(tokenizer, tokenizer_json, causal=bundle.manifest.causal,
                                setting=settings.get("prefix", AUTO))
        return cls(tokenizer, kind=settings["kind"], tokenizer_json=tokenizer_json,
                   max_length=settings["max_length"], prefix=prefix)

    @property
    def prefix_token(self) -> str | None:
        return self.prefix[1] if self.prefix else None

    def align(self, words: Sequence[str]) -> Alignment | AlignmentSkip:
        return self.align_many([words])[0]

    def align_inputs(self, inputs: Sequence) -> list[Alignment | AlignmentSkip]:
        """Align corpus sentences (``words`` and, when known, ``space_after``)."""
        return self.align_many([s.words for s in inputs], space_after=[getattr(s, "space_after", None) for s in inputs])

    def align_many(self, sentences: Sequence[Sequence[str]],
                   space_after: Sequence[Sequence[bool] | None] | None = None) -> list[Alignment | AlignmentSkip]:
        """Align many sentences with one (parallel) ``encode_batch`` call."""
        results: list[Alignment | AlignmentSkip | None] = [None] * len(sentences)
        spacing = space_after if space_after is not None else [None] * len(sentences)
        todo = [i for i, words in enumerate(sentences) if len(words) > 0]
        for i, words in enumerate(sentences):
            if len(words) == 0:
                results[i] = AlignmentSkip("empty", "has no words")
        inputs = [prefixed(sentences[i], self.strategy, spacing[i]) for i in todo]
        encodings = self.tokenizer.encode_batch(inputs, is_pretokenized=True, add_special_tokens=True) if todo else []
        for i, encoding in zip(todo, encodings, strict=True):
            results[i] = self._check(encoding, sentences[i])
        return results  # type: ignore[return-value]

    def _check(self, encoding, words: Sequence[str]) -> Alignment | AlignmentSkip:
        ids = np.asarray(encoding.ids, dtype=np.int64)
        special = np.asarray(encoding.special_tokens_mask, dtype=bool)
        word_of_token = np.array([-1 if w is None else w for w in encoding.word_ids], dtype=np.int64)
        word_of_token[special] = -1
        if self.prefix is not None:
            ids = np.concatenate([[self.prefix[0]], ids])
            word_of_token = np.concatenate([[-1], word_of_token])
        if ids.shape[0] > self.max_length:
            return AlignmentSkip(
                "too-long", f"has {ids.shape[0]} subtokens, over the model's limit of {self.max_length}"
            )
        counts = np.bincount(word_of_token[word_of_token >= 0], minlength=len(words))
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            first = int(empty[0])
            return AlignmentSkip(
                "unaligned-word",
                f"word {first + 1} ({words[first]!r}) maps to no subtoken (the tokenizer drops it)",
            )
        order = word_of_token[word_of_token >= 0]
        if np.any(np.diff(order) < 0):
            return AlignmentSkip("unaligned-word", "subtokens are not in word order")
        return Alignment(ids, word_of_token, len(words))
