"""Graph preparation shared by the quantising presets.

* ``pre_process``: what onnxruntime's ``quant_pre_process`` does *without* symbolic shape inference. On BERT-style
  exports the symbolic pass stops with "Incomplete symbolic shape inference" (it cannot broadcast
  ``Min(max_positions, sequence)`` against ``sequence`` in the position-id slice), so it is skipped; ONNX
  shape inference and onnxruntime's basic graph optimisation still run. If even that fails the model is
  quantised un-preprocessed and the settings say why.
* ``gemm_to_matmul``: GPT-2's Conv1D layers export as ``Gemm``, which ``quantize_dynamic`` and
  ``MatMulNBits`` do not handle; rewriting them as ``MatMul`` (+ ``Add`` for the bias) lets every preset
  quantise the same linear layers on every family. Run it *after* pre-processing, whose optimiser would
  fuse MatMul+Add back into Gemm.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edgeaudit.bundle import Bundle, model_file
from edgeaudit.compress import model_io
from edgeaudit.compress._ort import first_line
from edgeaudit.compress._quiet import quiet_onnxruntime


def pre_process(src: Path, dst: Path) -> tuple[Path, dict[str, Any]]:
    """Return the model path to quantise and a record of what pre-processing did.

    The two steps of onnxruntime's ``quant_pre_process(skip_symbolic_shape=True)`` -- its basic graph optimiser,
    then ONNX shape inference -- run file to file here: ``quant_pre_process`` keeps a whole Python copy of the
    model loaded while onnxruntime optimises it (650 MB of SmolLM2's 2 GB compression peak). The optimised
    weights go to an external data file beside ``dst``, a scratch file no other process links to.
    """
    import onnxruntime as ort

    optimized = dst.with_name(f"{dst.stem}-optimized.onnx")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(optimized)
    options.add_session_config_entry("session.optimized_model_external_initializers_file_name",
                                     f"{optimized.name}.data")
    options.log_severity_level = 4
    try:
        with quiet_onnxruntime():
            session = ort.InferenceSession(str(src), options, providers=["CPUExecutionProvider"])
            del session
            onnx.shape_inference.infer_shapes_path(str(optimized), str(dst))
    except Exception as exc:  # onnxruntime and onnx raise bare Exceptions from the optimiser and shape inference
        return src, {"ran": False, "reason": f"pre-processing failed: {first_line(exc)}"}
    return dst, {"ran": True, "symbolic_shape_inference": False, "onnx_shape_inference": True,
                 "ort_optimization": "basic"}


def private_copy(graph: Path, external_data: list[str], folder: Path) -> Path:
    """``graph`` and its external data files in ``folder`` under their own names; the graph's path there.

    onnxruntime's tools write scratch files *next to their input* (``*-inferred.onnx``), so a tool that does is
    never pointed at a bundle's own files or at a graph other workers read. The graph is hard-linked (no cost in
    memory or disk); external data is copied, because onnx refuses to read tensor data through a link.
    """
    import os
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for path, link in ((graph, True), *((graph.parent / name, False) for name in external_data)):
        target = folder / path.name
        target.unlink(missing_ok=True)
        try:
            if not link:
                raise OSError("copy")
            os.link(path, target)
        except OSError:  # external data, another file system, or links not allowed
            shutil.copyfile(path, target)
    return folder / graph.name


def prepare(src: Path, work: Path) -> tuple[Path, onnx.ModelProto, dict[str, Any]]:
    """Pre-process the model at ``src`` (only read), rewrite Gemm as MatMul and name every node; return the prepared
    file, its model and a record.

    Works from the parent's file so the parent is never held in memory beside its pre-processed copy.
    Deterministic, so a sweep that lists node names on one machine finds the same names in every worker.
    """
    from onnxruntime.quantization.quant_utils import add_pre_process_metadata

    path, pre = pre_process(src, work / "preprocessed.onnx")
    prepared = onnx.load(str(path))
    if pre["ran"]:
        add_pre_process_metadata(prepared)  # the quantisers look for it
    gemms = gemm_to_matmul(prepared)
    name_unnamed_nodes(prepared)
    out = work / "prepared.onnx"
    model_file.save_model(prepared, out)
    return out, prepared, {"pre_process": pre, "gemm_rewritten_as_matmul": gemms}


PREPARED_MODEL = "prepared.onnx"
PREPARED_RECORD = "prepared.json"


def save_prepared(bundle: Bundle, folder: Path) -> onnx.ModelProto:
    """Prepare ``bundle``'s model once into ``folder`` (graph + record) for many compressions of the same parent;
    return the prepared graph."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    external = parent_external(bundle)
    _, prepared, record = prepare(bundle.onnx_path, folder)
    for path in folder.glob("preprocessed*"):
        path.unlink()
    (folder / PREPARED_RECORD).write_text(json.dumps({"record": record, "external": external}), encoding="utf-8")
    return prepared


