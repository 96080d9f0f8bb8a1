"""Parsing the two layouts feature norms come in into one concept x feature matrix.

Long: one row per (concept, feature, value) — McRae et al. (2005) ``Concept, Feature, Prod_Freq``;
Buchanan et al. (2019) ``cue, lemma, n``. Wide: one row per concept, one numeric column per
feature — Brysbaert et al. (2014) ``Word, Conc.M, ...``. Both produce a :class:`RawNorms` keyed by
the concept names exactly as written; normalising names and senses happens later (``norms.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from edgeaudit.data._table import Table
from edgeaudit.errors import DataError

CONCEPT_COLUMNS = ("concept", "cue", "word", "item")
FEATURE_COLUMNS = ("feature", "property", "feature_response", "lemma")
VALUE_COLUMNS = ("prod_freq", "n", "value", "count", "frequency", "freq")
WIDE_WORD_COLUMNS = ("word", "concept", "cue", "item", "lemma")

PairPolicy = Literal["max", "sum", "first", "error"]


@dataclass
class RawNorms:
    """Concept rows as named in the file, before normalisation."""

    names: list[str]
    lines: list[int]  # file line of each concept's first row
    features: list[str]
    matrix: np.ndarray  # [concept, feature] float64
    categories: list[str] | None = None
    notes: list[str] = field(default_factory=list)


def parse_number(text: str) -> float | None:
    """A finite float, or None when ``text`` is not one (``nan``/``inf`` count as not numbers)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


MAX_NORM_MAGNITUDE = 1e100
"""Larger values overflow the probes' squares and cross-products (1e308**2 is inf) instead of failing."""


def check_magnitude(value: float, where: str) -> float:
    """``value`` if the probes can square and sum it; a DataError naming ``where`` (file:line: cell) if not."""
    if abs(value) > MAX_NORM_MAGNITUDE:
        raise DataError(f"{where} is {value:g}, beyond +-{MAX_NORM_MAGNITUDE:g} (the probes would overflow)",
                        hint="rescale the norms (e.g. to 0..1 or z-scores)")
    return value


def _column(table: Table, explicit: str | None, candidates: Sequence[str], role: str) -> int | None:
    if explicit is not None:
        return table.index(explicit, role=role)
    found = table.find(candidates)
    return None if found is None else table.header.index(found)


def is_long(table: Table, concept_column: str | None, feature_column: str | None) -> bool:
    """Long layout when both a concept and a feature column can be identified."""
    has_feature = feature_column is not None or table.find(FEATURE_COLUMNS) is not None
    has_concept = concept_column is not None or table.find(CONCEPT_COLUMNS) is not None
    return has_feature and has_concept


def _require(index: int | None, table: Table, role: str, candidates: Sequence[str]) -> int:
    if index is None:
        raise DataError(
            f"{table.source}:1: cannot find the {role} column among {', '.join(map(repr, table.header))}",
            hint=f"name it with the {role}_column option (looked for {', '.join(candidates)})",
        )
    return index


def read_long(
    table: Table,
    concept_column: str | None,
    feature_column: str | None,
    value_column: str | None,
    duplicate_pairs: PairPolicy,
) -> RawNorms:
    """One row per (concept, feature); a missing value column means presence (1.0)."""
    ci = _require(_column(table, concept_column, CONCEPT_COLUMNS, "concept"), table, "concept", CONCEPT_COLUMNS)
    fi = _require(_column(table, feature_column, FEATURE_COLUMNS, "feature"), table, "feature", FEATURE_COLUMNS)
    vi = _column(table, value_column, VALUE_COLUMNS, "value")
    notes = [] if vi is not None else ["no value column: every listed feature counts 1"]
    cells: dict[tuple[str, str], float] = {}
    first_line: dict[tuple[str, str], int] = {}
    concept_lines: dict[str, int] = {}
    features: dict[str, None] = {}
    repeated: list[str] = []
    for row, line in zip(table.rows, table.lines, strict=True):
        name, feature = row[ci].strip(), row[fi].strip()
        for text, role in ((name, "concept"), (feature, "feature")):
            if not text:
                raise DataError(f"{table.source}:{line}: empty {role}", hint="fill it in or delete the row")
        value = 1.0 if vi is None else _long_value(table, row[vi], line, table.header[vi])
        key = (name, feature)
        if key in cells:
            repeated.append(f"{name}/{feature} (lines {first_line[key]} and {line})")
            cells[key] = _combine(cells[key], value, duplicate_pairs, table.source, line, first_line[key], key)
        else:
            cells[key], first_line[key] = value, line
        concept_lines.setdefault(name, line)
        features.setdefault(feature, None)
    if repeated:
        notes.append(f"{len(repeated)} repeated concept/feature rows combined by {duplicate_pairs!r}: {'; '.join(repeated)}")
    names, feature_list = list(concept_lines), list(features)
    row_of = {name: i for i, name in enumerate(names)}
    col_of = {feature: j for j, feature in enumerate(feature_list)}
    matrix = np.zeros((len(names), len(feature_list)))  # [concept, feature]
    for (name, feature), value in cells.items():
        matrix[row_of[name], col_of[feature]] = value
    return RawNorms(names, [concept_lines[n] for n in names], feature_list, matrix, notes=notes)


