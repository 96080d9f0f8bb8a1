"""Previous-token and induction heads: scores from planted attention, claims against their controls, a real run."""

from __future__ import annotations

import numpy as np

from edgeaudit.audit.decoder_heads import (
    HeadScores,
    SequenceSettings,
    attention_scores,
    decoder_head_claims,
    decoder_section,
    make_sequences,
    measure_heads,
    position_only_previous,
)
from edgeaudit.audit.head_claims import ClaimContext
from edgeaudit.bundle import load_bundle
from edgeaudit.verdict import LayerCorrespondence, VerdictThresholds

HALF, START = 6, 1
TOTAL = START + 2 * HALF


def planted(kind: str) -> np.ndarray:
    """[query, key] attention of one head: previous token, induction (t − half + 1), or all on position 0."""
    attn = np.zeros((TOTAL, TOTAL))
    for t in range(TOTAL):
        if kind == "previous" and t > 0:
            attn[t, t - 1] = 1.0
        elif kind == "induction" and t >= START + HALF:
            attn[t, t - HALF + 1] = 1.0
        else:
            attn[t, 0] = 1.0
    return attn


def test_scores_of_planted_heads():
    attn = np.stack([planted("previous"), planted("induction"), planted("sink")])[None, None]  # [1, 1, 3, T, T]
    previous, prefix, sink = attention_scores(attn, START, HALF)
    assert previous[0, 0].tolist() == [1.0, previous[0, 0, 1], 0.0] and previous[0, 0, 1] < 0.5
    assert prefix[0, 0].tolist() == [0.0, 1.0, 0.0]
    assert sink[0, 0, 2] == 1.0 and sink[0, 0, 0] == 1 / (TOTAL - START)


def test_sequences_repeat_their_first_half_and_the_control_does_not():
    vocab = np.arange(10, 500)
    repeated, control = make_sequences(vocab, SequenceSettings(sequences=5, half=HALF, seed=3), prefix_id=0)
    assert repeated.shape == control.shape == (5, TOTAL) and np.all(repeated[:, 0] == 0)
    assert np.array_equal(repeated[:, START:START + HALF], repeated[:, START + HALF:])
    assert np.array_equal(control[:, :START + HALF], repeated[:, :START + HALF])
    assert not np.array_equal(control[:, START + HALF:], repeated[:, START + HALF:])
    assert np.isin(repeated[:, START:], vocab).all()


def context() -> ClaimContext:
    return ClaimContext(n_sentences=0, thresholds=VerdictThresholds(),
                        correspondence=[LayerCorrespondence(0, 1.0, 1.0), LayerCorrespondence(1, 1.0, 1.0)],
                        replicates=300)


def scores(n: int = 40, seed: int = 0) -> HeadScores:
    """Layer 0 head 1 is a previous-token head; layer 1 head 0 is an induction head; layer 1 head 1 only looks
    a fixed distance back, so it prefix-matches as much without repetition."""
    rng = np.random.default_rng(seed)
    noise = lambda: rng.uniform(0.0, 0.05, size=(n, 2, 2))  # noqa: E731
    previous, prefix, control, sink = noise(), noise(), noise(), noise()
    previous[:, 0, 1] += 0.9
    prefix[:, 1, 0] += 0.8
    prefix[:, 1, 1] += 0.85
    control[:, 1, 1] += 0.85
    sink[:, 0, 0] = 0.95
    return HeadScores(previous, prefix, control, sink, in_context_gain=np.full(n, 2.5))


def test_claims_follow_the_controls():
    settings = SequenceSettings(half=HALF)
    previous, induction = decoder_head_claims(scores(), context(), settings, start=START)
    assert previous.kind == "previous-token-head" and previous.subject == {"layer": 0, "head": 1}
    assert previous.verdict == "supported" and previous.strongest_control == "position-only"
    assert abs(previous.controls[0].score - position_only_previous(TOTAL, START)) < 1e-12
    # the best prefix-matching head (1.1) is positional: the no-repetition control reaches it
    assert induction.kind == "induction-head" and induction.subject == {"layer": 1, "head": 1}
    assert induction.verdict == "artifact" and induction.strongest_control == "no-repetition"
    assert induction.evidence["in_context_gain_nats"] == 2.5
    assert previous.claim_id == "previous-token:best" and induction.claim_id == "induction:best"


def test_a_true_induction_head_beats_no_repetition_and_the_twin():
    real = scores()
    real.prefix_matching[:, 1, 1] = 0.0  # only the genuine induction head 1.0 is left
    twin = scores(seed=1)
    twin.prefix_matching[:] = 0.1
    twin.previous[:] = 0.2
    _, induction = decoder_head_claims(real, context(), SequenceSettings(half=HALF), start=START, twin=twin)
    assert induction.subject == {"layer": 1, "head": 0} and induction.verdict == "supported"
    assert {c.name for c in induction.controls} == {"no-repetition", "random-init"}


def test_section_lists_sink_heads():
    section = decoder_section(scores(), SequenceSettings(half=HALF), "<|endoftext|>")
    assert section["sink_heads"] == [[0, 0]] and section["prefix"] == "<|endoftext|>"
    assert np.array(section["previous_token"]).shape == (2, 2)


def test_measure_heads_on_a_tiny_decoder(tiny_bundle):
    bundle = load_bundle(tiny_bundle("gpt2"))
    settings = SequenceSettings(sequences=6, half=5, batch=4)
    result = measure_heads(bundle, settings)
    layers, heads = bundle.manifest.num_layers, bundle.manifest.num_heads
    assert result.previous.shape == result.prefix_matching.shape == result.sink.shape == (6, layers, heads)
    assert np.all((result.sink > 0) & (result.sink <= 1 + 1e-6))
    assert result.in_context_gain is not None and result.in_context_gain.shape == (6,)
    again = measure_heads(bundle, settings)
    assert np.array_equal(again.prefix_matching, result.prefix_matching)  # seeded
    one_by_one = measure_heads(bundle, SequenceSettings(sequences=6, half=5, batch=1))
    for name in ("previous", "prefix_matching", "prefix_matching_control", "sink", "in_context_gain"):
        # the batch size is a memory setting only: the sequences are equal-length and unpadded
        np.testing.assert_allclose(getattr(one_by_one, name), getattr(result, name), rtol=0, atol=1e-6)


def test_audit_adds_decoder_claims_for_causal_models_only(tiny_bundle, tmp_path):
    from edgeaudit.audit.options import AuditOptions
    from edgeaudit.audit.run import run_audit
    from edgeaudit.report import load_result

    options = AuditOptions(probes=("attention", "decoder"), max_sentences=20, min_count=5, bootstrap=100,
                           shuffles=2, progress=False)
    document = run_audit(tiny_bundle("gpt2"), tmp_path / "gpt2", options)
    kinds = {claim["kind"] for claim in document["claims"]}
    assert {"previous-token-head", "induction-head"} <= kinds
    assert document["probes"]["decoder_heads"]["prefix"] == "<|endoftext|>"
    assert load_result(tmp_path / "gpt2" / "audit.json")["claims"] == document["claims"]  # schema-valid
    encoder = run_audit(tiny_bundle("bert"), tmp_path / "bert", options)
    assert not {"previous-token-head", "induction-head"} & {claim["kind"] for claim in encoder["claims"]}
    assert "decoder_heads" not in encoder["probes"]
