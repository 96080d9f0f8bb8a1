"""Hand-made typed results for unit tests: only the parts a test is about are given, the rest is filler that
passes the records' types (claims as ``verdict.Claim``, sections as their JSON)."""

from __future__ import annotations

import math
from typing import Any

from edgeaudit.results import AuditResult, CompareResult
from edgeaudit.verdict import Claim, VerdictThresholds

_BUNDLE = {"directory": "/nowhere/bundle", "sha256": "0" * 64, "variant": "fp32",
           "model": {"num_layers": 2, "num_heads": 2}}
_RUN = {"bundle": _BUNDLE, "extraction": {"sentences": 10, "extracted": 10, "skipped_by_kind": {}}}


def claim(data: dict[str, Any]) -> Claim:
    """A claim from the keys a test cares about (id, kind, score, verdict, score_ci, subject, text, metric)."""
    score = data.get("score")
    return Claim(claim_id=data["id"], kind=data["kind"], text=data.get("text", data["id"]),
                 metric=data.get("metric", "accuracy"), score=math.nan if score is None else float(score),
                 n=int(data.get("n", 40)), controls=[], score_ci=None if data.get("score_ci") is None
                 else tuple(data["score_ci"]), verdict=data.get("verdict", "inconclusive"),
                 subject=dict(data.get("subject") or {}))


def audit_result(claims: list[dict[str, Any]], *, probes: dict[str, Any] | None = None,
                 trees: dict[str, Any] | None = None) -> AuditResult:
    typed = [claim(c) for c in claims]
    return AuditResult.from_json({
        "schema": "edgeaudit.audit", "schema_version": 1,
        "summary": {"claims": len(typed), "verdicts": {}}, "claims": [c.to_dict() for c in typed],
        "thresholds": VerdictThresholds().to_dict(), "bundle": _BUNDLE,
        "data": {"spec": "builtin:treebank", "sha256": "1" * 64, "sentences": 10},
        "probes": probes or {}, "runs": {"model": {**_RUN, "attention_trees": trees or {}}},
        "options": {}, "provenance": {}})


def compare_result(claims: list[dict[str, Any]], *, summary: dict[str, int] | None = None,
                   numeric_drift: dict[str, Any] | None = None, explanation_drift: dict[str, Any] | None = None,
                   gates: list[dict[str, Any]] | None = None) -> CompareResult:
    """A comparison from compare.json-shaped parts (claims need id, kind, survival; the rest defaults)."""
    counts = {name: sum(c["survival"] == name for c in claims) for name in ("survives", "drifts", "breaks")}
    entries = [{"text": None, "reference": None, "variant": None, "delta": None, "flip": None, **c} for c in claims]
    drift = None if numeric_drift is None else {"computed": True, "layers": [], "attention_jsd": None,
                                                "output_cosine": {}, "output_max_abs_diff": None, **numeric_drift}
    return CompareResult.from_json({
        "schema": "edgeaudit.compare", "schema_version": 1,
        "summary": {"claims": len(claims), **counts, "flips": sum(e["flip"] is not None for e in entries),
                    "gates_tripped": sum(bool(g["tripped"]) for g in gates or []), **(summary or {})},
        "gates": gates or [], "claims": entries, "numeric_drift": drift, "explanation_drift": explanation_drift,
        "reference": {}, "variant": {}})
