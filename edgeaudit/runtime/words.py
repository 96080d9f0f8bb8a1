"""From subtoken activations to word activations, for all layers and heads at once.

Attention pooling follows Clark et al. (2019, "What Does BERT Look At?"): attention *to* a split word is
the SUM over its subtokens (the mass the word receives), attention *from* a split word is the MEAN over
its subtokens (so each word row is still a distribution). Special tokens ([CLS], [SEP], <s>) are not
words: their rows are dropped and the mass word rows put on them is returned separately, so each word row
sums to 1 minus that mass.

Each sentence gets a [word, token] pooling matrix built once; one matmul then pools every layer and head.
"""

from __future__ import annotations

import numpy as np

POOLINGS = ("mean", "first", "last")


def membership(word_of_token: np.ndarray, n_words: int) -> np.ndarray:
    """[word, token] float32: 1 where the token belongs to the word (special tokens belong to none)."""
    return (word_of_token[None, :] == np.arange(n_words)[:, None]).astype(np.float32)


def mean_pooling(word_of_token: np.ndarray, n_words: int) -> np.ndarray:
    """[word, token] float32 rows averaging each word's subtokens."""
    member = membership(word_of_token, n_words)
    return member / member.sum(axis=1, keepdims=True)


def hidden_pooling(word_of_token: np.ndarray, n_words: int, pooling: str) -> np.ndarray:
    """[word, token] float32 selecting a word's mean, first or last subtoken."""
    if pooling == "mean":
        return mean_pooling(word_of_token, n_words)
    if pooling not in POOLINGS:
        raise ValueError(f"pooling {pooling!r} is not one of {', '.join(POOLINGS)}")
    member = membership(word_of_token, n_words).astype(bool)
    tokens = member.argmax(axis=1) if pooling == "first" else member.shape[1] - 1 - member[:, ::-1].argmax(axis=1)
    matrix = np.zeros(member.shape, dtype=np.float32)
    matrix[np.arange(n_words), tokens] = 1.0
    return matrix


def word_attention(attn: np.ndarray, word_of_token: np.ndarray, n_words: int) -> tuple[np.ndarray, np.ndarray]:
    """Word-level attention and the mass on special tokens.

    attn: np.ndarray  # [layer, head, query_token, key_token], one sentence, unpadded
    returns (attention  # [layer, head, word_from, word_to],
             special_mass  # [layer, head, word_from]: mass the word's row puts on special tokens)
    """
    to_word = membership(word_of_token, n_words)  # [word, token]
    from_word = to_word / to_word.sum(axis=1, keepdims=True)  # [word, token]
    rows = np.matmul(from_word, attn.astype(np.float32, copy=False))  # [layer, head, word_from, key_token]
    attention = np.matmul(rows, to_word.T)  # [layer, head, word_from, word_to]
    special = word_of_token < 0
    special_mass = rows[..., special].sum(axis=-1) if special.any() else np.zeros(rows.shape[:-1], np.float32)
    return attention, special_mass


def word_hidden(hidden: np.ndarray, word_of_token: np.ndarray, n_words: int, pooling: str = "mean") -> np.ndarray:
    """Word-level hidden states.

    hidden: np.ndarray  # [layer, token, hidden], one sentence, unpadded
    returns np.ndarray  # [layer, word, hidden] float32
    """
    matrix = hidden_pooling(word_of_token, n_words, pooling)  # [word, token]
    return np.matmul(matrix, hidden.astype(np.float32, copy=False))