def parent_external(bundle: Bundle) -> bool:
    """Whether the quantisers must write external data for this parent's variants (decided by its size on disk,
    without loading the model)."""
    return model_file.wants_external_data(model_io.model_file_bytes(bundle))


def _prepared_info(folder: Path) -> dict[str, Any]:
    import json

    return json.loads((folder / PREPARED_RECORD).read_text(encoding="utf-8"))


def prepared_external(folder: Path) -> bool:
    """Whether the quantisers must write external data for this prepared graph (read without loading the graph)."""
    return bool(_prepared_info(folder)["external"])


def load_prepared(folder: Path, work: Path | None = None) -> tuple[Path, onnx.ModelProto, dict[str, Any]]:
    """What :func:`prepare` returned, read back from a :func:`save_prepared` folder.

    With ``work``, the graph is put into that private folder first (:func:`private_copy`): concurrent workers
    share one prepared folder.
    """
    info = _prepared_info(folder)
    path = folder / PREPARED_MODEL
    if work is not None:
        data = [f"{PREPARED_MODEL}.data"] if info["external"] else []
        path = private_copy(path, data, work)
    record = info["record"]
    return path, onnx.load(str(path)), record


def _fresh_name(taken: set[str], base: str) -> str:
    name, i = base, 0
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    taken.add(name)
    return name


def _all_names(graph: onnx.GraphProto) -> set[str]:
    names = {t.name for t in graph.initializer} | {v.name for v in graph.input} | {n.name for n in graph.node}
    for node in graph.node:
        names.update(node.input)
        names.update(node.output)
    return names


def _gemm_as_matmul(node: onnx.NodeProto, inits: dict[str, onnx.TensorProto], graph: onnx.GraphProto,
                    taken: set[str]) -> list[onnx.NodeProto] | None:
    """MatMul(A, B') [+ Add(C')] equal to this Gemm, or None when it cannot be rewritten exactly."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type != "Gemm" or node.domain not in ("", "ai.onnx") or attrs.get("transA", 0):
        return None
    if len(node.input) < 2 or node.input[1] not in inits:
        return None
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
    if bias and beta != 1.0 and bias not in inits:
        return None
    weight_name = node.input[1]
    if attrs.get("transB", 0) or alpha != 1.0:
        weight = numpy_helper.to_array(inits[weight_name])
        weight = (weight.T if attrs.get("transB", 0) else weight) * np.asarray(alpha, weight.dtype)
        weight_name = _fresh_name(taken, f"{node.input[1]}_as_matmul")
        graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(weight), weight_name))
    base = node.name or node.output[0]
    if not bias:
        return _with_metadata(node, [helper.make_node("MatMul", [node.input[0], weight_name], [node.output[0]],
                                                      name=_fresh_name(taken, f"{base}_MatMul"))])
    if beta != 1.0:
        scaled = numpy_helper.to_array(inits[bias])
        bias = _fresh_name(taken, f"{bias}_scaled")
        graph.initializer.append(numpy_helper.from_array(scaled * np.asarray(beta, scaled.dtype), bias))
    product = _fresh_name(taken, f"{node.output[0]}_matmul")
    return _with_metadata(node, [
        helper.make_node("MatMul", [node.input[0], weight_name], [product], name=_fresh_name(taken, f"{base}_MatMul")),
        helper.make_node("Add", [product, bias], [node.output[0]], name=_fresh_name(taken, f"{base}_Add")),
    ])


def _with_metadata(original: onnx.NodeProto, nodes: list[onnx.NodeProto]) -> list[onnx.NodeProto]:
    """The rewrite keeps the exporter's metadata (dynamo's module scope names say which layer a weight is in)."""
    for node in nodes:
        node.metadata_props.extend(original.metadata_props)
    return nodes


def _drop_unused_initializers(graph: onnx.GraphProto, candidates: set[str]) -> None:
    used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    keep = [t for t in graph.initializer if t.name not in candidates or t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)


def _copy(node: onnx.NodeProto) -> onnx.NodeProto:
    clone = onnx.NodeProto()
    clone.CopyFrom(node)  # the originals are deleted from the graph below
    return clone


def gemm_to_matmul(model: onnx.ModelProto) -> int:
    """Rewrite Gemm nodes with a constant weight in place; return how many were rewritten."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    taken = _all_names(graph)
    nodes: list[onnx.NodeProto] = []
    replaced: set[str] = set()
    count = 0
    for node in graph.node:
        rewritten = _gemm_as_matmul(node, inits, graph, taken)
        nodes.extend(rewritten or [_copy(node)])
        if rewritten:
            count += 1
            replaced.update(node.input[1:])
    if count:
        del graph.node[:]
        graph.node.extend(nodes)
        _drop_unused_initializers(graph, replaced)
    return count


