"""``make edge-emulate``'s plumbing: the emulated CPUs' cpuinfo, the guest command line, the report and exit codes.

The emulation itself (minutes to hours under qemu) is not part of the test run; its committed result is checked
for the facts the README quotes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from benchmarks import edge_emulate as ee

ROOT = Path(__file__).resolve().parents[2]


def _cpuinfo_fields(text: str) -> list[dict[str, str]]:
    blocks = []
    for block in text.strip().split("\n\n"):
        fields = {}
        for line in block.splitlines():
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        blocks.append(fields)
    return blocks


@pytest.mark.parametrize("cpu", sorted(ee.CPUS))
def test_cpuinfo_has_one_block_per_core_in_the_arm_kernel_format(cpu):
    blocks = _cpuinfo_fields(ee.CPUS[cpu].cpuinfo(3))
    assert [b["processor"] for b in blocks] == ["0", "1", "2"]
    for block in blocks:
        assert block["CPU implementer"] == "0x41"  # Arm
        assert block["CPU part"] == ee.CPUS[cpu].part
        assert "asimd" in block["Features"].split()


def test_only_the_pi5_cpu_advertises_int8_dot_product():
    """The dot-product kernels are what make int8 differ between the two boards' CPUs, when they differ."""
    assert "asimddp" in ee.CPUS["cortex-a76"].features.split()
    assert "asimddp" not in ee.CPUS["cortex-a72"].features.split()
    assert ee.CPUS["cortex-a76"].part == "0xd0b" and ee.CPUS["cortex-a72"].part == "0xd08"


def _run(tmp_path: Path) -> ee.Run:
    return ee.Run(work=tmp_path, cpus=["cortex-a76"], sentences=10, min_count=5, bootstrap=10,
                  results=tmp_path / "r.json", report=tmp_path / "r.md")


def test_guest_command_binds_cpuinfo_and_host_folders_at_their_own_paths(tmp_path):
    run = _run(tmp_path)
    command = ee.guest_command(run, "cortex-a72", ["/opt/venv/bin/edgeaudit", "--version"])
    assert command[:3] == ["proot", "-q", "qemu-aarch64-static -cpu cortex-a72"]
    assert command[command.index("-r") + 1] == str(tmp_path / "rootfs")
    binds = [command[i + 1] for i, part in enumerate(command) if part == "-b"]
    assert f"{tmp_path / 'cpuinfo-cortex-a72'}:/proc/cpuinfo" in binds
    assert binds.index(f"{tmp_path / 'cpuinfo-cortex-a72'}:/proc/cpuinfo") > binds.index("/proc")  # bound over it
    assert str(run.bundles) in binds and str(run.runs) in binds  # same path inside (proot and faccessat2)
    assert command[-2:] == ["/opt/venv/bin/edgeaudit", "--version"]
    written = _cpuinfo_fields((tmp_path / "cpuinfo-cortex-a72").read_text())
    assert written[0]["CPU part"] == "0xd08"


def test_no_host_file_is_bound_and_setup_binds_no_work_folders(tmp_path):
    """The guest's package scripts write through bound files (update-ca-certificates once replaced the
    workstation's CA bundle that way): only folders and the generated cpuinfo are bound."""
    run = _run(tmp_path)
    command = ee.guest_command(run, "cortex-a76", ["true"], bind_work=False)
    binds = [command[i + 1] for i, part in enumerate(command) if part == "-b"]
    assert binds == ["/dev", "/proc", "/sys", f"{tmp_path / 'cpuinfo-cortex-a76'}:/proc/cpuinfo"]


def test_the_ca_bundle_is_copied_into_the_guest_not_bound(tmp_path, monkeypatch):
    host = tmp_path / "host-ca.crt"
    host.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    monkeypatch.setattr(ee, "HOST_CA_BUNDLE", host)
    run = _run(tmp_path)
    env = ee.copy_ca_bundle(run)
    copy = run.rootfs / ee.GUEST_CA_BUNDLE.lstrip("/")
    assert env == {"PIP_CERT": ee.GUEST_CA_BUNDLE} and copy.read_text(encoding="utf-8") == host.read_text()
    copy.write_text("overwritten by the guest", encoding="utf-8")
    assert host.read_text(encoding="utf-8").startswith("-----BEGIN")
    monkeypatch.setattr(ee, "HOST_CA_BUNDLE", tmp_path / "absent.crt")
    assert ee.copy_ca_bundle(run) == {}


