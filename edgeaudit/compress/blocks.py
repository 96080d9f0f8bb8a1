"""The quantisable blocks of a bundle: each layer's attention and MLP, the embeddings, the head.

A per-layer sensitivity sweep quantises one block at a time, so it needs to know which weight MatMul (and, for
``int8-dynamic-full``, which embedding Gather) belongs to which block. Node names alone do not say it for every
exporter: TorchScript names nodes by module path (``/model/encoder/layer.0/attention/self/query/MatMul``), the
dynamo exporter names them ``node_MatMul_94`` and keeps the module path in the node's
``pkg.torch.onnx.name_scopes`` metadata; GPT-2's weights carry the path in their initializer names. The scope
of a node is read from the first of these that exists, on the *parent* graph when pre-processing dropped the
metadata (onnxruntime's optimiser does for some graphs). Node names are those of the prepared graph
(:func:`graph_prep.prepare`), the names ``nodes_to_exclude`` acts on.
"""

from __future__ import annotations

import ast
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import onnx

from edgeaudit.bundle import Bundle
from edgeaudit.compress import graph_prep
from edgeaudit.compress.errors import CompressError

SCOPE_KEY = "pkg.torch.onnx.name_scopes"
_LAYER = re.compile(r"(?:^|[./_])(?:layers?|h|blocks?)[._](\d+)(?=[./_]|$)")
_ATTENTION = re.compile(r"attn|attention|q_proj|k_proj|v_proj|o_proj|query|key|value|[qkv]_lin|out_lin")
_EMBEDDING = re.compile(r"embed|wte|wpe")


@dataclass(frozen=True)
class Block:
    """One unit a sweep keeps in float or quantises: ``layer3.attention``, ``layer3.mlp``, ``embeddings``, ``head``."""

    name: str
    layer: int | None
    part: str  # "attention" | "mlp" | "embeddings" | "head"
    nodes: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"name": self.name, "layer": self.layer, "part": self.part, "nodes": list(self.nodes)}


def _scope(node: onnx.NodeProto) -> str | None:
    for prop in node.metadata_props:
        if prop.key == SCOPE_KEY:
            try:
                scopes = ast.literal_eval(prop.value)
            except (ValueError, SyntaxError):
                return prop.value
            return max((str(s) for s in scopes), key=len, default=None)
    return None


def _parent_scopes(model: onnx.ModelProto) -> dict[str, str]:
    return {node.name: scope for node in model.graph.node if node.name and (scope := _scope(node))}


def _describe(node: onnx.NodeProto, parent_scopes: dict[str, str]) -> str:
    """Everything that may name the module of ``node``: its scope, its name, its weight's name."""
    base = re.sub(r"_MatMul(_\d+)?$", "", node.name)  # a Gemm rewritten as MatMul is named after it
    scope = _scope(node) or parent_scopes.get(node.name) or parent_scopes.get(base) or ""
    weight = node.input[1] if node.op_type == "MatMul" and len(node.input) > 1 else node.input[0]
    return f"{scope} {node.name} {weight}"


def classify(text: str, op_type: str) -> tuple[int | None, str]:
    """(layer, part) of a node described by ``text``; a node outside every layer is the embeddings or the head."""
    match = _LAYER.search(text)
    if match:
        return int(match.group(1)), "attention" if _ATTENTION.search(text) else "mlp"
    return None, "embeddings" if op_type == "Gather" or _EMBEDDING.search(text) else "head"


def blocks_of(prepared: onnx.ModelProto, parent: onnx.ModelProto, *, with_gathers: bool) -> list[Block]:
    """Group the prepared graph's quantisable nodes into blocks, in model order (embeddings, layers, head)."""
    names = set(graph_prep.weight_matmuls(prepared))
    if with_gathers:
        names |= set(graph_prep.constant_gathers(prepared))
    scopes = _parent_scopes(parent)
    grouped: dict[tuple[int | None, str], list[str]] = {}
    for node in prepared.graph.node:
        if node.name in names:
            grouped.setdefault(classify(_describe(node, scopes), node.op_type), []).append(node.name)
    if not any(layer is not None for layer, _ in grouped):
        raise CompressError(f"cannot tell which layer any of the {len(names)} quantisable nodes belongs to "
                            "(no layer index in node names, scopes or weight names)",
                            hint="export the bundle with 'edgeaudit export' (either exporter keeps module paths)")
    order = {"embeddings": (-1, 0), "head": (1 << 30, 0)}

    def key(item: tuple[tuple[int | None, str], list[str]]) -> tuple[int, int]:
        (layer, part), _ = item
        return order[part] if layer is None else (layer, 0 if part == "attention" else 1)

    return [Block(part if layer is None else f"layer{layer}.{part}", layer, part, tuple(nodes))
            for (layer, part), nodes in sorted(grouped.items(), key=key)]


def model_blocks(bundle: Bundle, preset: str, *, keep: Path | None = None) -> list[Block]:
    """The blocks of ``bundle`` as ``preset`` would quantise them (prepared exactly as ``compress`` prepares).

    With ``keep``, the prepared graph stays in that folder for ``compress(..., prepared=keep)``.
    """
    if preset == "fp16":
        raise CompressError("fp16 converts every node: there are no blocks to quantise one at a time",
                            hint="choose an int8 or int4 preset")
    if keep is not None:
        prepared = graph_prep.save_prepared(bundle, keep)
    else:
        with tempfile.TemporaryDirectory(prefix="edgeaudit-blocks-") as scratch:
            _, prepared, _ = graph_prep.prepare(bundle.onnx_path, Path(scratch))
    parent = onnx.load(str(bundle.onnx_path), load_external_data=False)  # node names and scopes only
    return blocks_of(prepared, parent, with_gathers=preset == "int8-dynamic-full")
