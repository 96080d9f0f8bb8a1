"""--out holds one run: the same run resumes, another is refused unless --overwrite, a busy folder is locked."""

from __future__ import annotations

import fcntl
import json
import os

import pytest

from edgeaudit.cli.out_dir import LOCK_NAME, RUN_NAME, claimed_output, run_identity
from edgeaudit.errors import EdgeAuditError
from tests.reliability.cli import assert_one_error_line, run_edgeaudit

AUDIT = ["--probes", "attention", "--max-sentences", "12", "--min-count", "3", "--bootstrap", "50", "-q"]


def test_the_same_run_resumes_another_is_refused_and_overwrite_starts_afresh(tmp_path):
    with claimed_output(tmp_path / "out", command="audit", identity={"a": 1}, overwrite=False) as out:
        (out / "twin-activations").mkdir()
    with claimed_output(tmp_path / "out", command="audit", identity={"a": 1}, overwrite=False) as out:
        assert (out / "twin-activations").is_dir()  # resuming keeps the finished work
    with pytest.raises(EdgeAuditError, match=r"holds another audit run \(a 1 → 2\).*--overwrite"):
        with claimed_output(tmp_path / "out", command="audit", identity={"a": 2}, overwrite=False):
            pass
    with claimed_output(tmp_path / "out", command="audit", identity={"a": 2}, overwrite=True) as out:
        assert not (out / "twin-activations").exists()  # nothing of the other run is mixed in
    assert json.loads((tmp_path / "out" / RUN_NAME).read_text())["identity"] == {"a": 2}


def test_a_folder_with_foreign_files_or_another_command_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(EdgeAuditError, match="holds no edgeaudit audit run"):
        with claimed_output(tmp_path, command="audit", identity={}, overwrite=False):
            pass
    assert (tmp_path / "notes.txt").read_text() == "mine"
    with claimed_output(tmp_path / "c", command="compare", identity={}, overwrite=False) as out:
        (out / "compare.json").write_text("{}")
    with pytest.raises(EdgeAuditError, match="holds an edgeaudit compare run"):
        with claimed_output(tmp_path / "c", command="audit", identity={}, overwrite=False):
            pass


def test_a_second_process_on_the_same_folder_is_stopped_with_the_holders_pid(tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    with open(out / LOCK_NAME, "w") as handle:
        handle.write("4242")
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_EX)
        pid = os.fork()
        if pid == 0:  # another process, as a second `edgeaudit audit` would be
            try:
                with claimed_output(out, command="audit", identity={}, overwrite=False):
                    os._exit(0)
            except EdgeAuditError as error:
                os._exit(3 if "in use by another edgeaudit run (pid 4242)" in str(error) else 4)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 3


def test_identity_ignores_speed_and_resolves_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = {"bundle_dir": "b", "data": "builtin:ewt", "threads": 2, "quiet": True, "min_count": 5}
    assert run_identity(params, ("bundle_dir", "data")) == {"bundle_dir": str(tmp_path / "b"), "data": "builtin:ewt",
                                                             "min_count": 5}


def test_audit_cli_refuses_another_run_and_overwrite_replaces_it(tmp_path, tiny_bundle):
    bundle = str(tiny_bundle("bert"))
    out = str(tmp_path / "a")
    assert run_edgeaudit(["audit", bundle, "--out", out, *AUDIT], cwd=tmp_path).returncode == 0
    assert run_edgeaudit(["audit", bundle, "--out", out, "--threads", "1", *AUDIT], cwd=tmp_path).returncode == 0
    other = run_edgeaudit(["audit", bundle, "--out", out, *AUDIT, "--seed", "3"], cwd=tmp_path)
    assert_one_error_line(other, ("holds another audit run", "seed 0 → 3", "--overwrite"))
    again = run_edgeaudit(["audit", bundle, "--out", out, *AUDIT, "--seed", "3", "--overwrite"], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "a" / "audit.json").read_text())["options"]["seed"] == 3


