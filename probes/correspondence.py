"""Token correspondence: do the vectors at a layer's positions still stand for their input tokens?

An attention-based explanation ("head 7.3 links a verb to its subject") reads positions at layer l as the
words at those positions. That reading is only safe while position i at layer l still carries word i. Two
signals, per layer:

- **Token identifiability** (Brunner, Liu, Pascual, Richter, Ciaramita & Wattenhofer 2020, "On identifiability
  in transformers", §5): is word i's own input embedding the nearest neighbour (cosine) of its layer-l vector
  among the input embeddings of the sentence? (a) *direct*, comparing the vectors as they are (needs equal
  dimensions); (b) *linear*, after a ridge/least-squares map from layer-l vectors back to input vectors,
  fitted on sentences disjoint from the scored ones. A tie — another input embedding exactly as similar as
  the word's own, e.g. a repeated word without positional information — counts as **not** identified: the
  vector does not single out its token.
- **Attention-rollout self-share** (Abnar & Zuidema 2020, "Quantifying attention flow in transformers"):
  with the residual connection folded in, ``Â_l = rownorm(0.5·mean_heads(A_l) + 0.5·I)`` and
  ``R_l = Â_l · R_{l−1}`` (``R_0 = I``); the mean diagonal of ``R_l`` is how much of its own input token a
  position still holds after layer l.

Index convention: entry ``l`` of every per-layer list refers to the output of transformer layer ``l``
(0-based), i.e. ``hidden_state_{l+1}`` and rollout after attention layer ``l``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LinearRegression, Ridge

from ._serialise import jsonable
from .ratio_bootstrap import ratio_interval

TIE_TOLERANCE = 1e-9  # cosine margin below which another input counts as tied with the word's own


@dataclass
class IdentifiabilityResult:
    """Share of words whose own input embedding is the unique nearest input embedding of their vector."""

    method: str  # "direct" or "linear"
    rate: float
    identified: int
    num_words: int
    num_sentences: int
    alpha: float | None = None  # ridge strength of the linear map (None for direct)
    sentence_identified: np.ndarray | None = None  # [sentence] identified words, for CIs over sentences
    sentence_words: np.ndarray | None = None  # [sentence] scored words

    def interval(self, *, replicates: int = 1000, confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
        """Bootstrap CI of the rate, resampling sentences (words of one sentence are not independent)."""
        if self.sentence_identified is None or self.sentence_words is None:
            return (float("nan"), float("nan"))
        ci = ratio_interval(self.sentence_identified, self.sentence_words, replicates=replicates,
                            confidence=confidence, seed=seed)
        return (ci.low, ci.high)

    def to_dict(self) -> dict[str, Any]:
        fields = {k: v for k, v in self.__dict__.items() if not k.startswith("sentence_")}
        return jsonable(fields)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def identified_words(
    inputs: np.ndarray,  # [word, hidden] input embeddings of one sentence
    queries: np.ndarray,  # [word, hidden] vectors to identify (layer vectors, or mapped back)
) -> np.ndarray:
    """``[word]`` bool: word i's own input is strictly the most cosine-similar input to ``queries[i]``."""
    inputs = np.asarray(inputs, dtype=np.float64)
    queries = np.asarray(queries, dtype=np.float64)
    if inputs.shape != queries.shape or inputs.ndim != 2:
        raise ValueError(f"inputs {inputs.shape} and queries {queries.shape} must both be [word, hidden]")
    cos = _unit_rows(queries) @ _unit_rows(inputs).T  # [word_query, word_input]
    own = np.diagonal(cos).copy()
    np.fill_diagonal(cos, -np.inf)
    if cos.shape[0] == 1:
        return np.ones(1, dtype=bool)
    return own > cos.max(axis=1) + TIE_TOLERANCE


def _check_pairs(inputs: Sequence[np.ndarray], layer_vecs: Sequence[np.ndarray]) -> None:
    if len(inputs) != len(layer_vecs):
        raise ValueError(f"{len(inputs)} input sentences but {len(layer_vecs)} layer sentences")
    for s, (x, y) in enumerate(zip(inputs, layer_vecs, strict=True)):
        if np.ndim(x) != 2 or np.ndim(y) != 2 or np.shape(x)[0] != np.shape(y)[0]:
            raise ValueError(
                f"sentence {s}: inputs {np.shape(x)} and layer vectors {np.shape(y)} must be [word, dim]"
            )