def _long_value(table: Table, text: str, line: int, column: str) -> float:
    value = parse_number(text.strip())
    if value is None:
        raise DataError(
            f"{table.source}:{line}: {column} is {text!r}, which is not a finite number",
            hint="fix the value, or choose another value column",
        )
    return check_magnitude(value, f"{table.source}:{line}: {column}")


def _combine(
    old: float, new: float, policy: PairPolicy, source: str, line: int, first: int, key: tuple[str, str]
) -> float:
    """The value of a concept/feature pair listed twice, under ``policy``."""
    if policy == "error":
        raise DataError(
            f"{source}:{line}: concept {key[0]!r} lists feature {key[1]!r} again (first on line {first})",
            hint="merge the rows, or pass duplicate_pairs='max', 'sum' or 'first'",
        )
    if policy == "max":
        return max(old, new)
    if policy == "sum":
        return old + new
    return old


def read_wide(
    table: Table,
    concept_column: str | None,
    value_columns: Sequence[str] | None,
    category_column: str | None,
) -> RawNorms:
    """One row per concept; explicit value columns must be numeric, auto mode keeps the numeric ones."""
    wi = _column(table, concept_column, WIDE_WORD_COLUMNS, "concept")
    wi = 0 if wi is None else wi
    gi = None if category_column is None else table.index(category_column, role="category")
    notes: list[str] = []
    if value_columns is not None:
        columns = [table.index(name, role="value") for name in value_columns]
    else:
        columns, excluded = _numeric_columns(table, {wi} | ({gi} if gi is not None else set()))
        notes.extend(excluded)
    if not columns:
        raise DataError(f"{table.source}:1: no numeric feature columns", hint="name them with value_columns")
    seen: dict[str, int] = {}
    matrix = np.empty((len(table.rows), len(columns)))  # [concept, feature]
    n_missing = 0
    for r, (row, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        name = row[wi].strip()
        if not name:
            raise DataError(f"{table.source}:{line}: empty concept name", hint="fill it in or delete the row")
        if name in seen:
            raise DataError(
                f"{table.source}:{line}: concept {name!r} appears again (first on line {seen[name]})",
                hint="a wide table needs one row per concept; merge or remove the duplicate",
            )
        seen[name] = line
        for c, j in enumerate(columns):
            text = row[j].strip()
            if not text:
                n_missing += 1
                matrix[r, c] = np.nan
                continue
            value = parse_number(text)
            if value is None:
                raise DataError(
                    f"{table.source}:{line}: column {table.header[j]!r} is {text!r} for {name!r}, not a number",
                    hint="fix the value, or leave that column out of value_columns",
                )
            matrix[r, c] = check_magnitude(value, f"{table.source}:{line}: column {table.header[j]!r} for {name!r}")
    if n_missing:
        notes.append(f"{n_missing} empty cells read as missing (NaN)")
    categories = None if gi is None else [row[gi].strip() for row in table.rows]
    names = [row[wi].strip() for row in table.rows]
    return RawNorms(names, list(table.lines), [table.header[j] for j in columns], matrix, categories, notes)


def _numeric_columns(table: Table, exclude: set[int]) -> tuple[list[int], list[str]]:
    """Columns whose non-empty cells are all numbers, plus notes on the columns left out and why."""
    kept: list[int] = []
    notes: list[str] = []
    for j, name in enumerate(table.header):
        if j in exclude:
            continue
        bad = next(
            ((row[j], line) for row, line in zip(table.rows, table.lines, strict=True) if row[j].strip() and parse_number(row[j]) is None),
            None,
        )
        if bad is None:
            kept.append(j)
        else:
            notes.append(f"column {name!r} left out: {bad[0]!r} on line {bad[1]} is not a number")
    return kept, notes
