"""``python -m benchmarks [--only B1,B3] [--quick] [--results-dir DIR]``: run, write JSON, refresh the README."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from benchmarks import common

IDS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10")


def _runner(bench_id: str):
    if bench_id in ("B1", "B2"):
        from benchmarks import throughput

        return lambda settings: throughput.run(settings, "fp32" if bench_id == "B1" else "int8")
    if bench_id == "B3":
        from benchmarks import taps

        return taps.run
    if bench_id in ("B4", "B5"):
        from benchmarks import audit

        return audit.run_b4 if bench_id == "B4" else audit.run_b5
    if bench_id == "B7":
        from benchmarks import llm_audit

        return llm_audit.run
    if bench_id == "B8":
        from benchmarks import scaling

        return scaling.run
    if bench_id == "B9":
        from benchmarks import streaming

        return streaming.run
    if bench_id == "B10":
        from benchmarks import sweep

        return sweep.run
    from benchmarks import roofline

    return roofline.run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", default=",".join(IDS), help="comma-separated ids, e.g. B1,B3 (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help=f"~{common.QUICK_SUBSET} sentences and {common.QUICK_REPS} repetitions (a smoke run)")
    parser.add_argument("--results-dir", type=Path, default=common.DEFAULT_RESULTS,
                        help="where <id>.json goes; the README table is refreshed only for the default directory")
    parser.add_argument("--cache-dir", type=Path, default=common.DEFAULT_CACHE,
                        help="exported bundles and data subsets (git-ignored)")
    parser.add_argument("--reps", type=int, default=0, help="repetitions (default 5, quick 2)")
    parser.add_argument("--threads", type=int, default=0, help="threads on every side (default: cores available)")
    parser.add_argument("--sentences", type=int, default=0,
                        help=f"sentences for B1/B2/B3/B5/B6 (default {common.FULL_SUBSET}, quick {common.QUICK_SUBSET})")
    args = parser.parse_args(argv)
    args.ids = [item.strip().upper() for item in args.only.split(",") if item.strip()]
    unknown = [item for item in args.ids if item not in IDS]
    if unknown:
        parser.error(f"--only: unknown id(s) {', '.join(unknown)} (known: {', '.join(IDS)})")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("EDGEAUDIT_DATA", str(common.ROOT.parent / "shared" / "data"))
    # The audits (B4/B5, B7's decoder, then B8's series) go last: they are the long ones; B4/B5 spend whatever budget is left.
    long = ("B4", "B5", "B7", "B8")
    ids = [i for i in IDS if i in args.ids and i not in long] + [i for i in long if i in args.ids]
    settings = common.Settings(quick=args.quick, results_dir=args.results_dir, cache_dir=args.cache_dir,
                               threads=args.threads, reps=args.reps, subset=args.sentences, ids=tuple(ids))
    began = time.perf_counter()
    failures = []
    for bench_id in ids:
        settings.log(f"== {bench_id} ==")
        try:
            record = _runner(bench_id)(settings)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            failures.append(bench_id)
            settings.log(f"{bench_id}: FAILED\n{traceback.format_exc()}")
            continue
        path = common.write_result(settings, record)
        s = record.get("summary") or {}
        line = f"{bench_id}: {record['status']}"
        if record["status"] == "measured" and s:
            line += f", median {s['median']} (min {s['min']}, max {s['max']}, n {s['n']})"
            if "met" in s:
                line += ", target met" if s["met"] else ", TARGET MISSED"
        elif record.get("reason"):
            line += f": {record['reason']}"
        print(f"{line} -> {path}", flush=True)
    if settings.results_dir.resolve() == common.DEFAULT_RESULTS.resolve():
        from benchmarks.report import update_readme

        update_readme(settings.results_dir)
        settings.log(f"updated {common.README}")
    settings.log(f"done in {time.perf_counter() - began:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
