"""``edgeaudit compare`` as CI runs it: exit 0 (gates pass), 1 (a gate tripped), 2 (bad input), never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from edgeaudit.report.schema import validate_result


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeaudit", "compare", *args], capture_output=True, text=True,
                          timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    # the skip summary is information, printed before the outcome; the error itself is one line
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("edgeaudit: skipped")]
    assert len(lines) == 1 and lines[0].startswith("edgeaudit: error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def broken_audit(broken_comparison):
    _, out = broken_comparison
    return out / "variant"


def test_identical_models_pass_every_gate(reference_audit, tmp_path):
    result = run_cli(str(reference_audit), str(reference_audit), "--out", str(tmp_path), "-q",
                     "--fail-on", "flips>0", "--fail-on", "output_cosine < 0.99")
    assert result.returncode == 0, result.stderr
    # -q silences progress, not the skip summary (sentences too long for the tiny model are reported)
    assert [line.split(":")[0] + ": skipped" for line in result.stderr.splitlines()] == ["edgeaudit: skipped"]
    assert "gate passed: flips>0 (flips = 0)" in result.stdout
    assert "gate passed: output_cosine < 0.99 (output_cosine = 1)" in result.stdout
    document = json.loads((tmp_path / "compare.json").read_text())
    assert document["summary"]["gates_tripped"] == 0 and len(document["gates"]) == 2


def test_a_tripped_gate_exits_1_and_says_which_and_by_how_much(reference_audit, broken_audit, tmp_path):
    result = run_cli(str(reference_audit), str(broken_audit), "--out", str(tmp_path), "-q", "--fail-on", "flips>0",
                     "--fail-on", "breaks>0")
    flips = json.loads((tmp_path / "compare.json").read_text())["summary"]["flips"]
    line = assert_one_line_error(result, 1, f"gate tripped: flips>0 (flips = {flips})")
    assert "breaks" not in line  # only the tripped gate is named
    assert f"gate tripped: flips>0 (flips = {flips})" in result.stdout
    assert "gate passed: breaks>0 (breaks = 0)" in result.stdout
    document = json.loads((tmp_path / "compare.json").read_text())  # written before the exit
    assert [gate["tripped"] for gate in document["gates"]] == [True, False]


def test_gate_file(reference_audit, broken_audit, tmp_path):
    gates = tmp_path / "gates.toml"
    gates.write_text('fail_on = ["max_jsd > 0.5", "min_sqnr_db < 10"]\n')
    result = run_cli(str(reference_audit), str(broken_audit), "--out", str(tmp_path / "out"), "-q", "--gates", str(gates),
                     "--no-fidelity", "--no-applied")
    assert_one_line_error(result, 1, "gate tripped: max_jsd > 0.5 (max_jsd = 0.6")


@pytest.mark.parametrize(("args", "fragments"), [
    (["--fail-on", "flip>0"], ["unknown metric 'flip'", "did you mean 'flips'"]),
    (["--fail-on", "flips >> 0"], ["cannot read gate 'flips >> 0'", "METRIC OP NUMBER"]),
    (["--drift-tolerance", "-1"], ["--drift-tolerance"]),
    (["--probes", "atention"], ["unknown probe 'atention'", "did you mean 'attention'"]),
])
def test_bad_options_are_one_line_and_fail_before_any_work(reference_audit, tmp_path, args, fragments):
    result = run_cli(str(reference_audit), str(reference_audit), "--out", str(tmp_path / "out"), *args)
    assert_one_line_error(result, 2, *fragments)
    assert not (tmp_path / "out").exists()


def test_bad_gate_file_names_file_and_line(reference_audit, tmp_path):
    gates = tmp_path / "gates.toml"
    gates.write_text('fail_on = [\n  "flips>0"\n  "breaks>0",\n]\n')
    result = run_cli(str(reference_audit), str(reference_audit), "--out", str(tmp_path / "out"), "--gates", str(gates))
    assert_one_line_error(result, 2, str(gates), "line 3")


def test_missing_inputs(reference_audit, tmp_path):
    result = run_cli(str(tmp_path / "nowhere"), str(reference_audit), "--out", str(tmp_path / "out"))
    assert_one_line_error(result, 2, "nowhere", "no such reference")
    (tmp_path / "empty").mkdir()
    result = run_cli(str(reference_audit), str(tmp_path / "empty"), "--out", str(tmp_path / "out"))
    assert_one_line_error(result, 2, "neither a bundle", "nor an audit directory")


def test_audits_whose_bundles_are_gone_compare_claims_but_not_numbers(reference_audit, broken_audit, tmp_path):
    moved = tmp_path / "variant-audit"
    shutil.copytree(broken_audit, moved)
    document = json.loads((moved / "audit.json").read_text())
    document["bundle"]["directory"] = str(tmp_path / "deleted-bundle")
    (moved / "audit.json").write_text(json.dumps(document))
    result = run_cli(str(reference_audit), str(moved), "--out", str(tmp_path / "out"), "-q", "--fail-on", "breaks>0",
                     "--no-applied")
    assert result.returncode == 0, result.stderr
    assert "numeric drift: not computed" in result.stdout
    compare = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert compare["numeric_drift"]["computed"] is False and "no longer exists" in compare["numeric_drift"]["note"]
    assert compare["variant"]["bundle"]["available"] is False
    validate_result(compare)
    result = run_cli(str(reference_audit), str(moved), "--out", str(tmp_path / "out2"), "-q",
                     "--fail-on", "output_cosine<0.99", "--no-fidelity", "--no-applied")
    assert_one_line_error(result, 2, "gate output_cosine<0.99 cannot be evaluated")
    assert json.loads((tmp_path / "out2" / "compare.json").read_text())["gates"][0]["tripped"] is None


def test_help_lists_the_metrics():
    result = run_cli("--help")
    assert result.returncode == 0 and "output_cosine_min" in result.stdout and "Exit codes" in result.stdout


def test_compare_imports_no_torch(reference_audit, tmp_path):
    script = ("import json, sys\nfrom edgeaudit.cli import main\n"
              "code = main(['compare', sys.argv[1], sys.argv[1], '--out', sys.argv[2], '-q'])\n"
              "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers'))\n"
              "print(json.dumps({'code': code, 'heavy': heavy}))\n")
    done = subprocess.run([sys.executable, "-c", script, str(reference_audit), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"code": 0, "heavy": []}
