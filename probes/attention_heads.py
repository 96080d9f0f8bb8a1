"""Per-head dependency-relation accuracy of attention, with the fixed-offset baseline.

Clark, Khandelwal, Levy & Manning (2019), "What does BERT look at? An analysis of BERT's attention", §4:
a head "tracks" relation *r* when, for the dependents of *r*, the word it attends to most (excluding the
word itself) is the gold head. The reverse direction asks whether, from the head word, the most-attended
word is the dependent. Both are reported because a head may implement either.

The control from the same paper is a fixed-offset baseline: "the head is the word at position i + k" for
k in -3..+3 (k != 0). Many heads that look syntactic simply attend to the previous or next word; a relation
whose heads sit at a fixed offset (e.g. ``amod``, ``det``) is explained by that baseline, not by syntax.

Conventions:
- punctuation dependents (UPOS ``PUNCT``) and the root are excluded; punctuation words can still be heads
  or be attended to;
- a word whose attention to all *other* words is zero (e.g. all its mass went to special tokens or itself)
  makes no prediction and counts as wrong;
- ties in the argmax go to the lowest word index (``numpy.argmax``).

Causal (decoder) models: a word's attention cannot reach a later word, so an arc is *possible* in a direction
only when its target lies to the left — dependent → head needs the head before the dependent, head → dependent
the dependent before the head. With ``causal=True`` accuracies are hits over the possible arcs of that
direction (the impossible ones are counted, not scored as misses), and the offset baseline uses left offsets
only, over the same possible arcs. Without ``causal`` every arc is possible and nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._serialise import jsonable
from ._trees import validate_heads, validate_punct

OFFSETS: tuple[int, ...] = (-3, -2, -1, 1, 2, 3)
LEFT_OFFSETS: tuple[int, ...] = (-3, -2, -1)  # the baseline a causal head can implement
DIRECTIONS: tuple[str, ...] = ("dependent_to_head", "head_to_dependent")


def most_attended_other_word(attn: np.ndarray) -> np.ndarray:
    """For every layer, head and word, the index of the most-attended *other* word (-1 if none has mass).

    ``attn`` is ``[layer, head, word_from, word_to]``; returns ``[layer, head, word_from]`` int64.
    """
    n = attn.shape[-1]
    masked = np.where(np.eye(n, dtype=bool), -np.inf, attn)
    best = masked.argmax(axis=-1)
    best_value = np.take_along_axis(masked, best[..., None], axis=-1)[..., 0]
    return np.where(best_value > 0, best, -1)


@dataclass(frozen=True)
class SentenceHits:
    """One sentence's contribution: per dependency instance, which heads and offsets got it right."""

    relations: list[str]  # [instance]
    dependent_to_head: np.ndarray  # [layer, head, instance] bool
    head_to_dependent: np.ndarray  # [layer, head, instance] bool
    offset_dependent_to_head: np.ndarray  # [instance, offset] bool
    offset_head_to_dependent: np.ndarray  # [instance, offset] bool
    possible: dict[str, np.ndarray]  # direction -> [instance] bool: can attention reach the target at all?

    @classmethod
    def empty(cls, num_layers: int, num_heads: int, num_offsets: int) -> SentenceHits:
        none = np.zeros((num_layers, num_heads, 0), dtype=bool)
        return cls([], none, none, np.zeros((0, num_offsets), bool), np.zeros((0, num_offsets), bool),
                   {d: np.zeros(0, dtype=bool) for d in DIRECTIONS})


@dataclass
class OffsetBaseline:
    """Accuracy of "the other end of the relation is at a fixed offset" per relation and offset."""

    relations: list[str]
    offsets: list[int]
    dependent_to_head: np.ndarray  # [relation, offset]: head at position dependent + offset
    head_to_dependent: np.ndarray  # [relation, offset]: dependent at position head + offset

    def best(self, direction: str = "dependent_to_head") -> dict[str, tuple[int, float]]:
        """Best offset per relation: ``{relation: (offset, accuracy)}`` (ties go to the first offset)."""
        table = _direction_table(self, direction)
        out = {}
        for r, rel in enumerate(self.relations):
            k = int(np.argmax(table[r]))
            out[rel] = (self.offsets[k], float(table[r, k]))
        return out


