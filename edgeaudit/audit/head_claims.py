"""Claims about attention heads and attention trees, each with its controls and a verdict.

For every relation with enough instances and each direction, the best head is what a user would put on a
slide ("head 3.7 tracks nsubj"); it is tested against the best fixed-offset baseline and the random-init
twin's best head, bootstrapped over sentences (paired), and checked against the token-correspondence rule
at its layer. Nonce-sentence scores (same trees, non-words) are attached as evidence of lexical dependence.

In a causal model only arcs whose target lies to the left can be tracked (see :mod:`probes.attention_heads`);
a relation whose possible arcs in a direction are fewer than ``min_count`` gets an ``inconclusive`` claim
saying so, never a score of 0 judged against controls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeaudit.audit.relational import RelationalStatistics
from edgeaudit.probes import chain_uuas, paired_ratio_margin, ratio_interval
from edgeaudit.probes.attention_heads import DIRECTIONS
from edgeaudit.verdict import (
    Claim,
    ControlScore,
    LayerCorrespondence,
    VerdictThresholds,
    attach_margin,
    decide,
    flag_correspondence,
)

ARROW = {"dependent_to_head": "dependent → head", "head_to_dependent": "head → dependent"}


@dataclass(frozen=True)
class ClaimContext:
    n_sentences: int
    thresholds: VerdictThresholds
    correspondence: list[LayerCorrespondence]  # per attention layer (its input)
    replicates: int = 1000
    confidence: float = 0.95
    seed: int = 0

    def margin(self, real, control, denominator, control_denominator=None) -> tuple[float, float, float, float]:
        return paired_ratio_margin(real, control, denominator, control_denominator=control_denominator,
                                   replicates=self.replicates, confidence=self.confidence, seed=self.seed).as_margin()

    def interval(self, numerator, denominator) -> tuple[float, float]:
        ci = ratio_interval(numerator, denominator, replicates=self.replicates, confidence=self.confidence,
                            seed=self.seed)
        return ci.low, ci.high


def _per_sentence(stats: RelationalStatistics, relation: str, direction: str, layer: int, head: int,
                  n: int) -> tuple[np.ndarray, np.ndarray]:
    """(hits, possible instances) per sentence of one head on one relation in one direction."""
    inst = stats.instances
    mask = inst.relation == relation
    sentences = inst.sentence[mask]
    hits = inst.hits[direction][layer, head, mask].astype(np.float64)
    possible = inst.possible[direction][mask].astype(np.float64)
    return np.bincount(sentences, weights=hits, minlength=n), np.bincount(sentences, weights=possible, minlength=n)


_TARGET = {"dependent_to_head": ("head", "dependent"), "head_to_dependent": ("dependent", "head")}


def _unreachable_claim(relation: str, direction: str, best: tuple[int, int, float], possible: int, total: int,
                       min_count: int) -> Claim:
    """A causal head cannot attend to a later word: too few arcs of this relation point left to test it."""
    target, source = _TARGET[direction]
    layer, head, accuracy = best
    text = (f"head {layer}.{head} tracks {relation} ({ARROW[direction]})" if possible
            else f"a head tracks {relation} ({ARROW[direction]})")
    claim = Claim(claim_id=f"head:{layer}.{head}:{relation}:{direction}", kind="attention-head", text=text,
                  metric="accuracy", score=accuracy if possible else float("nan"), n=possible, controls=[],
                  subject={"layer": layer, "head": head, "relation": relation, "direction": direction})
    claim.reason = (f"only {possible} of {total} {relation} arcs have the {target} before the {source} "
                    f"(< --min-count {min_count}): a causal model's attention cannot reach a later word")
    claim.evidence["causal"] = {"possible": possible, "instances": total}
    claim.finding = "few-instances"
    return claim


def _offset_per_sentence(stats: RelationalStatistics, relation: str, direction: str, column: int,
                         n: int) -> np.ndarray:
    inst = stats.instances
    mask = inst.relation == relation
    hits = inst.offset_hits[direction][mask, column].astype(np.float64)
    return np.bincount(inst.sentence[mask], weights=hits, minlength=n)


def head_claims(real: RelationalStatistics, ctx: ClaimContext, *, min_count: int,
                twin: RelationalStatistics | None = None, nonce: RelationalStatistics | None = None) -> list[Claim]:
    result = real.heads.result(min_count=min_count)
    twin_result = twin.heads.result(min_count=1) if twin is not None else None
    nonce_result = nonce.heads.result(min_count=1) if nonce is not None else None
    offsets = list(result.offset_baseline.offsets)
    claims = []
    for direction in DIRECTIONS:
        best = result.best_heads(direction)
        best_offset = result.offset_baseline.best(direction)
        twin_best = twin_result.best_heads(direction) if twin_result is not None else {}
        for relation in result.relations:
            layer, head, accuracy = best[relation]
            possible, total = result.possible_count(relation, direction), int(result.counts[result.relations.index(relation)])
            if possible < min_count:
                claims.append(_unreachable_claim(relation, direction, best[relation], possible, total, min_count))
                continue
            hits, count = _per_sentence(real, relation, direction, layer, head, ctx.n_sentences)
            offset, offset_accuracy = best_offset[relation]
            offset_hits = _offset_per_sentence(real, relation, direction, offsets.index(offset), ctx.n_sentences)
            controls = [ControlScore("offset", offset_accuracy, f"the word at fixed offset {offset:+d}")]
            margins = {"offset": ctx.margin(hits, offset_hits, count)}
            if relation in twin_best:
                t_layer, t_head, t_accuracy = twin_best[relation]
                t_hits, t_count = _per_sentence(twin, relation, direction, t_layer, t_head, ctx.n_sentences)
                controls.append(ControlScore("random-init", t_accuracy,
                                             f"best head of the random-init twin ({t_layer}.{t_head})"))
                margins["random-init"] = ctx.margin(hits, t_hits, count, t_count)
            claim = Claim(
                claim_id=f"head:{layer}.{head}:{relation}:{direction}", kind="attention-head",
                text=f"head {layer}.{head} tracks {relation} ({ARROW[direction]})", metric="accuracy",
                score=accuracy, n=int(count.sum()), controls=controls, score_ci=ctx.interval(hits, count),
                subject={"layer": layer, "head": head, "relation": relation, "direction": direction},
            )
            decide(attach_margin(claim, margins), ctx.thresholds)
            if nonce_result is not None and relation in nonce_result.relations:
                nonce_score = float(nonce_result.accuracy(relation, direction)[layer, head])
                claim.evidence["nonce"] = {"score": nonce_score, "drop": accuracy - nonce_score}
            flag_correspondence(claim, ctx.correspondence[layer], ctx.thresholds)
            claims.append(claim)
    return claims


def _tree_arrays(stats: RelationalStatistics, n: int, num_layers: int, num_heads: int):
    per_head = np.zeros((n, num_layers, num_heads))
    per_layer = np.zeros((n, num_layers))
    edges = np.zeros(n)
    for index, (head_hits, layer_hits, gold_edges) in stats.tree_hits.items():
        per_head[index], per_layer[index], edges[index] = head_hits, layer_hits, gold_edges
    return per_head, per_layer, edges


def tree_claims(real: RelationalStatistics, sentences, ctx: ClaimContext, *,
                twin: RelationalStatistics | None = None) -> list[Claim]:
    """The best single head's and the best layer's attention trees against chain, random tree and twin."""
    if real.trees is None or not real.tree_hits:
        return []
    tree = real.trees.result()
    layers, heads = tree.per_head.shape
    per_head, per_layer, edges = _tree_arrays(real, ctx.n_sentences, layers, heads)
    chain = np.zeros(ctx.n_sentences)
    for index in real.tree_hits:
        gold = sentences[index]
        punct = gold.is_punct
        chain[index] = chain_uuas([gold.heads], [punct]) * edges[index]
    random_expected = np.where(edges > 0, edges * 2.0 / (edges + 1.0), 0.0)  # uniform spanning tree: 2/k per edge
    twin_arrays = _tree_arrays(twin, ctx.n_sentences, layers, heads) if twin is not None and twin.tree_hits else None
    l_best, h_best = np.unravel_index(int(np.nanargmax(tree.per_head)), tree.per_head.shape)
    layer_best = int(np.nanargmax(tree.layer_mean))
    subjects = [
        (f"tree:head:{l_best}.{h_best}", f"head {l_best}.{h_best}'s attention forms the dependency tree",
         per_head[:, l_best, h_best], {"layer": int(l_best), "head": int(h_best)}, twin_arrays and (0, "head")),
        (f"tree:layer:{layer_best}", f"layer {layer_best}'s attention (heads averaged) forms the dependency tree",
         per_layer[:, layer_best], {"layer": layer_best}, twin_arrays and (1, "layer")),
    ]
    claims = []
    for claim_id, text, correct, subject, twin_kind in subjects:
        controls = [ControlScore("chain", chain.sum() / edges.sum(), "right-branching chain i—i+1"),
                    ControlScore("random-tree", random_expected.sum() / edges.sum(), "uniform random spanning tree")]
        margins = {"chain": ctx.margin(correct, chain, edges), "random-tree": ctx.margin(correct, random_expected, edges)}
        if twin_kind:
            which, kind = twin_kind
            twin_table = twin_arrays[which]
            totals = twin_table.sum(axis=0)
            flat = int(np.argmax(totals))
            twin_correct = twin_table.reshape(ctx.n_sentences, -1)[:, flat]
            controls.append(ControlScore("random-init", twin_correct.sum() / twin_arrays[2].sum(),
                                         f"best {kind} of the random-init twin"))
            margins["random-init"] = ctx.margin(correct, twin_correct, edges, twin_arrays[2])
        claim = Claim(claim_id=claim_id, kind="attention-tree", text=text, metric="uuas",
                      score=float(correct.sum() / edges.sum()), n=int((edges > 0).sum()), controls=controls,
                      score_ci=ctx.interval(correct, edges), subject=subject)
        decide(attach_margin(claim, margins), ctx.thresholds)
        flag_correspondence(claim, ctx.correspondence[subject["layer"]], ctx.thresholds)
        claims.append(claim)
    return claims
