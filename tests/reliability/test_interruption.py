"""Interrupted extractions: SIGKILL mid-run, resume, and damaged shards — the result must be bit-identical.

The corpus is ``builtin:treebank`` (300 sentences) in shards of 8 sentences (38 shards), run through
``extract_driver.py`` (the CLI's code path with a chosen shard size) with one onnxruntime thread, so that
an uninterrupted run is a bitwise reference.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edgeaudit.runtime import StoredActivations
from tests.reliability.cli import assert_success, run_edgeaudit

DRIVER = Path(__file__).with_name("extract_driver.py")
DATA = "builtin:treebank"
SHARD_SENTENCES = 8
N_SHARDS = 38  # ceil(300 / 8)


def driver_command(bundle: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, str(DRIVER), str(bundle), DATA, str(out), "--shard-sentences", str(SHARD_SENTENCES),
            *extra]


def run_driver(bundle: Path, out: Path) -> dict:
    done = subprocess.run(driver_command(bundle, out), capture_output=True, text=True, timeout=300)
    assert_success(done)
    return json.loads(done.stdout.strip().splitlines()[-1])


def stored(out: Path) -> tuple[list[str], np.ndarray, list[np.ndarray]]:
    store = StoredActivations(out / "activations")
    return store.sentence_ids, store.word_offsets, [np.array(store.layer(i)) for i in range(store.num_layers)]


def assert_bitwise_equal(out: Path, reference: Path) -> None:
    ids, offsets, layers = stored(out)
    ref_ids, ref_offsets, ref_layers = stored(reference)
    assert ids == ref_ids
    np.testing.assert_array_equal(offsets, ref_offsets)
    for layer, (got, want) in enumerate(zip(layers, ref_layers, strict=True)):
        assert got.dtype == want.dtype == np.float32 and got.shape == want.shape, layer
        assert got.tobytes() == want.tobytes(), f"layer {layer} differs from the uninterrupted run"


def stamps(store: Path, shards: list[str]) -> dict[str, tuple[int, int]]:
    """(inode, mtime in ns) of every file of the named shard directories."""
    return {str(path.relative_to(store)): (path.stat().st_ino, path.stat().st_mtime_ns)
            for shard in shards for path in sorted((store / shard).iterdir())}


def complete_shards(store: Path) -> list[str]:
    return sorted(path.parent.name for path in store.glob("shard_*/shard.json"))


@pytest.fixture(scope="module")
def reference(reliability_bundle, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    info = run_driver(reliability_bundle, out)
    assert info["complete"] and info["shards_written"] == N_SHARDS
    return out


def kill_when(process: subprocess.Popen, ready, timeout: float = 120.0) -> None:
    """SIGKILL ``process`` as soon as ``ready()``; fail if it finishes first or never gets there."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if ready():
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, f"not killed mid-run (exit {process.returncode})"


def test_sigkill_mid_shard_resumes_without_recomputing_finished_shards(reliability_bundle, reference, tmp_path):
    out = tmp_path / "run"
    store = out / "activations"
    # Pause after each array file: the kill lands while shard 1 has some layer files and no record yet.
    process = subprocess.Popen(driver_command(reliability_bundle, out, "--pause", "0.25"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    kill_when(process, lambda: (store / "shard_00000" / "shard.json").is_file()
              and (store / "shard_00001" / "layer_00.npy").is_file())

    finished = complete_shards(store)
    assert finished and finished[0] == "shard_00000" and len(finished) < N_SHARDS
    assert json.loads((store / "store.json").read_text())["status"] == "in-progress"
    assert not (store / "index.json").exists() and not (out / "extraction.json").exists()
    partial = store / f"shard_{len(finished):05d}"  # the shard being written when the kill came
    partial_layers = {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in partial.glob("layer_*.npy")}
    assert partial_layers or len(finished) > 1, "the kill should land inside shard 1"
    before = stamps(store, finished)

    info = run_driver(reliability_bundle, out)
    assert info["complete"] and info["shards_reused"] == len(finished)
    assert info["shards_written"] == N_SHARDS - len(finished)
    assert stamps(store, finished) == before, "a finished shard was rewritten"
    for name, stamp in partial_layers.items():  # the half-written shard was detected and written again
        now = (partial / name).stat()
        assert (now.st_ino, now.st_mtime_ns) != stamp, f"{partial.name}/{name} was kept from the killed run"
    assert_bitwise_equal(out, reference)
    assert json.loads((out / "extraction.json").read_text())["summary"]["complete"]


def test_truncated_array_in_unfinished_store_is_redone(reliability_bundle, reference, tmp_path):
    out = tmp_path / "run"
    store = out / "activations"
    process = subprocess.Popen(driver_command(reliability_bundle, out, "--pause", "0.05"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    kill_when(process, lambda: (store / "shard_00003" / "shard.json").is_file())
    victim = store / "shard_00002" / "layer_01.npy"
    victim.write_bytes(victim.read_bytes()[:-100])  # as if the disk filled up while writing it
    kept = stamps(store, ["shard_00000", "shard_00001"])

    info = run_driver(reliability_bundle, out)
    assert info["shards_reused"] == 2 and info["shards_written"] == N_SHARDS - 2
    assert stamps(store, ["shard_00000", "shard_00001"]) == kept
    assert_bitwise_equal(out, reference)


def test_truncated_array_in_finished_store_is_redone_by_the_cli(reliability_bundle, tmp_path):
    """The real CLI (one 1024-sentence shard): a damaged finished store is detected on rerun and redone."""
    args = ["extract", str(reliability_bundle), "--data", DATA, "--out", "run", "--quiet", "--threads", "1"]
    assert_success(run_edgeaudit(args, tmp_path))
    reference = tmp_path / "reference"
    shutil.copytree(tmp_path / "run", reference)
    victim = tmp_path / "run" / "activations" / "shard_00000" / "layer_02.npy"
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])

    rerun = run_edgeaudit(args, tmp_path)
    assert_success(rerun)
    assert "1 shards written, 0 reused" in rerun.stdout and "reused     a finished" not in rerun.stdout
    report = json.loads((tmp_path / "run" / "extraction.json").read_text())
    assert report["reused"] is False and report["summary"]["store"]["shards_written"] == 1
    assert_bitwise_equal(tmp_path / "run", reference)
