"""Manifest validation and bundle loading: every broken bundle is named precisely, field by field."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from edgeaudit.bundle import load_bundle, load_manifest
from edgeaudit.errors import BundleError
from tests.conftest import write_tiny_bundle


@pytest.fixture(scope="module")
def good_bundle(request, tmp_path_factory):
    return write_tiny_bundle(request, "bert", tmp_path_factory.mktemp("manifest") / "bundle")


@pytest.fixture
def bundle_copy(good_bundle, tmp_path):
    return shutil.copytree(good_bundle, tmp_path / "bundle")


def edit_manifest(bundle_dir, edit):
    path = bundle_dir / "edgeaudit.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["model"].__setitem__("num_layers", "two"), r"field 'model.num_layers': 'two' is not of type 'integer'"),
        (lambda d: d["model"].pop("num_heads"), r"field 'model': 'num_heads' is missing"),
        (lambda d: d["onnx"].__setitem__("colour", "blue"), r"field 'onnx': .*'colour'.* not allowed"),
        (lambda d: d.__setitem__("schema_version", 99), r"field 'schema_version': 1 was expected"),
        (lambda d: d["tokenizer"].__setitem__("padding_side", "middle"), r"field 'tokenizer.padding_side'"),
        (lambda d: d["onnx"].__setitem__("sha256", "xyz"), r"field 'onnx.sha256'"),
        (lambda d: d["taps"]["attention"].pop(), r"field 'taps.attention' lists 1 outputs, expected attention_0..attention_1"),
        (lambda d: d["onnx"].__setitem__("file", "../model.onnx"), r"field 'onnx.file' = '../model.onnx' points outside"),
        (lambda d: d["tokenizer"].__setitem__("file", "/etc/passwd"), r"field 'tokenizer.file' = '/etc/passwd' points outside"),
    ],
)
def test_wrong_manifest_fields_are_named(bundle_copy, edit, message):
    edit_manifest(bundle_copy, edit)
    with pytest.raises(BundleError, match=message):
        load_manifest(bundle_copy)


def test_good_bundle_loads(good_bundle):
    bundle = load_bundle(good_bundle)
    assert bundle.manifest.variant == "fp32"
    assert bundle.manifest.attention_taps == ["attention_0", "attention_1"]


def test_not_json(bundle_copy):
    (bundle_copy / "edgeaudit.json").write_text('{"schema": ')
    with pytest.raises(BundleError, match=r"edgeaudit.json:1: invalid JSON"):
        load_manifest(bundle_copy)


def test_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match="not a bundle"):
        load_bundle(tmp_path)
    with pytest.raises(BundleError, match="no such bundle directory"):
        load_bundle(tmp_path / "missing")


def test_sha256_mismatch(bundle_copy):
    with open(bundle_copy / "model.onnx", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError, match="'onnx.sha256' does not match model.onnx"):
        load_bundle(bundle_copy)


def test_missing_model_file(bundle_copy):
    (bundle_copy / "model.onnx").unlink()
    with pytest.raises(BundleError, match="names model.onnx, which is not in the bundle"):
        load_bundle(bundle_copy)


def test_tokenizer_for_a_larger_vocabulary_is_refused(bundle_copy):
    edit_manifest(bundle_copy, lambda d: d["model"].__setitem__("vocab_size", 10))
    with pytest.raises(BundleError, match="tokenizer has \\d+ tokens but the model's vocabulary .* has 10"):
        load_bundle(bundle_copy)


def test_corrupt_tokenizer(bundle_copy):
    (bundle_copy / "tokenizer.json").write_text("{not json")
    with pytest.raises(BundleError, match="tokenizer.json: cannot be read"):
        load_bundle(bundle_copy)


def test_graph_without_the_taps_is_refused(bundle_copy):
    import onnx

    from edgeaudit.bundle import sha256_of

    model = onnx.load(str(bundle_copy / "model.onnx"))
    keep = [o for o in model.graph.output if not o.name.startswith("attention_")]
    del model.graph.output[:]
    model.graph.output.extend(keep)
    onnx.save(model, str(bundle_copy / "model.onnx"))
    edit_manifest(bundle_copy, lambda d: d["onnx"].__setitem__("sha256", sha256_of(bundle_copy / "model.onnx")))
    with pytest.raises(BundleError, match="graph lacks tap output\\(s\\) attention_0, attention_1"):
        load_bundle(bundle_copy)


def test_corrupt_protobuf(bundle_copy):
    from edgeaudit.bundle import sha256_of

    (bundle_copy / "model.onnx").write_bytes(b"\x08\x07garbage" * 10)
    edit_manifest(bundle_copy, lambda d: d["onnx"].__setitem__("sha256", sha256_of(bundle_copy / "model.onnx")))
    with pytest.raises(BundleError, match="not a readable ONNX model"):
        load_bundle(bundle_copy)


def test_inspect_cli_prints_and_validates(good_bundle, bundle_copy):
    ok = subprocess.run([sys.executable, "-m", "edgeaudit", "inspect", str(good_bundle)], capture_output=True, text=True)
    assert ok.returncode == 0 and "valid: yes" in ok.stdout and "2 layers x 4 heads" in ok.stdout
    as_json = subprocess.run([sys.executable, "-m", "edgeaudit", "inspect", str(good_bundle), "--json"],
                             capture_output=True, text=True)
    assert json.loads(as_json.stdout)["model"]["num_layers"] == 2
    edit_manifest(bundle_copy, lambda d: d["model"].__setitem__("causal", "no"))
    bad = subprocess.run([sys.executable, "-m", "edgeaudit", "inspect", str(bundle_copy)], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().count("\n") == 0 and "model.causal" in bad.stderr
