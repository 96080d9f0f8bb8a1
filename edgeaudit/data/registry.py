"""Resolving dataset specs: a file path or a ``builtin:NAME``, with a helpful error for typos."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from edgeaudit.data.builtin_concepts import builtin_concepts
from edgeaudit.data.builtin_treebank import builtin_treebank
from edgeaudit.data.conllu_reader import read_conllu
from edgeaudit.data.treebank import Treebank
from edgeaudit.errors import DataError
from edgeaudit.suggest import closest

PREFIX = "builtin:"
_KIND_NAMES = {"treebank": "treebank", "norms": "norms table"}


@dataclass(frozen=True)
class BuiltinDataset:
    name: str  # full spec, e.g. "builtin:treebank"
    kind: str  # "treebank" or "norms"
    description: str
    load: Callable[[], object]
    licence: str = "Apache-2.0 (written for edgeaudit)"


EWT_FILE = "en_ewt-ud-test.conllu.gz"
#: built-ins read from a packaged file (the others are generated in code): their provenance is that file's hash
PACKAGED_FILES = {"builtin:ewt": EWT_FILE, "builtin:concepts": "concepts.csv"}


def packaged_file(name: str) -> Path:
    """A file shipped in ``edgeaudit/data/builtin/``; the package is installed as plain files, not zipped."""
    return Path(str(resources.files("edgeaudit").joinpath("data/builtin", name)))


@lru_cache(maxsize=1)
def builtin_ewt() -> Treebank:
    """UD English EWT test (v2.16), read from the unmodified compressed file by the ordinary CoNLL-U reader."""
    return read_conllu(packaged_file(EWT_FILE), source="builtin:ewt")


BUILTINS: dict[str, BuiltinDataset] = {
    entry.name: entry
    for entry in (
        BuiltinDataset(
            "builtin:treebank",
            "treebank",
            "English sentences with gold UD dependency trees from a small seeded grammar written for edgeaudit.",
            lambda: builtin_treebank(),
        ),
        BuiltinDataset(
            "builtin:treebank-nonce",
            "treebank",
            "The same trees with content words replaced by pronounceable non-words (jabberwocky control).",
            lambda: builtin_treebank(nonce=True),
        ),
        BuiltinDataset(
            "builtin:ewt",
            "treebank",
            "UD English EWT v2.16, test split: real web English (reviews, e-mail, blogs, answers) with gold "
            "UD trees, shipped unmodified; see EWT-ATTRIBUTION.txt.",
            builtin_ewt,
            licence="CC BY-SA 4.0 (Universal Dependencies; attribution in edgeaudit/data/builtin/EWT-ATTRIBUTION.txt)",
        ),
        BuiltinDataset(
            "builtin:concepts",
            "norms",
            "Concrete concepts with binary properties and a category each, written for edgeaudit.",
            builtin_concepts,
        ),
    )
}


def is_builtin(spec: str | os.PathLike[str]) -> bool:
    return isinstance(spec, str) and spec.startswith(PREFIX)


def resolve_builtin(spec: str, kind: str) -> BuiltinDataset:
    """The built-in named by ``spec`` if it exists and is of ``kind``; DataError naming the options otherwise."""
    names = [name for name, entry in BUILTINS.items() if entry.kind == kind]
    entry = BUILTINS.get(spec)
    if entry is not None and entry.kind == kind:
        return entry
    if entry is not None:
        what, suggestion = f"is a {_KIND_NAMES[entry.kind]}, not a {_KIND_NAMES[kind]}", ""
    else:
        short = {name[len(PREFIX) :]: name for name in names}
        close = closest(spec[len(PREFIX) :], short)
        what = f"is not a built-in {_KIND_NAMES[kind]}"
        suggestion = f"did you mean {short[close[0]]!r}? " if close else ""
    raise DataError(
        f"{spec!r} {what}",
        hint=f"{suggestion}available: {', '.join(names)} (list them with `edgeaudit datasets`)",
    )
