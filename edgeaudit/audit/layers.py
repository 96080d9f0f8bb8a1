"""Word vectors per layer out of an activation store, sentence by sentence, one layer at a time.

Only one or two layers are held in memory at once (a layer of UD EWT test at 384 wide is ~38 MB), so the
probe stage's peak memory does not grow with the number of layers.
"""

from __future__ import annotations

import numpy as np

from edgeaudit.runtime import StoredActivations


def layer_sentences(store: StoredActivations, layer: int, positions: list[int] | None = None) -> list[np.ndarray]:
    """Per stored sentence (or only ``positions``), its word vectors ``[word, hidden]`` at ``layer``."""
    return layer_parts(store, layer, positions)[0]


def layer_parts(store: StoredActivations, layer: int, *parts: list[int] | None) -> list[list[np.ndarray]]:
    """:func:`layer_sentences` for several position lists (e.g. train, dev, test) from one read of the layer: a
    store of several shards is concatenated on every read."""
    values = store.layer(layer)  # [total_words, hidden]
    offsets = store.word_offsets
    every = range(len(store.sentence_ids))
    return [[np.asarray(values[offsets[p]:offsets[p + 1]], dtype=np.float64) for p in (every if part is None else part)]
            for part in parts]
