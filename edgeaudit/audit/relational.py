"""Streaming relational statistics over a treebank: the runtime's word batches -> the probes' collectors.

One ``RelationalCollector`` per extraction feeds every sentence's word-level attention to the head-relation,
attention-tree and rollout collectors of ``probes`` and keeps, per dependency instance, which heads got it
right (a few bits per word) so claims can be bootstrapped over sentences. Attention itself is dropped with
the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from edgeaudit.probes import AttentionTreeUUAS, HeadRelationAccuracy, attention_rollout
from edgeaudit.probes.attention_heads import DIRECTIONS
from edgeaudit.probes.ratio_bootstrap import ratio_interval


@dataclass
class InstanceRecords:
    """Per dependency instance: sentence, relation, and the hit bits of every head and offset."""

    sentence: list[np.ndarray] = field(default_factory=list)  # [instance] int
    relation: list[str] = field(default_factory=list)  # [instance]
    hits: dict[str, list[np.ndarray]] = field(default_factory=lambda: {d: [] for d in DIRECTIONS})
    offset_hits: dict[str, list[np.ndarray]] = field(default_factory=lambda: {d: [] for d in DIRECTIONS})
    possible: dict[str, list[np.ndarray]] = field(default_factory=lambda: {d: [] for d in DIRECTIONS})

    def frozen(self) -> FrozenInstances:
        if not self.relation:
            empty = np.zeros((0,), dtype=np.int64)
            return FrozenInstances(empty, np.array([], dtype=object), {}, {}, {})
        return FrozenInstances(
            sentence=np.concatenate(self.sentence),
            relation=np.asarray(self.relation, dtype=object),
            hits={d: np.concatenate(v, axis=-1) for d, v in self.hits.items()},  # [layer, head, instance]
            offset_hits={d: np.concatenate(v, axis=0) for d, v in self.offset_hits.items()},  # [instance, offset]
            possible={d: np.concatenate(v) for d, v in self.possible.items()},  # [instance]
        )


@dataclass(frozen=True)
class FrozenInstances:
    sentence: np.ndarray  # [instance] index of the sentence in the corpus
    relation: np.ndarray  # [instance] relation label
    hits: dict[str, np.ndarray]  # direction -> [layer, head, instance] bool
    offset_hits: dict[str, np.ndarray]  # direction -> [instance, offset] bool
    possible: dict[str, np.ndarray]  # direction -> [instance] bool: the target is reachable (causal: to the left)


class RelationalCollector:
    """Collector (``update(batch)``/``result()``) of attention-vs-syntax statistics for one model."""

    needs = frozenset({"attention"})

    def __init__(self, sentences: Sequence, num_layers: int, num_heads: int, *, tree_samples: int = 10,
                 seed: int = 0, trees: bool = True, rollout: bool = True, causal: bool = False):
        self.sentences = sentences  # gold trees, indexed like the extraction input
        self.head_accuracy = HeadRelationAccuracy(num_layers, num_heads, causal=causal)
        self.trees = AttentionTreeUUAS(num_layers, num_heads, random_samples=tree_samples, seed=seed) if trees else None
        self.rollout = WordRollout(num_layers) if rollout else None
        self.records = InstanceRecords()
        self.tree_hits: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}  # sentence -> (per_head, layer, edges)
        self.sentence_order: list[int] = []

    def update(self, batch) -> None:
        # Sentences of a batch arrive length-sorted; feed the probes in corpus order so seeded baselines
        # (the random tree) do not depend on the batch size.
        for item in sorted(batch, key=lambda s: s.index):
            self._update_one(item.index, item.attention, item.special_mass)

    def _update_one(self, index: int, attention: np.ndarray,  # [layer, head, word, word]
                    special_mass: np.ndarray | None) -> None:  # [layer, head, word]
        gold = self.sentences[index]
        punct = gold.is_punct
        hits = self.head_accuracy.update(attention, gold.heads, gold.base_relations, punct)
        self.sentence_order.append(index)
        if hits.relations:
            self.records.sentence.append(np.full(len(hits.relations), index, dtype=np.int64))
            self.records.relation.extend(hits.relations)
            self.records.hits["dependent_to_head"].append(hits.dependent_to_head)
            self.records.hits["head_to_dependent"].append(hits.head_to_dependent)
            self.records.offset_hits["dependent_to_head"].append(hits.offset_dependent_to_head)
            self.records.offset_hits["head_to_dependent"].append(hits.offset_head_to_dependent)
            for direction in DIRECTIONS:
                self.records.possible[direction].append(hits.possible[direction])
        if self.trees is not None:
            tree = self.trees.update(attention, gold.heads, punct)
            if tree.gold_edges:
                self.tree_hits[index] = (tree.per_head, tree.layer_mean, tree.gold_edges)
        if self.rollout is not None:
            self.rollout.update(attention, special_mass)

    def result(self) -> RelationalStatistics:
        return RelationalStatistics(
            heads=self.head_accuracy,
            trees=self.trees,
            rollout=self.rollout.result() if self.rollout is not None else None,
            instances=self.records.frozen(),
            tree_hits=dict(self.tree_hits),
        )


@dataclass
class RelationalStatistics:
    heads: HeadRelationAccuracy
    trees: AttentionTreeUUAS | None
    rollout: object | None
    instances: FrozenInstances
    tree_hits: dict[int, tuple[np.ndarray, np.ndarray, int]]


@dataclass
class RolloutCurve:
    self_share: np.ndarray  # [layer]: mean share a word keeps of its own input after layers 0..l
    num_positions: int
    num_sentences: int
    sentence_sums: np.ndarray | None = None  # [sentence, layer] summed self-share of the sentence's words
    sentence_positions: np.ndarray | None = None  # [sentence] its word count

    def interval(self, layer: int, *, replicates: int, confidence: float, seed: int) -> tuple[float, float] | None:
        """Bootstrap CI (over sentences) of the word-weighted mean self-share after layer ``layer``."""
        sums = getattr(self, "sentence_sums", None)  # None in checkpoints written before per-sentence sums
        if sums is None or not len(sums):
            return None
        ci = ratio_interval(sums[:, layer], self.sentence_positions, replicates=replicates, confidence=confidence,
                            seed=seed)
        return (ci.low, ci.high)

    def to_dict(self) -> dict:
        return {"probe": "rollout_self_share", "self_share": [float(x) for x in self.self_share],
                "num_positions": self.num_positions, "num_sentences": self.num_sentences,
                "special_tokens": "merged into one sink node that keeps its own mass"}


class WordRollout:
    """Attention rollout (Abnar & Zuidema 2020) over words plus one node standing for all special tokens.

    Word-level rows miss the mass that went to [CLS]/[SEP]/<s>; renormalising them away would pretend that
    mass came back to the words and inflate self-share. Instead the special tokens are merged into a sink
    column (their own rows are not observed at word level, so the sink keeps its mass), which keeps the
    flow of information away from the words in the rollout product.
    """

    def __init__(self, num_layers: int):
        self.num_layers = num_layers
        self._diag_sum = np.zeros(num_layers)
        self._sentence_sums: list[np.ndarray] = []  # [layer] per sentence, for CIs over sentences
        self._sentence_positions: list[int] = []
        self.num_positions = 0
        self.num_sentences = 0

    def update(self, attention: np.ndarray, special_mass: np.ndarray | None) -> None:
        layers, heads, n, _ = attention.shape
        augmented = np.zeros((layers, heads, n + 1, n + 1))  # [layer, head, word+sink, word+sink]
        augmented[:, :, :n, :n] = attention
        if special_mass is not None:
            augmented[:, :, :n, n] = special_mass
        augmented[:, :, n, n] = 1.0
        diag = np.diagonal(attention_rollout(augmented), axis1=1, axis2=2)[:, :n]  # [layer, word]
        per_layer = diag.sum(axis=1)  # [layer]
        self._diag_sum += per_layer
        self._sentence_sums.append(per_layer)
        self._sentence_positions.append(n)
        self.num_positions += n
        self.num_sentences += 1

    def result(self) -> RolloutCurve:
        denom = self.num_positions if self.num_positions else float("nan")
        sums = np.stack(self._sentence_sums) if self._sentence_sums else np.zeros((0, self.num_layers))
        return RolloutCurve(self._diag_sum / denom, self.num_positions, self.num_sentences, sums,
                            np.asarray(self._sentence_positions, dtype=np.float64))
