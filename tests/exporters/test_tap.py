"""``edgeaudit tap``: a plain export of a tiny checkpoint, tapped, must give the very numbers of the direct
tapped export; unusable inputs must fail with one helpful line (library and CLI)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import pytest
from edgeaudit.exporters.tap import TapOptions, tap_onnx
from onnx import TensorProto, helper

from edgeaudit.errors import ExportError

torch = pytest.importorskip("torch", reason="the [export] extra (torch) is needed to build test models")

REPO = Path(__file__).resolve().parents[2]
DECODERS = ("gpt2", "llama", "qwen2")
TOLERANCE = 1e-5


class PlainModel(torch.nn.Module):
    """Keyword-argument adapter: the TorchScript exporter passes inputs positionally; transformers 5 wants names."""

    def __init__(self, model, decoder: bool):
        super().__init__()
        self.model, self.decoder = model, decoder

    def forward(self, input_ids, attention_mask):
        extra = {"use_cache": False} if self.decoder else {}
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, **extra)
        return out.logits if self.decoder else out.last_hidden_state


def plain_export(checkpoint: Path, target: Path, *, dynamo: bool) -> Path:
    """What a user has: the model's own output only, default attention implementation, no taps."""
    import transformers as tf

    architectures = json.loads((checkpoint / "config.json").read_text()).get("architectures") or []
    decoder = any(name.endswith("ForCausalLM") or name.endswith("LMHeadModel") for name in architectures)
    auto = tf.AutoModelForCausalLM if decoder else tf.AutoModel
    wrapper = PlainModel(auto.from_pretrained(checkpoint).eval(), decoder).eval()
    ids = torch.randint(5, 60, (2, 7))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    output = "logits" if decoder else "last_hidden_state"
    with torch.no_grad():
        if dynamo:
            batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence", min=2)
            program = torch.onnx.export(
                wrapper, (ids, mask), dynamo=True, input_names=["input_ids", "attention_mask"], output_names=[output],
                dynamic_shapes={"input_ids": {0: batch, 1: sequence}, "attention_mask": {0: batch, 1: sequence}},
                opset_version=18, external_data=False, verbose=False)
            program.save(str(target), external_data=False)
        else:
            axes = {name: {0: "batch", 1: "sequence"} for name in ("input_ids", "attention_mask", output)}
            torch.onnx.export(wrapper, (ids, mask), str(target), dynamo=False, opset_version=17,
                              input_names=["input_ids", "attention_mask"], output_names=[output], dynamic_axes=axes)
    return target


@pytest.fixture(scope="module")
def plain_model(tiny_checkpoint, tmp_path_factory):
    """Factory: the TorchScript plain export of a tiny family (cached; tests copy it before changing it)."""
    cache: dict[str, Path] = {}

    def make(family: str) -> Path:
        if family not in cache:
            target = tmp_path_factory.mktemp(f"plain-{family}") / "model.onnx"
            cache[family] = plain_export(tiny_checkpoint(family), target, dynamo=False)
        return cache[family]

    return make


@pytest.fixture(scope="module")
def direct_bundle(tiny_checkpoint, tmp_path_factory):
    """Factory: the reference — ``export_checkpoint`` with taps from PyTorch (cached per family)."""
    from edgeaudit.exporters import ExportOptions, export_checkpoint

    cache: dict[str, Path] = {}

    def make(family: str) -> Path:
        if family not in cache:
            out = tmp_path_factory.mktemp(f"direct-{family}") / "bundle"
            export_checkpoint(tiny_checkpoint(family), out, ExportOptions(exporter="torchscript", force=True,
                                                                          verify=False), log=lambda _: None)
            cache[family] = out
        return cache[family]

    return make


def run(onnx_path: Path, ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, {"input_ids": ids, "attention_mask": mask}), strict=True))


