"""The claims people make about decoder heads, measured on random token sequences: previous-token heads,
induction heads (Olsson et al. 2022, "In-context learning and induction heads"), and attention sinks.

Sequences are a BOS-like prefix (the same one extraction uses, see :mod:`edgeaudit.runtime.alignment`), then
``half`` random ordinary tokens; the *repeated* set continues with the same ``half`` tokens again, the
*control* set with ``half`` fresh ones. Random tokens carry no syntax or meaning, so what a head does on them
is positional or in-context copying, nothing else. Per head and sequence:

- **previous-token score**: mean attention from each content position t ≥ 1 to position t − 1;
- **prefix-matching score**: mean attention from each token of the second half to the token that followed
  that token's earlier occurrence (position t − half + 1) — the attention signature of an induction head. On
  the control set the same positions hold no repeated token, so a head that merely looks a fixed distance back
  scores the same there: that is the no-repetition control;
- **sink mass**: mean attention on the first position (the prefix) — evidence of how a head parks attention,
  not a claim about knowledge.

Claims are about the best head of each kind (its id names the kind, not the head, so compare can follow a
best head that moves after compression), with controls: for previous-token heads the position-only baseline
(uniform causal attention puts 1/(t+1) on t − 1) and the random-init twin's best head; for induction heads the
no-repetition control and the twin's best head. A head claim keeps the token-correspondence check of its layer.
Per-head copying through the OV circuit needs per-head outputs, which bundles do not tap; the model-level
copying behaviour (how much better the repeated half is predicted) is attached as evidence when the bundle's
final output is logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeaudit.audit.head_claims import ClaimContext, check_correspondence, selection_evidence, settle
from edgeaudit.bundle import Bundle
from edgeaudit.claim_kinds import INDUCTION_HEAD, PREVIOUS_TOKEN_HEAD
from edgeaudit.probes.selection import CrossFit, cross_fit
from edgeaudit.runtime import ModelSession, SessionOptions
from edgeaudit.runtime.alignment import WordTokenizer
from edgeaudit.verdict import Claim, ControlScore


@dataclass(frozen=True)
class SequenceSettings:
    sequences: int = 64
    half: int = 24  # random tokens before the repeat; sequences hold 2 × half content tokens
    # sequences per run: a decoder fetches every attention map and its vocabulary-wide logits; 2 rather than 4
    # keeps SmolLM2 41 MB lower at the same speed and the same scores (sequences are equal-length, unpadded)
    batch: int = 2
    seed: int = 0


@dataclass
class HeadScores:
    """Per sequence, layer and head: ``[sequence, layer, head]`` arrays; ``in_context_gain`` per sequence."""

    previous: np.ndarray  # on repeated and control sequences together
    prefix_matching: np.ndarray  # repeated sequences
    prefix_matching_control: np.ndarray  # control sequences, same positions
    sink: np.ndarray
    in_context_gain: np.ndarray | None  # nats per token: log p(second half | repeated) − same for control

    def best(self, table: np.ndarray) -> tuple[int, int]:
        layer, head = np.unravel_index(int(np.argmax(table.mean(axis=0))), table.shape[1:])
        return int(layer), int(head)


def ordinary_token_ids(bundle: Bundle, words: WordTokenizer) -> np.ndarray:
    """Token ids a random sequence may use: the tokenizer's vocabulary (within the embedding table), no specials."""
    size = min(words.tokenizer.get_vocab_size(), int(bundle.manifest.data["model"]["vocab_size"]))
    special = set(int(i) for i in bundle.manifest.tokenizer["special_token_ids"])
    return np.asarray([i for i in range(size) if i not in special], dtype=np.int64)


