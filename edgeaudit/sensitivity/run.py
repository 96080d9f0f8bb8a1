"""``run_sensitivity``: a reference bundle + a preset -> which block's quantisation breaks which explanation.

Steps: list the model's quantisable blocks (:mod:`edgeaudit.compress.blocks`); audit the reference once (into
DIR/reference; every variant is compared against that finished audit, so the reference is never re-audited);
build and compare the full variant and, per swept block, the ``only`` and ``all-but`` variants on the scheduler;
rank blocks by explanation and by output damage; search and verify the float fallback
(:mod:`edgeaudit.sensitivity.recommend`); write DIR/sensitivity.json and its Markdown and HTML reports.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from edgeaudit.bundle import Bundle, load_bundle
from edgeaudit.compress.blocks import Block, model_blocks
from edgeaudit.compress.model_io import model_file_bytes
from edgeaudit.compress.pipeline import check_parent
from edgeaudit.result_file import write_json
from edgeaudit.sensitivity.damage import failing_claims, fragility, rank_blocks
from edgeaudit.sensitivity.options import SensitivityOptions
from edgeaudit.sensitivity.plan import FULL, Variant, fallback_variant, plan_variants, swept_blocks
from edgeaudit.sensitivity.recommend import recommend
from edgeaudit.sensitivity.schedulers import Scheduler, check_scheduler, open_scheduler
from edgeaudit.sensitivity.task import VariantTask

PREPARED = "prepared"  # the reference pre-processed once for every variant (deleted at the end)
SCHEMA = "edgeaudit.sensitivity"
SCHEMA_VERSION = 1
Log = Callable[[str], None]


class _Sweep:
    """The state of one sweep: tasks built the same way for the plan and for fallback verifications."""

    def __init__(self, reference: Bundle, out_dir: Path, options: SensitivityOptions, preset: str,
                 blocks: list[Block], scheduler: Scheduler, progress: bool, log: Log) -> None:
        self.reference, self.out_dir, self.options, self.preset = reference, out_dir, options, preset
        self.blocks, self.scheduler, self.progress, self.log = blocks, scheduler, progress, log
        self.records: dict[str, dict[str, Any]] = {}

    def task(self, variant: Variant, *, keep: bool) -> VariantTask:
        return VariantTask(name=variant.name, kind=variant.kind, block=variant.block,
                           float_blocks=variant.float_blocks, float_nodes=variant.float_nodes(self.blocks),
                           reference_bundle=str(self.reference.directory.resolve()),
                           reference_sha256=self.reference.sha256,
                           reference_audit=str((self.out_dir / "reference").resolve()), preset=self.preset,
                           out=str((self.out_dir / "variants" / variant.folder).resolve()),
                           compare=self.options.compare, calibration=self.options.calibration,
                           keep_bundle=keep or self.options.keep_variants,
                           prepared=str((self.out_dir / PREPARED).resolve()))

    def run(self, variants: list[Variant], *, desc: str, keep: bool = False) -> None:
        tasks = [self.task(v, keep=keep) for v in variants]
        with tqdm(total=len(tasks), desc=desc, unit="variant", file=sys.stderr, disable=not self.progress) as bar:
            finished = [0]  # a disabled bar does not count

            def done(record: dict[str, Any]) -> None:
                self.records[record["name"]] = record
                finished[0] += 1
                bar.set_postfix_str(record["name"], refresh=False)
                bar.update(1)
                if not self.progress:  # no bar (not a terminal): one line per variant for the log
                    self.log(f"  [{finished[0]}/{len(tasks)}] {describe(record)}")

            self.scheduler.run(tasks, done)

    def verify(self, step: int, float_blocks: list[str]) -> dict[str, Any]:
        variant = fallback_variant(step, float_blocks)
        self.run([variant], desc=f"fallback {step}", keep=True)
        return self.records[variant.name]


def describe(record: dict[str, Any]) -> str:
    """One line per finished variant: what it lost, how far the outputs moved, how long it took."""
    seconds = ((record.get("run") or {}).get("timings") or {}).get("total")
    took = " (resumed)" if record.get("resumed") else "" if seconds is None else f" ({seconds:.0f} s)"
    if "error" in record:
        return f"{record['name']}: not built — {record['error']}{took}"
    counts = record["counts"]
    return (f"{record['name']}: {counts['breaks']} break, {counts['drifts']} drift of {counts['claims']} claims; "
            f"mean |Δ| {record['mean_abs_score_delta']:.4f}; output damage {_significant(record['output_damage'])}{took}")


def _significant(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _by_block(records: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {r["block"]: r for r in records.values() if r["kind"] == kind}


def _heatmap(blocks: list[str], only: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """claim x block: |score delta| and survival of each claim when only that block is quantised."""
    claims: dict[str, dict[str, Any]] = {}
    for name in blocks:
        for claim in (only.get(name) or {}).get("claims", []):
            row = claims.setdefault(claim["id"], {"id": claim["id"], "text": claim["text"], "cells": {}})
            row["cells"][name] = {"abs_delta": None if claim["delta"] is None else abs(claim["delta"]),
                                  "survival": claim["survival"]}
    return {"blocks": blocks, "claims": list(claims.values()),
            "definition": "cell = |variant score − reference score| of the claim when only that block is quantised"}


def _sizes(reference: Bundle, records: dict[str, dict[str, Any]], recommendation: dict[str, Any]) -> dict[str, Any]:
    full = records.get(FULL) or {}
    chosen = records.get(recommendation.get("variant") or "") or {}
    return {"float": model_file_bytes(reference), "full": full.get("bytes"), "recommended": chosen.get("bytes")}


def run_sensitivity(reference: str | Path, out_dir: str | Path, options: SensitivityOptions | None = None,
                    *, log: Log = lambda message: None) -> dict[str, Any]:
    """Sweep ``reference`` block by block under ``options.preset``; write ``out_dir/sensitivity.json``."""
    from edgeaudit.audit.run import run_audit

    options = options or SensitivityOptions()
    reference, out_dir = Path(reference), Path(out_dir)
    began = time.perf_counter()
    bundle = load_bundle(reference)
    preset = check_parent(bundle, options.preset, options.calibration)
    check_scheduler(options.scheduler, options.worker_memory)
    out_dir.mkdir(parents=True, exist_ok=True)
    log(f"[blocks] listing the quantisable blocks of {reference} under {preset}")
    blocks = model_blocks(bundle, preset, keep=out_dir / PREPARED)
    swept = swept_blocks(blocks, options.layers)
    variants = plan_variants(blocks, swept, options.mode)
    log(f"[blocks] {len(blocks)} blocks ({', '.join(b.name for b in blocks[:4])}{', ...' if len(blocks) > 4 else ''}); "
        f"{len(variants)} variants to build and compare")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    log(f"[audit reference] {reference} -> {out_dir / 'reference'}")
    audit_options = options.compare.audit
    run_audit(reference, out_dir / "reference", audit_options, log=lambda message: log(f"  {message}"))
    timings["audit-reference"] = round(time.perf_counter() - started, 3)
    with open_scheduler(options.scheduler, workers=options.workers, memory=options.worker_memory) as scheduler:
        log(f"[sweep] {len(variants)} variants on {scheduler.kind} ({scheduler.workers} worker(s))")
        sweep = _Sweep(bundle, out_dir, options, preset, blocks, scheduler, options.progress, log)
        started = time.perf_counter()
        sweep.run(variants, desc="sensitivity")
        timings["sweep"] = round(time.perf_counter() - started, 3)
        names = [b.name for b in blocks]
        only, all_but = _by_block(sweep.records, "only"), _by_block(sweep.records, "all-but")
        started = time.perf_counter()
        if options.recommend:
            recommendation = recommend(names, sweep.records[FULL], only, all_but, sweep.verify,
                                       gated=bool(options.compare.gates), max_steps=options.max_fallback_steps)
        else:
            recommendation = {"status": "not-run", "note": "skipped (--no-recommend)", "float_blocks": [], "steps": []}
        timings["recommend"] = round(time.perf_counter() - started, 3)
        provenance_scheduler = scheduler.describe()
    _drop_unchosen_bundles(sweep, recommendation)
    shutil.rmtree(out_dir / PREPARED, ignore_errors=True)
    timings["total"] = round(time.perf_counter() - began, 3)
    records = sweep.records
    document = {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "summary": _summary(blocks, records, recommendation),
        "blocks": [b.to_dict() for b in blocks],
        "swept": [b.name for b in swept],
        "ranking": rank_blocks([b.name for b in swept], only, all_but, records.get(FULL)),
        "heatmap": _heatmap([b.name for b in swept], only),
        "recommendation": {**recommendation, "bundle": (records.get(recommendation.get("variant") or "") or {}).get(
            "bundle")},
        "sizes": _sizes(bundle, records, recommendation),
        "fragile_claims": fragility(list(records.values()), _failing_anywhere(records, recommendation)),
        "variants": [records[name] for name in [*[v.name for v in variants],
                                                *[s["variant"] for s in recommendation.get("steps", [])]]],
        "reference": {"bundle": str(reference.resolve()), "audit": str((out_dir / "reference" / "audit.json").resolve())},
        "options": options.to_dict(),
        "provenance": {"scheduler": provenance_scheduler, "timings": timings, "platform": platform.platform(),
                       "machine": platform.machine(), "cpu_count": os.cpu_count(),
                       "tasks": {name: r.get("run") for name, r in records.items()},
                       "resumed": sorted(name for name, r in records.items() if r.get("resumed"))},
    }
    for record in document["variants"]:
        record.pop("run", None)
        record.pop("resumed", None)
    return write_json(document, out_dir / "sensitivity.json")


def _failing_anywhere(records: dict[str, dict[str, Any]], recommendation: dict[str, Any]) -> list[str]:
    """Claims the full variant or a fallback lost: the ones a reader needs the fragility of."""
    names = [FULL, *[step["variant"] for step in recommendation.get("steps", [])]]
    ids: list[str] = []
    for name in names:
        for claim_id in failing_claims(records.get(name) or {"claims": []}):
            if claim_id not in ids:
                ids.append(claim_id)
    return ids


def _drop_unchosen_bundles(sweep: _Sweep, recommendation: dict[str, Any]) -> None:
    """Fallback steps keep their bundles until the search ends; only the recommended one stays."""
    if sweep.options.keep_variants:
        return
    for step in recommendation.get("steps", []):
        record = sweep.records[step["variant"]]
        if step["variant"] != recommendation.get("variant") and record.get("bundle"):
            shutil.rmtree(record["bundle"], ignore_errors=True)
            record["bundle"] = None


def _summary(blocks: list[Block], records: dict[str, dict[str, Any]], recommendation: dict[str, Any]) -> dict:
    full = records.get(FULL) or {}
    errors = sorted(name for name, r in records.items() if "error" in r)
    return {"blocks": len(blocks), "variants": len(records), "variant_errors": errors,
            "full": None if "error" in full else full.get("counts"),
            "recommendation": recommendation.get("status"),
            "float_blocks": recommendation.get("float_blocks", [])}

