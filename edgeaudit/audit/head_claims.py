"""Claims about attention heads and attention trees, each with its controls and a verdict.

For every relation with enough instances and each direction, the best head is what a user would put on a
slide ("head 3.7 tracks nsubj"); it is tested against the best fixed-offset baseline and the random-init
twin's best head, bootstrapped over sentences (paired), and checked against the token-correspondence rule
at its layer. Nonce-sentence scores (same trees, non-words) are attached as evidence of lexical dependence.

Every winner — the best head, the best offset, the twin's best head, the best tree head and layer — is chosen and
scored cross-fitted (:mod:`probes.selection`): the margin, its CI and the verdict rest on held-out scores, while
``score`` stays the named head's score on all sentences (what a user measures for that head) and ``evidence.
selection`` records the in-sample and held-out scores side by side, so the winner's-curse optimism is visible.

In a causal model only arcs whose target lies to the left can be tracked (see :mod:`probes.attention_heads`);
a relation whose possible arcs in a direction are fewer than ``min_count`` gets an ``inconclusive`` claim
saying so, never a score of 0 judged against controls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeaudit.audit.relational import RelationalStatistics
from edgeaudit.claim_kinds import ATTENTION_HEAD, ATTENTION_TREE
from edgeaudit.probes import chain_uuas, paired_ratio_margin, ratio_interval
from edgeaudit.probes.attention_heads import DIRECTIONS
from edgeaudit.probes.selection import CrossFit, cross_fit, fold_assignment
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
    selection_folds: int = 5

    def folds(self, n_units: int) -> np.ndarray:
        """The seeded cross-fitting folds of ``n_units`` units (the same for a claim and its controls)."""
        return fold_assignment(n_units, self.selection_folds, self.seed + 7919)

    def margin(self, real, control, denominator, control_denominator=None) -> tuple[float, float, float, float]:
        return paired_ratio_margin(real, control, denominator, control_denominator=control_denominator,
                                   replicates=self.replicates, confidence=self.confidence, seed=self.seed).as_margin()

    def interval(self, numerator, denominator) -> tuple[float, float]:
        ci = ratio_interval(numerator, denominator, replicates=self.replicates, confidence=self.confidence,
                            seed=self.seed)
        return ci.low, ci.high


def _sentence_sums(sentences: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per-sentence sums [n, ...] of per-instance ``values`` [instance, ...] whose sentences are ``sentences``."""
    out = np.zeros((n, *values.shape[1:]))
    np.add.at(out, sentences, values)
    return out