def test_guest_env_keeps_the_workstation_pip_settings_out(monkeypatch):
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    monkeypatch.setenv("PIP_CONSTRAINT", "/etc/xdg/pip/constraints.txt")
    monkeypatch.setenv("https_proxy", "http://proxy:3128")
    env = ee.guest_env()
    assert "PIP_FIND_LINKS" not in env and "PIP_CONSTRAINT" not in env
    assert env["https_proxy"] == "http://proxy:3128"
    assert env["PATH"].startswith(f"{ee.GUEST_VENV}/bin:") and "PIP_CERT" not in env


def test_no_cpu_is_qemus_max_model():
    """qemu 7.2's ``-cpu max`` computes wrong int8 results: only named board CPUs may be emulated."""
    assert "max" not in ee.CPUS
    with pytest.raises(SystemExit):
        ee.main(["--cpu", "max"])


def test_a_failing_step_names_its_command_and_shows_the_output_tail(tmp_path):
    run = _run(tmp_path)
    script = "import sys; print('\\n'.join(f'line {i}' for i in range(40))); sys.exit(3)"
    with pytest.raises(ee.StepFailed) as caught:
        ee.run_step("demo-step", [sys.executable, "-c", script], run)
    message = str(caught.value)
    assert message.startswith("demo-step failed (exit 3)") and "line 39" in message and "line 10\n" not in message
    assert "demo-step" in run.timings


def test_a_step_may_accept_the_gate_exit_code(tmp_path):
    done = ee.run_step("gate", [sys.executable, "-c", "import sys; sys.exit(1)"], _run(tmp_path), ok_codes=(0, 1))
    assert done.returncode == 1


def test_preflight_refuses_a_non_x86_host(monkeypatch):
    monkeypatch.setattr(ee.platform, "machine", lambda: "aarch64")
    with pytest.raises(ee.StepFailed, match="x86-64 Linux workstation"):
        ee.preflight()


# ------------------------------------------------------------------------------------------- report and exit


def _merge_document(verdicts: dict[str, str], gates: dict[str, bool] | None = None) -> dict:
    labels = list(verdicts)
    agree = len(set(verdicts.values())) == 1
    row = {"text": "head 2.8 tracks nsubj (dependent → head)", "verdicts_agree": agree, "numbers_differ": True,
           "score_spread": 0.01 * (len(labels) - 1),
           "cells": {label: {"verdict": v, "score": 0.6 + 0.01 * i, "id": f"head:{i}"}
                     for i, (label, v) in enumerate(verdicts.items())}}
    summary = {"inputs": len(labels), "claims": 1, "verdicts_agree": int(agree), "verdicts_differ": int(not agree),
               "numbers_differ": 1, "subjects_differ": 0, "max_score_spread": 0.01 * (len(labels) - 1)}
    inputs = [{"label": label} for label in labels]
    if gates is not None:
        summary["gates_differ"] = ["flips>0"] if len(set(gates.values())) > 1 else []
        for record in inputs:
            record["gates"] = [{"expression": "flips>0", "value": 1, "tripped": gates[record["label"]]}]
            record["summary"] = {"survives": 5, "drifts": 1, "breaks": 0, "flips": int(gates[record["label"]])}
    activations = {"reference": labels[0], "compared_words": 100,
                   "inputs": [{"label": label, "layers": [{"layer": 0, "max_abs_diff": 0.0, "mean_abs_diff": 0.0,
                                                           "relative": 0.0, "exceeds": False},
                                                          {"layer": 1, "max_abs_diff": 0.3, "mean_abs_diff": 0.02,
                                                           "relative": 0.01, "exceeds": True}]}
                              for label in labels[1:]]}
    return {"summary": summary, "claims": [row], "inputs": inputs, "activations": activations}


def _summary(fp32: dict[str, str], tmp_path: Path) -> dict:
    run = _run(tmp_path)
    run.timings.update({"x86-audit-fp32": 10.0, "a76-audit-fp32": 200.0})
    merged = {"fp32": {"document": _merge_document(fp32)},
              "int8": {"document": _merge_document({"x86": "supported", "a76": "artifact"})},
              "compare": {"document": _merge_document({"x86": "supported", "a76": "supported"},
                                                      gates={"x86": False, "a76": True})}}
    platforms = [{"label": "x86"}, {"label": "a76"}]
    install = {"wheels": 38, "source_distributions": 0, "download_mb": 106.0, "venv_mb": 551.0, "largest": ["x"],
               "first_run_s": {"device-download": 60.0, "device-install": 180.0}}
    run.timings.update({"rootfs-second-stage": 360.0, "device-download": 30.0, "device-install": 10.0})
    facts = {"qemu": "7.2.22", "proot": "proot 5.1.0", "host": "Linux x86_64", "host_cpu": "AMD EPYC"}
    return ee.summarise(run, facts, install, platforms, merged)


