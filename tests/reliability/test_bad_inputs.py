"""The bad-input corpus (``cases.py``) run as a user would: every case a subprocess, checked for its outcome.

All selected cases are started together on a small thread pool when the first one is checked (each is a
separate ``python -m edgeaudit`` process), which keeps the whole corpus well under a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.reliability.cases import CASES, Accepted, Case, Counted, Fails
from tests.reliability.cli import assert_one_error_line, assert_success, run_edgeaudit, run_loader

Outcome = tuple[subprocess.CompletedProcess, Path]


def _selected_cases(session: pytest.Session) -> list[Case]:
    cases = []
    for item in session.items:
        case = getattr(getattr(item, "callspec", None), "params", {}).get("case")
        if isinstance(case, Case) and case.pending is None:
            cases.append(case)
    return cases


def _prepare(case: Case, directory: Path, bundle: Path, good: Path) -> list[str]:
    """Write the case's files, break a bundle copy if asked; return the arguments with placeholders filled."""
    for name, content in case.files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    bundle_arg = str(bundle)
    if case.bundle_edit is not None:
        shutil.copytree(bundle, directory / "bundle")
        case.bundle_edit(directory / "bundle")
        bundle_arg = "bundle"
    values = {"{bundle}": bundle_arg, "{good}": str(good), "{out}": "out"}
    return [values.get(arg, arg) for arg in case.args]


def _run(case: Case, args: list[str], directory: Path) -> subprocess.CompletedProcess:
    if case.via == "loader":
        kind, spec = args
        return run_loader(kind, spec, dict(case.options), directory)
    return run_edgeaudit(args, directory)


@pytest.fixture(scope="session")
def corpus_results(request, reliability_bundle, good_conllu, tmp_path_factory) -> dict[str, Outcome]:
    cases = _selected_cases(request.session)
    root = tmp_path_factory.mktemp("bad-inputs")
    prepared = []
    for case in cases:
        directory = root / case.id
        directory.mkdir()
        prepared.append((case, _prepare(case, directory, reliability_bundle, good_conllu), directory))
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {case.id: (pool.submit(_run, case, args, directory), directory) for case, args, directory in prepared}
        return {case_id: (future.result(), directory) for case_id, (future, directory) in futures.items()}


def _listed_skips(case: Case, result: subprocess.CompletedProcess, directory: Path) -> tuple[dict, list[str]]:
    """(skips by kind, skip lines) where this case's outcome is recorded."""
    if case.expect.where == "norms":
        summary = json.loads(result.stdout)
        return summary["skipped_by_kind"], []
    report = json.loads((directory / "out" / "extraction.json").read_text(encoding="utf-8"))
    if case.expect.where == "reader":
        return report["data"]["reader_skipped_by_kind"], report["data"]["reader_skips"]
    summary = report["summary"]
    return summary["skipped_by_kind"], [f"{s['sent_id']}: {s['reason']}" for s in summary["skipped"]]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, corpus_results: dict[str, Outcome]):
    if case.pending is not None:
        pytest.skip(f"pending: {case.pending}")
    result, directory = corpus_results[case.id]
    expect = case.expect
    if isinstance(expect, Fails):
        assert_one_error_line(result, expect.fragments)
        return
    assert_success(result)
    if isinstance(expect, Counted):
        by_kind, lines = _listed_skips(case, result, directory)
        assert by_kind == {expect.kind: 1}, by_kind
        if case.via == "cli":
            assert expect.kind in result.stdout, result.stdout  # the printed summary names the skip
        if expect.fragment:
            assert any(expect.fragment in line for line in lines), lines
    elif isinstance(expect, Accepted):
        if expect.extracted is not None:
            report = json.loads((directory / "out" / "extraction.json").read_text(encoding="utf-8"))
            assert report["summary"]["extracted"] == expect.extracted and report["summary"]["skipped"] == []
            assert report["data"]["reader_skipped"] == 0
        for fragment in expect.stdout:
            assert fragment in result.stdout, result.stdout


def test_corpus_covers_every_input():
    runnable = [case for case in CASES if case.pending is None]
    assert len(runnable) >= 40
    assert len({case.id for case in CASES}) == len(CASES), "case ids must be unique"
    assert {case.input for case in runnable} == {"conllu", "norms", "categories", "bundle", "option"}
    assert {type(case.expect) for case in runnable} == {Fails, Counted, Accepted}
    for case in CASES:
        if case.via == "loader":  # ready to move onto the CLI once `edgeaudit audit` takes norms/categories
            assert case.future_cli or case.pending, case.id