def name_unnamed_nodes(model: onnx.ModelProto) -> None:
    """Give every node a unique name: ``nodes_to_quantize`` selects nodes by name."""
    taken = _all_names(model.graph)
    for i, node in enumerate(model.graph.node):
        if not node.name:
            node.name = _fresh_name(taken, f"{node.op_type}_{i}")


def weight_matmuls(model: onnx.ModelProto) -> list[str]:
    """Names of MatMul nodes whose second input is a constant: the model's linear layers."""
    inits = {t.name for t in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and len(n.input) > 1 and n.input[1] in inits]


def constant_gathers(model: onnx.ModelProto) -> list[str]:
    """Names of Gather nodes reading a constant table (embeddings): what ``int8-dynamic-full`` also quantises."""
    inits = {t.name for t in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type == "Gather" and n.input and n.input[0] in inits]


def exact_nodes(candidates: list[str], names: tuple[str, ...], option: str = "float nodes") -> list[str]:
    """``names`` checked against the quantisable nodes (a sensitivity sweep names them exactly)."""
    from edgeaudit.compress.errors import CompressError

    known = set(candidates)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise CompressError(f"{option}: {len(unknown)} node(s) are not quantisable nodes of this model, e.g. "
                            f"{unknown[0]!r}", hint="the node names come from this bundle's prepared graph "
                                                    "(edgeaudit.compress.blocks.model_blocks lists them)")
    return list(dict.fromkeys(names))


def matching_nodes(nodes: list[str], patterns: tuple[str, ...]) -> list[str]:
    """Nodes whose name matches any ``--keep-float`` regular expression; a pattern matching none is an error."""
    import re

    from edgeaudit.compress.errors import CompressError

    kept: list[str] = []
    for pattern in patterns:
        try:
            regex = re.compile(pattern)
        except re.error as error:
            raise CompressError(f"option --keep-float: {pattern!r} is not a regular expression ({error})") from None
        hits = [name for name in nodes if regex.search(name)]
        if not hits:
            example = nodes[len(nodes) // 2] if nodes else "none"
            raise CompressError(f"option --keep-float: {pattern!r} matches none of the {len(nodes)} weight MatMuls",
                                hint=f"their names look like {example!r}")
        kept += [name for name in hits if name not in kept]
    return kept


def quantized_gathers(model: onnx.ModelProto) -> int:
    """Gather nodes reading an 8-bit table: embeddings that ``quantize_dynamic`` turned into uint8/int8."""
    eight_bit = {onnx.TensorProto.UINT8, onnx.TensorProto.INT8}
    tables = {t.name for t in model.graph.initializer if t.data_type in eight_bit}
    return sum(1 for n in model.graph.node if n.op_type == "Gather" and n.input[0] in tables)


def qdq_weight_matmuls(model: onnx.ModelProto) -> int:
    """MatMul nodes whose weight comes out of a DequantizeLinear: what static QDQ quantised."""
    dequantised = {o for n in model.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    return sum(1 for n in model.graph.node if n.op_type == "MatMul" and len(n.input) > 1
               and n.input[1] in dequantised and n.input[0] in dequantised)


def count_op(model: onnx.ModelProto, op_type: str) -> int:
    return sum(1 for n in model.graph.node if n.op_type == op_type)
