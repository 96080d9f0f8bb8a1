"""Feature norms: which properties people ascribe to which concepts, as a concept x feature matrix.

Property-inference probes map embeddings to these rows. Concept names are normalised to the words
a model will see (``bat_(animal)`` -> word ``bat``, sense ``animal``). Several concepts can share a
word; they are kept apart by their sense and reported, and a policy decides what to do with them
because an embedding looked up by word alone cannot tell ``bat (animal)`` from ``bat (baseball)``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from edgeaudit.data._norm_layouts import PairPolicy, RawNorms, is_long, read_long, read_wide
from edgeaudit.data._table import read_table
from edgeaudit.data.skips import Skip, count_skips
from edgeaudit.data.words import sense_label, split_sense
from edgeaudit.errors import DataError

DuplicatePolicy = Literal["keep", "first", "drop", "error"]
"""What to do when several concepts normalise to the same word:
``keep`` all (told apart by ``senses``), keep the ``first`` in file order, ``drop`` them all, or ``error``."""

Layout = Literal["auto", "long", "wide"]


@dataclass(eq=False)
class Norms:
    """Concept rows by feature columns; row ``i`` is ``concepts[i]`` in sense ``senses[i]``."""

    concepts: list[str]  # normalised words (may repeat when senses differ)
    senses: list[str | None]
    features: list[str]
    matrix: np.ndarray  # [concept, feature] float64; 0 = not listed (long layout)
    source: str
    names: list[str]  # concept names exactly as written in the source
    categories: list[str] | None = None  # one per concept when the source has a category column
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    layout: str = "wide"  # "long" (concept, feature, value rows: a feature is listed or not) or "wide"

    def __post_init__(self) -> None:
        n, m = len(self.concepts), len(self.features)
        if self.matrix.shape != (n, m) or len(self.senses) != n or len(self.names) != n:
            raise ValueError(f"norms from {self.source}: matrix {self.matrix.shape} does not match {n} x {m}")
        if self.categories is not None and len(self.categories) != n:
            raise ValueError(f"norms from {self.source}: {len(self.categories)} categories for {n} concepts")

    def __len__(self) -> int:
        return len(self.concepts)

    @property
    def labels(self) -> list[str]:
        """Readable unique-by-sense labels: ``bat (animal)``, ``dog``."""
        return [sense_label(word, sense) for word, sense in zip(self.concepts, self.senses, strict=True)]

    def ambiguous_words(self) -> dict[str, list[str | None]]:
        """Words that name more than one concept, with their senses in row order."""
        by_word: dict[str, list[str | None]] = {}
        for word, sense in zip(self.concepts, self.senses, strict=True):
            by_word.setdefault(word, []).append(sense)
        return {word: senses for word, senses in by_word.items() if len(senses) > 1}

    def index(self, word: str, sense: str | None = None) -> int:
        """Row of ``word`` (first sense unless ``sense`` is given); KeyError if absent."""
        for i, (w, s) in enumerate(zip(self.concepts, self.senses, strict=True)):
            if w == word and (sense is None or s == sense):
                return i
        raise KeyError(sense_label(word, sense))

    def summary(self) -> dict[str, object]:
        return {
            "source": self.source,
            "concepts": len(self.concepts),
            "features": len(self.features),
            "categories": len(set(self.categories)) if self.categories is not None else None,
            "ambiguous_words": len(self.ambiguous_words()),
            "skipped": len(self.skipped),
            "skipped_by_kind": count_skips(self.skipped),
            "notes": list(self.notes),
        }


def read_norms(
    path: str | os.PathLike[str],
    *,
    layout: Layout = "auto",
    concept_column: str | None = None,
    feature_column: str | None = None,
    value_column: str | None = None,
    value_columns: Sequence[str] | None = None,
    category_column: str | None = None,
    delimiter: str | None = None,
    duplicates: DuplicatePolicy = "keep",
    duplicate_pairs: PairPolicy = "max",
    source: str | None = None,
) -> Norms:
    """Read long (concept, feature, value rows) or wide (concept + numeric columns) feature norms.

    ``layout="auto"`` picks long when a concept and a feature column are found (``Concept``/``cue``
    with ``Feature``/``lemma``), else wide. Column options override the detection; the delimiter
    (tab, comma or semicolon) is detected from the header unless given. ``duplicate_pairs`` combines
    a concept/feature pair listed twice in long layout (McRae lists two such pairs); ``duplicates``
    handles concepts that share a word (see :data:`DuplicatePolicy`).
    """
    _check_choice("layout", layout, ("auto", "long", "wide"))
    _check_choice("duplicates", duplicates, ("keep", "first", "drop", "error"))
    _check_choice("duplicate_pairs", duplicate_pairs, ("max", "sum", "first", "error"))
    table = read_table(path, delimiter=delimiter, source=source)
    long = layout == "long" or (layout == "auto" and is_long(table, concept_column, feature_column))
    if long:
        if value_columns is not None:
            if len(value_columns) != 1 or value_column is not None:
                raise DataError(f"{table.source}:1: a long norms table (one row per concept and feature) has one "
                                f"value column, got {', '.join(map(repr, value_columns))}",
                                hint="name a single column, e.g. Prod_Freq")
            value_column = value_columns[0]
        raw = read_long(table, concept_column, feature_column, value_column, duplicate_pairs)
    else:
        raw = read_wide(table, concept_column, value_columns, category_column)
    norms = finish_norms(raw, table.source, duplicates)
    norms.layout = "long" if long else "wide"
    return norms


def _check_choice(option: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise DataError(f"unknown {option} {value!r}", hint=f"use one of {', '.join(map(repr, allowed))}")


def finish_norms(raw: RawNorms, source: str, duplicates: DuplicatePolicy) -> Norms:
    """Drop featureless concepts, split senses, apply the duplicate-word policy."""
    skipped: list[Skip] = []
    keep: list[int] = []
    for i, (name, line) in enumerate(zip(raw.names, raw.lines, strict=True)):
        row = raw.matrix[i]
        if np.all((row == 0) | np.isnan(row)):
            reason = f"concept {name!r} has no features (every value is zero or missing)"
            skipped.append(Skip(source, line, reason, "no-features", name))
        else:
            keep.append(i)
    split = [split_sense(name) for name in raw.names]
    for (word, _), name, line in zip(split, raw.names, raw.lines, strict=True):
        if not word:  # e.g. "_" or "(sense)": nothing left to look an embedding up by
            raise DataError(f"{source}:{line}: concept {name!r} names no word once underscores and senses are removed",
                            hint="fix the concept name or delete the row")
    keep = _apply_duplicate_policy(raw, split, keep, duplicates, source, skipped)
    norms = Norms(
        concepts=[split[i][0] for i in keep],
        senses=[split[i][1] for i in keep],
        features=list(raw.features),
        matrix=raw.matrix[keep],
        source=source,
        names=[raw.names[i] for i in keep],
        categories=None if raw.categories is None else [raw.categories[i] for i in keep],
        skipped=skipped,
        notes=list(raw.notes),
    )
    if not len(norms):
        raise DataError(f"{source}:1: no concept with features left", hint="check the value columns")
    ambiguous = norms.ambiguous_words()
    if ambiguous:
        listed = ", ".join(f"{w} ({' | '.join(str(s) for s in senses)})" for w, senses in list(ambiguous.items())[:8])
        more = "" if len(ambiguous) <= 8 else f", ... ({len(ambiguous)} in all)"
        norms.notes.append(f"{len(ambiguous)} words name several concepts, kept apart by sense: {listed}{more}")
    return norms


def _apply_duplicate_policy(
    raw: RawNorms,
    split: list[tuple[str, str | None]],
    keep: list[int],
    policy: DuplicatePolicy,
    source: str,
    skipped: list[Skip],
) -> list[int]:
    """Rows to keep under ``policy``; the rows it removes become ``duplicate-word`` skips."""
    if policy == "keep":
        return keep
    rows_of: dict[str, list[int]] = {}
    for i in keep:
        rows_of.setdefault(split[i][0], []).append(i)
    result: list[int] = []
    for i in keep:
        word = split[i][0]
        rows = rows_of[word]
        if len(rows) == 1 or (policy == "first" and rows[0] == i):
            result.append(i)
            continue
        other = raw.names[rows[1] if rows[0] == i else rows[0]]
        if policy == "error" and rows[0] != i:
            raise DataError(
                f"{source}:{raw.lines[i]}: concept {raw.names[i]!r} has the same word {word!r} as {other!r} "
                f"(line {raw.lines[rows[0]]})",
                hint="pass duplicates='keep' (told apart by sense), 'first' or 'drop'",
            )
        reason = f"concept {raw.names[i]!r} shares the word {word!r} with {other!r} (duplicates={policy!r})"
        skipped.append(Skip(source, raw.lines[i], reason, "duplicate-word", raw.names[i]))
    return result
