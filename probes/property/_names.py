"""Helpful errors for registry look-ups (private): suggest the closest registered names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def unknown_name_message(kind: str, name: str, known: Iterable[str]) -> str:
    """``unknown mapper 'plrs': did you mean 'plsr'? Known: mlp, plsr, ridge``."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else "no similar name."
    return f"unknown {kind} {name!r}: {hint} Known: {', '.join(known)}"
