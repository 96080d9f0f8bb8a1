"""Assemble ``audit.json``: claims first, then every score, control and per-layer curve behind them."""

from __future__ import annotations

import os
import platform
from typing import Any

from edgeaudit.bundle.build import tool_versions
from edgeaudit.verdict import verdict_counts

SCHEMA = "edgeaudit.audit"
SCHEMA_VERSION = 1


def _bundle_info(run) -> dict[str, Any]:
    manifest = run.bundle.manifest
    return {"directory": str(run.bundle.directory), "sha256": run.bundle.sha256, "variant": manifest.variant,
            "model": dict(manifest.data["model"]), "parent_sha256": manifest.data["variant"]["parent_sha256"]}


def _dataset_info(treebank, sentences, options) -> dict[str, Any]:
    from edgeaudit.runtime import corpus_sha256
    from edgeaudit.runtime.corpus import as_sentences

    return {"spec": options.data, "sha256": corpus_sha256(as_sentences(sentences)), "sentences": len(sentences),
            "skipped_while_reading": [str(skip) for skip in treebank.skipped]}


def _run_section(run) -> dict[str, Any] | None:
    if run is None:
        return None
    rel = run.relational
    section: dict[str, Any] = {"bundle": _bundle_info(run), "extraction": run.summary.to_dict()}
    if rel is not None:
        section["attention_heads"] = rel.heads.result(min_count=1).to_dict()
        if rel.trees is not None:
            section["attention_trees"] = rel.trees.result().to_dict()
        if rel.rollout is not None:
            section["rollout"] = rel.rollout.to_dict()
    if run.special_mass is not None:
        section["special_token_mass"] = run.special_mass.to_dict()
    if run.structural is not None:
        section["structural"] = run.structural.to_dict()
    return section


def audit_document(*, real, twin, nonce, treebank, sentences, options, claims, correspondence, identifiability,
                   property_section, timings) -> dict[str, Any]:
    head_result = real.relational.heads.result(min_count=options.min_count) if real.relational else None
    model = real.bundle.manifest
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "summary": {"verdicts": verdict_counts(claims), "claims": len(claims)},
        "claims": [claim.to_dict() for claim in claims],
        "thresholds": options.thresholds.to_dict(),
        "bundle": _bundle_info(real),
        "data": _dataset_info(treebank, sentences, options),
        "probes": {
            "attention_heads": head_result.to_dict() if head_result is not None else None,
            "correspondence": {
                "layers": [c.to_dict() for c in correspondence],
                "identifiability_by_hidden_state": identifiability,
                "note": "layer l's heads read hidden_state_l: rollout self-share after layer l-1 (1.0 at layer 0) "
                        "and identifiability of hidden_state_l against hidden_state_0",
            },
            "property": property_section,
        },
        "runs": {"model": _run_section(real), "random_init_twin": _run_section(twin), "nonce": _run_section(nonce)},
        "options": options.to_dict(),
        "provenance": {
            "tool_versions": tool_versions("scikit-learn", "scipy"),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "seed": options.seed,
            "timings": timings,
        },
    }
