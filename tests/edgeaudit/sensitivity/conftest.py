"""One sequential sweep of the tiny BERT, shared by the sensitivity tests (a few seconds)."""

from __future__ import annotations

import pytest

from edgeaudit.audit.options import AuditOptions
from edgeaudit.compare.options import CompareOptions
from edgeaudit.sensitivity import SensitivityOptions

FAST = dict(probes=("attention", "correspondence"), max_sentences=40, shuffles=3, bootstrap=100, min_count=10,
            progress=False)


def sweep_options(**changes) -> SensitivityOptions:
    compare = changes.pop("compare", None) or CompareOptions(audit=AuditOptions(**FAST), progress=False)
    return SensitivityOptions(preset=changes.pop("preset", "int8-dynamic"), compare=compare, progress=False, **changes)


@pytest.fixture(scope="session")
def sequential_sweep(tiny_bundle, tmp_path_factory):
    from edgeaudit.sensitivity import run_sensitivity

    out = tmp_path_factory.mktemp("sweep-sequential")
    return run_sensitivity(tiny_bundle("bert"), out, sweep_options(scheduler="none")), out
