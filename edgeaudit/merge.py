"""``merge``: audits (or comparisons) of one model from several devices or variants, side by side, claim by claim.

The audit that counts is the one run where the model runs: int8 kernels round differently on ARM than on x86, so
a claim can change verdict between the workstation and the board. Merging puts every input's verdict and score
of each claim in one row and says where they agree, where only the numbers differ (by more than ``tolerance``, the
run-to-run tolerance: audits are deterministic on one machine, so the default is float noise) and where the
verdict itself differs. Claims are matched by what they are about (``compare.claims.match_key``), so "the best head
for nsubj" is one row even when a device's audit picked another head; the row says so.

Inputs are all audit.json or all compare.json files (a directory holding one is accepted). They must come from the
same corpus (same sha256), or their claims are not comparable; differing audit options are reported.

Audits also keep the word-level hidden states they probed (``DIR/activations``). A verdict that holds on both
devices can still rest on activations that drift apart layer by layer, so ``activations`` compares every input's
store with the first input's (the reference), per layer: the largest and mean absolute difference, the mean
difference relative to the reference's mean magnitude (comparable across layers of different scale), and whether
the largest exceeds ``activation_tolerance``. When the stores cannot be compared the section is null and a note
says why; the claims are merged regardless.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgeaudit.compare.claims import claim_key, match_key
from edgeaudit.errors import EdgeAuditError
from edgeaudit.results import AuditResult, CompareResult
from edgeaudit.verdict import finite_or_none

SCHEMA = "edgeaudit.merge"
SCHEMA_VERSION = 1
DEFAULT_TOLERANCE = 1e-6
DEFAULT_ACTIVATION_TOLERANCE = 1e-4
CHUNK_VALUES = 1 << 22  # activation values per read: ~32 MB of float64 differences, whatever the store's size
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


Result = AuditResult | CompareResult


def _read(path: Path) -> Result:
    """A schema-checked result file as its typed object; anything but an audit or a comparison is refused."""
    from edgeaudit.report.schema import load_result

    document = load_result(path)
    if document["schema"] not in KINDS:
        raise EdgeAuditError(f"{path}: is an {document['schema']} result; merge reads audits and comparisons")
    cls = AuditResult if document["schema"] == "edgeaudit.audit" else CompareResult
    return cls.from_json(document)


def _kind(result: Result) -> str:
    return "audit" if isinstance(result, AuditResult) else "compare"


def _bundle(result: Result) -> dict[str, Any]:
    """The audited bundle's record (for a comparison: the variant's)."""
    if isinstance(result, AuditResult):
        return result.bundle.to_json()
    return result.variant.bundle or {}


def _label(path: Path, result: Result) -> str:
    """``folder (variant, machine)``: which run, of which model, where."""
    machine = result.provenance.get("machine") or "?"
    return f"{path.parent.name or path.name} ({_bundle(result).get('variant') or '?'}, {machine})"


def _labels(paths: list[Path], documents: list[Result], given: Sequence[str]) -> list[str]:
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


def _claims(result: Result) -> dict[tuple, dict[str, Any]]:
    cells: dict[tuple, dict[str, Any]] = {}
    if isinstance(result, AuditResult):
        for claim in result.claims:
            cells.setdefault(claim_key(claim), {"id": claim.claim_id, "text": claim.text, "kind": claim.kind,
                                                "verdict": claim.verdict, "score": finite_or_none(claim.score)})
        return cells
    for entry in result.claims:
        side = entry.reference or entry.variant
        key = match_key(entry.kind, side.id if side else entry.id, side.subject if side else None)
        variant = entry.variant
        cells.setdefault(key, {"id": variant.id if variant else entry.id,
                               "text": (variant.text if variant else None) or entry.text, "kind": entry.kind,
                               "verdict": variant.verdict if variant else None,
                               "score": variant.score if variant else None,
                               "survival": entry.survival, "delta": entry.delta})
    return cells


def _input_record(label: str, path: Path, result: Result) -> dict[str, Any]:
    provenance, bundle, kind = result.provenance, _bundle(result), _kind(result)
    record = {"label": label, "path": str(path.resolve()), "kind": kind, "machine": provenance.get("machine"),
              "platform": provenance.get("platform"), "cpu": (provenance.get("cpu") or {}).get("cpu_model"),
              "bundle_sha256": bundle.get("sha256"), "variant": bundle.get("variant"),
              "data_sha256": result.data.sha256 if isinstance(result, AuditResult) else None,
              "claims": len(result.claims)}
    if isinstance(result, CompareResult):
        drift = result.numeric_drift
        record["output_cosine_mean"] = drift.output_cosine.mean if drift is not None else None
        record["sqnr_by_layer"] = [row.sqnr_db for row in drift.layers] if drift is not None else []
        record["gates"] = [{"expression": g.expression, "value": g.value, "tripped": g.tripped} for g in result.gates]
        record["summary"] = {k: getattr(result.summary, k) for k in ("survives", "drifts", "breaks", "flips")}
    return record


def _options_of(result: Result) -> dict[str, Any]:
    from edgeaudit.audit.options import RUNTIME_ONLY

    audit = result.options if isinstance(result, AuditResult) else result.options.get("audit") or {}
    return {k: v for k, v in audit.items() if k not in RUNTIME_ONLY}


def _corpus(result: Result) -> str | None:
    if isinstance(result, AuditResult):
        return result.data.sha256
    return result.data.spec if result.data is not None else None


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


class _Skip(Exception):
    """The activation stores cannot be compared; the message (naming the input) becomes a note."""


class _LayerReader:
    """One layer of a store read by global word rows, one shard memory-mapped at a time.

    ``StoredActivations.layer`` concatenates the shards (a store can be GBs) and keeping every shard mapped would
    hold a file descriptor per shard; reads here ascend, so holding the current shard only is enough.
    """

    def __init__(self, store: Any, layer: int):
        self.store, self.layer = store, layer
        self.starts = np.cumsum([0] + [record.n_words for record in store.shards])
        self.current: tuple[int, np.ndarray] | None = None

    def _shard(self, index: int) -> np.ndarray:
        if self.current is None or self.current[0] != index:
            self.current = (index, self.store.shard_layer(self.store.shards[index], self.layer))
        return self.current[1]

    def read(self, lo: int, hi: int) -> np.ndarray:
        pieces = []
        while lo < hi:
            shard = int(np.searchsorted(self.starts, lo, side="right")) - 1
            end = min(hi, int(self.starts[shard + 1]))
            pieces.append(self._shard(shard)[lo - self.starts[shard]:end - self.starts[shard]])
            lo = end
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def _sentences(store: Any) -> dict[tuple[str, int], tuple[int, int]]:
    """(sentence id, occurrence) -> (first word row, words); the occurrence keeps repeated ids apart."""
    seen: Counter[str] = Counter()
    rows = {}
    for position, sid in enumerate(store.sentence_ids):
        seen[sid] += 1
        start, end = int(store.word_offsets[position]), int(store.word_offsets[position + 1])
        rows[(sid, seen[sid])] = (start, end - start)
    return rows


def _runs(reference: Any, other: Any, names: tuple[str, str]) -> tuple[list[tuple[int, int, int]], int, str | None]:
    """Word rows both stores hold, as (reference row, other row, length) runs merged where contiguous in both, the
    number of sentences they cover, and a note on what was left out.

    A sentence one side skipped (too long, or a failure on that device) or that has another word count is left
    out, and the note says how many.
    """
    mine, theirs = _sentences(reference), _sentences(other)
    runs: list[tuple[int, int, int]] = []
    differ = common = 0
    for key, (start, words) in mine.items():
        if key not in theirs:
            continue
        if theirs[key][1] != words:
            differ += 1
            continue
        common += 1
        if runs and runs[-1][0] + runs[-1][2] == start and runs[-1][1] + runs[-1][2] == theirs[key][0]:
            runs[-1] = (runs[-1][0], runs[-1][1], runs[-1][2] + words)
        else:
            runs.append((start, theirs[key][0], words))
    only_mine, only_theirs = len(mine.keys() - theirs.keys()), len(theirs.keys() - mine.keys())
    note = None
    if only_mine or only_theirs or differ:
        note = (f"activations of {names[1]} vs {names[0]}: {only_mine + only_theirs + differ} sentence(s) left out "
                f"({only_mine} only in {names[0]}, {only_theirs} only in {names[1]}, {differ} with different word "
                "counts)")
    return runs, common, note


def _layer_difference(reference: Any, other: Any, layer: int, runs: list[tuple[int, int, int]],
                      tolerance: float) -> dict[str, Any]:
    """One layer's differences over ``runs``, read in chunks and accumulated in float64."""
    mine, theirs = _LayerReader(reference, layer), _LayerReader(other, layer)
    step = max(1, CHUNK_VALUES // max(1, reference.hidden_size))
    largest = total = magnitude = 0.0
    count = 0
    for start, other_start, words in runs:
        for offset in range(0, words, step):
            n = min(step, words - offset)
            a = mine.read(start + offset, start + offset + n).astype(np.float64)
            diff = np.abs(a - theirs.read(other_start + offset, other_start + offset + n))
            largest = max(largest, float(diff.max(initial=0.0)))
            total += float(diff.sum())
            magnitude += float(np.abs(a).sum())
            count += diff.size
    if not (math.isfinite(largest) and math.isfinite(total) and math.isfinite(magnitude)):
        raise _Skip(f"layer {layer} holds non-finite activations")
    relative = total / magnitude if magnitude > 0 else (0.0 if total == 0 else None)
    return {"layer": layer, "max_abs_diff": largest, "mean_abs_diff": total / count if count else 0.0,
            "relative": relative, "exceeds": largest > tolerance}


def _open_stores(directories: list[Path], names: list[str]) -> list[Any]:
    from edgeaudit.runtime.store import StoredActivations, StoreError

    stores = []
    for directory, name in zip(directories, names, strict=True):
        if not (directory / "activations").is_dir():
            raise _Skip(f"{name} has no activation store ({directory / 'activations'} is missing: its audit ran "
                        "without the structural or correspondence probe)")
        try:
            stores.append(StoredActivations(directory / "activations"))
        except StoreError as error:
            raise _Skip(f"{name}'s activation store is incomplete ({error.message})") from None
    first = stores[0]
    for store, name in zip(stores[1:], names[1:], strict=True):
        if (store.num_layers, store.hidden_size) != (first.num_layers, first.hidden_size):
            raise _Skip(f"{name} stores {store.num_layers} layers of {store.hidden_size} values per word, {names[0]} "
                        f"{first.num_layers} layers of {first.hidden_size}")
        if store.key.get("corpus_sha256") != first.key.get("corpus_sha256"):
            raise _Skip(f"{name}'s activations are of another corpus than {names[0]}'s (corpus sha256 differs)")
    return stores


def activation_differences(directories: list[Path], names: list[str],
                           tolerance: float) -> tuple[dict[str, Any] | None, list[str]]:
    """Per-layer activation differences of every input against the first, or None and the reason as a note."""
    from edgeaudit.runtime.store import StoreError

    notes: list[str] = []
    try:
        stores = _open_stores(directories, names)
        reference = stores[0]
        ignored = {"shard_sentences"}  # how the store was cut into files, not what it holds
        settings = [{k: v for k, v in (s.key.get("settings") or {}).items() if k not in ignored} for s in stores]
        differing = sorted({k for o in settings for k in o if any(o.get(k) != other.get(k) for other in settings)})
        if differing:
            notes.append(f"the activation stores were extracted with different settings ({', '.join(differing)}): "
                         "their differences may come from that rather than the platform")
        compared = []
        for store, name in zip(stores[1:], names[1:], strict=True):
            runs, sentences, note = _runs(reference, store, (names[0], name))
            words = sum(run[2] for run in runs)
            if note:
                notes.append(note)
            if not words:
                raise _Skip(f"{name} and {names[0]} have no sentence in common")
            try:
                layers = [_layer_difference(reference, store, layer, runs, tolerance)
                          for layer in range(reference.num_layers)]
            except (_Skip, StoreError) as error:  # a damaged shard file, or values no difference can be taken of
                raise _Skip(f"{name} or {names[0]}: {error}") from None
            exceeding = [row["layer"] for row in layers if row["exceeds"]]
            compared.append({"label": name, "compared_sentences": sentences,
                             "compared_words": words, "layers": layers, "layers_exceeding": len(exceeding),
                             "first_layer_exceeding": exceeding[0] if exceeding else None})
    except _Skip as error:
        return None, [*notes, f"activation differences skipped: {error}"]
    return {"reference": names[0], "tolerance": tolerance, "num_layers": reference.num_layers,
            "hidden_size": reference.hidden_size, "inputs": compared}, notes


def merge(inputs: Sequence[str | Path], *, labels: Sequence[str] = (), tolerance: float = DEFAULT_TOLERANCE,
          activation_tolerance: float = DEFAULT_ACTIVATION_TOLERANCE) -> dict[str, Any]:
    """Read and check ``inputs`` and build the merge document (nothing is written)."""
    if len(inputs) < 2:
        raise EdgeAuditError("merge needs at least two results", hint="pass two or more audit.json or compare.json files")
    for option, value in (("--tolerance", tolerance), ("--activation-tolerance", activation_tolerance)):
        if not (math.isfinite(value) and value >= 0):
            raise EdgeAuditError(f"option {option}: {value!r} is out of range", hint="give a number >= 0")
    paths = [locate(p) for p in inputs]
    documents = [_read(p) for p in paths]
    kinds = [_kind(d) for d in documents]
    if len(set(kinds)) > 1:
        raise EdgeAuditError("merge: the inputs mix audits and comparisons",
                             hint="merge audit.json files with each other, or compare.json files with each other")
    kind = kinds[0]
    corpora = {_corpus(d) for d in documents}
    if len(corpora) > 1:
        raise EdgeAuditError("merge: the inputs ran on different corpora, so their claims are not comparable",
                             hint="audit every device on the same --data and --max-sentences")
    names = _labels(paths, documents, labels)
    notes = []
    options = [_options_of(d) for d in documents]
    differing = sorted({k for o in options for k in o if any(o.get(k) != other.get(k) for other in options)})
    if differing:
        notes.append(f"the inputs ran with different options ({', '.join(differing)}): verdicts may differ for that "
                     "reason rather than the platform")
    records = [_input_record(n, p, d) for n, p, d in zip(names, paths, documents, strict=True)]
    per_input = [_claims(d) for d in documents]
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
    activations = None
    if kind == "audit":
        activations, activation_notes = activation_differences([p.parent for p in paths], names, activation_tolerance)
        notes += activation_notes
    summary.update(_activation_summary(activations))
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "kind": kind, "tolerance": tolerance,
            "summary": summary,
            "inputs": records,
            "claims": rows, "activations": activations, "notes": notes}


def _activation_summary(activations: dict[str, Any] | None) -> dict[str, Any]:
    """Layers where some input's activations exceed the tolerance, and the largest relative difference (null when
    there is no activation section, so that "not compared" never reads as "no difference")."""
    if activations is None:
        return {"activation_layers_exceeding": None, "max_activation_relative": None}
    layers = [row for record in activations["inputs"] for row in record["layers"]]
    return {"activation_layers_exceeding": len({row["layer"] for row in layers if row["exceeds"]}),
            "max_activation_relative": max((row["relative"] for row in layers if row["relative"] is not None),
                                           default=None)}


def write_merge(document: dict[str, Any], out_dir: Path) -> Path:
    from edgeaudit.result_file import write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(document, out_dir / "merge.json")
    return out_dir / "merge.json"