def _head_table(stats: RelationalStatistics, relation: str, direction: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(hits [sentence, layer*head], possible instances [sentence]) of every head on one relation and direction."""
    inst = stats.instances
    mask = inst.relation == relation
    hits = inst.hits[direction][:, :, mask]
    flat = hits.reshape(-1, hits.shape[-1]).T.astype(np.float64)  # [instance, layer*head]
    possible = inst.possible[direction][mask].astype(np.float64)
    sentences = inst.sentence[mask]
    return _sentence_sums(sentences, flat, n), _sentence_sums(sentences, possible, n)


def selection_evidence(in_sample: float, held_out: CrossFit, names: list[str], controls: dict[str, CrossFit],
                       folds: int) -> dict:
    """What the winner's curse did to a claim: its in-sample and held-out scores and each fold's winner."""
    return {"method": f"cross-fitted over {folds} folds", "in_sample_score": in_sample,
            "held_out_score": held_out.score, "optimism": in_sample - held_out.score,
            "fold_choices": [names[k] for k in held_out.choices],
            "held_out_controls": {name: fit.score for name, fit in controls.items()}}


def settle(claim: Claim, margins: dict[str, tuple[float, ...]], in_sample: dict[str, tuple], ctx: ClaimContext
           ) -> Claim:
    """Decide a cross-fitted claim from its held-out ``margins``; keep, for the control that decided it, the margin
    as it was before cross-fitting (winner chosen and scored on the same sentences: ``in_sample`` maps each control
    to its ``ctx.margin`` arguments, bootstrapped for that one control only), and say so in the reason."""
    decide(attach_margin(claim, margins), ctx.thresholds)
    selection = claim.evidence["selection"]
    arguments = in_sample.get(claim.strongest_control or "")
    if arguments is not None:
        selection["in_sample_margin"] = [float(v) for v in ctx.margin(*arguments)[:3]]
    if claim.margin is not None:
        claim.reason += (f" (margin held out: each winner chosen on other sentences; in-sample score "
                         f"{selection['in_sample_score']:.3f}, held out {selection['held_out_score']:.3f})")
    return claim


def check_correspondence(claim: Claim, layer: int, ctx: ClaimContext) -> Claim:
    """The token-correspondence rule at the claim's layer, and at the layers its cross-fitted folds chose."""
    choices = (claim.evidence.get("selection") or {}).get("fold_choices") or []
    chosen = sorted({int(str(name).split(".")[0]) for name in choices} - {layer})
    return flag_correspondence(claim, ctx.correspondence[layer], ctx.thresholds,
                               [ctx.correspondence[n] for n in chosen if 0 <= n < len(ctx.correspondence)])


_TARGET = {"dependent_to_head": ("head", "dependent"), "head_to_dependent": ("dependent", "head")}


def _unreachable_claim(relation: str, direction: str, best: tuple[int, int, float], possible: int, total: int,
                       min_count: int) -> Claim:
    """A causal head cannot attend to a later word: too few arcs of this relation point left to test it."""
    target, source = _TARGET[direction]
    layer, head, accuracy = best
    text = (f"head {layer}.{head} tracks {relation} ({ARROW[direction]})" if possible
            else f"a head tracks {relation} ({ARROW[direction]})")
    claim = Claim(claim_id=f"head:{layer}.{head}:{relation}:{direction}", kind=ATTENTION_HEAD, text=text,
                  metric="accuracy", score=accuracy if possible else float("nan"), n=possible, controls=[],
                  subject={"layer": layer, "head": head, "relation": relation, "direction": direction})
    claim.reason = (f"only {possible} of {total} {relation} arcs have the {target} before the {source} "
                    f"(< --min-count {min_count}): a causal model's attention cannot reach a later word")
    claim.evidence["causal"] = {"possible": possible, "instances": total}
    claim.finding = "few-instances"
    return claim


def head_claims(real: RelationalStatistics, ctx: ClaimContext, *, min_count: int,
                twin: RelationalStatistics | None = None, nonce: RelationalStatistics | None = None) -> list[Claim]:
    result = real.heads.result(min_count=min_count)
    twin_result = twin.heads.result(min_count=1) if twin is not None else None
    nonce_result = nonce.heads.result(min_count=1) if nonce is not None else None
    offsets = list(result.offset_baseline.offsets)
    folds = ctx.folds(ctx.n_sentences)
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
            table, count = _head_table(real, relation, direction, ctx.n_sentences)
            heads_per_layer = real.instances.hits[direction].shape[1]
            names = [f"{k // heads_per_layer}.{k % heads_per_layer}" for k in range(table.shape[1])]
            named = table[:, layer * heads_per_layer + head]
            held = cross_fit(table, count, folds)
            offset, offset_accuracy = best_offset[relation]
            mask = real.instances.relation == relation
            offset_table = _sentence_sums(real.instances.sentence[mask],
                                          real.instances.offset_hits[direction][mask].astype(np.float64),
                                          ctx.n_sentences)
            fits = {"offset": cross_fit(offset_table, count, folds)}
            in_sample = {"offset": (named, offset_table[:, offsets.index(offset)], count)}
            controls = [ControlScore("offset", offset_accuracy, f"the word at fixed offset {offset:+d}")]
            if relation in twin_best:
                t_layer, t_head, t_accuracy = twin_best[relation]
                t_table, t_count = _head_table(twin, relation, direction, ctx.n_sentences)
                fits["random-init"] = cross_fit(t_table, t_count, folds)
                twin_heads = twin.instances.hits[direction].shape[1]
                in_sample["random-init"] = (named, t_table[:, t_layer * twin_heads + t_head], count, t_count)
                controls.append(ControlScore("random-init", t_accuracy,
                                             f"best head of the random-init twin ({t_layer}.{t_head})"))
            margins = {name: ctx.margin(held.hits, fit.hits, held.counts, fit.counts) for name, fit in fits.items()}
            claim = Claim(
                claim_id=f"head:{layer}.{head}:{relation}:{direction}", kind=ATTENTION_HEAD,
                text=f"head {layer}.{head} tracks {relation} ({ARROW[direction]})", metric="accuracy",
                score=accuracy, n=int(count.sum()), controls=controls, score_ci=ctx.interval(named, count),
                subject={"layer": layer, "head": head, "relation": relation, "direction": direction},
                evidence={"selection": selection_evidence(accuracy, held, names, fits, ctx.selection_folds)},
            )
            settle(claim, margins, in_sample, ctx)
            if nonce_result is not None and relation in nonce_result.relations:
                nonce_score = float(nonce_result.accuracy(relation, direction)[layer, head])
                claim.evidence["nonce"] = {"score": nonce_score, "drop": accuracy - nonce_score}
            check_correspondence(claim, layer, ctx)
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
    folds = ctx.folds(ctx.n_sentences)
    candidates = {0: (per_head.reshape(ctx.n_sentences, -1), [f"{k // heads}.{k % heads}" for k in range(layers * heads)]),
                  1: (per_layer, [str(k) for k in range(layers)])}
    claims = []
    for claim_id, text, correct, subject, twin_kind in subjects:
        table, names = candidates[0 if "head" in subject else 1]
        held = cross_fit(table, edges, folds)
        score = float(correct.sum() / edges.sum())
        controls = [ControlScore("chain", chain.sum() / edges.sum(), "right-branching chain i—i+1"),
                    ControlScore("random-tree", random_expected.sum() / edges.sum(), "uniform random spanning tree")]
        margins = {"chain": ctx.margin(held.hits, chain, edges),
                   "random-tree": ctx.margin(held.hits, random_expected, edges)}
        in_sample = {"chain": (correct, chain, edges), "random-tree": (correct, random_expected, edges)}
        fits = {}
        if twin_kind:
            which, kind = twin_kind
            twin_table = twin_arrays[which].reshape(ctx.n_sentences, -1)
            flat = int(np.argmax(twin_table.sum(axis=0)))
            twin_correct = twin_table[:, flat]
            controls.append(ControlScore("random-init", twin_correct.sum() / twin_arrays[2].sum(),
                                         f"best {kind} of the random-init twin"))
            fits["random-init"] = cross_fit(twin_table, twin_arrays[2], folds)
            margins["random-init"] = ctx.margin(held.hits, fits["random-init"].hits, edges, fits["random-init"].counts)
            in_sample["random-init"] = (correct, twin_correct, edges, twin_arrays[2])
        claim = Claim(claim_id=claim_id, kind=ATTENTION_TREE, text=text, metric="uuas",
                      score=score, n=int((edges > 0).sum()), controls=controls,
                      score_ci=ctx.interval(correct, edges), subject=subject,
                      evidence={"selection": selection_evidence(score, held, names, fits, ctx.selection_folds)})
        settle(claim, margins, in_sample, ctx)
        check_correspondence(claim, subject["layer"], ctx)
        claims.append(claim)
    return claims
