"""Every preset on a tiny encoder (BERT) and tiny decoders (GPT-2, whose linear layers export as Gemm,
and Llama with grouped-query attention, left padding and untied lm_head):
a loadable bundle that keeps every tap, records its parent and settings, and still computes the model.

Closeness thresholds: the tiny models are randomly initialised with small, outlier-free weights and
activations, so 8-bit and 4-bit rounding moves the final output very little (cosine > 0.99 measured);
the assertions use 0.95 for integer presets and 0.999 for fp16 - loose enough not to depend on the
random seed, tight enough that a broken graph (garbage, zeros, a permuted tap) fails.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import onnx
import pytest

from edgeaudit.bundle import load_bundle, sha256_of
from edgeaudit.compress import PRESETS
from tests.edgeaudit.compress.conftest import SENTENCES
from tests.edgeaudit.compress.helpers import feed_for, run_taps, token_cosines
from tests.onnx_bundles import onnx_built_bundles

FAMILIES = ("bert", "gpt2", "llama")
MIN_COSINE = {"fp16": 0.999}


def _presets(names) -> list:
    """Preset parameters; int4-hqq quantises with PyTorch, so it is skipped on the device install."""
    no_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                  reason="int4-hqq needs PyTorch (the [export] extra); the device install has none")
    return [pytest.param(name, marks=no_torch) if name == "int4-hqq" else name for name in names]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("preset", _presets(PRESETS))
def test_variant_keeps_taps_and_records_its_parent(variant, tiny_bundle, family, preset):
    result = variant(family, preset)
    parent, bundle = load_bundle(tiny_bundle(family)), load_bundle(result.bundle.directory)
    variant_section = bundle.manifest.data["variant"]
    assert variant_section["name"] == preset
    assert variant_section["parent_sha256"] == parent.sha256 != bundle.sha256
    assert bundle.sha256 == sha256_of(bundle.onnx_path)
    assert variant_section["settings"], "settings must record what the quantiser was told"
    assert bundle.tokenizer_path.read_bytes() == parent.tokenizer_path.read_bytes()
    assert bundle.manifest.data["export_check"]["verified"] is False  # the reference is the parent, not torch

    feed = feed_for(parent, SENTENCES)
    ref, got = run_taps(parent, feed), run_taps(bundle, feed)
    assert set(got) == set(ref)
    for name, array in got.items():
        assert array.dtype == np.float32, name
        assert array.shape == ref[name].shape, name
    outputs = {o.name: o.type.tensor_type.elem_type for o in onnx.load(str(bundle.onnx_path)).graph.output}
    assert all(outputs[name] == onnx.TensorProto.FLOAT for name in got)

    mask = feed["attention_mask"].astype(bool)
    final = bundle.manifest.final_output
    assert token_cosines(ref[final], got[final], mask).min() > MIN_COSINE.get(preset, 0.95)
    for name in bundle.manifest.attention_taps:
        rows = got[name].transpose(0, 2, 1, 3)[mask].sum(-1)  # real query positions
        np.testing.assert_allclose(rows, 1.0, atol=1e-3, err_msg=name)


@pytest.mark.parametrize("family", FAMILIES)
def test_quantisers_reach_every_linear_layer(variant, family):
    """BERT's 6 projections per layer export as MatMul, GPT-2's 4 as Gemm (+ lm_head MatMul), Llama's 7 as
    MatMul (+ lm_head): the Gemm rewrite lets every integer preset quantise all of them."""
    expected = {"bert": 12, "gpt2": 9, "llama": 15}[family]
    for preset in ("int8-dynamic", "int8-dynamic-full", "int8-static", "int4"):
        settings = variant(family, preset).bundle.manifest.data["variant"]["settings"]
        assert settings["quantized_nodes"]["MatMul"] == expected, preset
        assert settings["gemm_rewritten_as_matmul"] == (8 if family == "gpt2" else 0)
    full = variant(family, "int8-dynamic-full").bundle.manifest.data["variant"]["settings"]
    assert full["quantized_nodes"]["Gather"] >= 1  # the token embedding (+ learned positions, if any)


@pytest.mark.skipif(onnx_built_bundles(), reason="file sizes of the exported tiny GPT-2, where int8-dynamic and fp16 "
                    "are close; the onnx.helper bundle's leaner graph tips their order (0.2 % apart)")
def test_sizes_shrink_in_the_expected_order(variant):
    sizes = {preset: variant("gpt2", preset).bytes_after for preset in PRESETS}
    parent = variant("gpt2", "fp16").bytes_before
    assert sizes["int8-dynamic-full"] < sizes["int8-dynamic"] < sizes["fp16"] < parent
    assert sizes["int4"] < sizes["int8-dynamic"]


def test_static_settings_name_the_calibration(variant, calibration_file):
    settings = variant("bert", "int8-static").bundle.manifest.data["variant"]["settings"]
    assert settings["format"] == "QDQ" and settings["calibrate_method"] == "MinMax"
    assert settings["calibration"] == {"source": str(calibration_file), "sentences": len(SENTENCES),
                                       "sentences_available": len(SENTENCES), "batch_size": 16, "batches": 1}
    assert settings["pre_process"]["ran"] and settings["pre_process"]["symbolic_shape_inference"] is False


def test_static_qdq_keeps_tap_names_on_dequantised_values(variant):
    """A hidden state feeding the next layer's projections becomes a DequantizeLinear output that keeps the
    tap's name (what the device computes); the attention softmax is not quantised."""
    bundle = variant("bert", "int8-static").bundle
    graph = onnx.load(str(bundle.onnx_path)).graph
    producer = {out: node.op_type for node in graph.node for out in node.output}
    assert producer["hidden_state_0"] == "DequantizeLinear"
    assert producer[bundle.manifest.final_output] != "DequantizeLinear"  # feeds no MatMul
    assert all(producer[name] == "Softmax" for name in bundle.manifest.attention_taps)


