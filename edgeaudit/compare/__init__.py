"""``edgeaudit compare``: does each explanation of a reference model survive in its compressed variant?

Public surface: :func:`run_compare` (writes ``compare.json``) with :class:`CompareOptions`; the pieces it
is made of — :func:`numeric_drift` (paired run: SQNR, attention JSD, output cosine), :func:`compare_claims`
(matching, applied scores, survival), :func:`explanation_drift` — for use on their own. Gates live in
:mod:`edgeaudit.gates`, audited-vs-deployed fidelity in :mod:`edgeaudit.fidelity`.

Names are imported on first use, so ``edgeaudit compare --help`` (or a bad gate) does not pay for
scikit-learn and onnxruntime imports.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SCHEMA": "edgeaudit.compare.run",
    "SCHEMA_VERSION": "edgeaudit.compare.run",
    "run_compare": "edgeaudit.compare.run",
    "CompareOptions": "edgeaudit.compare.options",
    "SURVIVAL": "edgeaudit.compare.claims",
    "compare_claims": "edgeaudit.compare.claims",
    "explanation_drift": "edgeaudit.compare.claims",
    "survival": "edgeaudit.compare.claims",
    "js_divergence": "edgeaudit.compare.drift",
    "numeric_drift": "edgeaudit.compare.drift",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'edgeaudit.compare' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
