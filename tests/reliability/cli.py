"""Running edgeaudit as a user does (a subprocess) and checking the one-line error contract.

``run_edgeaudit`` runs ``python -m edgeaudit ...``. ``run_loader`` runs a tiny script that reads a norms or
categories file with ``edgeaudit.data`` inside the same error handling as ``edgeaudit.cli.main``: it stands
in for ``edgeaudit audit --norms/--categories`` until that command exists (cases using it say so).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

TIMEOUT = 180
ERROR_PREFIX = "edgeaudit: error:"

LOADER_SCRIPT = """
import json, sys
from edgeaudit.data import load_categories, load_norms
from edgeaudit.errors import EdgeAuditError

def main(kind, spec, options):
    try:
        if kind == "norms":
            norms = load_norms(spec, **options)
            summary = norms.summary() | {"concept_words": norms.concepts, "feature_names": norms.features}
        else:
            categories = load_categories(spec, **options)
            summary = categories.summary() | {"mapping": categories.mapping}
    except EdgeAuditError as error:  # exactly what edgeaudit.cli.main does with a user error
        print(f"edgeaudit: error: {error.one_line()}", file=sys.stderr)
        return error.exit_code
    print(json.dumps(summary))
    return 0

sys.exit(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3])))
"""


def run_edgeaudit(args: list[str], cwd: Path, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeaudit", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def run_loader(kind: str, spec: str, options: dict[str, Any], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LOADER_SCRIPT, kind, spec, json.dumps(options)], cwd=cwd,
                          capture_output=True, text=True, timeout=TIMEOUT)


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr


def assert_one_error_line(result: subprocess.CompletedProcess, fragments: tuple[str, ...]) -> str:
    """Exit 2, no traceback, and stderr is exactly one ``edgeaudit: error:`` line holding every fragment."""
    assert_no_traceback(result)
    assert result.returncode == 2, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}:\n{result.stderr}"
    assert lines[0].startswith(ERROR_PREFIX), lines[0]
    missing = [fragment for fragment in fragments if fragment not in lines[0]]
    assert not missing, f"{missing} not in: {lines[0]}"
    return lines[0]


def assert_success(result: subprocess.CompletedProcess) -> None:
    assert_no_traceback(result)
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert ERROR_PREFIX not in result.stderr, result.stderr
