"""B4/B5: the full default audit from the command line, each run a fresh process.

* B4: peak resident memory of ``edgeaudit audit`` on the whole UD EWT test set (2,077 sentences) vs its first
  200 sentences — memory must not grow with the corpus (streamed attention, on-disk hidden states).
  Measured with ``/usr/bin/time -v`` when present, else ``os.wait4`` on the child (``ru_maxrss``).
  Diagnostic: the same for ``edgeaudit extract`` alone.
* B5: wall time of the full default audit / wall time of ``edgeaudit extract`` on the same data: the whole
  EWT test file, so the audit run of B4 serves B5 too (audits take minutes; running them once keeps
  ``make bench`` within its time).

Every command is ``python -m edgeaudit ...`` in a subprocess with a fresh output directory. The runs of one
repetition are alternated (audit small, audit large, extract large, extract small; then reversed). Further
repetitions happen only while the run's time budget allows (at least one always happens), so B4/B5 may
have fewer than the usual repetitions: the JSON says how many. If the ``audit`` command is not registered
(``edgeaudit audit --help`` fails), the results say "not measured" with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import common

TIME_BIN = "/usr/bin/time"
BUDGET_SECONDS = 600.0  # B4 + B5 together, beyond the first repetition (quick: a quarter)
RUN_ORDER = ("audit-small", "audit-large", "extract-large", "extract-small")


def edgeaudit_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "edgeaudit", *args]


def command_help(name: str) -> tuple[bool, str]:
    try:
        done = subprocess.run(edgeaudit_command(name, "--help"), cwd=common.ROOT, capture_output=True, text=True,
                              timeout=120)
    except (OSError, subprocess.SubprocessError) as error:
        return False, str(error)
    return done.returncode == 0, done.stdout + done.stderr


def _time_supports_verbose() -> bool:
    if not os.access(TIME_BIN, os.X_OK):
        return False
    try:
        done = subprocess.run([TIME_BIN, "-v", "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return "Maximum resident set size" in done.stderr


def run_measured(command: list[str], *, use_time: bool, log_dir: Path) -> dict[str, Any]:
    """Run ``command``: wall seconds, peak RSS (MiB; the largest process of the tree), exit code."""
    stdout_path, stderr_path = log_dir / "stdout.txt", log_dir / "stderr.txt"
    began = time.perf_counter()
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        if use_time:
            report = log_dir / "time.txt"
            code = subprocess.run([TIME_BIN, "-v", "-o", str(report), *command], cwd=common.ROOT, stdout=out,
                                  stderr=err).returncode
            wall = time.perf_counter() - began
            rss_kb = None
            for line in report.read_text(encoding="utf-8", errors="replace").splitlines():
                if "Maximum resident set size" in line:
                    rss_kb = int(line.rsplit(":", 1)[1])
        else:
            process = subprocess.Popen(command, cwd=common.ROOT, stdout=out, stderr=err)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - began
            process.returncode = code = os.waitstatus_to_exitcode(status)
            rss_kb = usage.ru_maxrss  # kilobytes on Linux
    tail = stderr_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return {"exit_code": code, "seconds": round(wall, 3),
            "peak_rss_mib": round(rss_kb / 1024, 1) if rss_kb is not None else None,
            "stderr_tail": tail[-15:] if code not in (0, 1) else []}


def failed(result: dict[str, Any]) -> bool:
    return result["exit_code"] not in (0, 1)  # 1 = a --fail-on gate tripped: the audit still ran


class AuditRuns:
    """The audit/extract subprocess runs that B4 and B5 share (one set per benchmark invocation)."""

    def __init__(self, settings: common.Settings, need_b4: bool, need_b5: bool):
        self.settings = settings
        self.small, self.large = ((common.QUICK_SUBSET // 2, common.QUICK_SUBSET) if settings.quick
                                  else (common.B4_SMALL, None))
        self.bundle = common.ensure_bundles(settings, int8=False)["fp32"]
        self.files, self.data_info = common.conllu_files(settings, [self.small, self.large])
        self.use_time = _time_supports_verbose()
        self.help = {name: command_help(name) for name in ("audit", "extract")}
        wanted = set()
        if need_b4:
            wanted |= {"audit-small", "audit-large", "extract-small", "extract-large"}
        if need_b5:
            wanted |= {"audit-large", "extract-large"}
        if not self.help["audit"][0]:
            wanted = {run for run in wanted if run.startswith("extract")} if need_b4 else set()
        self.plan = [run for run in RUN_ORDER if run in wanted]
        self.rows: list[dict[str, Any]] = []
        self.failure: str | None = None
        self.seconds = 0.0

    def config(self) -> dict[str, Any]:
        return {
            "data": {**self.data_info, "large": str(self.files[self.large]), "small": str(self.files[self.small]),
                     "sizes": {"small": self.small, "large": self.large or "whole file"}},
            "bundle": str(self.bundle),
            "rss_method": "/usr/bin/time -v" if self.use_time else "os.wait4 ru_maxrss",
            "budget_seconds": BUDGET_SECONDS * (0.25 if self.settings.quick else 1.0),
            "run_order": "repetition 1: " + ", ".join(self.plan) + "; then reversed, alternately",
            "timing": "wall time of each command as a fresh process (imports, session opening included)",
        }

    def _one(self, run: str, work: Path) -> dict[str, Any]:
        command_name, size = run.split("-")
        data = self.files[self.small if size == "small" else self.large]
        out, logs = work / f"{run}-out", work / f"{run}-logs"
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir(parents=True)
        quiet = ["--quiet"] if "--quiet" in self.help[command_name][1] else []
        command = edgeaudit_command(command_name, str(self.bundle), "--data", str(data), "--out", str(out), *quiet)
        with common.LoadMeter(children=True) as meter:
            result = run_measured(command, use_time=self.use_time, log_dir=logs)
        result["foreign_share"] = meter.foreign_share
        result["command"] = " ".join(["python -m edgeaudit", *command[3:]])
        result["stage_seconds"] = _stage_seconds(out, command_name)
        shutil.rmtree(out, ignore_errors=True)  # activations of 2,077 sentences are ~0.5 GB
        return result

    def execute(self) -> None:
        if not self.plan:
            return
        settings = self.settings
        budget = BUDGET_SECONDS * (0.25 if settings.quick else 1.0)
        work = Path(tempfile.mkdtemp(prefix="bench-audit.", dir=settings.cache_dir))
        began = time.perf_counter()
        try:
            for rep, order in enumerate(common.alternate(settings.reps, self.plan)):
                row: dict[str, Any] = {"rep": rep, "order": order, "quiet": common.wait_for_quiet(settings)}
                for run in order:
                    row[run] = self._one(run, work)
                    settings.log(f"B4/B5: rep {rep + 1}: {run}: {row[run]['seconds']:.1f} s, peak RSS "
                                 f"{row[run]['peak_rss_mib']} MiB, exit {row[run]['exit_code']}, "
                                 f"other load {row[run]['foreign_share']}")
                    if failed(row[run]):
                        self.failure = f"{run} failed with exit code {row[run]['exit_code']}"
                        self.rows.append(row)
                        return
                self.rows.append(row)
                elapsed = time.perf_counter() - began
                if rep + 1 < settings.reps and elapsed + elapsed / len(self.rows) > budget:
                    settings.log(f"B4/B5: {len(self.rows)} repetition(s): another would overrun {budget:.0f} s")
                    break
        finally:
            self.seconds = time.perf_counter() - began
            shutil.rmtree(work, ignore_errors=True)


def _stage_seconds(out: Path, command_name: str) -> dict[str, Any] | None:
    """The command's own timings: audit.json's per-stage seconds, extraction.json's extraction seconds."""
    import json

    try:
        if command_name == "audit":
            return dict(json.loads((out / "audit.json").read_text(encoding="utf-8"))["provenance"]["timings"])
        summary = json.loads((out / "extraction.json").read_text(encoding="utf-8"))["summary"]
        return {"extract": summary.get("seconds")}
    except (OSError, ValueError, KeyError, TypeError):
        return None


