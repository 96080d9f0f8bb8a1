"""``make edge-check``: prove the device install resolves to binary wheels for an edge platform.

Walks the core (non-extra) dependency closure of the installed ``edgeaudit``, pins each package to the
version installed here, and asks pip for a binary wheel for the target platform with ``--no-deps``.
A package with no wheel for the device means a source build there — on a Raspberry Pi, usually a
failure — so the check fails and names it.

It also imports every module the device commands load lazily (the quantisers of each compress preset) in
a fresh interpreter and fails if one of them pulls a package outside the declared core closure:
onnxruntime's int4 quantiser imports ``onnx_ir`` without declaring it, and only this catches such a miss
on the workstation, where the package happens to be installed anyway.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None  # type: ignore[assignment]

from packaging.markers import default_environment
from packaging.requirements import Requirement

# glibc baselines: manylinux2014 == manylinux_2_17. Raspberry Pi OS 12 ships glibc 2.36, JetPack 6 2.35.
GLIBC_TAGS = ["manylinux2014"] + [f"manylinux_2_{minor}" for minor in range(17, 36)]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# Modules the device side imports only when a command runs: each compress preset's quantiser.
LAZY_DEVICE_MODULES = (
    "edgeaudit.cli",
    "edgeaudit.compress.pipeline",
    "onnxruntime.quantization",
    "onnxruntime.quantization.shape_inference",
    "onnxruntime.quantization.matmul_nbits_quantizer",
    "onnxruntime.transformers.float16",
)
REPO_PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _requirements(name: str, pyproject: Path | None) -> list[str]:
    """Requirement strings of ``name``; for the root, read from ``pyproject`` when given (the source tree,
    which may be newer than the installed metadata)."""
    if pyproject is not None and name == "edgeaudit" and tomllib is not None:
        return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"])
    try:
        return list(metadata.distribution(name).requires or [])
    except metadata.PackageNotFoundError:
        return []


def core_closure(root: str = "edgeaudit", python_version: str = "3.11",
                 pyproject: Path | None = None) -> dict[str, str]:
    """Installed name -> version for every package the core install needs (no extras)."""
    env = default_environment()
    env.update({"python_version": python_version, "platform_machine": "aarch64", "sys_platform": "linux",
                "platform_system": "Linux", "extra": ""})
    found: dict[str, str] = {}
    stack = [root]
    while stack:
        name = stack.pop()
        for text in _requirements(name, pyproject):
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            key = _canonical(req.name)
            if key in found:
                continue
            try:
                found[key] = metadata.version(req.name)
            except metadata.PackageNotFoundError:
                found[key] = ""
            stack.append(req.name)
    return dict(sorted(found.items()))


_IMPORT_SCRIPT = """
import importlib, json, sys
startup = {m.split('.')[0] for m in sys.modules}  # site hooks (e.g. setuptools' _distutils_hack) are not ours
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} - startup)))
"""


def undeclared_imports(closure: dict[str, str], modules: tuple[str, ...] = LAZY_DEVICE_MODULES) -> list[str]:
    """Distributions that importing ``modules`` loads but the core closure does not declare.

    An import that fails outright (the package is absent here) is reported as ``module (not importable)``.
    """
    done = subprocess.run([sys.executable, "-c", _IMPORT_SCRIPT, *modules], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["import failed"])[-1]
        return [f"{last} (not importable)"]
    owners = metadata.packages_distributions()
    allowed = set(closure) | {"edgeaudit"}
    missing = set()
    for top in json.loads(done.stdout):
        if top in sys.stdlib_module_names:
            continue
        dists = {_canonical(d) for d in owners.get(top, [])}
        if dists and not dists & allowed:
            missing |= dists
    return sorted(missing)


def check_wheel(name: str, version: str, platform_arch: str, python_version: str, dest: Path) -> tuple[bool, str]:
    spec = f"{name}=={version}" if version else name
    platforms = [f"{tag}_{platform_arch}" for tag in GLIBC_TAGS]
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
           "--python-version", python_version, "--dest", str(dest), spec]
    for plat in platforms:
        cmd += ["--platform", plat]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        return False, lines[-1] if lines else "no wheel"
    wheels = sorted(dest.glob(f"{_canonical(name).replace('-', '_')}-*.whl"), key=lambda p: p.stat().st_mtime)
    wheels = wheels or sorted(dest.glob("*.whl"), key=lambda p: p.stat().st_mtime)
    return True, wheels[-1].name if wheels else "wheel"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", default="manylinux2014_aarch64",
                        help="target platform; its architecture suffix is kept and every glibc baseline up to 2.35 tried")
    parser.add_argument("--python-version", default="311")
    args = parser.parse_args(argv)
    arch = args.platform.split("_", 1)[1] if args.platform.startswith("manylinux2014_") else args.platform.rsplit("_", 1)[-1]
    py_dotted = f"{args.python_version[0]}.{args.python_version[1:]}"
    closure = core_closure(python_version=py_dotted, pyproject=REPO_PYPROJECT if REPO_PYPROJECT.is_file() else None)
    undeclared = undeclared_imports(closure)
    for name in undeclared:
        print(f"NO  {name}: imported by a device command but not a declared core dependency (add it to pyproject.toml)")
    failures = 0
    newest_glibc = (2, 17)
    with tempfile.TemporaryDirectory() as tmp:
        for name, version in closure.items():
            ok, detail = check_wheel(name, version, arch, args.python_version, Path(tmp))
            failures += not ok
            for minor in re.findall(r"manylinux_2_(\d+)", detail):
                newest_glibc = max(newest_glibc, (2, int(minor)))
            print(f"{'ok ' if ok else 'NO '} {name}=={version or '?'}  {detail}")
    print(f"{len(closure) - failures}/{len(closure)} core packages have {arch} wheels for CPython {py_dotted}; "
          f"highest glibc baseline needed: {newest_glibc[0]}.{newest_glibc[1]}")
    return 1 if failures or undeclared else 0


if __name__ == "__main__":
    sys.exit(main())
