"""Property claims: planted linear norms are supported; category-clustered norms are an artifact of geometry."""

from __future__ import annotations

import numpy as np
from edgeaudit.probes import run_property_probe

from edgeaudit.audit.property_claims import property_claims
from edgeaudit.verdict import VerdictThresholds

N, DIM, FEATURES = 120, 20, 30


def run(X, Y, categories, seed=0):
    concepts = [f"c{i}" for i in range(len(X))]
    result = run_property_probe(X, Y, concepts=concepts, categories=categories, mapper="ridge", folds=5,
                                n_shuffles=10, n_resamples=300, seed=seed)
    return {c.metric: c for c in property_claims(result, layer=3, norms_name="toy", thresholds=VerdictThresholds(),
                                                 n_concepts=len(X))}


def test_norms_that_are_a_linear_function_of_the_embedding_are_supported():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, DIM))
    Y = X @ rng.standard_normal((DIM, FEATURES)) + 0.3 * rng.standard_normal((N, FEATURES))
    categories = [f"k{i % 6}" for i in range(N)]
    claims = run(X, Y, categories)
    assert claims["spearman"].verdict == "supported", claims["spearman"].reason
    assert claims["neighbour@1"].verdict == "supported", claims["neighbour@1"].reason
    assert claims["spearman"].text == "layer 3 embeddings predict toy norms (spearman)"
    names = {c.name for c in claims["spearman"].controls}
    assert {"shuffled_pairing", "nearest_neighbour_copy", "category_mean", "gaussian_embeddings"} <= names
    assert "category_held_out" not in names and "category_held_out" in claims["spearman"].evidence
    # A linear mapper learns rotated norms exactly as well and neighbour@k is rotation-invariant, so the rotated
    # control is equal by construction: recorded as uninformative, not as a finding against the claim.
    assert claims["neighbour@1"].evidence["cannot_tell_sense_from_nonsense"] is False
    assert "rotation-equivariant" in claims["neighbour@1"].evidence["uninformative_controls"]["rotated_norms"]
    assert "rotated_norms" not in claims["neighbour@1"].evidence
    assert "rotated_norms" in claims["spearman"].evidence  # informative there


def test_category_clustered_norms_independent_of_meaning_are_an_artifact():
    """'artifact' needs the margin's CI to stay below the minimum effect, so this uses enough concepts (360) for
    the CI to say so; with 120 the neighbour@5 CI reaches 0.05 and the verdict is, rightly, 'inconclusive'."""
    n = 3 * N
    rng = np.random.default_rng(1)
    categories = [f"k{i % 6}" for i in range(n)]
    centres_x = rng.standard_normal((6, DIM)) * 3
    centres_y = rng.standard_normal((6, FEATURES)) * 3
    codes = np.array([int(c[1:]) for c in categories])
    X = centres_x[codes] + rng.standard_normal((n, DIM))
    Y = centres_y[codes] + rng.standard_normal((n, FEATURES))  # within-category variation unrelated to X
    claims = run(X, Y, categories)
    for metric in ("spearman", "neighbour@5"):
        claim = claims[metric]
        assert claim.verdict == "artifact" and claim.finding == "control-reaches", (metric, claim.reason)
        assert claim.strongest_control in {"category_mean", "nearest_neighbour_copy"}
