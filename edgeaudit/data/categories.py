"""Word -> category tables, for category baselines and category-held-out splits.

A lemma often has several categories (WordNet: ``dog`` is ``noun.animal`` in one synset and
``noun.person`` in three others). The table keeps every candidate with its row count and picks one
by a documented rule, so that a report can say which choice was made and how often it mattered:

- ``policy="majority"`` (default): the category with the most rows for the word (for OEWN: the most
  synsets); ties go to the category seen first in the file.
- ``policy="first"``: the first row for the word in file order.
- ``prefer=[...]``: applied before the policy — if the word has any of these categories, the first
  listed wins (e.g. ``prefer=["noun.animal", "noun.food", "noun.artifact", "noun.plant"]`` for
  concrete concepts, which makes ``dog`` an animal rather than a person).

The OEWN file carries no sense frequencies, so no "most frequent sense" rule is possible from it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from edgeaudit.data._table import Table, read_table
from edgeaudit.data.words import normalise_word
from edgeaudit.errors import DataError

CategoryPolicy = Literal["majority", "first"]
WORD_COLUMNS = ("word", "lemma", "concept", "cue")
CATEGORY_COLUMNS = ("category", "supersense", "class", "label", "lexfile")


@dataclass(eq=False)
class Categories:
    """The chosen category per normalised word, and every candidate for words with several."""

    mapping: dict[str, str]
    alternatives: dict[str, list[tuple[str, int]]]  # ambiguous word -> [(category, rows)], chosen first
    policy: str
    source: str

    def __len__(self) -> int:
        return len(self.mapping)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and normalise_word(word) in self.mapping

    def __getitem__(self, word: str) -> str:
        return self.mapping[normalise_word(word)]

    def get(self, word: str, default: str | None = None) -> str | None:
        return self.mapping.get(normalise_word(word), default)

    def lookup(self, words: Iterable[str]) -> tuple[list[str | None], list[str]]:
        """Categories for ``words`` (None where unknown) and the list of unknown words, for reporting."""
        words = list(words)
        found = [self.get(word) for word in words]
        missing = [word for word, category in zip(words, found, strict=True) if category is None]
        return found, missing

    @property
    def names(self) -> list[str]:
        """The distinct categories, sorted."""
        return sorted(set(self.mapping.values()))

    def summary(self) -> dict[str, object]:
        return {
            "source": self.source,
            "words": len(self.mapping),
            "categories": len(self.names),
            "ambiguous_words": len(self.alternatives),
            "policy": self.policy,
        }


def read_categories(
    path: str | os.PathLike[str],
    *,
    word_column: str | None = None,
    category_column: str | None = None,
    pos: str | None = None,
    policy: CategoryPolicy = "majority",
    prefer: Sequence[str] | None = None,
    delimiter: str | None = None,
    source: str | None = None,
) -> Categories:
    """Read a table with a header: a word column and a category column (auto-detected, or named).

    ``pos`` keeps only rows whose ``pos`` column equals it (OEWN: ``"n"`` or ``"v"``).
    """
    table = read_table(path, delimiter=delimiter, source=source)
    wi = _column(table, word_column, WORD_COLUMNS, 0, "word")
    ci = _column(table, category_column, CATEGORY_COLUMNS, 1, "category")
    pi = None if pos is None else table.index("pos", role="part-of-speech")
    rows: list[tuple[str, str]] = []
    for row, line in zip(table.rows, table.lines, strict=True):
        if pi is not None and row[pi].strip() != pos:
            continue
        word, category = normalise_word(row[wi]), row[ci].strip()
        if not word or not category:
            role = "word" if not word else "category"
            raise DataError(f"{table.source}:{line}: empty {role}", hint="fill it in or delete the row")
        rows.append((word, category))
    if not rows:
        raise DataError(f"{table.source}:1: no rows" + (f" with pos {pos!r}" if pos else ""), hint="check the file")
    return categories_from_pairs(rows, policy=policy, prefer=prefer, source=table.source)


def _column(table: Table, explicit: str | None, candidates: Sequence[str], fallback: int, role: str) -> int:
    if explicit is not None:
        return table.index(explicit, role=role)
    found = table.find(candidates)
    if found is not None:
        return table.header.index(found)
    if len(table.header) <= fallback:
        raise DataError(f"{table.source}:1: need a {role} column, the header has one column", hint="use two columns")
    return fallback


def categories_from_pairs(
    pairs: Iterable[tuple[str, str]],
    *,
    policy: CategoryPolicy = "majority",
    prefer: Sequence[str] | None = None,
    source: str = "<pairs>",
) -> Categories:
    """Build a :class:`Categories` from ``(word, category)`` pairs in file order (words normalised)."""
    if policy not in ("majority", "first"):
        raise DataError(f"unknown category policy {policy!r}", hint="use 'majority' or 'first'")
    counts: dict[str, dict[str, int]] = {}  # insertion order = first appearance
    for word, category in pairs:
        per_word = counts.setdefault(normalise_word(word), {})
        per_word[category] = per_word.get(category, 0) + 1
    mapping: dict[str, str] = {}
    alternatives: dict[str, list[tuple[str, int]]] = {}
    rank = {category: i for i, category in enumerate(prefer or ())}
    for word, per_word in counts.items():
        order = list(per_word)
        if policy == "majority":
            order.sort(key=lambda c: -per_word[c])  # stable: ties keep file order
        order.sort(key=lambda c: rank.get(c, len(rank)))  # stable: preferred categories first
        mapping[word] = order[0]
        if len(order) > 1:
            alternatives[word] = [(c, per_word[c]) for c in order]
    label = policy if not prefer else f"{policy}, prefer {', '.join(prefer)}"
    return Categories(mapping=mapping, alternatives=alternatives, policy=label, source=source)
