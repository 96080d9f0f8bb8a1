"""The CLI's one error boundary: OS errors and bugs become one line and exit 2 (never 1, a tripped gate)."""

from __future__ import annotations

import errno
import importlib

import pytest

from edgeaudit.cli import main, os_error_line
from tests.reliability.cli import assert_one_error_line, run_edgeaudit


def test_an_output_folder_under_a_file_is_one_line_naming_the_path(tmp_path, tiny_bundle):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    result = run_edgeaudit(["audit", str(tiny_bundle("bert")), "--probes", "attention", "--max-sentences", "3",
                            "--out", str(blocker / "out"), "-q"], cwd=tmp_path)
    assert_one_error_line(result, (str(blocker), "not a directory"))


def test_a_directory_where_a_data_file_belongs(tmp_path, tiny_bundle):
    result = run_edgeaudit(["extract", str(tiny_bundle("bert")), "--data", str(tmp_path), "--out",
                            str(tmp_path / "out")], cwd=tmp_path)
    assert_one_error_line(result, (str(tmp_path), "directory"))


def test_os_errors_raised_anywhere_are_one_line_with_the_file_and_what_to_do(monkeypatch, capsys):
    module = importlib.import_module("edgeaudit.cli.datasets_cmd")

    def full_disk():
        raise OSError(errno.ENOSPC, "No space left on device", "/data/out/audit.json")

    monkeypatch.setattr(module, "builtin_datasets", full_disk)
    assert main(["datasets"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["edgeaudit: error: /data/out/audit.json: No space left on device — free some disk space and "
                   "rerun the same command (finished work is reused)"]


def test_a_bug_is_an_internal_error_with_exit_2_and_debug_shows_the_traceback(monkeypatch, capsys):
    module = importlib.import_module("edgeaudit.cli.datasets_cmd")

    def bug():
        raise KeyError("relations")

    monkeypatch.setattr(module, "builtin_datasets", bug)
    assert main(["datasets"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: KeyError: 'relations'" in err and "--debug" in err
    assert "Traceback" not in err
    assert main(["--debug", "datasets"]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err
    monkeypatch.setenv("EDGEAUDIT_DEBUG", "1")
    assert main(["datasets"]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_ctrl_c_is_exit_130_with_a_resume_hint(monkeypatch, capsys):
    module = importlib.import_module("edgeaudit.cli.datasets_cmd")

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "builtin_datasets", interrupted)
    assert main(["datasets"]) == 130
    assert "interrupted — rerun the same command to resume" in capsys.readouterr().err


@pytest.mark.parametrize("code, fragment", [(errno.EACCES, "permissions"), (errno.EROFS, "read-only"),
                                            (errno.ENOTDIR, "is a file, not a directory")])
def test_hints_per_errno(code, fragment):
    line = os_error_line(OSError(code, "reason", "/x/y"))
    assert line.startswith("/x/y: reason — ") and fragment in line


def _mixed_treebank(folder):
    """Six good sentences, one with a head out of range, one too long for the tiny model."""
    good = "# sent_id = ok-{i}\n1\tDogs\tdog\tNOUN\t_\t_\t2\tnsubj\t_\t_\n2\tbark\tbark\tVERB\t_\t_\t0\troot\t_\t_\n\n"
    bad = "# sent_id = bad\n1\tDogs\tdog\tNOUN\t_\t_\t7\tnsubj\t_\t_\n2\tbark\tbark\tVERB\t_\t_\t0\troot\t_\t_\n\n"
    long = "# sent_id = long\n" + "".join(f"{i}\tw\tw\tX\t_\t_\t{0 if i == 1 else 1}\t{'root' if i == 1 else 'dep'}"
                                           f"\t_\t_\n" for i in range(1, 80)) + "\n"
    data = folder / "mixed.conllu"
    data.write_text("".join(good.format(i=i) for i in range(6)) + bad + long, encoding="utf-8")
    return data


def test_compare_says_on_stderr_what_it_skipped_and_why(tmp_path, tiny_bundle):
    bundle = str(tiny_bundle("bert"))
    result = run_edgeaudit(["compare", bundle, bundle, "--data", str(_mixed_treebank(tmp_path)), "--probes",
                            "attention", "--out", str(tmp_path / "c"), "-q", "--min-count", "1", "--bootstrap", "50",
                            "--no-fidelity"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if "skipped" in line]
    assert line.startswith("edgeaudit: skipped 2 of 8 sentences: ") and "compare.json" in line
    assert "1 head-out-of-range" in line and "1 too-long" in line


def test_audit_says_on_stderr_what_it_skipped_and_why(tmp_path, tiny_bundle):
    data = _mixed_treebank(tmp_path)
    result = run_edgeaudit(["audit", str(tiny_bundle("bert")), "--data", str(data), "--probes", "attention",
                            "--out", str(tmp_path / "a"), "-q", "--min-count", "1"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if "skipped" in line]
    assert line.startswith("edgeaudit: skipped 2 of 8 sentences: ")
    assert "1 head-out-of-range" in line and "1 too-long" in line and "audit.json" in line


def test_every_option_a_hint_names_exists_on_the_commands_that_write_output():
    """Hints say "pass --overwrite"; every writing command must accept it (and the old --force still works)."""
    import re
    from pathlib import Path

    import click

    from edgeaudit.cli import COMMANDS, LazyGroup

    root = Path(__file__).resolve().parents[3]
    named = set()
    for source in [*root.glob("edgeaudit/**/*.py"), *root.glob("exporters/**/*.py")]:
        named |= set(re.findall(r"pass (--[a-z][a-z-]+)", source.read_text(encoding="utf-8")))
    group = LazyGroup()
    ctx = click.Context(group)
    options = {name: {opt for param in group.get_command(ctx, name).params for opt in param.opts}
               for name in COMMANDS}
    writers = ("export", "tap", "compress", "extract", "audit", "compare")
    for option in named:
        assert any(option in options[name] for name in COMMANDS), f"a hint names {option}, which no command has"
    for name in writers:
        assert "--overwrite" in options[name], name
    assert all("--force" in options[name] for name in ("export", "tap", "compress"))


def test_a_wrong_bundle_path_is_the_only_line_and_creates_nothing(tmp_path):
    result = run_edgeaudit(["audit", str(tmp_path / "no-such-bundle"), "--out", str(tmp_path / "a")], cwd=tmp_path)
    assert_one_error_line(result, ("no-such-bundle",))  # no "[load] ..." progress line before it
    assert not (tmp_path / "a").exists()
    typo = run_edgeaudit(["audit", str(tmp_path), "--data", "builtin:ewtt", "--out", str(tmp_path / "b")],
                         cwd=tmp_path)
    assert typo.returncode == 2 and not (tmp_path / "b").exists()