def test_a_piped_treebank_is_read_once_and_kept_with_the_run(tmp_path, tiny_bundle):
    import subprocess
    import sys

    row = "{i}\t{w}\t{w}\t{upos}\t_\t_\t{head}\t{rel}\t_\t_\n"
    conllu = "".join(f"# sent_id = p{n}\n" + row.format(i=1, w="Dogs", upos="NOUN", head=2, rel="nsubj")
                     + row.format(i=2, w="bark", upos="VERB", head=0, rel="root")
                     + row.format(i=3, w="loudly", upos="ADV", head=2, rel="advmod") + "\n" for n in range(12))
    command = [sys.executable, "-m", "edgeaudit", "compare", str(tiny_bundle("bert")), str(tiny_bundle("bert")),
               "--data", "-", "--probes", "attention", "--min-count", "3", "--bootstrap", "50", "--no-fidelity",
               "--out", str(tmp_path / "c"), "-q"]
    done = subprocess.run(command, input=conllu, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    kept = tmp_path / "c" / "stdin-data.conllu"
    assert kept.read_text() == conllu
    document = json.loads((tmp_path / "c" / "reference" / "audit.json").read_text())
    assert document["data"]["sentences"] == 12  # not an exhausted, empty second read
    empty = subprocess.run(command[:-3] + ["--out", str(tmp_path / "e")], input="", capture_output=True, text=True,
                           cwd=tmp_path, timeout=120)
    assert empty.returncode == 2 and "standard input is empty" in empty.stderr


def test_a_name_that_is_not_utf8_fails_before_any_work(tmp_path, tiny_bundle):
    import subprocess
    import sys

    out = os.fsencode(tmp_path) + b"/caf\xe9-audit"  # Latin-1 bytes: not UTF-8
    done = subprocess.run([sys.executable.encode(), b"-m", b"edgeaudit", b"audit", os.fsencode(tiny_bundle("bert")),
                           b"--out", out, b"-q"], capture_output=True, cwd=tmp_path, timeout=120)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2 and "Traceback" not in err
    assert "option --out: " in err
    assert "not valid UTF-8" in err and not os.path.exists(out)


def test_a_run_that_fails_before_producing_anything_does_not_hold_the_folder(tmp_path):
    with pytest.raises(EdgeAuditError, match="bad bundle"):
        with claimed_output(tmp_path / "out", command="audit", identity={"bundle": "typo"}, overwrite=False):
            raise EdgeAuditError("bad bundle")
    with claimed_output(tmp_path / "out", command="audit", identity={"bundle": "right"}, overwrite=False):
        pass  # the corrected command is not refused as "another run"


def test_json_output_of_audit_and_compare_is_machine_readable(tmp_path, tiny_bundle):
    bundle = str(tiny_bundle("bert"))
    audit = run_edgeaudit(["audit", bundle, "--out", str(tmp_path / "a"), "--json", *AUDIT], cwd=tmp_path)
    assert audit.returncode == 0, audit.stderr
    parsed = json.loads(audit.stdout)
    assert parsed["file"].endswith("audit.json") and parsed["claims"]
    assert {"id", "text", "verdict", "score"} <= set(parsed["claims"][0])
    variant = run_edgeaudit(["compress", bundle, str(tmp_path / "int8"), "--preset", "int8-dynamic", "-q"],
                            cwd=tmp_path)
    assert variant.returncode == 0, variant.stderr
    compare = run_edgeaudit(["compare", bundle, str(tmp_path / "int8"), "--out", str(tmp_path / "c"), "--json",
                             "--fail-on", "flips>1000", "--no-fidelity", *AUDIT[:-1], "-q"], cwd=tmp_path)
    assert compare.returncode == 0, compare.stderr
    result = json.loads(compare.stdout)
    assert result["gates"] == [{"gate": "flips>1000", "value": result["summary"]["flips"], "tripped": False}]
    assert result["numeric_drift"]["computed"] is True
