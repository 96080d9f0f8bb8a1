"""Bad input to ``edgeaudit export`` / ``inspect``: one line, exit code 2, no traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from edgeaudit.exporters import ExportOptions, export_checkpoint

from edgeaudit.errors import ExportError


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeaudit", *args], capture_output=True, text=True, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("edgeaudit: error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_missing_directory(tmp_path):
    assert_one_line_error(run_cli("export", str(tmp_path / "nope"), str(tmp_path / "out")), "no such directory")


def test_directory_without_config(tmp_path):
    (tmp_path / "ckpt").mkdir()
    assert_one_line_error(run_cli("export", str(tmp_path / "ckpt"), str(tmp_path / "out")), "no config.json")


def test_weights_missing(tiny_checkpoint, tmp_path):
    ckpt = shutil.copytree(tiny_checkpoint("bert"), tmp_path / "ckpt")
    (ckpt / "model.safetensors").unlink()
    with pytest.raises(ExportError, match="no weights"):
        export_checkpoint(ckpt, tmp_path / "out", ExportOptions(exporter="torchscript"), log=lambda m: None)


def test_unsupported_architecture(tmp_path):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text(json.dumps({"model_type": "definitely-not-a-model", "architectures": ["X"]}))
    (ckpt / "model.safetensors").write_bytes(b"")
    assert_one_line_error(run_cli("export", str(ckpt), str(tmp_path / "out")), "unsupported architecture")


def test_encoder_decoder_is_refused_with_reason(tiny_checkpoint, tmp_path):
    from transformers import T5Config

    ckpt = tmp_path / "t5"
    T5Config(d_model=16, num_layers=1, num_heads=2, d_ff=16, vocab_size=50).save_pretrained(ckpt)
    (ckpt / "model.safetensors").write_bytes(b"")
    with pytest.raises(ExportError, match="encoder-decoder model, which is not supported"):
        export_checkpoint(ckpt, tmp_path / "out", ExportOptions(exporter="torchscript"), log=lambda m: None)


def test_output_dir_that_is_not_a_bundle_needs_force(tiny_checkpoint, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert_one_line_error(run_cli("export", str(tiny_checkpoint("bert")), str(out), "--exporter", "torchscript"),
                          "not an edgeaudit bundle", "--overwrite")
    assert (out / "notes.txt").read_text() == "mine"


def test_bad_option_values_are_usage_errors(tiny_checkpoint, tmp_path):
    result = run_cli("export", str(tiny_checkpoint("bert")), str(tmp_path / "o"), "--opset", "9")
    assert_one_line_error(result, "--opset")
    result = run_cli("export", str(tiny_checkpoint("bert")), str(tmp_path / "o"), "--exporter", "onnxmagic")
    assert result.returncode == 2 and "Traceback" not in result.stderr and "onnxmagic" in result.stderr


def _without_tokenizer(checkpoint, target):
    """A copy of a tiny checkpoint with its weights and config but none of its tokenizer files."""
    target.mkdir()
    for path in checkpoint.iterdir():
        if not path.name.startswith(("tokenizer", "vocab", "merges", "special_tokens")):
            shutil.copy(path, target / path.name)
    return target


@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_checkpoint_without_tokenizer_files_is_refused(tiny_checkpoint, tmp_path, family):
    # transformers would build a placeholder tokenizer (BERT: 5 special tokens, GPT-2: no vocabulary at all)
    ckpt = _without_tokenizer(tiny_checkpoint(family), tmp_path / "ckpt")
    result = run_cli("export", str(ckpt), str(tmp_path / "out"), "--exporter", "torchscript")
    assert_one_line_error(result, "has no tokenizer files", "tokenizer.json", "--tokenizer PATH")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_tokenizer_option_supplies_the_missing_tokenizer(tiny_checkpoint, tmp_path, kind):
    original = tiny_checkpoint("bert")
    ckpt = _without_tokenizer(original, tmp_path / "ckpt")
    source = original if kind == "folder" else original / "tokenizer.json"
    options = ExportOptions(exporter="torchscript", tokenizer=str(source), verify=False)
    bundle = export_checkpoint(ckpt, tmp_path / "out", options, log=lambda m: None)
    assert json.loads(bundle.tokenizer_path.read_text()) == json.loads((original / "tokenizer.json").read_text())
    assert bundle.load_tokenizer().get_vocab_size() > 5


def test_tokenizer_option_with_a_bigger_vocabulary_is_refused(tiny_checkpoint, tmp_path):
    options = ExportOptions(exporter="torchscript", tokenizer=str(tiny_checkpoint("gpt2")), verify=False)
    with pytest.raises(ExportError, match="tokenizer has .* tokens but the model's embedding table has"):
        export_checkpoint(tiny_checkpoint("bert"), tmp_path / "out", options, log=lambda m: None)
    assert not (tmp_path / "out").exists()


def test_tokenizer_option_that_does_not_exist(tiny_checkpoint, tmp_path):
    result = run_cli("export", str(tiny_checkpoint("bert")), str(tmp_path / "out"), "--tokenizer",
                     str(tmp_path / "nope"))
    assert_one_line_error(result, "option --tokenizer", "nope")