def padded_batch(vocab: int, side: str, lengths=(9, 5, 2), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    width = max(lengths)
    ids = np.zeros((len(lengths), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, length in enumerate(lengths):
        span = slice(width - length, width) if side == "left" else slice(0, length)
        ids[row, span] = rng.integers(5, vocab, size=length)
        mask[row, span] = 1
    return ids, mask


def assert_same_taps(tapped: Path, direct: Path) -> None:
    """Every tap and the final output agree at real positions (padded query rows are never read)."""
    from edgeaudit.bundle import load_bundle

    ours, reference = load_bundle(tapped), load_bundle(direct)
    ids, mask = padded_batch(ours.manifest.data["model"]["vocab_size"], ours.manifest.tokenizer["padding_side"])
    got, want = run(ours.onnx_path, ids, mask), run(reference.onnx_path, ids, mask)
    real = mask.astype(bool)
    for name in reference.manifest.hidden_state_taps:
        assert np.abs(got[name] - want[name])[real].max() <= TOLERANCE, name
    for name in reference.manifest.attention_taps:
        by_query = np.abs(got[name] - want[name]).transpose(0, 2, 1, 3)  # [batch, query, head, key]
        assert by_query[real].max() <= TOLERANCE, name
    final = np.abs(got[ours.manifest.final_output] - want[reference.manifest.final_output])
    assert final[real].max() <= TOLERANCE


@pytest.mark.parametrize("family", ["bert", "distilbert", "roberta", "gpt2", "llama", "qwen2"])
def test_tapped_plain_export_matches_direct_export(family, tiny_checkpoint, plain_model, direct_bundle, tmp_path):
    checkpoint = tiny_checkpoint(family)
    model = plain_model(family)
    result = tap_onnx(model, checkpoint / "tokenizer.json", tmp_path / "bundle")
    reference = json.loads((direct_bundle(family) / "edgeaudit.json").read_text())
    manifest = result.bundle.manifest.data
    for key in ("family", "num_layers", "num_heads", "hidden_size", "causal", "vocab_size", "max_positions"):
        assert manifest["model"][key] == reference["model"][key], key
    assert manifest["taps"]["final_output"] == reference["taps"]["final_output"]
    assert manifest["onnx"]["inputs"] == ["input_ids", "attention_mask"]
    assert manifest["onnx"]["exporter"] == "edgeaudit-tap"
    assert manifest["export_check"] == {"verified": False, "reason": "tapped existing ONNX; no PyTorch reference"}
    assert result.plan.norm_style == ("pre-LN" if family in DECODERS else "post-LN")
    assert_same_taps(tmp_path / "bundle", direct_bundle(family))


def test_tapped_dynamo_export_matches_direct_export(tiny_checkpoint, direct_bundle, tmp_path):
    """Llama through torch.export: rotary embeddings, GQA (2 KV heads for 4 query heads), decomposed RMSNorm."""
    checkpoint = tiny_checkpoint("llama")
    model = plain_export(checkpoint, tmp_path / "plain.onnx", dynamo=True)
    result = tap_onnx(model, checkpoint / "tokenizer.json", tmp_path / "bundle", TapOptions(padding_side="left"))
    assert result.num_heads == 4 and result.causal
    assert_same_taps(tmp_path / "bundle", direct_bundle("llama"))


def test_extra_inputs_and_external_data_are_handled(tiny_checkpoint, direct_bundle, tmp_path):
    """token_type_ids becomes zeros inside the graph; weights stored as external data are read and inlined."""
    checkpoint = tiny_checkpoint("bert")
    import transformers as tf

    class WithTokenTypes(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = tf.AutoModel.from_pretrained(checkpoint).eval()

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    ids = torch.randint(5, 60, (2, 7))
    names = ["input_ids", "attention_mask", "token_type_ids"]
    first = tmp_path / "first.onnx"
    torch.onnx.export(WithTokenTypes().eval(), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(first),
                      dynamo=False, opset_version=14, input_names=names, output_names=["last_hidden_state"],
                      dynamic_axes={name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]})
    split = tmp_path / "split" / "model.onnx"
    split.parent.mkdir()
    onnx.save_model(onnx.load(str(first)), str(split), save_as_external_data=True, location="weights.bin",
                    size_threshold=0)
    result = tap_onnx(split, checkpoint / "tokenizer.json", tmp_path / "bundle")
    assert result.bundle.manifest.inputs == ["input_ids", "attention_mask"]
    assert result.bundle.manifest.data["onnx"]["external_data"] == []  # small: written as one file
    assert_same_taps(tmp_path / "bundle", direct_bundle("bert"))


def test_int32_inputs_get_a_cast(plain_model, tiny_checkpoint, direct_bundle, tmp_path):
    """An export taking int32 ids still yields a bundle fed with int64, as the runtime does."""
    model = onnx.load(str(plain_model("bert")))
    for value in model.graph.input:
        name = value.name
        value.type.tensor_type.elem_type = TensorProto.INT32
        for node in model.graph.node:
            node.input[:] = [f"{name}_64" if item == name else item for item in node.input]
        model.graph.node.insert(0, helper.make_node("Cast", [name], [f"{name}_64"], to=TensorProto.INT64))
    onnx.save_model(model, str(tmp_path / "int32.onnx"))
    tap_onnx(tmp_path / "int32.onnx", tiny_checkpoint("bert") / "tokenizer.json", tmp_path / "bundle")
    assert_same_taps(tmp_path / "bundle", direct_bundle("bert"))


# --- bad input ---------------------------------------------------------------------------------


def _save(graph: onnx.GraphProto, path: Path, *domains: tuple[str, int]) -> Path:
    opsets = [helper.make_opsetid("", 18), *(helper.make_opsetid(d, v) for d, v in domains)]
    onnx.save_model(helper.make_model(graph, opset_imports=opsets), str(path))
    return path


def mlp_onnx(path: Path) -> Path:
    """A valid ONNX model that is no transformer: MatMul + Relu."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], [0.1] * 16)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Relu", ["h"], ["y"])], "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [weight])
    return _save(graph, path)


def fused_onnx(path: Path) -> Path:
    """Attention fused by onnxruntime's transformer optimizer into com.microsoft.Attention (two layers)."""
    weight = helper.make_tensor("qkv_w", TensorProto.FLOAT, [8, 24], [0.0] * 192)
    bias = helper.make_tensor("qkv_b", TensorProto.FLOAT, [24], [0.0] * 24)
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["ids_f"], to=TensorProto.FLOAT),
        helper.make_node("Attention", ["ids_f", "qkv_w", "qkv_b", "attention_mask"], ["a0"], domain="com.microsoft",
                         num_heads=2),
        helper.make_node("Attention", ["a0", "qkv_w", "qkv_b", "attention_mask"], ["out"], domain="com.microsoft",
                         num_heads=2),
    ]
    graph = helper.make_graph(
        nodes, "fused",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s", 8]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "s"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["b", "s", 8])], [weight, bias])
    return _save(graph, path, ("com.microsoft", 1))


def training_dropout_onnx(path: Path) -> Path:
    """A graph exported in training mode: Dropout with training_mode=True."""
    ratio = helper.make_tensor("ratio", TensorProto.FLOAT, [], [0.1])
    training = helper.make_tensor("training", TensorProto.BOOL, [], [True])
    graph = helper.make_graph(
        [helper.make_node("Dropout", ["x", "ratio", "training"], ["y"], name="drop")], "train",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [ratio, training])
    return _save(graph, path)


@pytest.fixture(scope="module")
def tokenizer_file(tiny_checkpoint) -> Path:
    return tiny_checkpoint("bert") / "tokenizer.json"


def test_not_a_transformer(tmp_path, tokenizer_file):
    with pytest.raises(ExportError, match="no attention Softmax found") as caught:
        tap_onnx(mlp_onnx(tmp_path / "mlp.onnx"), tokenizer_file, tmp_path / "out")
    assert "mlp.onnx" in caught.value.one_line()


def test_fused_attention(tmp_path, tokenizer_file):
    with pytest.raises(ExportError) as caught:
        tap_onnx(fused_onnx(tmp_path / "fused.onnx"), tokenizer_file, tmp_path / "out")
    line = caught.value.one_line()
    assert "fused.onnx: attention is fused into com.microsoft.Attention nodes (2 found)" in line
    assert "unfused" in line and "re-export" in line


def test_training_mode_dropout(tmp_path, tokenizer_file):
    with pytest.raises(ExportError, match="train.onnx: Dropout node drop runs in training mode.*exported in training mode.*inference mode"):
        tap_onnx(training_dropout_onnx(tmp_path / "train.onnx"), tokenizer_file, tmp_path / "out")


@pytest.mark.parametrize("content", [b"", b"\x00\xffnot onnx at all" * 50, b"{\"model\": 1}"])
def test_corrupt_file(tmp_path, tokenizer_file, content):
    path = tmp_path / "broken.onnx"
    path.write_bytes(content)
    with pytest.raises(ExportError, match="broken.onnx: not a readable ONNX model"):
        tap_onnx(path, tokenizer_file, tmp_path / "out")


def test_truncated_model(tmp_path, tokenizer_file, plain_model):
    data = plain_model("bert").read_bytes()
    model = tmp_path / "plain.onnx"
    model.write_bytes(data[: len(data) // 2])
    with pytest.raises(ExportError, match="plain.onnx: not a readable ONNX model"):
        tap_onnx(model, tokenizer_file, tmp_path / "out")


def test_missing_model_and_tokenizer(tmp_path, tokenizer_file):
    with pytest.raises(ExportError, match="nothing.onnx: no such file"):
        tap_onnx(tmp_path / "nothing.onnx", tokenizer_file, tmp_path / "out")
    with pytest.raises(ExportError, match="tokenizer.json: no such tokenizer file.*--tokenizer"):
        tap_onnx(mlp_onnx(tmp_path / "mlp.onnx"), tmp_path / "tokenizer.json", tmp_path / "out")


def test_output_dir_not_a_bundle(tmp_path, tokenizer_file, plain_model):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    model = plain_model("bert")
    with pytest.raises(ExportError, match="not an edgeaudit bundle.*--overwrite"):
        tap_onnx(model, tokenizer_file, out)
    assert (out / "notes.txt").read_text() == "mine"
    tap_onnx(model, tokenizer_file, out, TapOptions(force=True))
    assert not (out / "notes.txt").exists() and (out / "edgeaudit.json").is_file()


def test_rotary_model_without_length_needs_max_length(tmp_path, tiny_checkpoint, plain_model):
    """No position table and no tokenizer_config.json: the error names the option to pass."""
    checkpoint = tiny_checkpoint("llama")
    model = plain_model("llama")
    lonely = tmp_path / "tok" / "tokenizer.json"
    lonely.parent.mkdir()
    shutil.copyfile(checkpoint / "tokenizer.json", lonely)
    with pytest.raises(ExportError, match="--max-length"):
        tap_onnx(model, lonely, tmp_path / "out")
    result = tap_onnx(model, lonely, tmp_path / "out", TapOptions(max_length=48))
    assert result.bundle.manifest.data["model"]["max_positions"] == 48
    with pytest.raises(ExportError, match="--num-heads 3 contradicts"):
        tap_onnx(model, lonely, tmp_path / "out2", TapOptions(max_length=48, num_heads=3))
    with pytest.raises(ExportError, match="--bidirectional contradicts"):
        tap_onnx(model, lonely, tmp_path / "out3", TapOptions(max_length=48, causal=False))


@pytest.mark.parametrize("case", ["mlp", "fused"])
def test_cli_reports_one_line_and_exit_2(tmp_path, tokenizer_file, case):
    model = mlp_onnx(tmp_path / "m.onnx") if case == "mlp" else fused_onnx(tmp_path / "m.onnx")
    proc = subprocess.run([sys.executable, "-m", "edgeaudit", "tap", str(model), str(tmp_path / "out"),
                           "--tokenizer", str(tokenizer_file)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("edgeaudit: error:") and "m.onnx" in lines[0]


def test_cli_success_and_no_torch(tmp_path, tiny_checkpoint, plain_model):
    """The tap path runs in a fresh interpreter without importing torch or transformers."""
    checkpoint = tiny_checkpoint("gpt2")
    model = plain_model("gpt2")
    script = textwrap.dedent("""
        import json, sys
        from edgeaudit.cli import main
        code = main(["tap", sys.argv[1], sys.argv[2], "--tokenizer", sys.argv[3]])
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers"))
        print(json.dumps({"code": code, "heavy": heavy}))
    """)
    proc = subprocess.run([sys.executable, "-c", script, str(model), str(tmp_path / "out"),
                           str(checkpoint / "tokenizer.json")], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"code": 0, "heavy": []}
    assert "2 layers x 4 heads" in lines[0] and "attention_1 <- Softmax node" in proc.stdout


def test_opset_23_attention_names_what_helps():
    from edgeaudit.exporters.tap_model import check_unfused
    from onnx import TensorProto, helper

    node = helper.make_node("Attention", ["q", "k", "v"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 2, 4, 8])
                                            for n in "qkv"], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])
    with pytest.raises(ExportError) as caught:
        check_unfused(model, "dynamo.onnx")
    line = caught.value.one_line()
    assert "ai.onnx.Attention" in line and "opset 22 or lower" in line and "eager" in line
    assert "plain torch.onnx.export" not in line  # the file was a plain export: that advice is a dead end


def test_a_smaller_foreign_tokenizer_is_refused_and_its_config_never_describes_the_model(tmp_path, tiny_checkpoint,
                                                                                         plain_model):
    """Item 10: GPT-2's graph (400 embedding rows) with BERT's tokenizer (164 tokens) and BERT's config.json."""
    model, foreign = plain_model("gpt2"), tiny_checkpoint("bert") / "tokenizer.json"
    with pytest.raises(ExportError, match="164 tokens but the model embeds 400 .*covers 41%") as caught:
        tap_onnx(model, foreign, tmp_path / "out")
    assert "--vocab-mismatch-ok" in caught.value.one_line()
    result = tap_onnx(model, foreign, tmp_path / "out", TapOptions(vocab_mismatch_ok=True))
    described = result.bundle.manifest.data["model"]
    assert described["model_type"] == "unknown" and described["vocab_size"] == 400  # not BERT's description
    assert any("describes another model (vocabulary 164, the graph has 400)" in note for note in result.notes)
    proc = subprocess.run([sys.executable, "-m", "edgeaudit", "tap", str(model), str(tmp_path / "cli"),
                           "--tokenizer", str(foreign)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "covers 41%" in proc.stderr


def test_the_model_s_own_tokenizer_and_config_still_describe_it(tmp_path, tiny_checkpoint, plain_model):
    checkpoint = tiny_checkpoint("gpt2")
    result = tap_onnx(plain_model("gpt2"), checkpoint / "tokenizer.json", tmp_path / "out")
    assert result.bundle.manifest.data["model"]["model_type"] == "gpt2"
    assert not any("another model" in note for note in result.notes)