def _rate(method: str, hits: list[np.ndarray], alpha: float | None) -> IdentifiabilityResult:
    identified = int(sum(int(h.sum()) for h in hits))
    words = int(sum(h.size for h in hits))
    return IdentifiabilityResult(
        method=method,
        rate=identified / words if words else float("nan"),
        identified=identified,
        num_words=words,
        num_sentences=len(hits),
        alpha=alpha,
        sentence_identified=np.array([h.sum() for h in hits], dtype=np.float64),
        sentence_words=np.array([h.size for h in hits], dtype=np.float64),
    )


def token_identifiability(
    inputs: Sequence[np.ndarray],  # per sentence [word, hidden]: layer-0 (embedding output) vectors
    layer_vecs: Sequence[np.ndarray],  # per sentence [word, hidden]: vectors at the layer under test
) -> IdentifiabilityResult:
    """Direct identifiability: nearest input embedding of each raw layer vector (dimensions must match)."""
    _check_pairs(inputs, layer_vecs)
    if inputs and np.shape(inputs[0])[1] != np.shape(layer_vecs[0])[1]:
        raise ValueError(
            f"direct identifiability needs equal dimensions, got inputs {np.shape(inputs[0])[1]} and layer "
            f"{np.shape(layer_vecs[0])[1]}; use linear_token_identifiability"
        )
    return _rate("direct", [identified_words(x, y) for x, y in zip(inputs, layer_vecs, strict=True)], None)


def linear_token_identifiability(
    inputs: Sequence[np.ndarray],  # per sentence [word, hidden]
    layer_vecs: Sequence[np.ndarray],  # per sentence [word, dim]
    *,
    fit_idx: Sequence[int],
    score_idx: Sequence[int],
    alpha: float = 1.0,
) -> IdentifiabilityResult:
    """Identifiability after a linear map layer → input, fitted on ``fit_idx`` and scored on ``score_idx``.

    The two index sets must be disjoint: a map fitted on the scored sentences could memorise them and
    report correspondence that the layer does not have. ``alpha=0`` uses ordinary least squares.
    """
    _check_pairs(inputs, layer_vecs)
    fit = [int(i) for i in fit_idx]
    score = [int(i) for i in score_idx]
    overlap = sorted(set(fit) & set(score))
    if overlap:
        raise ValueError(
            f"fit and score sentences must be disjoint; {len(overlap)} shared, e.g. {overlap[:5]}"
        )
    if not fit or not score:
        raise ValueError("fit_idx and score_idx must both be non-empty")
    if alpha < 0:
        raise ValueError("alpha must be >= 0")
    model = LinearRegression() if alpha == 0 else Ridge(alpha=alpha)
    model.fit(np.concatenate([layer_vecs[i] for i in fit]), np.concatenate([inputs[i] for i in fit]))
    hits = [identified_words(inputs[i], model.predict(np.asarray(layer_vecs[i]))) for i in score]
    return _rate("linear", hits, float(alpha))


def attention_rollout(attn: np.ndarray) -> np.ndarray:
    """Residual-corrected attention rollout (Abnar & Zuidema 2020).

    ``attn`` is ``[layer, head, seq_from, seq_to]`` (token- or word-level); returns ``[layer, seq, seq]``
    where entry ``l`` is ``R_l = Â_l ··· Â_0``. Rows that lost mass (special tokens removed) are
    renormalised after adding the identity.
    """
    attn = np.asarray(attn, dtype=np.float64)
    if attn.ndim != 4 or attn.shape[-1] != attn.shape[-2]:
        raise ValueError(f"attn must be [layer, head, seq, seq], got shape {attn.shape}")
    n = attn.shape[-1]
    mixed = 0.5 * attn.mean(axis=1) + 0.5 * np.eye(n)  # [layer, seq, seq]
    mixed /= mixed.sum(axis=-1, keepdims=True)
    out = np.empty_like(mixed)
    rollout = np.eye(n)
    for layer in range(mixed.shape[0]):
        rollout = mixed[layer] @ rollout
        out[layer] = rollout
    return out


