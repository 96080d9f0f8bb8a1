"""The one progress bar every long stage shows: tqdm on stderr, only on a terminal, gone when done."""

from __future__ import annotations

import sys


def progress_bar(total: int, label: str, enabled: bool, *, unit: str = "sent", initial: int = 0):
    """A bar for ``total`` units of work labelled ``label``; disabled (a no-op) when not wanted or piped."""
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit=unit, file=sys.stderr, desc=label, leave=False,
                disable=not enabled or not sys.stderr.isatty())
