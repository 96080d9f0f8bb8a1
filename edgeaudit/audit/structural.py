"""Structural probes and token identifiability on stored hidden states (Hewitt & Manning 2019; Brunner et al. 2020).

Sentences are split once (seeded) into train / dev / test; every layer's probe is fitted on the same training
sentences, stops where its loss on the dev sentences stops falling (``STRUCTURAL_FIT_RULE``), and is scored on
the same test sentences; the linear-chain baseline is scored on those test sentences too, so per-sentence results
pair up for the bootstrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import threadpool_limits

from edgeaudit.audit.layers import layer_parts, layer_sentences
from edgeaudit.probes import DepthProbe, DistanceProbe, chain_uuas, distance_metrics, split_sentences
from edgeaudit.probes.correspondence import linear_token_identifiability, token_identifiability
from edgeaudit.runtime import StoredActivations
from edgeaudit.runtime.progress import progress_bar

# How a structural probe's fit ends; part of the stage checkpoint key, so a change of rule recomputes the stage.
STRUCTURAL_FIT_RULE = "L-BFGS, pseudo-Huber L1, standardised features; dev-loss early stopping (check 5, patience 4)"


@dataclass(frozen=True)
class StructuralSettings:
    rank: int = 32
    max_iter: int = 300
    max_train_sentences: int = 500
    seed: int = 0
    identifiability_alpha: float = 1.0

    @classmethod
    def from_options(cls, options) -> StructuralSettings:
        """The structural settings of an ``AuditOptions`` (the structural and correspondence groups share them)."""
        return cls(rank=options.structural_rank, max_iter=options.structural_max_iter,
                   max_train_sentences=options.structural_max_train, seed=options.seed)


@dataclass
class SentenceSplit:
    train: list[int]  # store positions
    test: list[int]
    dev: list[int] = field(default_factory=list)  # where each fit stops (its dev loss's minimum)

    def to_dict(self) -> dict:
        return {"train_sentences": len(self.train), "dev_sentences": len(self.dev),
                "test_sentences": len(self.test)}


@dataclass
class LayerStructural:
    layer: int  # hidden_state_{layer}
    distance: dict
    depth: dict
    correct_edges: np.ndarray  # [test sentence] MST edges shared with gold
    gold_edges: np.ndarray  # [test sentence]
    distance_state: dict[str, np.ndarray] = field(default_factory=dict)  # the fitted distance probe, for compare


@dataclass
class StructuralResult:
    split: SentenceSplit
    layers: list[LayerStructural] = field(default_factory=list)
    chain_correct: np.ndarray | None = None  # [test sentence]
    identifiability: dict[str, list[float | None]] = field(default_factory=dict)  # per hidden_state layer

    def to_dict(self) -> dict:
        gold = float(self.layers[0].gold_edges.sum()) if self.layers else 0.0
        return {
            "split": self.split.to_dict(),
            "linear_chain_uuas": float(self.chain_correct.sum() / gold) if gold else None,
            "layers": [{"layer": r.layer, "distance": r.distance, "depth": r.depth} for r in self.layers],
            "identifiability": self.identifiability,
        }


def make_split(n_stored: int, settings: StructuralSettings) -> SentenceSplit:
    train, dev, test = split_sentences(n_stored, (0.7, 0.1, 0.2), seed=settings.seed)
    train = sorted(int(i) for i in train)[: settings.max_train_sentences]
    return SentenceSplit(train=train, test=sorted(int(i) for i in test), dev=sorted(int(i) for i in dev))


def fit_structural_probe(kind: type, X_train: list[np.ndarray], X_dev: list[np.ndarray], split: SentenceSplit,
                         heads: Sequence[np.ndarray], settings: StructuralSettings):
    """A distance or depth probe fitted on the split's training sentences ``X_train``, stopped on its dev sentences
    ``X_dev``; ``heads`` are the gold trees of every stored sentence. The fitted distance probe is saved with the
    audit (``audit/fitted.py``), so the probe compare applies to a variant is the audit's own."""
    probe = kind(rank=settings.rank, max_iter=settings.max_iter, random_state=settings.seed)
    return probe.fit(X_train, [heads[i] for i in split.train],
                     X_dev=X_dev, heads_dev=[heads[i] for i in split.dev])


