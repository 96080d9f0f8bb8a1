"""The device side's "did you mean" for every registry it looks names up in (probe groups, presets, datasets,
gate metrics).

The science package has the same helper for its registries (``edgeaudit.probes._names``); importing it from here
would load scipy and scikit-learn into every command, including ``--help``, so the two stay separate.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, known: Iterable[str], *, n: int = 1, cutoff: float = 0.5) -> list[str]:
    """The registered names most like ``name`` (best first; empty when none is close)."""
    return difflib.get_close_matches(name, list(known), n=n, cutoff=cutoff)


def did_you_mean(name: str, known: Iterable[str], *, n: int = 1, cutoff: float = 0.5) -> str:
    """``"did you mean 'int8-dynamic'? "`` (or ``"... 'a' or 'b'? "``), or ``""`` when nothing is close."""
    close = closest(name, known, n=n, cutoff=cutoff)
    return f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
