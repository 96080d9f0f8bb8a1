"""The wheel installs one top-level import name, and the package list in pyproject.toml misses no folder."""

from __future__ import annotations

import sys
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]
# repository folder -> the import name it is installed under
PARTS = {"edgeaudit": "edgeaudit", "exporters": "edgeaudit.exporters", "probes": "edgeaudit.probes"}


def _setuptools_config() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _packages_on_disk() -> set[str]:
    """Code folders (with __init__.py) and data folders (schemas, built-in datasets): setuptools warns about a
    data folder it is not told about, so both belong in the list."""
    found = set()
    for folder, import_name in PARTS.items():
        for directory in [REPO / folder, *(REPO / folder).rglob("*")]:
            if not directory.is_dir() or "__pycache__" in directory.parts:
                continue
            if not any(child.is_file() for child in directory.iterdir()):
                continue
            relative = directory.relative_to(REPO / folder).parts
            found.add(".".join((import_name, *relative)))
    return found


def test_every_data_folder_ships_its_files():
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    for package in ("edgeaudit.schemas", "edgeaudit.data.builtin"):
        assert package in data, f"{package}: its files would be left out of the wheel"


def test_every_package_folder_is_listed():
    assert set(_setuptools_config()["packages"]) == _packages_on_disk()


def test_parts_map_to_subpackages_of_one_name():
    assert _setuptools_config()["package-dir"] == {name: folder for folder, name in PARTS.items()}


def test_no_generic_top_level_module_is_imported():
    # Importing the whole tool through its one name must not leave a top-level `probes` or `exporters` behind.
    import edgeaudit.probes  # noqa: F401

    import edgeaudit.cli  # noqa: F401

    assert "probes" not in sys.modules
    assert "exporters" not in sys.modules


def test_the_wheel_holds_one_top_level_name_and_the_packaged_data(tmp_path):
    import subprocess
    import zipfile

    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                           str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [wheel] = tmp_path.glob("edgeaudit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"edgeaudit"}
    for packaged in ("edgeaudit/data/builtin/en_ewt-ud-test.conllu.gz", "edgeaudit/data/builtin/EWT-LICENSE.txt",
                     "edgeaudit/data/builtin/EWT-ATTRIBUTION.txt", "edgeaudit/data/builtin/concepts.csv",
                     "edgeaudit/schemas/audit.schema.json", "edgeaudit/probes/structural.py",
                     "edgeaudit/exporters/export.py"):
        assert packaged in names, packaged