_RUNS: dict[int, AuditRuns] = {}


def _shared_runs(settings: common.Settings) -> AuditRuns:
    """Run the subprocesses once for whichever of B4/B5 this invocation asked for."""
    key = id(settings)
    if key not in _RUNS:
        ids = settings.ids or ("B4", "B5")
        runs = AuditRuns(settings, "B4" in ids, "B5" in ids)
        runs.execute()
        _RUNS[key] = runs
    return _RUNS[key]


def _not_available_note(runs: AuditRuns) -> str:
    return "edgeaudit audit --help: " + " ".join(runs.help["audit"][1].split())[-300:]


def run_b4(settings: common.Settings) -> dict[str, Any]:
    record = common.result_record(
        "B4", title="peak RSS of `edgeaudit audit`: whole EWT test (2,077 sentences) vs its first 200",
        measure="peak RSS on 2,077 sentences / peak RSS on 200 sentences (lower is better)",
        target={"op": "<=", "value": 1.2, "unit": "x"}, settings=settings)
    watch = common.Stopwatch()
    runs = _shared_runs(settings)
    record["config"].update(runs.config())
    record["config"]["repetitions"] = len(runs.rows)
    rows = []
    for row in runs.rows:
        out = {"rep": row["rep"], "order": row["order"], "quiet": row["quiet"]}
        for run in ("audit-small", "audit-large", "extract-small", "extract-large"):
            if run in row:
                out[run] = row[run]
        if "audit-small" in out and "audit-large" in out and not (failed(out["audit-small"]) or failed(out["audit-large"])):
            out["rss_ratio"] = round(out["audit-large"]["peak_rss_mib"] / out["audit-small"]["peak_rss_mib"], 4)
        if "extract-small" in out and "extract-large" in out and not (failed(out["extract-small"]) or failed(out["extract-large"])):
            out["extract_rss_ratio"] = round(out["extract-large"]["peak_rss_mib"] / out["extract-small"]["peak_rss_mib"], 4)
        common.foreign_max(out, [r for r in ("audit-small", "audit-large") if r in out])
        rows.append(out)
    record["repetitions"] = rows
    extract_ratios = [row["extract_rss_ratio"] for row in rows if "extract_rss_ratio" in row]
    record["diagnostics"] = {"extract_rss_ratio": common.summary(extract_ratios) if extract_ratios else None,
                             "extract_peak_rss_mib": {
                                 size: common.summary([row[f"extract-{size}"]["peak_rss_mib"] for row in rows
                                                       if f"extract-{size}" in row]) if rows else None
                                 for size in ("small", "large")}}
    if not runs.help["audit"][0]:
        record["notes"].append(_not_available_note(runs))
        return common.not_measured(record, "audit command not available", watch)
    if runs.failure:
        return common.not_measured(record, f"audit run failed: {runs.failure}", watch)
    ratios = [row["rss_ratio"] for row in rows]
    record["peak_rss_mib"] = {size: common.summary([row[f"audit-{size}"]["peak_rss_mib"] for row in rows])
                              for size in ("small", "large")}
    return common.finish(record, ratios, watch)


