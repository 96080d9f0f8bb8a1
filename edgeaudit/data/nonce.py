"""Pronounceable non-words for "jabberwocky" controls ("the blonip trumeks the dax").

A nonce sentence keeps the tree, the function words and the inflectional suffixes of a real one and
swaps every content word for a non-word, so an attention head that still "tracks nsubj" on it tracks
structure, not lexical co-occurrence (the control of Gulordava et al. 2018 and Hewitt & Manning
2019's jabberwocky probes). Stems are two syllables, start with a vowel exactly when the real
lemma does (so "a"/"an" agree in both variants) and end in a consonant so English suffixes attach.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

_ONSETS = ("b", "bl", "br", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "k", "kl", "kr", "l", "m", "n", "p",
           "pl", "pr", "r", "s", "sk", "sl", "sn", "sp", "st", "t", "tr", "v", "w", "z")  # fmt: skip
_MIDDLES = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z")
_VOWELS = ("a", "e", "i", "o", "u")
_CODAS = ("b", "d", "g", "k", "m", "n", "p", "t", "x", "ck", "nt", "mp", "sk", "nd", "sh")
_VOWEL_LETTERS = frozenset("aeiou")

# English words the stem pattern (C)V-C-V-coda can produce; never handed out as non-words.
REAL_WORDS = frozenset(
    """
    agent amend amid amok apex arid atom avid edit emit even event ibex item omen omit open oven unit upend upon
    baton began bigot bison blemish borax broken cabin camel comic datum debug demon denim dozen dragon driven
    felon finish frozen gamut given habit kebab lament latex lavish legend lemon limit linen liken livid logic
    magic medic melon mimic modem moment nomad pagan panic parent patent perish pilot planet polish potent present
    proven punish rapid raven rebut relax relent relic relish remix repent resent resin risen rivet robin robot
    rodent rotund salad salon satin sedan seven silent siren solid sonic spoken stolen taken talent talon telex
    tenant tepid timid token tonic topic totem toxic valid vanish venom visit vivid vomit wagon widen women woven
    """.split()
)


def _stem(rng: random.Random, vowel_initial: bool) -> str:
    first = rng.choice(_VOWELS) if vowel_initial else rng.choice(_ONSETS) + rng.choice(_VOWELS)
    return first + rng.choice(_MIDDLES) + rng.choice(_VOWELS) + rng.choice(_CODAS)


def nonce_lexicon(lemmas: Iterable[str], *, seed: int, avoid: Iterable[str] = ()) -> dict[str, str]:
    """A deterministic, injective map lemma -> nonce stem (order of ``lemmas`` does not matter)."""
    rng = random.Random(seed)
    taken = {word.lower() for word in avoid} | REAL_WORDS
    mapping: dict[str, str] = {}
    for lemma in sorted(set(lemmas)):
        while True:
            stem = _stem(rng, lemma[:1].lower() in _VOWEL_LETTERS)
            if stem not in taken:
                break
        taken.add(stem)
        mapping[lemma] = stem
    return mapping


def _doubles_final(stem: str) -> bool:
    """English doubles a final single consonant after a single vowel before -ed/-ing (wug -> wugged)."""
    return (
        len(stem) >= 3
        and stem[-1] not in _VOWEL_LETTERS | {"w", "x", "y"}
        and stem[-2] in _VOWEL_LETTERS
        and stem[-3] not in _VOWEL_LETTERS
    )


def inflect(stem: str, inflection: str) -> str:
    """Regular English morphology on a nonce stem: ``pl``/``3sg`` -s, ``past``/``pp`` -ed, ``ing``, ``ly``."""
    if inflection in ("pl", "3sg"):
        return stem + ("es" if stem.endswith(("s", "sh", "ch", "x", "z")) else "s")
    if inflection in ("past", "pp", "ing"):
        base = stem + stem[-1] if _doubles_final(stem) else stem
        return base + ("ing" if inflection == "ing" else "ed")
    if inflection == "ly":
        return stem + "ly"
    if inflection == "cap":
        return stem.capitalize()
    return stem
