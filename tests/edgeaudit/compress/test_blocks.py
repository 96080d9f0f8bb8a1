"""Blocks of a bundle: every quantisable node in exactly one block, found from names, scopes or weight names."""

from __future__ import annotations

import onnx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from edgeaudit.bundle import load_bundle
from edgeaudit.compress import graph_prep
from edgeaudit.compress.blocks import SCOPE_KEY, blocks_of, classify, model_blocks
from edgeaudit.compress.errors import CompressError

REAL_NAMES = [
    ("/model/encoder/layer.3/attention/self/query/MatMul", "MatMul", 3, "attention"),
    ("/model/encoder/layer.3/attention/output/dense/MatMul", "MatMul", 3, "attention"),
    ("/model/encoder/layer.3/intermediate/dense/MatMul", "MatMul", 3, "mlp"),
    ("/model/encoder/layer.11/output/dense/MatMul", "MatMul", 11, "mlp"),
    ("/model/model/layers.29/self_attn/o_proj/MatMul", "MatMul", 29, "attention"),
    ("/model/model/layers.0/mlp/down_proj/MatMul", "MatMul", 0, "mlp"),
    ("node_Gemm_289_MatMul model.transformer.h.0.attn.c_attn.weight", "MatMul", 0, "attention"),
    ("node_Gemm_308_MatMul model.transformer.h.7.mlp.c_proj.weight", "MatMul", 7, "mlp"),
    ("model.distilbert.transformer.layer.2.attention.out_lin", "MatMul", 2, "attention"),
    ("/model/lm_head/MatMul", "MatMul", None, "head"),
    ("/model/embeddings/word_embeddings/Gather", "Gather", None, "embeddings"),
    ("node_embedding model.lm_head.weight", "Gather", None, "embeddings"),
]


@pytest.mark.parametrize("text, op_type, layer, part", REAL_NAMES)
def test_real_exporter_names_land_in_their_block(text, op_type, layer, part):
    assert classify(text, op_type) == (layer, part)


@given(layer=st.integers(0, 999), style=st.sampled_from(["/model/layers.{}/", "encoder.layer.{}.", "transformer.h.{}.",
                                                         "blocks_{}_"]),
       module=st.sampled_from([("self_attn.q_proj", "attention"), ("attention.self.key", "attention"),
                               ("mlp.up_proj", "mlp"), ("intermediate.dense", "mlp"), ("mlp.c_fc", "mlp")]))
def test_any_layer_index_and_module_are_read_back(layer, style, module):
    name, part = module
    assert classify(style.format(layer) + name + "/MatMul", "MatMul") == (layer, part)


def _graph_with_scopes(scoped: bool) -> onnx.ModelProto:
    """Two layers of dynamo-style nodes (``node_MatMul_N``) whose module path is only in metadata."""
    import numpy as np

    nodes, inits, current = [], [], "x"
    scopes = ["model.layers.0.self_attn.q_proj", "model.layers.0.mlp.up_proj",
              "model.layers.1.self_attn.q_proj", "model.layers.1.mlp.up_proj"]
    for i, scope in enumerate(scopes):
        weight = f"val_{i}"
        inits.append(numpy_helper.from_array(np.eye(4, dtype=np.float32), weight))
        node = helper.make_node("MatMul", [current, weight], [f"y{i}"], name=f"node_MatMul_{i}")
        if scoped:
            entry = node.metadata_props.add()
            entry.key, entry.value = SCOPE_KEY, repr(["", "model", scope.rsplit(".", 1)[0], scope, "linear"])
        nodes.append(node)
        current = f"y{i}"
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info(current, TensorProto.FLOAT, [1, 4])], inits)
    return helper.make_model(graph)


def test_dynamo_scopes_are_read_from_the_parent_when_preprocessing_dropped_them():
    blocks = blocks_of(_graph_with_scopes(False), _graph_with_scopes(True), with_gathers=False)
    assert [(b.name, b.nodes) for b in blocks] == [
        ("layer0.attention", ("node_MatMul_0",)), ("layer0.mlp", ("node_MatMul_1",)),
        ("layer1.attention", ("node_MatMul_2",)), ("layer1.mlp", ("node_MatMul_3",))]


def test_a_graph_without_any_layer_path_is_refused_with_the_reason():
    plain = _graph_with_scopes(False)
    with pytest.raises(CompressError, match="cannot tell which layer"):
        blocks_of(plain, plain, with_gathers=False)


@pytest.mark.parametrize("family", ["bert", "gpt2", "llama"])
def test_every_quantisable_node_is_in_exactly_one_block(tiny_bundle, family):
    bundle = load_bundle(tiny_bundle(family))
    blocks = model_blocks(bundle, "int8-dynamic-full")
    nodes = [node for block in blocks for node in block.nodes]
    assert len(nodes) == len(set(nodes))
    layers = bundle.manifest.num_layers
    names = [b.name for b in blocks]
    for layer in range(layers):
        assert f"layer{layer}.attention" in names and f"layer{layer}.mlp" in names
    assert names[0] == "embeddings"
    assert all(b.layer is None for b in blocks if b.part in ("embeddings", "head"))
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as work:
        _, prepared, _ = graph_prep.prepare(bundle.onnx_path, Path(work))
    expected = set(graph_prep.weight_matmuls(prepared)) | set(graph_prep.constant_gathers(prepared))
    assert set(nodes) == expected
    # without the -full preset the embedding tables are not quantised, so they are no block
    assert "embeddings" not in [b.name for b in model_blocks(bundle, "int8-dynamic")]


def test_fp16_has_no_blocks(tiny_bundle):
    with pytest.raises(CompressError, match="fp16 converts every node"):
        model_blocks(load_bundle(tiny_bundle("bert")), "fp16")


@pytest.mark.parametrize("preset", ["int8-dynamic-full", "int4"])
def test_a_variant_from_the_shared_prepared_graph_is_the_variant_compress_makes(tiny_bundle, tmp_path, preset):
    """A sweep prepares the parent once; each variant must be byte for byte what a plain compress writes."""
    from edgeaudit.compress import compress

    bundle = tiny_bundle("llama")
    blocks = model_blocks(load_bundle(bundle), preset, keep=tmp_path / "prepared")
    kept = blocks[1].nodes
    shared = compress(bundle, tmp_path / "shared", preset, progress=False, float_nodes=kept,
                      prepared=tmp_path / "prepared")
    plain = compress(bundle, tmp_path / "plain", preset, progress=False, float_nodes=kept)
    assert shared.bundle.manifest.data["onnx"]["sha256"] == plain.bundle.manifest.data["onnx"]["sha256"]
    assert shared.bundle.manifest.data["variant"]["settings"] == plain.bundle.manifest.data["variant"]["settings"]


def test_variants_never_write_into_the_shared_prepared_folder(tiny_bundle, tmp_path):
    """onnxruntime writes scratch files next to its input; workers sharing the input must each have their own."""
    from edgeaudit.compress import compress

    bundle = tiny_bundle("bert")
    model_blocks(load_bundle(bundle), "int8-dynamic", keep=tmp_path / "prepared")
    before = (tmp_path / "prepared").stat().st_mtime_ns, sorted(p.name for p in (tmp_path / "prepared").iterdir())
    compress(bundle, tmp_path / "v", "int8-dynamic", progress=False, prepared=tmp_path / "prepared")
    after = (tmp_path / "prepared").stat().st_mtime_ns, sorted(p.name for p in (tmp_path / "prepared").iterdir())
    assert after == before