def run_b5(settings: common.Settings) -> dict[str, Any]:
    record = common.result_record(
        "B5", title="full default audit wall time vs `edgeaudit extract` wall time, whole EWT test",
        measure="`edgeaudit audit` seconds / `edgeaudit extract` seconds on the same data (lower is better)",
        target={"op": "<=", "value": 3.0, "unit": "x"}, settings=settings)
    watch = common.Stopwatch()
    runs = _shared_runs(settings)
    record["config"].update(runs.config())
    record["config"]["repetitions"] = len(runs.rows)
    record["config"]["data"]["file"] = record["config"]["data"]["large"]
    if not runs.help["audit"][0]:
        record["notes"].append(_not_available_note(runs))
        return common.not_measured(record, "audit command not available", watch)
    rows = []
    for row in runs.rows:
        out = {"rep": row["rep"], "order": [r for r in row["order"] if r in ("audit-large", "extract-large")],
               "quiet": row["quiet"]}
        for run in ("audit-large", "extract-large"):
            if run in row:
                out[run] = row[run]
        common.foreign_max(out, [r for r in ("audit-large", "extract-large") if r in out])
        rows.append(out)
    record["repetitions"] = rows
    if runs.failure:
        return common.not_measured(record, f"{runs.failure}", watch)
    ratios = []
    for row in rows:
        row["ratio"] = round(row["audit-large"]["seconds"] / row["extract-large"]["seconds"], 4)
        ratios.append(row["ratio"])
    record["seconds_per_command"] = {name: common.summary([row[f"{name}-large"]["seconds"] for row in rows])
                                     for name in ("audit", "extract")}
    return common.finish(record, ratios, watch)
