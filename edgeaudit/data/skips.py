"""Items a reader left out, each with where and why.

Readers never drop input silently: a sentence or concept that cannot be used becomes a ``Skip`` that
reports carry as counts by kind and as ``file:line: reason`` lines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Skip:
    """One skipped item: ``kind`` is a short stable key for counting (``cycle``, ``no-root``, ...)."""

    file: str
    line: int
    reason: str
    kind: str
    item: str | None = None  # the sentence id or concept name, when known

    @property
    def sent_id(self) -> str | None:
        """The skipped sentence's id (treebank readers put it in ``item``)."""
        return self.item

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


def count_skips(skips: Iterable[Skip]) -> dict[str, int]:
    """Skips per kind, most frequent first — the form reports print."""
    return dict(Counter(skip.kind for skip in skips).most_common())