def test_fp32_disagreement_is_recorded_and_agreement_is_not(tmp_path):
    assert _summary({"x86": "supported", "a76": "supported"}, tmp_path)["fp32_agrees"] is True
    result = _summary({"x86": "supported", "a76": "artifact"}, tmp_path)
    assert result["fp32_agrees"] is False
    assert result["merges"]["fp32"]["verdicts_differ"][0]["cells"]["a76"]["verdict"] == "artifact"


def test_report_shows_verdict_changes_gate_outcomes_and_layer_differences(tmp_path):
    text = ee.render_report(_summary({"x86": "supported", "a76": "supported"}, tmp_path))
    assert "## fp32: the platforms agree" in text
    assert "| head 2.8 tracks nsubj (dependent → head) | supported 0.600 (head:0) | artifact 0.610 (head:1) |" in text
    assert "different outcome on the device than on the workstation: `flips>0`" in text
    assert "| 1 | 0.02 / 0.01 / 0.3 |" in text
    assert "Scores that differ (same verdicts):" in text  # fp32 agrees in verdict here, but not in score
    assert "| head 2.8 tracks nsubj (dependent → head) | 0.6000 | 0.6100 |" in text
    assert "| audit-fp32 | 10.0 s | 200.0 s |" in text
    assert "on a fresh guest: download 60.0 s, install 180.0 s (this run, cached: 30.0 s and 10.0 s)" in text
    # this run: 10 + 200 + 30 + 10 s = 4 min; a first run adds 360 s of root file system and 200 s more install: 13.5
    assert "This run took 4 min; a first run on a fresh machine adds" in text and "about 14 min in all" in text
    disagree = ee.render_report(_summary({"x86": "supported", "a76": "artifact"}, tmp_path))
    assert "## fp32: THE PLATFORMS DISAGREE" in disagree


def test_the_committed_result_backs_the_report():
    """The committed figures: fp32 agrees on every platform, and the report was rendered from that very JSON."""
    path = ROOT / "benchmarks" / "results" / "edge-emulate.json"
    if not path.is_file():
        pytest.skip("benchmarks/results/edge-emulate.json not committed yet (run make edge-emulate)")
    result = json.loads(path.read_text(encoding="utf-8"))
    assert result["fp32_agrees"] is True
    assert result["install"]["source_distributions"] == 0
    assert (ROOT / "docs" / "edge-emulate.md").read_text(encoding="utf-8") == ee.render_report(result)


CRASH_ONCE = """
import sys
from pathlib import Path
marker = Path(sys.argv[1])
if not marker.exists():
    marker.write_text("crashed")
    print("realloc(): invalid pointer\\nqemu: uncaught target signal 11 (Segmentation fault) - core dumped",
          file=sys.stderr)
    sys.exit(0)  # proot reports a signal-killed program as exit 0
Path(sys.argv[2]).write_text("{}")
"""


def test_an_emulator_crash_with_exit_0_is_run_again_and_recorded(tmp_path):
    run = _run(tmp_path)
    out = tmp_path / "compare.json"
    ee.run_step("a76-compare", [sys.executable, "-c", CRASH_ONCE, str(tmp_path / "marker"), str(out)], run,
                expect=out)
    assert out.is_file() and run.crashes[0]["step"] == "a76-compare" and run.crashes[0]["attempt"] == 1
    assert "signal 11" in run.crashes[0]["message"]


def test_a_crash_that_keeps_coming_back_or_a_missing_output_fails_the_step(tmp_path):
    run = _run(tmp_path)
    always = "import sys; print('qemu: uncaught target signal 11', file=sys.stderr)"
    with pytest.raises(ee.StepFailed, match="the emulated program crashed"):
        ee.run_step("a72-audit-int8", [sys.executable, "-c", always], run)
    assert len(run.crashes) == ee.CRASH_RETRIES + 1
    with pytest.raises(ee.StepFailed, match="was not written"):
        ee.run_step("quiet", [sys.executable, "-c", "pass"], run, expect=tmp_path / "audit.json")



def test_report_states_emulator_crashes(tmp_path):
    result = _summary({"x86": "supported", "a76": "supported"}, tmp_path)
    assert "emulator crashed" not in ee.render_report(result)
    result["emulator_crashes"] = [{"step": "a76-compare", "attempt": 1,
                                   "message": "qemu: uncaught target signal 11 (Segmentation fault) - core dumped"}]
    text = ee.render_report(result)
    assert "The emulator crashed 1 time(s) in this run and the step was run again: a76-compare (attempt 1:" in text
