"""Word vectors per layer out of an activation store, sentence by sentence, one layer at a time.

Only one or two layers are held in memory at once (a layer of UD EWT test at 384 wide is ~38 MB), so the
probe stage's peak memory does not grow with the number of layers.
"""

from __future__ import annotations

import numpy as np

from edgeaudit.runtime import StoredActivations


def layer_sentences(store: StoredActivations, layer: int, positions: list[int] | None = None) -> list[np.ndarray]:
    """Per stored sentence (or only ``positions``), its word vectors ``[word, hidden]`` at ``layer``."""
    values = store.layer(layer)  # [total_words, hidden]
    offsets = store.word_offsets
    chosen = range(len(store.sentence_ids)) if positions is None else positions
    return [np.asarray(values[offsets[p]:offsets[p + 1]], dtype=np.float64) for p in chosen]
