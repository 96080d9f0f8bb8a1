"""Input data is never code: no unpickling, no eval/exec, no remote code unless asked, no paths out of a bundle."""

from __future__ import annotations

import ast
import functools
import inspect
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from edgeaudit.bundle.manifest import validate_manifest
from edgeaudit.errors import BundleError
from edgeaudit.runtime import StoredActivations, StoreError, extract
from tests.reliability.cli import assert_one_error_line, run_edgeaudit

REPO = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("edgeaudit", "probes", "exporters")


@functools.cache
def python_files() -> tuple[Path, ...]:
    files = tuple(path for name in SOURCE_DIRS for path in sorted((REPO / name).rglob("*.py")))
    assert len(files) > 50
    return files


@functools.cache
def syntax_tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


# --- the activation store never unpickles --------------------------------------------------------


class RunsCode:
    """Unpickling this object would run a shell command that leaves ``marker`` behind."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def finished_store(reliability_bundle, tmp_path) -> Path:
    from edgeaudit.bundle import load_bundle

    sentences = [("a", ["The", "cat", "sat", "."]), ("b", ["Dogs", "bark"]), ("c", ["A", "bird"])]
    extract(load_bundle(reliability_bundle), sentences, store_dir=tmp_path / "store", shard_sentences=2,
            progress=False)
    return tmp_path / "store"


def test_shard_replaced_by_a_pickled_object_array_is_refused(finished_store, tmp_path):
    marker = tmp_path / "code-ran"
    victim = finished_store / "shard_00000" / "layer_01.npy"
    size = victim.stat().st_size
    with open(victim, "wb") as handle:  # same size as recorded, so the store still thinks the shard complete
        np.save(handle, np.array([RunsCode(marker)], dtype=object), allow_pickle=True)
        handle.write(b"\0" * max(0, size - handle.tell()))
    assert victim.stat().st_size == size

    store = StoredActivations(finished_store)
    with pytest.raises(StoreError, match=r"shard_00000/layer_01\.npy: unreadable activation file"):
        store.layer(1)
    with pytest.raises(StoreError, match="layer_01.npy"):
        store.sentence(0, 1)
    assert store.layer(0).shape == (8, 32)  # the other layers still read
    assert not marker.exists(), "unpickling ran code from the store"


def test_shard_with_wrong_shape_or_dtype_is_refused(finished_store):
    victim = finished_store / "shard_00001" / "layer_00.npy"
    np.save(victim, np.zeros((2, 32), dtype=np.float64))
    with pytest.raises(StoreError, match=r"holds float64 \(2, 32\), expected float32 \(2, 32\)"):
        StoredActivations(finished_store).layer(0)


def test_numpy_loads_and_saves_forbid_pickle_explicitly():
    """Every np.load/np.save in the source passes allow_pickle=False (the safe choice, stated where it matters)."""
    calls = []
    for path in python_files():
        for node in ast.walk(syntax_tree(path)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("load", "save") and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in ("np", "numpy")):
                flags = {kw.arg: kw.value for kw in node.keywords}
                ok = isinstance(flags.get("allow_pickle"), ast.Constant) and flags["allow_pickle"].value is False
                calls.append((f"{path.relative_to(REPO)}:{node.lineno}", ok))
    assert calls, "expected the activation store's np.load/np.save calls"
    assert [where for where, ok in calls if not ok] == []


UNSAFE_TEXT = {
    "pickle.load": re.compile(r"\b(c?pickle|dill|joblib|marshal|shelve)\.(load|loads|open)\b"),
    "eval(": re.compile(r"(?<![\w.])eval\("),
    "exec(": re.compile(r"(?<![\w.])exec\("),
    "allow_pickle=True": re.compile(r"allow_pickle\s*=\s*True"),
    "yaml.load(": re.compile(r"\byaml\.(unsafe_)?load\("),
    "torch.load(": re.compile(r"\btorch\.load\("),
}


def test_no_unsafe_deserialisation_or_eval_in_the_source():
    found = []
    for path in python_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            found += [f"{path.relative_to(REPO)}:{number}: {name}" for name, pattern in UNSAFE_TEXT.items()
                      if pattern.search(line)]
    assert found == []


#: joblib modules with no loader in them: the audit stops idle worker processes through loky's executor
PROCESS_POOL_ONLY = {"joblib.externals.loky"}


def test_no_eval_exec_or_unpickling_calls_in_the_syntax_tree():
    """The same, by syntax rather than text, so aliases such as ``from pickle import loads`` are caught too."""
    bad = []
    for path in python_files():
        for node in ast.walk(syntax_tree(path)):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec",
                                                                                                   "__import__"):
                bad.append(f"{where}: {node.func.id}()")
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                bad += [f"{where}: import {name}" for name in modules
                        if name.split(".")[0] in ("pickle", "cPickle", "dill", "marshal", "shelve", "joblib")
                        and name not in PROCESS_POOL_ONLY]
    assert bad == []


# --- transformers' remote code is off unless the user asks ---------------------------------------


def test_trust_remote_code_defaults_to_false_everywhere():
    from edgeaudit.exporters.checkpoint import load_checkpoint
    from edgeaudit.exporters.cli import export_command
    from edgeaudit.exporters.options import ExportOptions

    assert ExportOptions().trust_remote_code is False
    assert inspect.signature(load_checkpoint).parameters["trust_remote_code"].default is False
    option = next(param for param in export_command.params if param.name == "trust_remote_code")
    assert option.is_flag and option.opts == ["--trust-remote-code"]
    assert export_command.make_context("export", ["ckpt", "out"]).params["trust_remote_code"] is False
    assert export_command.make_context("export", ["ckpt", "out", "--trust-remote-code"]).params["trust_remote_code"]


def test_every_hugging_face_loader_gets_the_users_choice():
    """Each from_pretrained/from_config/main_export call passes trust_remote_code through, never a literal True."""
    calls = []
    for path in sorted((REPO / "exporters").glob("*.py")):
        for node in ast.walk(syntax_tree(path)):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("from_pretrained", "from_config", "main_export"):
                value = next((kw.value for kw in node.keywords if kw.arg == "trust_remote_code"), None)
                passed = value is not None and not isinstance(value, ast.Constant) and "trust_remote_code" in ast.unparse(value)
                calls.append((f"{path.name}:{node.lineno} {name}", passed))
    assert len(calls) >= 4
    assert [where for where, passed in calls if not passed] == []


@pytest.fixture
def custom_code_checkpoint(tiny_checkpoint, tmp_path) -> tuple[Path, Path]:
    """The tiny BERT checkpoint with a config whose auto_map points at code that leaves a marker when imported."""
    checkpoint = shutil.copytree(tiny_checkpoint("bert"), tmp_path / "custom")
    marker = tmp_path / "custom-code-ran"
    (checkpoint / "configuration_evil.py").write_text(
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
        "from transformers import PretrainedConfig\n\n\n"
        "class EvilConfig(PretrainedConfig):\n"
        "    model_type = 'edgeaudit-evil'\n",
        encoding="utf-8",
    )
    config = json.loads((checkpoint / "config.json").read_text())
    config |= {"model_type": "edgeaudit-evil", "architectures": ["EvilModel"],
               "auto_map": {"AutoConfig": "configuration_evil.EvilConfig", "AutoModel": "modeling_evil.EvilModel"}}
    (checkpoint / "config.json").write_text(json.dumps(config))
    return checkpoint, marker


def isolated_hf_env(tmp_path: Path) -> dict[str, str]:
    """Keep transformers' module cache (where remote code is copied) inside the test's directory."""
    return {**os.environ, "HF_HOME": str(tmp_path / "hf-home"), "HF_MODULES_CACHE": str(tmp_path / "hf-modules"),
            "HF_HUB_OFFLINE": "1"}


def test_custom_code_is_refused_without_the_flag(custom_code_checkpoint, tmp_path, monkeypatch):
    checkpoint, marker = custom_code_checkpoint
    for key, value in isolated_hf_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    result = run_edgeaudit(["export", str(checkpoint), str(tmp_path / "out"), "--exporter", "torchscript"], tmp_path)
    assert_one_error_line(result, (f"{checkpoint / 'config.json'}", "custom code"))
    assert not marker.exists(), "the checkpoint's code ran without --trust-remote-code"
    assert not (tmp_path / "out").exists()


def test_the_flag_reaches_transformers(custom_code_checkpoint, tmp_path, monkeypatch):
    checkpoint, marker = custom_code_checkpoint
    for key, value in isolated_hf_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    result = run_edgeaudit(["export", str(checkpoint), str(tmp_path / "out"), "--exporter", "torchscript",
                            "--trust-remote-code"], tmp_path)
    assert marker.exists(), result.stderr  # the user's explicit choice is honoured
    assert result.returncode == 2 and "modeling_evil" in result.stderr  # the model file itself is absent


# --- manifest paths stay inside the bundle -------------------------------------------------------

ESCAPES = ["../model.onnx", "../../etc/passwd", "/etc/passwd", "sub/../../x", "~/model.onnx", "~root/x",
           "C:\\models\\model.onnx", "C:model.onnx", "\\\\server\\share\\model.onnx", "..\\model.onnx", ".."]
FIELDS = {
    "onnx.file": lambda data, value: data["onnx"].__setitem__("file", value),
    "tokenizer.file": lambda data, value: data["tokenizer"].__setitem__("file", value),
    "onnx.external_data.0": lambda data, value: data["onnx"].__setitem__("external_data", [value]),
}


@pytest.fixture(scope="module")
def good_manifest(reliability_bundle) -> dict:
    return json.loads((reliability_bundle / "edgeaudit.json").read_text())


@pytest.mark.parametrize("field", sorted(FIELDS))
@pytest.mark.parametrize("path", ESCAPES)
def test_manifest_paths_cannot_leave_the_bundle(good_manifest, field, path):
    data = json.loads(json.dumps(good_manifest))
    FIELDS[field](data, path)
    with pytest.raises(BundleError, match=rf"field '{re.escape(field)}' = .* points outside the bundle"):
        validate_manifest(data, source="bundle/edgeaudit.json")


@pytest.mark.parametrize("path", ["model.onnx", "weights/model.onnx", "model..onnx", "./model.onnx"])
def test_plain_relative_paths_are_allowed(good_manifest, path):
    data = json.loads(json.dumps(good_manifest))
    data["onnx"]["file"] = path
    assert validate_manifest(data).onnx_file == path


def test_weights_outside_the_bundle_are_refused_before_onnxruntime_reads_them(reliability_bundle, good_conllu,
                                                                              tmp_path):
    """A graph whose tensor points at ../file (external data inside model.onnx, not in the manifest)."""
    from tests.reliability.bundle_edits import external_weights_at

    bundle = shutil.copytree(reliability_bundle, tmp_path / "bundle")
    external_weights_at("../outside.bin")(bundle)
    for command in (["inspect", "bundle"], ["extract", "bundle", "--data", str(good_conllu), "--out", "o"]):
        assert_one_error_line(run_edgeaudit(command, tmp_path), ("keeps its data in '../outside.bin'",
                                                                 "outside the bundle"))
