"""Helpful look-up errors for every registry (private): suggest the closest registered names.

One spelling of "did you mean" for the whole project — probes, controls, mappers and metrics here, and on the
device side the probe groups, presets, datasets and gate metrics — so every unknown name reads the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, known: Iterable[str], *, n: int = 1, cutoff: float = 0.5) -> list[str]:
    """The registered names most like ``name`` (best first; empty when none is close)."""
    return difflib.get_close_matches(name, list(known), n=n, cutoff=cutoff)


def did_you_mean(name: str, known: Iterable[str], *, n: int = 1, cutoff: float = 0.5) -> str:
    """``"did you mean 'plsr'? "`` (or ``"did you mean 'a' or 'b'? "``), or ``""`` when nothing is close."""
    close = closest(name, known, n=n, cutoff=cutoff)
    return f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""


def unknown_name_message(kind: str, name: str, known: Iterable[str]) -> str:
    """``unknown mapper 'plrs': did you mean 'plsr'? Known: mlp, plsr, ridge``."""
    known = sorted(known)
    hint = did_you_mean(name, known, n=3) or "no similar name. "
    return f"unknown {kind} {name!r}: {hint}Known: {', '.join(known)}"
