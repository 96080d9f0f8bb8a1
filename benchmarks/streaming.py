"""B9 (issue 18): memory does not grow with the corpus — peak RSS of ``edgeaudit extract`` at 20,000 vs 200
sentences.

The large corpus is the small one (EWT test's first 200 sentences) repeated 100 times under fresh sentence
ids, so both runs see exactly the same sentence lengths and only the count differs: a longer corpus of other
sentences would also change the longest batch, and with it onnxruntime's working memory, which is not what
this measures. Diagnostic: ``edgeaudit audit --probes attention`` on the same two files (the audit keeps every
sentence's tree for its claims, so it is expected to grow; it is reported, not targeted).

Each command is a fresh process measured as in B4 (``/usr/bin/time -v`` or ``os.wait4``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.audit import _time_supports_verbose, edgeaudit_command, failed, run_measured

SMALL = 200
COPIES = 100  # 200 x 100 = 20,000 sentences


def _repeated_file(small: Path, target: Path, copies: int) -> Path:
    blocks = [block for block in small.read_text(encoding="utf-8").split("\n\n") if block.strip()]
    if target.is_file() and target.stat().st_size > 0:
        return target
    with open(target, "w", encoding="utf-8") as out:
        for copy in range(copies):
            for block in blocks:
                out.write(re.sub(r"^# sent_id = (.*)$", rf"# sent_id = copy{copy}-\1", block, flags=re.M) + "\n\n")
    return target


def run(settings: common.Settings) -> dict[str, Any]:
    copies = 5 if settings.quick else COPIES
    record = common.result_record(
        "B9", title=f"peak RSS of `edgeaudit extract`: {SMALL * copies:,} vs {SMALL} sentences (same sentences, "
                    "repeated)",
        measure=f"peak RSS on {SMALL * copies} sentences / peak RSS on {SMALL} (lower is better)",
        target={"op": "<=", "value": 1.2, "unit": "x"}, settings=settings)
    watch = common.Stopwatch()
    bundle = common.ensure_bundles(settings, int8=False)["fp32"]
    files, data_info = common.conllu_files(settings, [SMALL])
    small = files[SMALL]
    large = _repeated_file(small, settings.cache_dir / "data" / f"{small.stem}-x{copies}.conllu", copies)
    use_time = _time_supports_verbose()
    record["config"].update({"data": {**data_info, "small": str(small), "large": str(large),
                                      "sentences": {"small": SMALL, "large": SMALL * copies}},
                             "bundle": str(bundle), "repetitions": 1,
                             "rss_method": "/usr/bin/time -v" if use_time else "os.wait4 ru_maxrss"})
    row: dict[str, Any] = {"rep": 0}
    work = Path(tempfile.mkdtemp(prefix="edgeaudit-b9-"))
    try:
        for command in ("extract", "audit"):
            for size, data in (("small", small), ("large", large)):
                name = f"{command}-{size}"
                out, logs = work / f"{name}-out", work / f"{name}-logs"
                logs.mkdir(parents=True)
                args = [command, str(bundle), "--data", str(data), "--out", str(out), "--quiet"]
                if command == "audit":
                    args += ["--probes", "attention"]
                settings.log(f"B9: {name} ({SMALL if size == 'small' else SMALL * copies} sentences)")
                row[name] = run_measured(edgeaudit_command(*args), use_time=use_time, log_dir=logs)
                shutil.rmtree(out, ignore_errors=True)
                settings.log(f"B9: {name}: {row[name]['seconds']:.0f} s, peak RSS {row[name]['peak_rss_mib']} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for command in ("extract", "audit"):
        small_run, large_run = row[f"{command}-small"], row[f"{command}-large"]
        if not (failed(small_run) or failed(large_run)):
            row[f"{command}_rss_ratio"] = round(large_run["peak_rss_mib"] / small_run["peak_rss_mib"], 4)
    record["repetitions"] = [row]
    if "extract_rss_ratio" not in row:
        return common.not_measured(record, "an extract run failed: " + " | ".join(
            row["extract-small"]["stderr_tail"][-2:] + row["extract-large"]["stderr_tail"][-2:]), watch)
    record["diagnostics"] = {"audit_attention_rss_ratio": row.get("audit_rss_ratio"),
                             "peak_rss_mib": {name: row[name]["peak_rss_mib"] for name in
                                              ("extract-small", "extract-large", "audit-small", "audit-large")}}
    return common.finish(record, [row["extract_rss_ratio"]], watch)
