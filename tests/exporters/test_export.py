"""Export of tiny checkpoints of every supported family: taps present, shaped, verified, attention normalised."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
from edgeaudit.exporters import ExportOptions, export_checkpoint
from edgeaudit.exporters.verify import verification_batch

from edgeaudit.bundle import load_bundle
from edgeaudit.errors import ExportError
from tests.tiny_models import DECODERS, FAMILIES

QUIET = dict(log=lambda message: None)


@pytest.fixture(scope="module")
def exported(tiny_checkpoint, tmp_path_factory):
    cache = {}

    def make(family: str, exporter: str = "torchscript"):
        key = (family, exporter)
        if key not in cache:
            out = tmp_path_factory.mktemp(f"bundle-{family}-{exporter}") / "bundle"
            cache[key] = export_checkpoint(tiny_checkpoint(family), out, ExportOptions(exporter=exporter), **QUIET)
        return cache[key]

    return make


def run_bundle(bundle, lengths=(4, 9)):
    manifest = bundle.manifest
    ids, mask = verification_batch(list(lengths), vocab_size=manifest.data["model"]["vocab_size"],
                                   pad_id=manifest.tokenizer["pad_token_id"], padding_side="right",
                                   special_ids=manifest.tokenizer["special_token_ids"])
    session = ort.InferenceSession(str(bundle.onnx_path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"input_ids": ids, "attention_mask": mask}), strict=True)), mask


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_exports_with_all_taps(exported, family):
    bundle = exported(family)
    manifest = bundle.manifest
    layers, heads, hidden = manifest.num_layers, manifest.num_heads, manifest.hidden_size
    assert (layers, heads, hidden) == (2, 4, 32)
    assert manifest.causal == (family in DECODERS)
    check = manifest.data["export_check"]
    assert check["verified"] and max(check["max_abs_diff"].values()) <= 1e-4
    outputs, mask = run_bundle(bundle)
    for layer in range(layers + 1):
        assert outputs[f"hidden_state_{layer}"].shape == (2, 9, hidden)
    for layer in range(layers):
        attention = outputs[f"attention_{layer}"]  # [batch, head, query, key]
        assert attention.shape == (2, heads, 9, 9)
        real_rows = attention[0, :, :4, :]  # first sentence: 4 real tokens, right-padded
        np.testing.assert_allclose(real_rows.sum(-1), 1.0, atol=1e-5)
        assert np.all(attention[0, :, :4, 4:] < 1e-6), "real tokens must not attend to padding"
        if manifest.causal:
            assert np.all(np.triu(attention[1, :, :, :], k=1) < 1e-6), "decoder attention must be causal"
    assert manifest.final_output in outputs
    if family in DECODERS:
        assert outputs["logits"].shape == (2, 9, manifest.data["model"]["vocab_size"])


@pytest.mark.parametrize("family", ["bert", "llama"])
def test_dynamo_exporter_matches_torchscript(exported, family):
    ours, _ = run_bundle(exported(family, "dynamo"))
    reference, _ = run_bundle(exported(family, "torchscript"))
    assert exported(family, "dynamo").manifest.data["onnx"]["exporter"] == "torch.onnx-dynamo"
    for name, value in reference.items():
        np.testing.assert_allclose(ours[name][0, ..., :4, :], value[0, ..., :4, :], atol=1e-5, err_msg=name)


def test_random_init_twin_is_seeded_and_differs_from_trained(tiny_checkpoint, exported, tmp_path):
    options = ExportOptions(exporter="torchscript", random_init=True, seed=7)
    twin_a = export_checkpoint(tiny_checkpoint("bert"), tmp_path / "a", options, **QUIET)
    twin_b = export_checkpoint(tiny_checkpoint("bert"), tmp_path / "b", options, **QUIET)
    other = export_checkpoint(tiny_checkpoint("bert"), tmp_path / "c",
                              ExportOptions(exporter="torchscript", random_init=True, seed=8), **QUIET)
    assert twin_a.manifest.variant == "random-init"
    assert twin_a.manifest.data["variant"]["settings"] == {"seed": 7}
    a, _ = run_bundle(twin_a)
    b, _ = run_bundle(twin_b)
    c, _ = run_bundle(other)
    trained, _ = run_bundle(exported("bert"))
    np.testing.assert_array_equal(a["hidden_state_2"], b["hidden_state_2"])
    assert not np.allclose(a["hidden_state_2"], c["hidden_state_2"])
    assert not np.allclose(a["hidden_state_2"], trained["hidden_state_2"])


def test_max_length_is_recorded_and_capped(tiny_checkpoint, tmp_path):
    bundle = export_checkpoint(tiny_checkpoint("gpt2"), tmp_path / "b",
                               ExportOptions(exporter="torchscript", max_length=16), **QUIET)
    assert bundle.manifest.tokenizer["max_length"] == 16
    with pytest.raises(ExportError, match="exceeds the model's limit of 64"):
        export_checkpoint(tiny_checkpoint("gpt2"), tmp_path / "c",
                          ExportOptions(exporter="torchscript", max_length=500), **QUIET)


def _break_weights(export_tapped):
    """Wrap the exporter so the written graph has one weight matrix scaled by 1.5: a genuinely wrong export."""
    import onnx
    from onnx import numpy_helper

    def broken(wrapper, onnx_file, **kwargs):
        export_tapped(wrapper, onnx_file, **kwargs)
        model = onnx.load(str(onnx_file))
        weight = next(t for t in reversed(model.graph.initializer) if len(t.dims) == 2 and t.data_type == 1)
        weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight) * 1.5, weight.name))
        onnx.save(model, str(onnx_file))

    return broken


@pytest.mark.parametrize("family", ["bert", "llama"])
def test_a_wrong_graph_fails_verification_and_names_the_tap(tiny_checkpoint, tmp_path, monkeypatch, family):
    import edgeaudit.exporters.torch_onnx as torch_onnx

    monkeypatch.setattr(torch_onnx, "export_tapped", _break_weights(torch_onnx.export_tapped))
    with pytest.raises(ExportError, match=r"verification failed: .* at (hidden_state_\d|attention_\d|logits).*of the tap's magnitude"):
        export_checkpoint(tiny_checkpoint(family), tmp_path / "b", ExportOptions(exporter="torchscript"), **QUIET)
    assert not (tmp_path / "b").exists(), "a failed export must leave nothing behind"


def test_verification_records_absolute_and_relative_figures(tiny_checkpoint, tmp_path):
    bundle = export_checkpoint(tiny_checkpoint("llama"), tmp_path / "b", ExportOptions(exporter="torchscript"),
                               **QUIET)
    check = bundle.manifest.data["export_check"]
    assert set(check["max_rel_diff"]) == set(check["max_abs_diff"]) == {"hidden_states", "attentions", "final_output"}
    # the relative figure divides by max(1, |reference|), so it never exceeds the absolute one
    assert all(check["max_rel_diff"][g] <= check["max_abs_diff"][g] + 1e-12 for g in check["max_abs_diff"])
    assert check["worst_tap"]["final_output"] == "logits" and check["criterion"].startswith("max |onnx - torch|")


def test_no_verify_is_recorded(tiny_checkpoint, tmp_path):
    bundle = export_checkpoint(tiny_checkpoint("bert"), tmp_path / "b",
                               ExportOptions(exporter="torchscript", verify=False), **QUIET)
    assert bundle.manifest.data["export_check"] == {"verified": False, "reason": "skipped with --no-verify"}


def test_force_replaces_an_existing_bundle(tiny_checkpoint, tmp_path):
    out = tmp_path / "b"
    export_checkpoint(tiny_checkpoint("bert"), out, ExportOptions(exporter="torchscript", verify=False), **QUIET)
    with pytest.raises(ExportError, match="already holds a bundle"):
        export_checkpoint(tiny_checkpoint("bert"), out, ExportOptions(exporter="torchscript"), **QUIET)
    bundle = export_checkpoint(tiny_checkpoint("bert"), out, ExportOptions(exporter="torchscript", force=True),
                               **QUIET)
    assert bundle.manifest.data["export_check"]["verified"]
    assert json.loads((out / "edgeaudit.json").read_text())["onnx"]["sha256"] == bundle.sha256
    assert load_bundle(out).sha256 == bundle.sha256


@pytest.mark.integration
def test_real_minilm_exports_with_six_layers_of_taps(minilm_dir, tmp_path):
    bundle = export_checkpoint(minilm_dir, tmp_path / "minilm", ExportOptions(exporter="torchscript"), **QUIET)
    manifest = bundle.manifest
    assert len(manifest.attention_taps) == 6 and len(manifest.hidden_state_taps) == 7
    assert (manifest.num_heads, manifest.hidden_size) == (12, 384)
    assert manifest.tokenizer["kind"] == "wordpiece"
    assert max(manifest.data["export_check"]["max_abs_diff"].values()) <= 1e-4
