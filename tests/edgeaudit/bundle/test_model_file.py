"""Model layout on disk: large weights beside the graph, and one hash over graph and weights."""

from __future__ import annotations

import shutil

import onnx
import pytest

from edgeaudit.bundle import load_bundle, model_file, sha256_of
from edgeaudit.bundle.model_file import model_sha256, split_if_large
from edgeaudit.errors import BundleError


def test_single_file_hash_is_the_file_hash(tiny_bundle):
    directory = tiny_bundle("bert")
    assert model_sha256(directory, "model.onnx") == sha256_of(directory / "model.onnx")


def test_split_only_above_the_threshold(tiny_bundle, tmp_path, monkeypatch):
    path = shutil.copy(tiny_bundle("bert") / "model.onnx", tmp_path / "model.onnx")
    before = onnx.load(str(path))
    assert split_if_large(path) == []  # a tiny model stays one file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
    monkeypatch.setattr(model_file, "EXTERNAL_DATA_MIN_BYTES", 1)
    assert split_if_large(path) == ["model.onnx.data"]
    after = onnx.load(str(path))  # external data loaded back
    assert [t.name for t in after.graph.initializer] == [t.name for t in before.graph.initializer]
    assert all(a.raw_data == b.raw_data for a, b in zip(after.graph.initializer, before.graph.initializer, strict=True))
    assert (tmp_path / "model.onnx.data").stat().st_size > 10_000


def test_saving_twice_does_not_append_to_the_data_file(tiny_bundle, tmp_path, monkeypatch):
    monkeypatch.setattr(model_file, "EXTERNAL_DATA_MIN_BYTES", 1)
    model = onnx.load(str(tiny_bundle("bert") / "model.onnx"))
    model_file.save_model(model, tmp_path / "model.onnx")
    size = (tmp_path / "model.onnx.data").stat().st_size
    model_file.save_model(onnx.load(str(tiny_bundle("bert") / "model.onnx")), tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx.data").stat().st_size == size


def test_the_bundle_hash_covers_external_weights(tiny_checkpoint, tmp_path, monkeypatch):
    """A bundle exported above the threshold keeps its weights in model.onnx.data; changing one weight byte there
    (the graph file untouched) is caught by the hash check."""
    from edgeaudit.exporters import ExportOptions, export_checkpoint

    monkeypatch.setattr(model_file, "EXTERNAL_DATA_MIN_BYTES", 1)
    bundle = export_checkpoint(tiny_checkpoint("llama"), tmp_path / "b", ExportOptions(exporter="torchscript"),
                               log=lambda _: None)
    assert bundle.manifest.data["onnx"]["external_data"] == ["model.onnx.data"]
    assert bundle.manifest.data["export_check"]["verified"] is True
    data = tmp_path / "b" / "model.onnx.data"
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(BundleError, match=r"does not match model\.onnx \+ model\.onnx\.data"):
        load_bundle(tmp_path / "b")


def test_export_reports_the_size_of_graph_and_weights(tiny_checkpoint, tmp_path, monkeypatch, capsys):
    from edgeaudit.cli import main

    monkeypatch.setattr(model_file, "EXTERNAL_DATA_MIN_BYTES", 1)
    code = main(["export", str(tiny_checkpoint("llama")), str(tmp_path / "b"), "--exporter", "torchscript",
                 "--no-verify", "--quiet"])
    assert code == 0
    files = [tmp_path / "b" / "model.onnx", tmp_path / "b" / "model.onnx.data"]
    megabytes = sum(path.stat().st_size for path in files) / 1e6
    assert f"{megabytes:.1f} MB)" in capsys.readouterr().out