@dataclass
class HeadRelationResult:
    """Per relation, per layer/head accuracy in both directions, with the fixed-offset baseline."""

    num_layers: int
    num_heads: int
    num_sentences: int
    min_count: int
    relations: list[str]  # relations with at least ``min_count`` instances, sorted
    counts: np.ndarray  # [relation] int
    dependent_to_head: np.ndarray  # [relation, layer, head]: hits over possible arcs
    head_to_dependent: np.ndarray  # [relation, layer, head]
    offset_baseline: OffsetBaseline
    rare_relations: dict[str, int] = field(default_factory=dict)  # left out: relation -> count
    causal: bool = False
    possible: dict[str, np.ndarray] = field(default_factory=dict)  # direction -> [relation] arcs attention can reach

    def possible_count(self, relation: str, direction: str) -> int:
        """Instances of ``relation`` whose target attention can reach in ``direction`` (all of them unless causal)."""
        index = self.relations.index(relation)
        return int(self.possible[direction][index]) if direction in self.possible else int(self.counts[index])

    def accuracy(self, relation: str, direction: str = "dependent_to_head") -> np.ndarray:
        """``[layer, head]`` accuracy of one relation in one direction."""
        if relation not in self.relations:
            known = ", ".join(self.relations) or "none"
            raise KeyError(f"relation {relation!r} not scored (rare or absent); scored: {known}")
        return _direction_table(self, direction)[self.relations.index(relation)]

    def best_heads(self, direction: str = "dependent_to_head") -> dict[str, tuple[int, int, float]]:
        """Best head per relation: ``{relation: (layer, head, accuracy)}``."""
        table = _direction_table(self, direction)
        out = {}
        for r, rel in enumerate(self.relations):
            layer, head = np.unravel_index(int(np.argmax(table[r])), table[r].shape)
            out[rel] = (int(layer), int(head), float(table[r, layer, head]))
        return out

    def to_dict(self) -> dict[str, Any]:
        best = {d: self.best_heads(d) for d in DIRECTIONS}
        best_offset = {d: self.offset_baseline.best(d) for d in DIRECTIONS}
        relations = {}
        for r, rel in enumerate(self.relations):
            entry: dict[str, Any] = {"count": int(self.counts[r])}
            for d in DIRECTIONS:
                layer, head, acc = best[d][rel]
                offset, offset_acc = best_offset[d][rel]
                by_offset = _direction_table(self.offset_baseline, d)[r]
                entry[d] = {
                    "possible": self.possible_count(rel, d),
                    "accuracy": _direction_table(self, d)[r].tolist(),
                    "best_head": {"layer": layer, "head": head, "accuracy": acc},
                    "offset_baseline": {
                        "best_offset": offset,
                        "accuracy": offset_acc,
                        "by_offset": {
                            str(o): float(a)
                            for o, a in zip(self.offset_baseline.offsets, by_offset, strict=True)
                        },
                    },
                }
            relations[rel] = entry
        return jsonable(
            {
                "probe": "head_relation_accuracy",
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "num_sentences": self.num_sentences,
                "min_count": self.min_count,
                "causal": self.causal,
                "relations": relations,
                "rare_relations": dict(sorted(self.rare_relations.items())),
            }
        )


def _direction_table(result: HeadRelationResult | OffsetBaseline, direction: str) -> np.ndarray:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    return getattr(result, direction)