def rollout_self_share(attn: np.ndarray) -> np.ndarray:
    """Mean diagonal of the rollout per layer: ``[layer, head, seq, seq]`` -> ``[layer]``."""
    return np.diagonal(attention_rollout(attn), axis1=1, axis2=2).mean(axis=1)


@dataclass
class RolloutResult:
    """Per-layer self-share, pooled over every position of every sentence."""

    self_share: np.ndarray  # [layer]
    num_positions: int
    num_sentences: int

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self.__dict__)


class RolloutSelfShare:
    """Streaming accumulator of rollout self-share; memory ``O(layers)`` regardless of corpus size."""

    def __init__(self, num_layers: int):
        if num_layers < 1:
            raise ValueError("num_layers must be >= 1")
        self.num_layers = num_layers
        self._diag_sum = np.zeros(num_layers)  # [layer]
        self.num_positions = 0
        self.num_sentences = 0

    def update(self, attn: np.ndarray) -> None:
        """Add one sentence's attention ``[layer, head, seq, seq]``."""
        attn = np.asarray(attn)
        if attn.ndim != 4 or attn.shape[0] != self.num_layers:
            raise ValueError(
                f"attn must be [layer={self.num_layers}, head, seq, seq], got shape {attn.shape}"
            )
        diag = np.diagonal(attention_rollout(attn), axis1=1, axis2=2)  # [layer, seq]
        self._diag_sum += diag.sum(axis=1)
        self.num_positions += diag.shape[1]
        self.num_sentences += 1

    def result(self) -> RolloutResult:
        denom = self.num_positions if self.num_positions else float("nan")
        return RolloutResult(self._diag_sum / denom, self.num_positions, self.num_sentences)


@dataclass
class CorrespondenceCurve:
    """Per layer: direct and linear identifiability and rollout self-share (None where not computed)."""

    layers: list[int]
    identifiability_direct: list[float | None]
    identifiability_linear: list[float]
    self_share: list[float] | None

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"probe": "correspondence_curve", **self.__dict__})


def correspondence_curve(
    inputs: Sequence[np.ndarray],  # per sentence [word, hidden]: hidden_state_0
    layer_vecs: Sequence[Sequence[np.ndarray]],  # [layer][sentence] -> [word, dim]: hidden_state_{layer+1}
    *,
    fit_idx: Sequence[int],
    score_idx: Sequence[int],
    self_share: RolloutResult | np.ndarray | None = None,  # [layer]
    alpha: float = 1.0,
) -> CorrespondenceCurve:
    """Both correspondence signals for every layer, ready to flag head claims at layers that lost tokens.

    Direct identifiability is scored on ``score_idx`` only (like the linear variant), so the two curves
    describe the same words.
    """
    shares = self_share.self_share if isinstance(self_share, RolloutResult) else self_share
    if shares is not None and len(shares) != len(layer_vecs):
        raise ValueError(f"self_share has {len(shares)} layers but layer_vecs has {len(layer_vecs)}")
    scored_inputs = [inputs[i] for i in score_idx]
    direct: list[float | None] = []
    linear: list[float] = []
    for vecs in layer_vecs:
        if len(vecs) != len(inputs):
            raise ValueError(f"a layer has {len(vecs)} sentences but inputs has {len(inputs)}")
        same_dim = np.shape(vecs[0])[1] == np.shape(inputs[0])[1]
        scored = [vecs[i] for i in score_idx]
        direct.append(token_identifiability(scored_inputs, scored).rate if same_dim else None)
        linear.append(
            linear_token_identifiability(inputs, vecs, fit_idx=fit_idx, score_idx=score_idx, alpha=alpha).rate
        )
    return CorrespondenceCurve(
        layers=list(range(len(layer_vecs))),
        identifiability_direct=direct,
        identifiability_linear=linear,
        self_share=None if shares is None else [float(x) for x in shares],
    )
