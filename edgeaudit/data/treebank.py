"""Dependency-annotated sentences as the probes see them: syntactic words, heads, relations.

Shared by the CoNLL-U reader and the built-in generated treebanks, so that both are validated by the
same tree check (:func:`tree_problem`).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from edgeaudit.data.skips import Skip, count_skips


def base_relation(relation: str) -> str:
    """The universal part of a relation: ``nsubj:pass`` -> ``nsubj`` (UD subtypes follow a colon).

    Interned: an audit keeps one label per dependency instance (hundreds of thousands on a large treebank)."""
    return sys.intern(relation.split(":", 1)[0])


@dataclass(eq=False)
class Sentence:
    """One sentence's syntactic words (multiword-token ranges and empty nodes already removed)."""

    sent_id: str
    words: list[str]
    heads: np.ndarray  # [word] int; 0 = root, otherwise the 1-based index of the head word (as in CoNLL-U)
    relations: list[str]  # full UD relations, e.g. "nsubj:pass"
    upos: list[str]
    source: str  # file (or built-in name) the sentence came from
    line: int  # line where the sentence starts in ``source`` (1 for generated data)
    text: str | None = None  # the ``# text =`` comment, when present
    # per word: is it followed by a space in the running text? (CoNLL-U ``SpaceAfter=No``; None = unknown)
    space_after: tuple[bool, ...] | None = None

    def __post_init__(self) -> None:
        self.heads = np.asarray(self.heads, dtype=np.int64)
        n = len(self.words)
        if self.space_after is not None:
            self.space_after = tuple(bool(flag) for flag in self.space_after)
        if (self.heads.shape != (n,) or len(self.relations) != n or len(self.upos) != n
                or (self.space_after is not None and len(self.space_after) != n)):
            raise ValueError(
                f"sentence {self.sent_id!r}: words, heads, relations and upos must have the same length "
                f"({n}, {self.heads.shape}, {len(self.relations)}, {len(self.upos)})"
            )

    def __len__(self) -> int:
        return len(self.words)

    @property
    def is_punct(self) -> np.ndarray:  # [word] bool
        """Punctuation words (UPOS ``PUNCT``): probes exclude them as dependents and from UUAS."""
        return np.asarray([tag == "PUNCT" for tag in self.upos], dtype=bool)

    @property
    def base_relations(self) -> list[str]:
        """Relations without subtypes (``obl:agent`` -> ``obl``), for probes that pool subtypes."""
        return [base_relation(relation) for relation in self.relations]

    def arcs(self) -> list[tuple[int, int, str]]:
        """``(dependent, head, relation)`` with 0-based word indices; the root's head is -1."""
        return [(i, int(h) - 1, rel) for i, (h, rel) in enumerate(zip(self.heads, self.relations, strict=True))]


class TreeProblem(NamedTuple):
    """Why a head sequence is not a tree: ``kind`` for counting, ``text`` completing "sentence 'x' ..."."""

    kind: str
    text: str


def tree_problem(heads: Sequence[int] | np.ndarray) -> TreeProblem | None:
    """Why ``heads`` (1-based, 0 = root) is not a single-rooted tree, or ``None`` if it is one."""
    n = len(heads)
    if n == 0:
        return TreeProblem("empty-sentence", "has no words")
    values = [int(h) for h in heads]
    for i, h in enumerate(values, start=1):
        if h < 0 or h > n:
            return TreeProblem("head-out-of-range", f"has word {i} with head {h}, outside 0..{n}")
        if h == i:
            return TreeProblem("cycle", f"has a cycle ({i} -> {i}: word {i} is its own head)")
    roots = [i for i, h in enumerate(values, start=1) if h == 0]
    if not roots:
        return TreeProblem("no-root", "has no root (no word with head 0)")
    if len(roots) > 1:
        return TreeProblem("several-roots", f"has several roots (words {', '.join(map(str, roots))})")
    cycle = _find_cycle(values)
    if cycle:
        return TreeProblem("cycle", f"has a cycle ({' -> '.join(map(str, cycle))})")
    return None


def _find_cycle(heads: list[int]) -> list[int] | None:
    """The first head cycle found, as word ids ending where it starts (``[3, 5, 3]``)."""
    state = [0] * (len(heads) + 1)  # 0 unseen, 1 on the current path, 2 known to reach the root
    state[0] = 2
    for start in range(1, len(heads) + 1):
        path: list[int] = []
        node = start
        while state[node] == 0:
            state[node] = 1
            path.append(node)
            node = heads[node - 1]
        if state[node] == 1:  # walked back onto the current path
            loop = path[path.index(node) :]
            return loop + [node]
        for visited in path:
            state[visited] = 2
    return None


@dataclass(eq=False)
class Treebank:
    """Sentences read from one source plus everything that was skipped, with reasons."""

    sentences: list[Sentence]
    source: str
    skipped: list[Skip] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sentences)

    def __iter__(self) -> Iterator[Sentence]:
        return iter(self.sentences)

    def __getitem__(self, index: int) -> Sentence:
        return self.sentences[index]

    @property
    def n_words(self) -> int:
        return sum(len(sentence) for sentence in self.sentences)

    def relation_counts(self, *, base: bool = True) -> dict[str, int]:
        """How often each relation occurs (base relations by default), most frequent first."""
        counts: Counter[str] = Counter()
        for sentence in self.sentences:
            counts.update(sentence.base_relations if base else sentence.relations)
        return dict(counts.most_common())

    def skip_counts(self) -> dict[str, int]:
        return count_skips(self.skipped)

    def summary(self) -> dict[str, object]:
        """Counts for reports: sentences, words, base relations and full labels, and skips by kind."""
        return {
            "source": self.source,
            "sentences": len(self.sentences),
            "words": self.n_words,
            "relations": len(self.relation_counts()),
            "relation_labels": len(self.relation_counts(base=False)),
            "skipped": len(self.skipped),
            "skipped_by_kind": self.skip_counts(),
        }