class HeadRelationAccuracy:
    """Streaming collector of per-head relation accuracy (Clark et al. 2019).

    Feed one sentence at a time with :meth:`update`; memory is ``O(relations × layers × heads)`` no matter
    how many sentences pass through. :meth:`result` can be called at any point.
    """

    def __init__(self, num_layers: int, num_heads: int, *, offsets: Sequence[int] | None = None,
                 causal: bool = False):
        if num_layers < 1 or num_heads < 1:
            raise ValueError("num_layers and num_heads must be >= 1")
        offsets = (LEFT_OFFSETS if causal else OFFSETS) if offsets is None else tuple(offsets)
        if 0 in offsets:
            raise ValueError("offset 0 is the word itself and is not a baseline")
        if causal and any(offset > 0 for offset in offsets):
            raise ValueError("a causal model cannot attend to a later word: use negative offsets only")
        self.causal = causal
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.num_sentences = 0
        self._relation_index: dict[str, int] = {}
        self._counts = np.zeros(0, dtype=np.int64)  # [relation]
        self._dep_correct = np.zeros((0, num_layers, num_heads), dtype=np.int64)  # [relation, layer, head]
        self._head_correct = np.zeros((0, num_layers, num_heads), dtype=np.int64)  # [relation, layer, head]
        self._offset_dep = np.zeros((0, self.offsets.size), dtype=np.int64)  # [relation, offset]
        self._offset_head = np.zeros((0, self.offsets.size), dtype=np.int64)  # [relation, offset]
        self._possible_dep = np.zeros(0, dtype=np.int64)  # [relation]: head left of the dependent (or not causal)
        self._possible_head = np.zeros(0, dtype=np.int64)  # [relation]: dependent left of the head (or not causal)

    def update(
        self,
        attn: np.ndarray,  # [layer, head, word_from, word_to]
        heads: np.ndarray,  # [word] 1-based, 0 = root
        relations: Sequence[str],  # [word]
        is_punct: np.ndarray,  # [word] bool
    ) -> SentenceHits:
        """Add one sentence; return its own hits so callers can bootstrap over sentences."""
        heads = validate_heads(heads)
        n = heads.size
        punct = validate_punct(is_punct, n)
        attn = np.asarray(attn)
        expected = (self.num_layers, self.num_heads, n, n)
        if attn.shape != expected:
            raise ValueError(f"attn must have shape [layer, head, word, word] = {expected}, got {attn.shape}")
        if len(relations) != n:
            raise ValueError(f"relations has {len(relations)} labels for {n} words")
        self.num_sentences += 1
        dep = np.flatnonzero((heads > 0) & ~punct)  # [instance]
        if dep.size == 0:
            return SentenceHits.empty(self.num_layers, self.num_heads, self.offsets.size)
        gov = heads[dep] - 1  # [instance]
        rel = self._relation_ids([relations[d] for d in dep])  # [instance]

        pred = most_attended_other_word(attn)  # [layer, head, word]
        possible_dep = gov < dep if self.causal else np.ones(dep.size, dtype=bool)  # [instance]
        possible_head = dep < gov if self.causal else np.ones(dep.size, dtype=bool)
        dep_hit = (pred[:, :, dep] == gov) & possible_dep  # [layer, head, instance]
        head_hit = (pred[:, :, gov] == dep) & possible_head  # [layer, head, instance]
        np.add.at(self._dep_correct, rel, dep_hit.transpose(2, 0, 1))
        np.add.at(self._head_correct, rel, head_hit.transpose(2, 0, 1))
        np.add.at(self._counts, rel, 1)
        np.add.at(self._possible_dep, rel, possible_dep)
        np.add.at(self._possible_head, rel, possible_head)

        head_offset = (gov - dep)[:, None]  # [instance, 1]: where the head sits relative to the dependent
        np.add.at(self._offset_dep, rel, head_offset == self.offsets[None, :])
        np.add.at(self._offset_head, rel, -head_offset == self.offsets[None, :])
        return SentenceHits(
            relations=[self.relation_names[i] for i in rel],
            dependent_to_head=dep_hit,
            head_to_dependent=head_hit,
            offset_dependent_to_head=head_offset == self.offsets[None, :],
            offset_head_to_dependent=-head_offset == self.offsets[None, :],
            possible={"dependent_to_head": possible_dep, "head_to_dependent": possible_head},
        )

    @property
    def relation_names(self) -> list[str]:
        """Relation labels in the order of their ids (first seen first)."""
        return sorted(self._relation_index, key=self._relation_index.__getitem__)

    def _relation_ids(self, labels: list[str]) -> np.ndarray:
        new = sorted({label for label in labels if label not in self._relation_index})
        if new:
            for label in new:
                self._relation_index[label] = len(self._relation_index)
            grow = len(new)
            for name in ("_counts", "_possible_dep", "_possible_head"):
                setattr(self, name, np.concatenate([getattr(self, name), np.zeros(grow, dtype=np.int64)]))
            for name in ("_dep_correct", "_head_correct", "_offset_dep", "_offset_head"):
                table = getattr(self, name)
                pad = np.zeros((grow, *table.shape[1:]), dtype=table.dtype)
                setattr(self, name, np.concatenate([table, pad]))
        return np.fromiter(
            (self._relation_index[label] for label in labels), dtype=np.int64, count=len(labels)
        )

    def result(self, min_count: int = 100) -> HeadRelationResult:
        """Accuracies for relations seen at least ``min_count`` times; rarer ones are listed separately."""
        names = sorted(self._relation_index)
        kept = [r for r in names if self._counts[self._relation_index[r]] >= min_count]
        rare = {r: int(self._counts[self._relation_index[r]]) for r in names if r not in kept}
        idx = np.asarray([self._relation_index[r] for r in kept], dtype=np.int64)
        counts = self._counts[idx]
        dep_denom = np.maximum(self._possible_dep[idx], 1).astype(np.float64)
        head_denom = np.maximum(self._possible_head[idx], 1).astype(np.float64)
        return HeadRelationResult(
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            num_sentences=self.num_sentences,
            min_count=min_count,
            relations=kept,
            counts=counts,
            dependent_to_head=self._dep_correct[idx] / dep_denom[:, None, None],
            head_to_dependent=self._head_correct[idx] / head_denom[:, None, None],
            offset_baseline=OffsetBaseline(
                relations=kept,
                offsets=self.offsets.tolist(),
                dependent_to_head=self._offset_dep[idx] / dep_denom[:, None],
                head_to_dependent=self._offset_head[idx] / head_denom[:, None],
            ),
            rare_relations=rare,
            causal=self.causal,
            possible={"dependent_to_head": self._possible_dep[idx].copy(),
                      "head_to_dependent": self._possible_head[idx].copy()},
        )
