"""Assemble ``audit.json``: claims first, then every score, control and per-layer curve behind them."""

from __future__ import annotations

import datetime as _dt
import os
import platform
from collections import Counter
from pathlib import Path
from typing import Any

from edgeaudit.bundle.build import tool_versions
from edgeaudit.bundle.manifest import sha256_of
from edgeaudit.report.machine import machine_info
from edgeaudit.verdict import verdict_counts

SCHEMA = "edgeaudit.audit"
SCHEMA_VERSION = 1


def _bundle_info(run) -> dict[str, Any]:
    manifest = run.bundle.manifest
    # absolute: audit.json is read later from other working directories (compare, report)
    return {"directory": str(Path(run.bundle.directory).resolve()), "sha256": run.bundle.sha256, "variant": manifest.variant,
            "model": dict(manifest.data["model"]), "parent_sha256": manifest.data["variant"]["parent_sha256"]}


def _corpus_sha256(sentences) -> str:
    from edgeaudit.runtime import corpus_sha256
    from edgeaudit.runtime.corpus import as_sentences

    return corpus_sha256(as_sentences(sentences))


def _dataset_info(treebank, sentences, options) -> dict[str, Any]:
    return {"spec": options.data, "sha256": _corpus_sha256(sentences), "sentences": len(sentences),
            "skipped_while_reading": [str(skip) for skip in treebank.skipped],
            "skipped_while_reading_by_kind": dict(Counter(skip.kind for skip in treebank.skipped).most_common())}


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
                   sections, timings) -> dict[str, Any]:
    """``sections``: the probe groups' entries of "probes" (property, decoder_heads, ...)."""
    head_result = real.relational.heads.result(min_count=options.min_count) if real.relational else None
    document = {
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
                "identifiability_by_hidden_state": None if identifiability is None else
                {k: identifiability[k] for k in ("direct", "linear") if k in identifiability},
                "identifiability_ci_by_hidden_state": None if identifiability is None else
                {k: identifiability[f"{k}_ci"] for k in ("direct", "linear") if f"{k}_ci" in identifiability},
                "identifiability_sentences": None if identifiability is None else identifiability.get("sentences"),
                "note": "layer l's heads read hidden_state_l: rollout self-share after layer l-1 (1.0 at layer 0) "
                        "and identifiability of hidden_state_l against hidden_state_0; each with a bootstrap CI "
                        "over the sentences it used (rollout: every extracted sentence; identifiability: the "
                        "structural split's held-out test sentences)",
            },
            "property": None,
        },
        "runs": {"model": _run_section(real), "random_init_twin": _run_section(twin), "nonce": _run_section(nonce)},
        "options": options.to_dict(),
        "provenance": _provenance(real, twin, nonce, sentences, options, timings),
    }
    document["probes"].update(sections)
    return document


def _file_sha256(spec: str | None) -> str | None:
    """sha256 of a dataset file's bytes, or of the packaged file behind a built-in; None for generated data."""
    from edgeaudit.data.registry import PACKAGED_FILES, packaged_file

    if spec is None:
        return None
    if spec in PACKAGED_FILES:
        return sha256_of(packaged_file(PACKAGED_FILES[spec]))
    return sha256_of(Path(spec)) if Path(spec).is_file() else None


def _treebank_provenance(spec: str, sentences) -> dict[str, Any]:
    """The file's bytes (what a user can check with sha256sum) and the sentences actually used, named apart."""
    return {"spec": spec, "sha256": _file_sha256(spec), "corpus_sha256": _corpus_sha256(sentences),
            "sha256_of": "file bytes (null for a treebank generated in code); corpus_sha256: ids and words used"}


def _nonce_dataset(nonce, sentences, options) -> dict[str, Any] | None:
    """The nonce treebank run_audit used (re-read: the run keeps only its statistics, not the sentences)."""
    if nonce is None:
        return None
    from edgeaudit.data import load_treebank

    spec = options.nonce or "builtin:treebank-nonce"  # run_audit's default for builtin:treebank
    return _treebank_provenance(spec, load_treebank(spec).sentences[: len(sentences)])


def _provenance(real, twin, nonce, sentences, options, timings) -> dict[str, Any]:
    """Everything needed to say where and how the numbers were made (versions, machine, inputs, seeds, time)."""
    bundles = {"model": _bundle_info(real)}
    if twin is not None:
        bundles["random_init_twin"] = {**_bundle_info(twin), "seed": twin.bundle.manifest.data["variant"]
                                       .get("settings", {}).get("seed")}
    norms = (options.norms or "builtin:concepts") if "property" in options.probes else None
    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "tool_versions": tool_versions("scikit-learn", "scipy"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu": machine_info(),
        "execution_provider": "CPUExecutionProvider",
        "threads": real.summary.settings.get("threads") if real.summary is not None else options.threads,
        "bundles": {role: {key: info[key] for key in ("sha256", "variant", "parent_sha256", "seed") if key in info}
                    for role, info in bundles.items()},
        "datasets": {
            "treebank": _treebank_provenance(options.data, sentences),
            "nonce": _nonce_dataset(nonce, sentences, options),
            "norms": None if norms is None else {"spec": norms, "sha256": _file_sha256(norms)},
            "categories": None if options.categories is None else {"spec": options.categories,
                                                                   "sha256": _file_sha256(options.categories)},
        },
        "seed": options.seed,
        "seeds": {"audit": options.seed, "random_init_twin": bundles.get("random_init_twin", {}).get("seed")},
        "timings": {**timings, "total": round(sum(timings.values()), 3)},
    }
