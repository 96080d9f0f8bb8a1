"""Audits of a tiny bundle and of variants of it, made once per session and shared by the compare tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeaudit.audit.options import AuditOptions

FAST = dict(max_sentences=80, shuffles=3, bootstrap=100, folds=4, structural_max_iter=15, structural_max_train=40,
            min_count=10, progress=False)
LIGHT_PROBES = ("attention", "tree", "structural", "correspondence")  # no property stage: seconds, not tens


@pytest.fixture(scope="session")
def light_options() -> AuditOptions:
    return AuditOptions(probes=LIGHT_PROBES, **FAST)


@pytest.fixture(scope="session")
def reference_audit(tiny_bundle, light_options, tmp_path_factory) -> Path:
    """A finished audit (light probes) of the tiny BERT bundle."""
    from edgeaudit.audit.run import run_audit

    out = tmp_path_factory.mktemp("reference-audit")
    run_audit(tiny_bundle("bert"), out, light_options)
    return out


@pytest.fixture(scope="session")
def broken_bundle(tiny_bundle, tmp_path_factory) -> Path:
    """Tiny BERT with layer 1's attention forced onto the previous token (layers 0 and its input untouched)."""
    from tests.edgeaudit.compare.helpers import previous_token_variant

    return previous_token_variant(tiny_bundle("bert"), tmp_path_factory.mktemp("broken") / "bundle", layers=(1,))


@pytest.fixture(scope="session")
def broken_comparison(reference_audit, broken_bundle, tmp_path_factory) -> tuple[dict, Path]:
    """run_compare(reference audit, broken bundle): audits the variant with the reference's options."""
    from edgeaudit.compare import CompareOptions, run_compare
    from edgeaudit.gates import collect_gates

    out = tmp_path_factory.mktemp("broken-compare")
    options = CompareOptions(gates=tuple(collect_gates(["flips>0", "output_cosine<0.99"])), progress=False)
    return run_compare(reference_audit, broken_bundle, out, options), out


@pytest.fixture(scope="session")
def twin_bundle(tiny_twin_bundle) -> Path:
    """The random-init twin of the tiny BERT: same shape and tokenizer, unrelated weights, no parent."""
    return tiny_twin_bundle("bert", seed=7)