def make_sequences(vocab: np.ndarray, settings: SequenceSettings, prefix_id: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(repeated, control) ``[sequence, position]`` id arrays sharing their first half."""
    rng = np.random.default_rng(settings.seed)
    first = rng.choice(vocab, size=(settings.sequences, settings.half))
    fresh = rng.choice(vocab, size=(settings.sequences, settings.half))
    head = np.full((settings.sequences, 1), prefix_id) if prefix_id is not None else np.zeros((settings.sequences, 0))
    repeated = np.concatenate([head, first, first], axis=1).astype(np.int64)
    control = np.concatenate([head, first, fresh], axis=1).astype(np.int64)
    return repeated, control


def attention_scores(attn: np.ndarray, start: int, half: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Previous-token, prefix-matching and sink scores of one batch.

    attn: ``[batch, layer, head, query, key]``; content starts at position ``start`` (after the prefix).
    Returns three ``[batch, layer, head]`` arrays.
    """
    total = attn.shape[-1]
    queries = np.arange(start + 1, total)
    previous = attn[..., queries, queries - 1].mean(axis=-1)
    second = np.arange(start + half, total)  # second-half tokens: the earlier occurrence is at t − half
    prefix = attn[..., second, second - half + 1].mean(axis=-1)
    sink = attn[..., start:, 0].mean(axis=-1)
    return previous, prefix, sink


def _log_prob_second_half(logits: np.ndarray, ids: np.ndarray, start: int, half: int) -> np.ndarray:
    """Mean log-probability of each sequence's second-half tokens given what precedes them: ``[batch]``."""
    positions = np.arange(start + half, ids.shape[1])  # predicted tokens
    means = np.empty(len(ids))
    for row in range(len(ids)):  # one sequence at a time: a float64 copy of a batch's logits is ~75 MB on SmolLM2
        scores = logits[row, positions - 1, :].astype(np.float64)
        scores -= scores.max(axis=-1, keepdims=True)
        log_norm = np.log(np.exp(scores).sum(axis=-1))
        picked = scores[np.arange(len(positions)), ids[row, positions]]
        means[row] = (picked - log_norm).mean()
    return means


def measure_heads(bundle: Bundle, settings: SequenceSettings, session_options: SessionOptions | None = None,
                  *, progress=None) -> HeadScores:
    """Run the repeated and control sequences through ``bundle`` and score every head."""
    words = WordTokenizer.from_bundle(bundle)
    prefix_id = words.prefix[0] if words.prefix else None
    start = 1 if prefix_id is not None else 0
    repeated, control = make_sequences(ordinary_token_ids(bundle, words), settings, prefix_id)
    manifest = bundle.manifest
    taps = list(manifest.attention_taps)
    final = manifest.final_output
    logits = manifest.data["taps"].get("final_output_kind") == "logits"
    fetches = taps + ([final] if logits else [])
    session = ModelSession(bundle, session_options, fetches=fetches)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ("prev", "prefix", "control", "sink", "gain")}
    for begin in range(0, settings.sequences, settings.batch):
        outputs = {}
        for name, ids in (("repeated", repeated), ("control", control)):
            batch = ids[begin:begin + settings.batch]
            fetched = session.run(batch, np.ones_like(batch), fetches)
            attn = np.stack([fetched.pop(tap) for tap in taps], axis=1)  # [batch, layer, head, query, key]
            outputs[name] = (attention_scores(attn, start, settings.half),
                             _log_prob_second_half(fetched[final], batch, start, settings.half) if logits else None)
            del fetched, attn  # not held while the next batch runs
        (prev_r, prefix_r, sink_r), gain_r = outputs["repeated"]
        (prev_c, prefix_c, sink_c), gain_c = outputs["control"]
        parts["prev"].append((prev_r + prev_c) / 2)
        parts["prefix"].append(prefix_r)
        parts["control"].append(prefix_c)
        parts["sink"].append((sink_r + sink_c) / 2)
        if logits:
            parts["gain"].append(gain_r - gain_c)
        if progress is not None:
            progress(f"decoder heads: {min(begin + settings.batch, settings.sequences)}/{settings.sequences} sequences")
    session.close()
    return HeadScores(previous=np.concatenate(parts["prev"]), prefix_matching=np.concatenate(parts["prefix"]),
                      prefix_matching_control=np.concatenate(parts["control"]), sink=np.concatenate(parts["sink"]),
                      in_context_gain=np.concatenate(parts["gain"]) if logits else None)


def position_only_previous(total: int, start: int) -> float:
    """Previous-token score of a head that spreads attention uniformly over what it can see (1/(t+1) at t)."""
    queries = np.arange(start + 1, total)
    return float(np.mean(1.0 / (queries + 1)))


