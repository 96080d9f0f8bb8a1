"""Structural claims say when the probe behind them did not converge."""

from __future__ import annotations

import numpy as np

from edgeaudit.audit.head_claims import ClaimContext
from edgeaudit.audit.structural import LayerStructural, SentenceSplit, StructuralResult
from edgeaudit.audit.structural_claims import structural_claims
from edgeaudit.verdict import LayerCorrespondence, VerdictThresholds


def result_with(fit: dict) -> StructuralResult:
    gold = np.full(40, 5)
    layer = LayerStructural(layer=0, distance={"uuas": 0.9, "fit": fit}, depth={},
                            correct_edges=np.full(40, 4), gold_edges=gold)
    return StructuralResult(split=SentenceSplit(train=list(range(40)), test=list(range(40))), layers=[layer],
                            chain_correct=np.full(40, 2))


def claims_for(fit: dict):
    ctx = ClaimContext(n_sentences=40, thresholds=VerdictThresholds(),
                       correspondence=[LayerCorrespondence(0, 1.0, 1.0)], replicates=200)
    return structural_claims(result_with(fit), ctx)


def test_an_unconverged_fit_is_named_in_the_reason():
    fit = {"converged": False, "stopped": "iteration-cap", "iterations": 100, "max_iter": 100,
           "standardized": True, "loss": 0.3, "dev_loss": 0.5}
    [claim] = claims_for(fit)
    assert "reached its cap of 100 iterations before its loss on the dev sentences" in claim.reason
    assert claim.evidence["fit"] == fit
    assert claim.verdict == "supported"  # 0.8 vs a 0.4 chain: the verdict stands, with the caveat beside it


def test_an_unconverged_fit_without_dev_sentences_does_not_blame_them():
    [claim] = claims_for({"converged": False, "stopped": "iteration-cap", "iterations": 100, "max_iter": 100,
                          "standardized": True, "loss": 0.3, "dev_loss": None})
    assert "without converging (no dev sentences to stop on)" in claim.reason and "dev sentences stopped" not in \
        claim.reason


def test_a_converged_fit_adds_no_caveat():
    [claim] = claims_for({"converged": True, "iterations": 37, "max_iter": 100, "standardized": True, "loss": 0.1})
    assert "cap" not in claim.reason and claim.evidence["fit"]["iterations"] == 37
