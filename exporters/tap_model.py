"""Reading, checking, rewriting and writing the ONNX file being tapped (onnx only, no torch).

Everything here turns a raw ``.onnx`` file into a graph the bundle runtime can drive — inputs exactly
``input_ids`` and ``attention_mask`` (int64) — or says in one line why that is impossible.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeaudit.errors import ExportError

BUNDLE_INPUTS = ("input_ids", "attention_mask")
# Inputs the bundle runtime does not feed, rebuilt inside the graph from input_ids.
DERIVED_INPUTS = ("token_type_ids", "position_ids")
TWO_GB = 2**31
FUSED_ATTENTION = frozenset({
    "Attention", "MultiHeadAttention", "GroupQueryAttention", "PackedAttention", "PackedMultiHeadAttention",
    "DecoderMaskedMultiHeadAttention", "DecoderMaskedSelfAttention", "DecoderAttention", "LongformerAttention",
    "QAttention", "SparseAttention", "PagedAttention", "QOrderedAttention", "EmbedLayerNormalization",
})
FUSED_RESIDUAL = frozenset({"SkipLayerNormalization", "SkipSimplifiedLayerNormalization", "SkipGroupNorm"})


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def load_model(path: Path) -> onnx.ModelProto:
    """Load ``path`` with its external data (looked up next to the file); one-line errors for bad files."""
    if not path.exists():
        raise ExportError(f"{path}: no such file", hint="pass the path of an existing .onnx model")
    if not path.is_file():
        raise ExportError(f"{path}: is a directory, expected an .onnx file",
                          hint="pass the model file itself (e.g. DIR/model.onnx)")
    try:
        model = onnx.load(str(path), load_external_data=True)
    except FileNotFoundError as exc:
        raise ExportError(f"{path}: external data file is missing ({_first_line(exc)})",
                          hint="keep the model's .data files in the same directory as the .onnx file") from None
    except Exception as exc:  # protobuf raises DecodeError and friends on non-ONNX bytes
        raise ExportError(f"{path}: not a readable ONNX model ({_first_line(exc)})",
                          hint="pass a valid .onnx file (the file may be truncated or of another format)") from None
    if model.ir_version == 0 or len(model.graph.node) == 0:
        raise ExportError(f"{path}: not a readable ONNX model (no graph nodes after parsing)",
                          hint="pass a valid .onnx file (the file may be truncated or of another format)")
    if model.functions:
        model = onnx.inliner.inline_local_functions(model)
    return model


def default_opset(model: onnx.ModelProto) -> int:
    return next((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), 0)


def check_unfused(model: onnx.ModelProto, source: str) -> None:
    """Refuse graphs whose attention or residual adds were fused into single ops (nothing left to tap)."""
    counts = Counter(
        (node.domain or "ai.onnx", node.op_type) for node in model.graph.node
        if (node.op_type in FUSED_ATTENTION and node.domain == "com.microsoft")
        or (node.op_type == "Attention" and node.domain in ("", "ai.onnx"))
        or (node.op_type in FUSED_RESIDUAL)
    )
    if not counts:
        return
    # Report fused attention first: it is the reason to re-export even when norms are fused too.
    (domain, op), found = min(counts.items(), key=lambda item: (item[0][1] in FUSED_RESIDUAL, -item[1]))
    what = "the residual stream is" if op in FUSED_RESIDUAL else "attention is"
    if domain == "ai.onnx" and op == "Attention":  # opset 23's standard op: what a plain dynamo export emits
        hint = ("the standard Attention op (opset 23) hides the attention probabilities: export at opset 22 or lower "
                "(torch.onnx.export(..., opset_version=22)) with attn_implementation='eager', or use 'edgeaudit export', "
                "which does both")
    else:
        hint = ("re-export without the transformers optimizer / with attention fusion disabled "
                "(e.g. plain torch.onnx.export or optimum-cli export onnx without --optimize)")
    raise ExportError(f"{source}: {what} fused into {domain}.{op} nodes ({found} found); tap needs an unfused export",
                      hint=hint)


def check_inference_mode(model: onnx.ModelProto, source: str) -> None:
    """A Dropout in training mode makes every run random — a model exported while still in training mode."""
    constants = {init.name: init for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "Dropout" or len(node.input) < 3 or node.input[2] not in constants:
            continue
        training = bool(numpy_helper.to_array(constants[node.input[2]]).reshape(-1)[0])
        ratio = numpy_helper.to_array(constants[node.input[1]]).reshape(-1)[0] if node.input[1] in constants else 1
        if training and ratio > 0:
            raise ExportError(
                f"{source}: Dropout node {node.name or '?'} runs in training mode (ratio {float(ratio):g}); "
                "the model was exported in training mode",
                hint="switch the torch module to inference mode (its eval method) before torch.onnx.export "
                     "and export again",
            )


def _elem_type(value: onnx.ValueInfoProto) -> int:
    return value.type.tensor_type.elem_type


def normalize_inputs(model: onnx.ModelProto, source: str) -> list[str]:
    """Make the graph inputs exactly input_ids + attention_mask (int64); return their names in order.

    ``token_type_ids`` becomes zeros and ``position_ids`` 0..seq-1 (what Hugging Face uses without them),
    built inside the graph; a non-int64 id input gets a Cast. Any other input (past key values…) is refused.
    """
    graph = model.graph
    by_name = {value.name: value for value in graph.input}
    missing = [name for name in BUNDLE_INPUTS if name not in by_name]
    if missing:
        raise ExportError(
            f"{source}: graph has no {' or '.join(missing)} input (inputs: {', '.join(by_name) or 'none'})",
            hint="tap needs a transformer export with inputs named input_ids and attention_mask",
        )
    extra = [name for name in by_name if name not in BUNDLE_INPUTS + DERIVED_INPUTS]
    if extra:
        raise ExportError(
            f"{source}: unsupported graph input(s) {', '.join(extra[:4])}"
            + (f" and {len(extra) - 4} more" if len(extra) > 4 else ""),
            hint="export without a KV cache (use_cache=False; optimum: a task without -with-past)",
        )
    prologue: list[onnx.NodeProto] = []
    for name in BUNDLE_INPUTS:
        value = by_name[name]
        if _elem_type(value) != TensorProto.INT64:
            inner = f"{name}__as_graph_type"
            _rename_uses(graph, name, inner)
            prologue.append(helper.make_node("Cast", [name], [inner], to=_elem_type(value), name=f"tap_cast_{name}"))
            value.type.tensor_type.elem_type = TensorProto.INT64
    for name in DERIVED_INPUTS:
        if name in by_name:
            prologue += _derived_input_nodes(name, _elem_type(by_name[name]))
            graph.input.remove(by_name[name])
    nodes = prologue + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return [value.name for value in graph.input]


def _derived_input_nodes(name: str, elem_type: int) -> list[onnx.NodeProto]:
    """Nodes computing ``token_type_ids`` (zeros) or ``position_ids`` (arange per row) from input_ids."""
    p = f"tap_{name}"
    shape = helper.make_node("Shape", ["input_ids"], [f"{p}_shape"], name=f"{p}_shape")
    if name == "token_type_ids":
        zeros = helper.make_node("ConstantOfShape", [f"{p}_shape"], [f"{p}_zeros"], name=f"{p}_zeros",
                                 value=helper.make_tensor("value", TensorProto.INT64, [1], [0]))
        return [shape, zeros, helper.make_node("Cast", [f"{p}_zeros"], [name], to=elem_type, name=f"{p}_cast")]
    scalar = {k: helper.make_node("Constant", [], [f"{p}_{k}"], name=f"{p}_{k}",
                                  value=helper.make_tensor("value", TensorProto.INT64, [], [v]))
              for k, v in (("zero", 0), ("one", 1))}
    return [
        shape, *scalar.values(),
        helper.make_node("Gather", [f"{p}_shape", f"{p}_one"], [f"{p}_len"], axis=0, name=f"{p}_len"),
        helper.make_node("Range", [f"{p}_zero", f"{p}_len", f"{p}_one"], [f"{p}_range"], name=f"{p}_range"),
        helper.make_node("Expand", [f"{p}_range", f"{p}_shape"], [f"{p}_rows"], name=f"{p}_rows"),
        helper.make_node("Cast", [f"{p}_rows"], [name], to=elem_type, name=f"{p}_cast"),
    ]


def _rename_uses(graph: onnx.GraphProto, old: str, new: str) -> None:
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
    for output in graph.output:
        if output.name == old:
            output.name = new


def _rename_tensor(graph: onnx.GraphProto, old: str, new: str) -> None:
    """Rename an internal tensor everywhere (producer, consumers, value_info)."""
    _rename_uses(graph, old, new)
    for node in graph.node:
        node.output[:] = [new if name == old else name for name in node.output]
    for info in graph.value_info:
        if info.name == old:
            info.name = new


def add_tap_outputs(model: onnx.ModelProto, taps: dict[str, str], types: dict[str, int], shapes: dict[str, list],
                    source: str) -> None:
    """Expose each ``taps[output_name] = tensor`` as a graph output through an Identity node."""
    graph = model.graph
    if any(output.name in taps for output in graph.output):
        raise ExportError(f"{source}: the graph already has tap outputs (e.g. attention_0); it is tapped already",
                          hint="use the bundle it came from, or tap the plain export")
    plan = [(name, tensor, types.get(tensor, TensorProto.FLOAT)) for name, tensor in taps.items()]
    used = {name for node in graph.node for name in (*node.input, *node.output)} | {v.name for v in graph.input}
    for name in taps:
        if name in used:  # an internal tensor happens to carry a tap's name: move it aside
            _rename_tensor(graph, name, f"{name}__internal")
            plan = [(out, f"{name}__internal" if tensor == name else tensor, kind) for out, tensor, kind in plan]
    for name, tensor, kind in plan:
        graph.node.append(helper.make_node("Identity", [tensor], [name], name=f"tap_{name}"))
        graph.output.append(helper.make_tensor_value_info(name, kind, shapes.get(name)))


def static_types(model: onnx.ModelProto) -> dict[str, int]:
    """Element types of every tensor shape inference can type (empty when inference is impossible)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model) if model.ByteSize() < TWO_GB else model
    except Exception:  # inference is a convenience; the probe run checks the real types
        return {}
    types = {value.name: _elem_type(value) for value in
             (*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input)}
    types.update({init.name: init.data_type for init in inferred.graph.initializer})
    return {name: kind for name, kind in types.items() if kind}