def _head_claim(claim_id: str, text: str, scores: np.ndarray, layer: int, head: int, metric: str,
                controls: list[tuple[ControlScore, str, np.ndarray]], ctx: ClaimContext, kind: str) -> Claim:
    """One best-head claim, cross-fitted over sequences (see :mod:`probes.selection`).

    Each control is ``(score, how, values)``: ``fixed`` per-sequence values [sequence]; ``select`` a table
    [sequence, layer, head] whose best head is itself a choice (the twin's), cross-fitted with the same folds;
    ``same-head`` a table scored at whatever head the claim's own fold winner is (the no-repetition input)."""
    n, num_layers, num_heads = scores.shape
    ones = np.ones(n)
    folds = ctx.folds(n)
    held = cross_fit(scores.reshape(n, -1), ones, folds)
    fits: dict[str, CrossFit] = {}
    margins, in_sample = {}, {}
    real = scores[:, layer, head]
    for control, how, values in controls:
        table = values.reshape(n, -1)
        if how == "select":
            fits[control.name] = cross_fit(table, ones, folds)
            per_sequence = fits[control.name].hits
            named = table[:, int(np.argmax(table.mean(axis=0)))]
        elif how == "same-head":
            per_sequence = held.gather(table)
            named = values[:, layer, head]
        else:
            per_sequence = named = values
        margins[control.name] = ctx.margin(held.hits, per_sequence, ones)
        in_sample[control.name] = (real, named, ones)
    names = [f"{k // num_heads}.{k % num_heads}" for k in range(num_layers * num_heads)]
    claim = Claim(claim_id=claim_id, kind=kind, text=text.format(layer=layer, head=head), metric=metric,
                  score=float(real.mean()), n=int(real.size), controls=[c for c, _, _ in controls],
                  score_ci=ctx.interval(real, ones), subject={"layer": layer, "head": head},
                  evidence={"selection": selection_evidence(float(real.mean()), held, names, fits,
                                                            ctx.selection_folds)})
    settle(claim, margins, in_sample, ctx)
    check_correspondence(claim, layer, ctx)
    return claim


def decoder_head_claims(real: HeadScores, ctx: ClaimContext, settings: SequenceSettings, *, start: int,
                        twin: HeadScores | None = None) -> list[Claim]:
    """The best previous-token head and the best induction head, each against its controls."""
    n = real.previous.shape[0]
    total = start + 2 * settings.half
    layer, head = real.best(real.previous)
    uniform = position_only_previous(total, start)
    controls = [(ControlScore("position-only", uniform, "uniform causal attention (1/(t+1) on the previous token)"),
                 "fixed", np.full(n, uniform))]
    if twin is not None:
        t_layer, t_head = twin.best(twin.previous)
        t_scores = twin.previous[:, t_layer, t_head]
        controls.append((ControlScore("random-init", float(t_scores.mean()),
                                      f"best previous-token head of the random-init twin ({t_layer}.{t_head})"),
                         "select", twin.previous))
    previous = _head_claim("previous-token:best", "head {layer}.{head} attends to the previous token", real.previous,
                           layer, head, "previous-token attention", controls, ctx, PREVIOUS_TOKEN_HEAD)
    layer, head = real.best(real.prefix_matching)
    no_repeat = real.prefix_matching_control[:, layer, head]
    controls = [(ControlScore("no-repetition", float(no_repeat.mean()),
                              "the same head at the same positions of sequences that do not repeat"), "same-head",
                 real.prefix_matching_control)]
    if twin is not None:
        t_layer, t_head = twin.best(twin.prefix_matching)
        t_scores = twin.prefix_matching[:, t_layer, t_head]
        controls.append((ControlScore("random-init", float(t_scores.mean()),
                                      f"best prefix-matching head of the random-init twin ({t_layer}.{t_head})"),
                         "select", twin.prefix_matching))
    induction = _head_claim("induction:best", "head {layer}.{head} is an induction head (attends to the token "
                            "after the earlier occurrence of the current one)", real.prefix_matching, layer, head,
                            "prefix-matching attention", controls, ctx, INDUCTION_HEAD)
    if real.in_context_gain is not None:
        induction.evidence["in_context_gain_nats"] = float(real.in_context_gain.mean())
    return [previous, induction]


def decoder_section(real: HeadScores, settings: SequenceSettings, prefix: str | None) -> dict:
    """The per-head tables behind the claims, for audit.json and the reports."""
    sink = real.sink.mean(axis=0)
    return {
        "sequences": int(real.previous.shape[0]), "half": settings.half, "seed": settings.seed, "prefix": prefix,
        "previous_token": real.previous.mean(axis=0).tolist(),
        "prefix_matching": real.prefix_matching.mean(axis=0).tolist(),
        "prefix_matching_control": real.prefix_matching_control.mean(axis=0).tolist(),
        "sink_mass": sink.tolist(),
        "sink_heads": [[int(layer), int(head)] for layer, head in np.argwhere(sink >= 0.9)],
        "in_context_gain_nats": None if real.in_context_gain is None else float(real.in_context_gain.mean()),
    }
