"""Turning dataset concept names into words a tokenizer and a lookup table agree on.

Norm sets tag senses in the name (McRae et al. 2005: ``bat_(animal)``, ``bat_(baseball)``) and
use underscores for spaces; word lists differ in case. One normalisation, used by every reader,
keeps concepts, categories and embeddings joinable.
"""

from __future__ import annotations

import re

_SENSE_TAG = re.compile(r"^(?P<word>.*?)[_ ]*\((?P<sense>[^()]*)\)$")


def split_sense(name: str) -> tuple[str, str | None]:
    """``"bat_(animal)"`` -> ``("bat", "animal")``; ``"dog"`` -> ``("dog", None)``; word normalised."""
    match = _SENSE_TAG.match(name.strip())
    if match and match.group("word").strip(" _"):
        sense = match.group("sense").strip().replace("_", " ") or None
        return normalise_word(match.group("word")), sense
    return normalise_word(name), None


def normalise_word(text: str) -> str:
    """Lower case, underscores as spaces, surrounding and repeated whitespace removed."""
    return " ".join(text.replace("_", " ").split()).lower()


def sense_label(word: str, sense: str | None) -> str:
    """A unique, readable label: ``bat (animal)`` or just ``dog``."""
    return word if sense is None else f"{word} ({sense})"
