"""``edgeaudit sensitivity`` and ``edgeaudit merge`` on the command line: output, files, exit codes, one-line errors."""

from __future__ import annotations

import builtins
import json

import pytest

from edgeaudit.cli import main
from tests.reliability.cli import assert_one_error_line, run_edgeaudit

FAST = ["--probes", "attention", "--max-sentences", "30", "--shuffles", "3", "--bootstrap", "100", "--min-count",
        "10", "--no-fidelity", "-q"]


def test_a_sweep_prints_the_ranking_and_writes_its_reports(tiny_bundle, tmp_path, capsys):
    out = tmp_path / "sens"
    code = main(["sensitivity", str(tiny_bundle("bert")), "-p", "int8-dynamic", "--out", str(out), "--scheduler",
                 "none", "--layers", "1", *FAST])
    printed = capsys.readouterr().out
    assert code == 0
    assert "layer1.attention" in printed and "layer1.mlp" in printed and "layer0.mlp" not in printed
    assert "recommendation:" in printed and "size: float" in printed
    document = json.loads((out / "sensitivity.json").read_text())
    assert document["swept"] == ["layer1.attention", "layer1.mlp"] and len(document["blocks"]) == 4
    assert (out / "sensitivity.md").read_text().startswith("# edgeaudit sensitivity")
    assert "<table" in (out / "sensitivity.html").read_text()
    # the same command again reuses every variant; another sweep into the folder is refused
    assert main(["sensitivity", str(tiny_bundle("bert")), "-p", "int8-dynamic", "--out", str(out), "--scheduler",
                 "none", "--layers", "1", *FAST, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["recommendation"]["status"] in ("holds", "verified")
    assert main(["sensitivity", str(tiny_bundle("bert")), "-p", "int4", "--out", str(out), "--scheduler", "none",
                 *FAST]) == 2
    assert "holds another sensitivity run" in capsys.readouterr().err


def test_merge_on_the_command_line(tiny_bundle, tmp_path, capsys):
    out = tmp_path / "sens"
    assert main(["sensitivity", str(tiny_bundle("bert")), "-p", "int8-dynamic", "--out", str(out), "--scheduler",
                 "none", "--layers", "0", "--mode", "only", "--no-recommend", *FAST]) == 0
    capsys.readouterr()
    variants = out / "variants"
    code = main(["merge", str(out / "reference"), str(variants / "full" / "compare" / "variant"), "--out",
                 str(tmp_path / "m"), "--label", "fp32", "--label", "int8", "--fail-on-disagreement"])
    printed = capsys.readouterr().out
    document = json.loads((tmp_path / "m" / "merge.json").read_text())
    assert code == (1 if document["summary"]["verdicts_differ"] else 0)
    assert f"{document['summary']['claims']} claims over 2 inputs" in printed
    assert (tmp_path / "m" / "merge.html").is_file() and (tmp_path / "m" / "merge.md").is_file()


@pytest.mark.parametrize("args, fragments", [
    (["-p", "fp16"], ("fp16 converts every node", "int8 or int4")),
    (["-p", "int9"], ("unknown preset 'int9'",)),
    (["-p", "int8-dynamic", "--layers", "0-x"], ("--layers",)),
    (["-p", "int8-dynamic", "--scheduler", "yarn"], ("--scheduler", "tcp://")),
    (["-p", "int8-static"], ("needs calibration data", "--calibration")),
])
def test_bad_sweeps_are_one_line_and_exit_2(tiny_bundle, tmp_path, args, fragments):
    result = run_edgeaudit(["sensitivity", str(tiny_bundle("bert")), "--out", str(tmp_path / "o"), *args, *FAST],
                           cwd=tmp_path)
    assert_one_error_line(result, fragments)


def test_without_dask_the_local_scheduler_says_how_to_install_it(tiny_bundle, tmp_path, monkeypatch, capsys):
    bundle = tiny_bundle("bert")  # built before imports are blocked (torch has a package named distributed too)
    capsys.readouterr()  # the export's own output, when this test built the bundle
    real_import = builtins.__import__

    def no_dask(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and (name == "distributed" or name.startswith("distributed.")):
            raise ImportError("No module named 'distributed'")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    code = main(["sensitivity", str(bundle), "-p", "int8-dynamic", "--out", str(tmp_path / "o"),
                 "--scheduler", "local", *FAST])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "pip install 'edgeaudit[distributed]'" in err[0]


def test_without_dask_the_default_is_to_run_in_process(monkeypatch):
    from edgeaudit.sensitivity import schedulers

    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError(name))
                        if name == "distributed" else real_import(name, *a, **k))
    assert schedulers.default_scheduler() == "none"


def test_help_shows_examples_and_exit_codes():
    result = run_edgeaudit(["sensitivity", "--help"], cwd=".")
    assert result.returncode == 0 and "Examples:" in result.stdout and "--scheduler" in result.stdout
    assert "1 no block-level fallback" in result.stdout


def test_a_worker_memory_that_is_not_a_size_is_one_line(tiny_bundle, tmp_path):
    pytest.importorskip("distributed", reason="the [distributed] extra is not installed")
    result = run_edgeaudit(["sensitivity", str(tiny_bundle("bert")), "-p", "int8-dynamic", "--out", str(tmp_path / "o"),
                            "--scheduler", "local", "--worker-memory", "lots", *FAST], cwd=tmp_path)
    assert_one_error_line(result, ("--worker-memory", "'lots'", "2GiB"))
