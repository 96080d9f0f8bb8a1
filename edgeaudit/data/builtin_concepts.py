"""``builtin:concepts``: a concept -> binary property table written for this project.

237 concrete, common English nouns in 13 categories with 75 yes/no properties (definitions in
``builtin/README.md``). Properties were chosen to vary inside categories (``is_sharp`` splits
tools, ``can_fly`` splits birds), so a probe cannot score well by recovering the category alone,
and the category column makes category-mean and category-held-out controls possible offline.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from edgeaudit.data.categories import Categories, categories_from_pairs
from edgeaudit.data.norms import Norms, read_norms

NAME = "builtin:concepts"
_FILE = "concepts.csv"


@lru_cache(maxsize=1)
def _load() -> Norms:
    with resources.as_file(resources.files("edgeaudit.data") / "builtin" / _FILE) as path:
        return read_norms(path, layout="wide", concept_column="concept", category_column="category", source=NAME)


def builtin_concepts() -> Norms:
    """The table as :class:`Norms` (``categories`` filled); a fresh copy each call, safe to modify."""
    norms = _load()
    return Norms(
        concepts=list(norms.concepts),
        senses=list(norms.senses),
        features=list(norms.features),
        matrix=norms.matrix.copy(),
        source=norms.source,
        names=list(norms.names),
        categories=list(norms.categories or []),
        skipped=list(norms.skipped),
        notes=list(norms.notes),
        layout=norms.layout,
    )


def builtin_concept_categories() -> Categories:
    """concept -> category from the same table (each concept has exactly one)."""
    norms = _load()
    return categories_from_pairs(zip(norms.concepts, norms.categories or [], strict=True), source=NAME)
