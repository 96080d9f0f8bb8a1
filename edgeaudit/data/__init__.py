"""Datasets for audits: dependency treebanks, feature norms and word categories.

Every loader takes either a file path or a ``builtin:NAME`` spec (see :func:`builtin_datasets` or
``edgeaudit datasets``). Bad input raises :class:`edgeaudit.errors.DataError` naming the file and
line; unusable items (a sentence with a cycle, a concept without features) are skipped and listed
with reasons in the result's ``skipped``, never dropped silently.
"""

from __future__ import annotations

import os
from typing import Any

from edgeaudit.data.builtin_concepts import builtin_concept_categories
from edgeaudit.data.categories import Categories, read_categories
from edgeaudit.data.conllu_reader import ConlluStream, read_conllu, stream_conllu
from edgeaudit.data.norms import Norms, read_norms
from edgeaudit.data.registry import BUILTINS, is_builtin, resolve_builtin
from edgeaudit.data.skips import Skip
from edgeaudit.data.treebank import Sentence, Treebank, base_relation, tree_problem
from edgeaudit.data.words import normalise_word, split_sense
from edgeaudit.errors import DataError

__all__ = [
    "Categories", "ConlluStream", "Norms", "Sentence", "Skip", "Treebank",
    "base_relation", "builtin_datasets", "load_categories", "load_norms", "load_treebank",
    "normalise_word", "read_categories", "read_conllu", "read_norms", "split_sense", "stream_conllu",
    "tree_problem",
]  # fmt: skip


def load_treebank(spec: str | os.PathLike[str]) -> Treebank:
    """A CoNLL-U file (``.gz`` too), or ``builtin:treebank`` / ``builtin:treebank-nonce`` / ``builtin:ewt``."""
    if is_builtin(spec):
        return resolve_builtin(str(spec), "treebank").load()  # type: ignore[return-value]
    return read_conllu(spec)


def load_norms(spec: str | os.PathLike[str], **options: Any) -> Norms:
    """A norms file (options as for :func:`read_norms`), or ``builtin:concepts``."""
    if is_builtin(spec):
        entry = resolve_builtin(str(spec), "norms")
        if options:
            raise DataError(f"{spec}: options {sorted(options)} apply to files only", hint="drop them")
        return entry.load()  # type: ignore[return-value]
    return read_norms(spec, **options)


def load_categories(spec: str | os.PathLike[str], **options: Any) -> Categories:
    """A word -> category table (options as for :func:`read_categories`), or ``builtin:concepts``."""
    if is_builtin(spec):
        resolve_builtin(str(spec), "norms")
        if options:
            raise DataError(f"{spec}: options {sorted(options)} apply to files only", hint="drop them")
        return builtin_concept_categories()
    return read_categories(spec, **options)


def builtin_datasets() -> list[dict[str, Any]]:
    """Name, kind, counts and description of every built-in dataset (what ``edgeaudit datasets`` prints)."""
    rows: list[dict[str, Any]] = []
    for entry in BUILTINS.values():
        data = entry.load()
        row: dict[str, Any] = {"name": entry.name, "kind": entry.kind}
        if isinstance(data, Treebank):
            summary = data.summary()
            row |= {key: summary[key] for key in ("sentences", "words", "relations", "relation_labels")}
        elif isinstance(data, Norms):
            n_categories = len(set(data.categories)) if data.categories is not None else 0
            row |= {"concepts": len(data), "categories": n_categories, "properties": len(data.features)}
        rows.append(row | {"description": entry.description, "licence": entry.licence})
    return rows