def test_fp16_computes_in_half_precision(variant):
    bundle = variant("bert", "fp16").bundle
    model = onnx.load(str(bundle.onnx_path))
    halves = [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT16]
    assert len(halves) >= 12
    assert bundle.manifest.data["variant"]["settings"]["keep_io_types"] is True


def test_int4_uses_matmulnbits_blocks_of_32(variant):
    bundle = variant("gpt2", "int4").bundle
    nodes = [n for n in onnx.load(str(bundle.onnx_path)).graph.node if n.op_type == "MatMulNBits"]
    assert len(nodes) == 9
    assert {a.i for n in nodes for a in n.attribute if a.name == "block_size"} == {32}
    settings = bundle.manifest.data["variant"]["settings"]
    assert (settings["bits"], settings["block_size"], settings["symmetric"]) == (4, 32, True)


@pytest.mark.parametrize("preset", _presets(["int4-rtn", "int4-kquant", "int4-hqq"]))
def test_int4_algorithms_are_recorded_and_quantise_what_they_can(variant, preset):
    settings = variant("llama", preset).bundle.manifest.data["variant"]["settings"]
    assert settings["algorithm"].split(" ")[0] == {"int4-rtn": "RTN", "int4-kquant": "k_quant",
                                                   "int4-hqq": "HQQ"}[preset]
    assert settings["symmetric"] is False and settings["quantized_nodes"]["MatMul"] >= 1
    converted, kept = settings["quantized_nodes"]["MatMul"], len(settings["kept_float"])
    assert converted + kept == settings["weight_matmuls"]  # nothing silently left out
    if preset == "int4-hqq":
        assert kept == 0  # HQQ pads; only the neural-compressor path needs whole block pairs


@pytest.mark.parametrize("preset", ["int8-dynamic", "int8-static", "int4"])
def test_keep_float_leaves_the_matched_matmuls_in_float32(tiny_bundle, tmp_path, calibration_file, preset):
    from edgeaudit.compress import compress

    result = compress(tiny_bundle("llama"), tmp_path / preset, preset, progress=False, log=lambda m: None,
                      calibration=calibration_file if preset == "int8-static" else None, keep_float=("down_proj",))
    settings = result.bundle.manifest.data["variant"]["settings"]
    kept = settings["keep_float"]["nodes"]
    assert kept and all("down_proj" in name for name in kept) and settings["keep_float"]["patterns"] == ["down_proj"]
    graph = onnx.load(str(result.bundle.onnx_path)).graph
    still_float = {node.name for node in graph.node if node.op_type == "MatMul"}
    assert set(kept) <= still_float
    assert settings["quantized_nodes"]["MatMul"] == 15 - len(kept)  # every other linear layer is quantised


def test_keep_float_that_matches_nothing_names_what_names_look_like(tiny_bundle, tmp_path):
    from edgeaudit.compress import compress
    from edgeaudit.compress.errors import CompressError

    with pytest.raises(CompressError, match="'dwn_proj' matches none of the 15 weight MatMuls.*look like"):
        compress(tiny_bundle("llama"), tmp_path / "v", "int8-dynamic", progress=False, keep_float=("dwn_proj",))


def test_float_nodes_stay_float_and_everything_else_is_quantised(tiny_bundle, tmp_path):
    from edgeaudit.compress import compress
    from edgeaudit.compress.blocks import model_blocks

    bundle = tiny_bundle("bert")
    blocks = model_blocks(load_bundle(bundle), "int8-dynamic")
    kept = blocks[0].nodes
    result = compress(bundle, tmp_path / "v", "int8-dynamic", progress=False, float_nodes=kept)
    model = onnx.load(str(result.bundle.directory / "model.onnx"))
    float_matmuls = {n.name for n in model.graph.node if n.op_type == "MatMul"}
    assert set(kept) <= float_matmuls
    quantised = [n for n in model.graph.node if n.op_type == "MatMulInteger"]
    assert len(quantised) == sum(len(b.nodes) for b in blocks[1:])
    assert result.bundle.manifest.data["variant"]["settings"]["keep_float"]["nodes"] == list(kept)


def test_float_nodes_that_are_not_in_the_model_are_named(tiny_bundle, tmp_path):
    from edgeaudit.compress import compress
    from edgeaudit.compress.errors import CompressError

    with pytest.raises(CompressError, match="not quantisable nodes of this model, e.g. 'no/such/MatMul'"):
        compress(tiny_bundle("bert"), tmp_path / "v", "int8-dynamic", progress=False, float_nodes=("no/such/MatMul",))
    with pytest.raises(CompressError, match="fp16 converts every node"):
        compress(tiny_bundle("bert"), tmp_path / "w", "fp16", progress=False, float_nodes=("x",))
