"""A read-only index over an ONNX graph: who produces and who consumes each tensor, which tensors are
constants, and bounded walks along data edges. The tap rules in ``exporters.tap_find`` are written
against this index so that they never depend on node or tensor names (exporters rename freely).

onnx only — no torch — so tapping works on a machine with just onnx + onnxruntime + tokenizers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import onnx

# Inputs that carry data (as opposed to shapes, axes or indices); ops not listed carry data on all inputs.
DATA_INPUTS: dict[str, tuple[int, ...]] = {
    "Reshape": (0,), "Expand": (0,), "Slice": (0,), "Unsqueeze": (0,), "Squeeze": (0,), "Tile": (0,),
    "Pad": (0,), "Where": (1, 2), "Gather": (0,), "GatherElements": (0,), "GatherND": (0,), "Split": (0,),
    "Dropout": (0,), "ReduceMean": (0,), "ReduceSum": (0,), "Clip": (0,), "Resize": (0,), "CumSum": (0,),
    "TopK": (0,), "Trilu": (0,),
}
# Ops whose output describes shapes or positions, never activations: walks stop there.
SHAPE_OPS = frozenset({"Shape", "Size", "ConstantOfShape", "Range", "NonZero", "EyeLike"})
# Ops that pass a tensor through unchanged (in inference) — looked through when matching patterns.
TRANSPARENT = frozenset({"Identity", "Cast", "Dropout"})
# Ops that only rearrange a tensor without changing its values.
LAYOUT_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"})


def is_onnx_op(node: onnx.NodeProto, *op_types: str) -> bool:
    """True for a standard-domain node of one of ``op_types`` (contrib ops never match)."""
    return node.domain in ("", "ai.onnx") and node.op_type in op_types


class GraphIndex:
    """Producers, consumers, topological positions and constant-ness of a (topologically sorted) graph."""

    def __init__(self, graph: onnx.GraphProto):
        self.graph = graph
        self.nodes: list[onnx.NodeProto] = list(graph.node)
        self.producer: dict[str, int] = {}
        self.consumers: dict[str, list[int]] = {}
        for index, node in enumerate(self.nodes):
            for name in node.output:
                if name:
                    self.producer[name] = index
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(index)
        self.graph_inputs = {value.name for value in graph.input}
        self.outputs = [value.name for value in graph.output]
        self.constants = self._constant_closure(graph)

    def _constant_closure(self, graph: onnx.GraphProto) -> set[str]:
        """Initializers, Constant outputs, and anything computed only from those (e.g. Transpose(W))."""
        constants = {init.name for init in graph.initializer} - self.graph_inputs
        for node in self.nodes:
            inputs = [name for name in node.input if name]
            if node.op_type in SHAPE_OPS and node.op_type != "ConstantOfShape":
                continue
            if all(name in constants for name in inputs) and (inputs or node.op_type == "Constant"):
                constants.update(name for name in node.output if name)
        return constants

    # --- single steps -------------------------------------------------------------------------

    def node_of(self, tensor: str) -> onnx.NodeProto | None:
        index = self.producer.get(tensor)
        return None if index is None else self.nodes[index]

    def position(self, tensor: str) -> int:
        """Topological position of the tensor's producer (-1 for graph inputs and initializers)."""
        return self.producer.get(tensor, -1)

    def consumer_nodes(self, tensor: str) -> list[onnx.NodeProto]:
        return [self.nodes[i] for i in self.consumers.get(tensor, [])]

    def data_inputs(self, node: onnx.NodeProto) -> list[str]:
        """The node's non-constant data inputs (shape/axes operands and constants left out)."""
        if node.op_type in SHAPE_OPS:
            return []
        picks = DATA_INPUTS.get(node.op_type)
        names = [node.input[i] for i in picks if i < len(node.input)] if picks else list(node.input)
        return [name for name in names if name and name not in self.constants]

    def through(self, tensor: str, op_types: Iterable[str]) -> str:
        """Walk back from ``tensor`` while its producer is one of ``op_types``; return where it stops."""
        kinds = frozenset(op_types)
        seen = 0
        while seen < 16:
            node = self.node_of(tensor)
            if node is None or not is_onnx_op(node, *kinds):
                return tensor
            inputs = self.data_inputs(node)
            if not inputs:
                return tensor
            tensor, seen = inputs[0], seen + 1
        return tensor

    def forward_through(self, tensor: str, op_types: Iterable[str]) -> Iterator[str]:
        """``tensor`` and every tensor computed from it by chains of ``op_types`` (first input only)."""
        kinds = frozenset(op_types)
        queue, seen = deque([tensor]), {tensor}
        while queue:
            current = queue.popleft()
            yield current
            for node in self.consumer_nodes(current):
                if is_onnx_op(node, *kinds) and node.input and node.input[0] == current:
                    name = node.output[0]
                    if name not in seen:
                        seen.add(name)
                        queue.append(name)

    # --- bounded searches ----------------------------------------------------------------------

    def backward(self, tensor: str, *, limit: int = 400) -> Iterator[tuple[onnx.NodeProto, int]]:
        """Producer nodes of ``tensor``'s data ancestry, nearest first, with their distance in hops."""
        queue: deque[tuple[str, int]] = deque([(tensor, 0)])
        seen: set[str] = {tensor}
        visited = 0
        while queue and visited < limit:
            name, depth = queue.popleft()
            node = self.node_of(name)
            if node is None:
                continue
            visited += 1
            yield node, depth
            for parent in self.data_inputs(node):
                if parent not in seen:
                    seen.add(parent)
                    queue.append((parent, depth + 1))

    def depends_on(self, tensor: str, ancestor_node: int) -> bool:
        """Whether ``tensor`` is computed from the output of node ``ancestor_node`` (data edges only).

        The search never goes above ``ancestor_node`` in topological order, so it costs about one layer.
        """
        stack, seen = [tensor], {tensor}
        while stack:
            index = self.producer.get(stack.pop())
            if index is None or index < ancestor_node:
                continue
            if index == ancestor_node:
                return True
            for parent in self.data_inputs(self.nodes[index]):
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return False