def _fit_part(store_dir: str, layer: int, kind: type, split: SentenceSplit, heads: list[np.ndarray],
              test_punct: list[np.ndarray], settings: StructuralSettings) -> tuple[int, type, dict]:
    """One probe (distance or depth) of one layer: fitted, stopped on the dev sentences, scored on the test ones.

    One task per probe and layer, so the heavier distance fits and the lighter depth fits pack onto the workers
    instead of pairing up per layer (7 layers on 2 workers left one idle for the last round). The task reads its
    layer from the store itself, so only a path and the gold trees travel to a worker and the parent never holds
    the layers of tasks in flight (peak memory stays that of one layer per process)."""
    X_train, X_dev, X_test = layer_parts(StoredActivations(store_dir), layer, split.train, split.dev, split.test)
    test_heads = [heads[i] for i in split.test]
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads contend, and results stay equal
        probe = fit_structural_probe(kind, X_train, X_dev, split, heads, settings)
        if kind is DepthProbe:
            return layer, kind, {"record": probe.evaluate(X_test, test_heads, test_punct).to_dict()
                                 | {"fit": probe.fit_report()}}
        metrics = distance_metrics(probe.predict(X_test), test_heads, test_punct)
        return layer, kind, {"record": metrics.to_dict() | {"fit": probe.fit_report()},
                             "correct_edges": metrics.correct_by_sentence, "gold_edges": metrics.edges_by_sentence,
                             "distance_state": probe.fitted_state()}


def run_structural(store: StoredActivations, trees: Sequence, split: SentenceSplit, settings: StructuralSettings,
                   *, progress=None, bar: bool = False, label: str = "structural",
                   jobs: int | None = 1) -> StructuralResult:
    """Distance and depth probes per layer; ``trees`` are the gold sentences in store order. ``bar`` shows a
    progress bar named ``label`` over the fits (they take most of an audit on deep models). ``jobs`` worker
    processes fit side by side; every fit is the same computation wherever it runs."""
    heads = [np.asarray(t.heads) for t in trees]
    punct = [t.is_punct for t in trees]
    test_punct = [punct[i] for i in split.test]
    layers = range(store.num_layers)
    tasks = (delayed(_fit_part)(str(store.directory), layer, kind, split, heads, test_punct, settings)
             for kind in (DistanceProbe, DepthProbe) for layer in layers)  # the longer fits first
    parts: dict[int, dict] = {}
    result = StructuralResult(split=split)
    with progress_bar(2 * store.num_layers, label, bar, unit="fit") as shown:
        for layer, kind, part in Parallel(n_jobs=jobs, return_as="generator_unordered", pre_dispatch="n_jobs")(tasks):
            parts.setdefault(layer, {})[kind] = part
            shown.update(1)
            if progress is not None and len(parts[layer]) == 2:
                progress(f"structural probes: layer {layer} done")
    for layer in layers:
        distance, depth = parts[layer][DistanceProbe], parts[layer][DepthProbe]
        result.layers.append(LayerStructural(
            layer=layer, distance=distance["record"], depth=depth["record"],
            correct_edges=distance["correct_edges"], gold_edges=distance["gold_edges"],
            distance_state=distance["distance_state"]))
    if result.layers:
        gold = result.layers[0].gold_edges
        result.chain_correct = np.asarray(
            [round(chain_uuas([heads[i]], [punct[i]]) * g) if g else 0 for i, g in zip(split.test, gold, strict=True)],
            dtype=np.int64,
        )
    return result


def run_identifiability(store: StoredActivations, split: SentenceSplit, settings: StructuralSettings, *,
                        bar: bool = False, replicates: int = 1000, confidence: float = 0.95) -> dict:
    """Per hidden_state layer: direct and linear-map identifiability against hidden_state_0 (Brunner et al. 2020).

    Both are scored on the split's held-out test sentences only (the linear map is fitted on its training
    sentences, disjoint), with a bootstrap CI over those sentences; ``sentences`` says how many each used.
    """
    everything = split.train + split.test
    inputs_test, inputs_all = layer_parts(store, 0, split.test, everything)
    fit_idx = list(range(len(split.train)))
    score_idx = list(range(len(split.train), len(everything)))
    direct: list[float | None] = []
    linear: list[float | None] = []
    direct_ci: list[list[float]] = []
    linear_ci: list[list[float]] = []
    ci = {"replicates": replicates, "confidence": confidence, "seed": settings.seed}
    with threadpool_limits(limits=1, user_api="blas"), \
            progress_bar(store.num_layers, "identifiability", bar, unit="layer") as shown:
        for layer in range(store.num_layers):
            shown.update(1)
            vectors = layer_sentences(store, layer, everything)
            test_vectors = [vectors[i] for i in score_idx]
            plain = token_identifiability(inputs_test, test_vectors)
            mapped = linear_token_identifiability(
                inputs_all, vectors, fit_idx=fit_idx, score_idx=score_idx, alpha=settings.identifiability_alpha)
            direct.append(float(plain.rate))
            linear.append(float(mapped.rate))
            direct_ci.append([x if np.isfinite(x) else None for x in plain.interval(**ci)])
            linear_ci.append([x if np.isfinite(x) else None for x in mapped.interval(**ci)])
    return {"direct": direct, "linear": linear, "direct_ci": direct_ci, "linear_ci": linear_ci,
            "sentences": {"scored": len(split.test), "fitted_on": len(split.train),
                          "which": "the held-out test sentences of the structural split (the linear map is fitted "
                                   "on its training sentences)"}}
