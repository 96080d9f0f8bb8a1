"""``merge``: audits (or comparisons) of one model from several devices or variants, side by side, claim by claim.

The audit that counts is the one run where the model runs: int8 kernels round differently on ARM than on x86, so
a claim can change verdict between the workstation and the board. Merging puts every input's verdict and score
of each claim in one row and says where they agree, where only the numbers differ (by more than ``tolerance``, the
run-to-run tolerance: audits are deterministic on one machine, so the default is float noise) and where the
verdict itself differs. Claims are matched by what they are about (``compare.claims.match_key``), so "the best head
for nsubj" is one row even when a device's audit picked another head; the row says so.

Inputs are all audit.json or all compare.json files (a directory holding one is accepted). They must come from the
same corpus (same sha256), or their claims are not comparable; differing audit options are reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edgeaudit.compare.claims import match_key
from edgeaudit.errors import EdgeAuditError

SCHEMA = "edgeaudit.merge"
SCHEMA_VERSION = 1
DEFAULT_TOLERANCE = 1e-6
KINDS = {"edgeaudit.audit": "audit", "edgeaudit.compare": "compare"}


def locate(path: str | Path) -> Path:
    """An audit.json / compare.json, or a directory holding exactly one of them."""
    path = Path(path)
    if path.is_dir():
        found = [path / name for name in ("audit.json", "compare.json") if (path / name).is_file()]
        if len(found) != 1:
            what = "neither audit.json nor compare.json" if not found else "both audit.json and compare.json"
            raise EdgeAuditError(f"{path}: holds {what}", hint="pass the result file itself")
        return found[0]
    return path


def _label(path: Path, document: dict[str, Any]) -> str:
    """``folder (variant, machine)``: which run, of which model, where."""
    machine = (document.get("provenance") or {}).get("machine") or "?"
    bundle = document.get("bundle") or (document.get("variant") or {}).get("bundle") or {}
    return f"{path.parent.name or path.name} ({bundle.get('variant') or '?'}, {machine})"


def _labels(paths: list[Path], documents: list[dict[str, Any]], given: Sequence[str]) -> list[str]:
    if given:
        if len(given) != len(paths):
            raise EdgeAuditError(f"option --label: {len(given)} label(s) for {len(paths)} input(s)",
                                 hint="give one --label per input, in the same order, or none")
        labels = list(given)
    else:
        labels = [_label(p, d) for p, d in zip(paths, documents, strict=True)]
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return unique


def _claims(document: dict[str, Any], kind: str) -> dict[tuple, dict[str, Any]]:
    cells: dict[tuple, dict[str, Any]] = {}
    if kind == "audit":
        for claim in document["claims"]:
            cells.setdefault(match_key(claim), {"id": claim["id"], "text": claim.get("text"), "kind": claim["kind"],
                                                "verdict": claim.get("verdict"), "score": claim.get("score")})
        return cells
    for entry in document["claims"]:
        reference = entry.get("reference") or entry.get("variant") or {}
        key = match_key({"kind": entry["kind"], "id": reference.get("id", entry["id"]),
                         "subject": reference.get("subject")})
        variant = entry.get("variant") or {}
        cells.setdefault(key, {"id": variant.get("id", entry["id"]), "text": variant.get("text") or entry.get("text"),
                               "kind": entry["kind"], "verdict": variant.get("verdict"), "score": variant.get("score"),
                               "survival": entry["survival"], "delta": entry.get("delta")})
    return cells


def _input_record(label: str, path: Path, document: dict[str, Any], kind: str) -> dict[str, Any]:
    provenance = document.get("provenance") or {}
    bundle = document["bundle"] if kind == "audit" else (document["variant"].get("bundle") or {})
    record = {"label": label, "path": str(path.resolve()), "kind": kind, "machine": provenance.get("machine"),
              "platform": provenance.get("platform"), "cpu": (provenance.get("cpu") or {}).get("cpu_model"),
              "bundle_sha256": bundle.get("sha256"), "variant": bundle.get("variant"),
              "data_sha256": (document.get("data") or {}).get("sha256") if kind == "audit" else None,
              "claims": len(document["claims"])}
    if kind == "compare":
        drift = document.get("numeric_drift") or {}
        record["output_cosine_mean"] = (drift.get("output_cosine") or {}).get("mean")
        record["sqnr_by_layer"] = [row.get("sqnr_db") for row in drift.get("layers") or []]
        record["gates"] = [{"expression": g["expression"], "value": g.get("value"), "tripped": g.get("tripped")}
                           for g in document.get("gates") or []]
        record["summary"] = {k: document["summary"][k] for k in ("survives", "drifts", "breaks", "flips")}
    return record


def _options_of(document: dict[str, Any], kind: str) -> dict[str, Any]:
    from edgeaudit.audit.options import RUNTIME_ONLY

    options = document.get("options") or {}
    audit = options if kind == "audit" else options.get("audit") or {}
    return {k: v for k, v in audit.items() if k not in RUNTIME_ONLY}


def _row(key: tuple, labels: list[str], cells: list[dict | None], tolerance: float, kind: str) -> dict[str, Any]:
    present = [c for c in cells if c is not None]
    verdicts = {c["verdict"] for c in present}
    scores = [float(c["score"]) for c in present if c.get("score") is not None and math.isfinite(float(c["score"]))]
    spread = max(scores) - min(scores) if len(scores) > 1 else 0.0
    row = {"key": [str(part) for part in key], "text": present[0]["text"], "kind": present[0]["kind"],
           "cells": dict(zip(labels, cells, strict=True)), "missing": [lab for lab, c in zip(labels, cells, strict=True) if c is None],
           "verdicts_agree": len(verdicts) == 1 and len(present) == len(cells),
           "score_spread": spread, "numbers_differ": spread > tolerance,
           "subjects_differ": len({c["id"] for c in present}) > 1}
    if kind == "compare":
        row["survival_agree"] = len({c["survival"] for c in present}) == 1 and len(present) == len(cells)
    return row


def merge(inputs: Sequence[str | Path], *, labels: Sequence[str] = (),
          tolerance: float = DEFAULT_TOLERANCE) -> dict[str, Any]:
    """Read and check ``inputs`` and build the merge document (nothing is written)."""
    from edgeaudit.report.schema import load_result

    if len(inputs) < 2:
        raise EdgeAuditError("merge needs at least two results", hint="pass two or more audit.json or compare.json files")
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise EdgeAuditError(f"option --tolerance: {tolerance!r} is out of range", hint="give a number >= 0")
    paths = [locate(p) for p in inputs]
    documents = [load_result(p) for p in paths]
    kinds = [KINDS.get(d["schema"]) for d in documents]
    for path, kind, document in zip(paths, kinds, documents, strict=True):
        if kind is None:
            raise EdgeAuditError(f"{path}: is an {document['schema']} result; merge reads audits and comparisons")
    if len(set(kinds)) > 1:
        raise EdgeAuditError("merge: the inputs mix audits and comparisons",
                             hint="merge audit.json files with each other, or compare.json files with each other")
    kind = kinds[0]
    corpora = {(d.get("data") or {}).get("sha256") if kind == "audit" else (d.get("data") or {}).get("spec")
               for d in documents}
    if len(corpora) > 1:
        raise EdgeAuditError("merge: the inputs ran on different corpora, so their claims are not comparable",
                             hint="audit every device on the same --data and --max-sentences")
    names = _labels(paths, documents, labels)
    notes = []
    options = [_options_of(d, kind) for d in documents]
    differing = sorted({k for o in options for k in o if any(o.get(k) != other.get(k) for other in options)})
    if differing:
        notes.append(f"the inputs ran with different options ({', '.join(differing)}): verdicts may differ for that "
                     "reason rather than the platform")
    records = [_input_record(n, p, d, kind) for n, p, d in zip(names, paths, documents, strict=True)]
    per_input = [_claims(d, kind) for d in documents]
    keys = list(dict.fromkeys(key for claims in per_input for key in claims))
    rows = [_row(key, names, [claims.get(key) for claims in per_input], tolerance, kind) for key in keys]
    summary = {"inputs": len(paths), "claims": len(rows),
               "verdicts_agree": sum(r["verdicts_agree"] for r in rows),
               "verdicts_differ": sum(not r["verdicts_agree"] for r in rows),
               "numbers_differ": sum(r["numbers_differ"] for r in rows),
               "subjects_differ": sum(r["subjects_differ"] for r in rows),
               "max_score_spread": max((r["score_spread"] for r in rows), default=0.0)}
    if kind == "compare":
        summary["survival_differs"] = sum(not r["survival_agree"] for r in rows)
        gate_outcomes = {}
        for record in records:
            for gate in record["gates"]:
                gate_outcomes.setdefault(gate["expression"], set()).add(gate["tripped"])
        summary["gates_differ"] = sorted(expr for expr, outcomes in gate_outcomes.items() if len(outcomes) > 1)
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "kind": kind, "tolerance": tolerance,
            "summary": summary,
            "inputs": records,
            "claims": rows, "notes": notes}


def write_merge(document: dict[str, Any], out_dir: Path) -> Path:
    from edgeaudit.result_file import write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(document, out_dir / "merge.json")
    return out_dir / "merge.json"
