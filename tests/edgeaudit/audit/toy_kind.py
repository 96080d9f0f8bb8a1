"""A toy claim kind written as a user would add one: this module plus one ``register_group`` line.

"Hidden layer l encodes each word's position in its sentence": a ridge map from a word's vector to its position,
fitted on the structural split's training sentences and scored on its test sentences (a word counts when the
rounded prediction is its position), against the same probe fitted on vectors shuffled across words.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge

from edgeaudit.audit.plugin import AuditState, ClaimPlugin
from edgeaudit.claim_kinds import ClaimKind, ProbeGroup
from edgeaudit.verdict import Claim, ControlScore, attach_margin, decide

KIND = "toy-position"
GROUP = ProbeGroup("toy-position", "hidden layer l encodes each word's position in its sentence", f"{__name__}:PLUGIN",
                   (ClaimKind(KIND, "Toy: word positions", "toy-position"),))


def position_hits(train: list[np.ndarray], test: list[np.ndarray], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per test sentence, words whose position the probe gets right: the real probe's and the shuffled control's."""
    X = np.concatenate(train)
    y = np.concatenate([np.arange(len(v)) for v in train])
    shuffled = X[np.random.default_rng(seed).permutation(len(X))]
    real, control = Ridge(alpha=1.0).fit(X, y), Ridge(alpha=1.0).fit(shuffled, y)
    hits = [[int((np.rint(probe.predict(v)) == np.arange(len(v))).sum()) for v in test] for probe in (real, control)]
    return np.asarray(hits[0]), np.asarray(hits[1])


def position_claim(layer: int, train: list[np.ndarray], test: list[np.ndarray], ctx) -> Claim:
    real, control = position_hits(train, test, ctx.seed)
    words = np.asarray([len(v) for v in test])
    total = float(words.sum())
    claim = Claim(claim_id=f"{KIND}:{layer}", kind=KIND, text=f"hidden layer {layer} encodes word positions",
                  metric="accuracy", score=real.sum() / total, n=int(words.sum()),
                  controls=[ControlScore("shuffled-words", control.sum() / total, "the probe on shuffled vectors")],
                  score_ci=ctx.interval(real, words), subject={"layer": layer})
    return decide(attach_margin(claim, {"shuffled-words": ctx.margin(real, control, words)}), ctx.thresholds)


class ToyPositionPlugin(ClaimPlugin):
    group = "toy-position"
    needs_store = True

    def claims(self, state: AuditState) -> list:
        from edgeaudit.audit.layers import layer_parts

        store, split = state.real.store, state.split
        return [position_claim(layer, *layer_parts(store, layer, split.train, split.test), state.ctx)
                for layer in range(store.num_layers)]


PLUGIN = ToyPositionPlugin()
