"""Graph rewrites before quantisation, external-data parents, and the int4 nothing-to-do error."""

from __future__ import annotations

import shutil

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeaudit.bundle import load_bundle, model_file, save_manifest
from edgeaudit.bundle.model_file import model_sha256
from edgeaudit.compress import CompressError, compress_bundle
from edgeaudit.compress.graph_prep import gemm_to_matmul, weight_matmuls
from edgeaudit.compress.int4 import quantize_int4


def _run(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})


def _gemm_model() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(size=(4, 3)).astype(np.float32), "w_t"),
             numpy_helper.from_array(rng.normal(size=(4,)).astype(np.float32), "c"),
             numpy_helper.from_array(rng.normal(size=(4, 5)).astype(np.float32), "w")]
    nodes = [helper.make_node("Gemm", ["x", "w_t", "c"], ["h"], name="g1", transB=1, alpha=0.5, beta=2.0),
             helper.make_node("Gemm", ["h", "w"], ["y"], name="g2")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("h", TensorProto.FLOAT, [2, 4]),
                               helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_gemm_becomes_matmul_plus_add_with_identical_outputs():
    model = _gemm_model()
    x = np.random.default_rng(1).normal(size=(2, 3)).astype(np.float32)
    before = _run(model, x)
    assert gemm_to_matmul(model) == 2
    assert [n.op_type for n in model.graph.node] == ["MatMul", "Add", "MatMul"]
    assert [o.name for o in model.graph.output] == ["h", "y"]  # graph outputs (taps) keep their producers' names
    assert "w_t" not in {t.name for t in model.graph.initializer}  # transposed copy replaces the original
    assert len(weight_matmuls(model)) == 2
    for a, b in zip(before, _run(model, x), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_int4_with_no_constant_weight_is_an_error():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 64])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [64, 2])
    out = helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 2])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "y"], ["z"], name="mm")], "g", [x, y], [out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(CompressError, match="none of the model's 0 weight MatMul.*int8-dynamic"):
        quantize_int4(model)


@pytest.fixture
def external_data_bundle(tiny_bundle, tmp_path):
    """The tiny BERT bundle with its weights moved to an external data file, manifest updated to match."""
    directory = shutil.copytree(tiny_bundle("bert"), tmp_path / "external")
    model = onnx.load(str(directory / "model.onnx"))
    onnx.save_model(model, str(directory / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    manifest = load_bundle(directory, verify_hash=False).manifest
    onnx_section = {**manifest.data["onnx"], "external_data": ["weights.bin"],
                    "sha256": model_sha256(directory, "model.onnx", ["weights.bin"])}
    save_manifest(directory, manifest.with_updates(onnx=onnx_section))
    return directory


@pytest.mark.parametrize("preset", ["int8-dynamic", "fp16", "int4"])
def test_external_data_parent_gives_a_single_file_variant(external_data_bundle, tmp_path, preset):
    bundle = compress_bundle(external_data_bundle, tmp_path / preset, preset, progress=False)
    assert bundle.manifest.data["onnx"]["external_data"] == []
    assert sorted(p.name for p in bundle.directory.iterdir()) == ["edgeaudit.json", "model.onnx", "tokenizer.json"]


def test_failed_pre_processing_falls_back_and_says_why(monkeypatch, tmp_path):
    from edgeaudit.compress.graph_prep import pre_process

    def broken(*args, **kwargs):
        raise Exception("Inferred shape and existing shape differ in rank\nmore detail")

    monkeypatch.setattr(onnx.shape_inference, "infer_shapes_path", broken)
    src = tmp_path / "m.onnx"
    onnx.save_model(_gemm_model(), str(src))
    path, record = pre_process(src, tmp_path / "out.onnx")
    assert path == src
    assert record == {"ran": False, "reason": "pre-processing failed: Inferred shape and existing shape differ in rank"}


def test_pre_processing_matches_onnxruntimes_own(tiny_bundle, tmp_path):
    """The file-to-file steps give the graph onnxruntime's quant_pre_process gives (same nodes, same weights)."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from edgeaudit.compress.graph_prep import pre_process

    src = tiny_bundle("gpt2") / "model.onnx"
    ours, record = pre_process(src, tmp_path / "ours.onnx")
    assert record["ran"] is True
    quant_pre_process(str(src), str(tmp_path / "theirs.onnx"), skip_symbolic_shape=True)
    a, b = onnx.load(str(ours)), onnx.load(str(tmp_path / "theirs.onnx"))
    assert [(n.op_type, list(n.input), list(n.output)) for n in a.graph.node] == \
        [(n.op_type, list(n.input), list(n.output)) for n in b.graph.node]
    weights = {t.name: numpy_helper.to_array(t) for t in b.graph.initializer}
    assert {t.name for t in a.graph.initializer} == set(weights)
    for tensor in a.graph.initializer:
        np.testing.assert_array_equal(numpy_helper.to_array(tensor), weights[tensor.name])
    assert len(a.graph.value_info) == len(b.graph.value_info) > 0  # shape inference ran


@pytest.mark.parametrize("preset", ["int8-dynamic", "int4"])
def test_a_large_variant_keeps_its_weights_beside_the_graph(external_data_bundle, tmp_path, monkeypatch, preset):
    """Above the size threshold a variant is graph + model.onnx.data (memory-mapped by onnxruntime), its hash
    covers both files, and it runs like the single-file variant of the same parent."""
    single = compress_bundle(external_data_bundle, tmp_path / "single", preset, progress=False)
    monkeypatch.setattr(model_file, "EXTERNAL_DATA_MIN_BYTES", 1)
    split = compress_bundle(external_data_bundle, tmp_path / "split", preset, progress=False)
    assert split.manifest.data["onnx"]["external_data"] == ["model.onnx.data"]
    assert (split.directory / "model.onnx.data").stat().st_size > 10_000  # the weight matrices went there
    assert split.sha256 == model_sha256(split.directory, "model.onnx", ["model.onnx.data"])
    assert not (split.directory / ".work").exists() and not list(tmp_path.glob("split/parent*"))
    ids = np.array([[5, 6, 7, 8]], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    outputs = {}
    for name, bundle in (("single", single.directory), ("split", split.directory)):
        session = ort.InferenceSession(str(bundle / "model.onnx"), providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        wanted = {"token_type_ids": np.zeros_like(ids), **feeds}
        outputs[name] = session.run(None, {k: wanted[k] for k in names})
    for a, b in zip(outputs["single"], outputs["split"], strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_shared_prepared_graph_with_external_data_loads_in_each_worker(tiny_bundle, tmp_path, monkeypatch):
    """Each variant of a sweep gets a private copy of the prepared graph: the graph file linked, its external data
    copied (onnx refuses to read tensor data through a hard link)."""
    from edgeaudit.compress import graph_prep

    monkeypatch.setattr(model_file, "EXTERNAL_DATA_MIN_BYTES", 1)
    bundle = load_bundle(tiny_bundle("llama"))
    shared = tmp_path / "prepared"
    prepared = graph_prep.save_prepared(bundle, shared)
    assert graph_prep.prepared_external(shared)
    assert sorted(p.name for p in shared.iterdir()) == ["prepared.json", "prepared.onnx", "prepared.onnx.data"]
    for worker in ("a", "b"):
        path, model, _ = graph_prep.load_prepared(shared, tmp_path / worker)
        assert path == tmp_path / worker / "prepared.onnx"
        assert (tmp_path / worker / "prepared.onnx.data").stat().st_nlink == 1
        assert [n.name for n in model.graph.node] == [n.name for n in prepared.graph.node]


@pytest.mark.parametrize("family", ["bert", "gpt2", "llama"])
@pytest.mark.parametrize("full", [False, True])
def test_int8_dynamic_holds_one_copy_and_writes_the_same_bytes(tiny_bundle, tmp_path, monkeypatch, family, full):
    """Skipping onnxruntime's deep-copy-save-reload of an already prepared graph changes no byte of the result."""
    from onnxruntime.quantization import QuantType, onnx_quantizer, quantize_dynamic

    from edgeaudit.compress.graph_prep import prepare
    from edgeaudit.compress.int8 import quantize_int8_dynamic

    path, _, _ = prepare(tiny_bundle(family) / "model.onnx", tmp_path)
    original = onnx_quantizer.save_and_reload_model_with_shape_infer
    reloads = []
    monkeypatch.setattr(onnx_quantizer, "save_and_reload_model_with_shape_infer",
                        lambda model: reloads.append(1) or original(model))
    quantize_int8_dynamic(path, tmp_path / "ours.onnx", full=full, external=False)
    assert reloads == []  # the prepared graph has no Gemm: no second copy
    assert onnx_quantizer.save_and_reload_model_with_shape_infer is not original  # our counter is back in place
    quantize_dynamic(str(path), str(tmp_path / "theirs.onnx"), op_types_to_quantize=["MatMul", "Gather"] if full
                     else ["MatMul"], per_channel=True, reduce_range=False, weight_type=QuantType.QInt8,
                     extra_options={"MatMulConstBOnly": True})
    assert reloads == [1]  # onnxruntime's own path did reload
    assert (tmp_path / "ours.onnx").read_bytes() == (tmp_path / "theirs.onnx").read_bytes()


def test_a_graph_with_gemm_still_takes_onnxruntimes_reload(tmp_path, monkeypatch):
    from onnxruntime.quantization import onnx_quantizer

    from edgeaudit.compress.int8 import quantize_int8_dynamic

    onnx.save(_gemm_model(), str(tmp_path / "gemm.onnx"))
    original = onnx_quantizer.save_and_reload_model_with_shape_infer
    reloads = []
    monkeypatch.setattr(onnx_quantizer, "save_and_reload_model_with_shape_infer",
                        lambda model: reloads.append(1) or original(model))
    quantize_int8_dynamic(tmp_path / "gemm.onnx", tmp_path / "out.onnx", full=False, external=False)
    assert reloads == [1]


def test_concurrent_int8_quantisations_leave_onnxruntime_as_they_found_it(tiny_bundle, tmp_path):
    """The patch is a module global: threads quantising side by side must not leave it installed (or lose it)."""
    from concurrent.futures import ThreadPoolExecutor

    from onnxruntime.quantization import onnx_quantizer

    from edgeaudit.compress.graph_prep import prepare
    from edgeaudit.compress.int8 import quantize_int8_dynamic

    original = onnx_quantizer.save_and_reload_model_with_shape_infer
    path, _, _ = prepare(tiny_bundle("gpt2") / "model.onnx", tmp_path)
    outputs = [tmp_path / f"out{i}.onnx" for i in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda out: quantize_int8_dynamic(path, out, full=False, external=False), outputs))
    assert onnx_quantizer.save_and_reload_model_with_shape_infer is original
    assert len({out.read_bytes() for out in outputs}) == 1
