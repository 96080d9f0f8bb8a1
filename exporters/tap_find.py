"""Structural rules that locate the bundle's taps in a plain transformer graph.

Attention: a ``Softmax`` whose input comes (through Add/Mul/Div/Where mask-and-scale chains) from a MatMul of
two activations (Q·Kᵀ) and whose output (through Cast/Dropout/NaN guards) is the left operand of a MatMul
with V. The tapped value is exactly what multiplies V.

Residual stream: the data input of the layer's Q projection (the first MatMul/Gemm with a constant weight
behind Q) is either the stream itself (post-LN encoders: BERT, RoBERTa, DistilBERT) or a norm of it (pre-LN
decoders: GPT-2, Llama, Qwen2). Which one is decided by which of the two feeds the residual ``Add`` around
that attention (an Add whose other operand is a projection output computed from the layer's Softmax).
After the last layer the residual Add chain is followed to its end; pre-LN models then get the final norm,
as Hugging Face's ``output_hidden_states`` does. Norms are recognised as fused ops or decomposed
(ReduceMean/Sub/Pow/Sqrt/Div or Pow/ReduceMean/Sqrt/Reciprocal/Mul) by their single non-constant input.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from edgeaudit.exporters.tap_graph import LAYOUT_OPS, TRANSPARENT, GraphIndex, is_onnx_op

from edgeaudit.errors import ExportError

FUSED_NORMS = frozenset({"LayerNormalization", "RMSNormalization", "SimplifiedLayerNormalization"})
NORM_OPS = frozenset({"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "ReduceMean", "Cast", "Neg",
                      "Identity"})
SCORE_OPS = ("Add", "Sub", "Mul", "Div", "Where", "Cast", "Identity", "Tanh", "Clip", "Min", "Max")
PROJECTION_OPS = ("MatMul", "Gemm")


@dataclass(frozen=True)
class AttentionSite:
    softmax: str  # node name, for the summary
    softmax_position: int
    probs: str  # the tensor that multiplies V
    layer_input: str  # what the Q projection reads


@dataclass(frozen=True)
class TapPlan:
    attention: list[str]  # tensors, layer order
    hidden: list[str]  # tensors, hidden_state_0..L
    norm_style: str  # "pre-LN" or "post-LN"
    softmax_nodes: list[str]
    hidden_is_output: str | None  # graph output that is hidden_state_L (encoders' last_hidden_state)

    @property
    def num_layers(self) -> int:
        return len(self.attention)


# --- attention ---------------------------------------------------------------------------------


def _probs_into_matmul(g: GraphIndex, softmax_out: str) -> str | None:
    """The tensor derived from ``softmax_out`` (casts, dropout, NaN→0 guards) that is MatMul'd with V."""
    queue, seen = deque([softmax_out]), {softmax_out}
    while queue:
        tensor = queue.popleft()
        for node in g.consumer_nodes(tensor):
            if is_onnx_op(node, "MatMul") and node.input[0] == tensor and node.input[1] not in g.constants:
                return tensor
            passes = is_onnx_op(node, *TRANSPARENT) and node.input[0] == tensor
            guard = is_onnx_op(node, "Where") and tensor in node.input[1:] and any(
                name in g.constants for name in node.input[1:] if name != tensor)
            if (passes or guard) and node.output[0] not in seen:
                seen.add(node.output[0])
                queue.append(node.output[0])
    return None


def _score_matmul(g: GraphIndex, scores: str) -> int | None:
    """Position of the Q·Kᵀ MatMul behind the Softmax input (through masking and scaling ops only)."""
    queue, seen = deque([(scores, 0)]), {scores}
    while queue:
        tensor, depth = queue.popleft()
        node = g.node_of(tensor)
        if node is None or depth > 8:
            continue
        if is_onnx_op(node, "MatMul"):
            if all(name not in g.constants for name in node.input[:2]):
                return g.producer[tensor]
            continue
        if not is_onnx_op(node, *SCORE_OPS):
            continue
        for parent in g.data_inputs(node):
            if parent not in seen:
                seen.add(parent)
                queue.append((parent, depth + 1))
    return None


def projection_input(g: GraphIndex, tensor: str) -> str | None:
    """The activation read by the nearest projection (MatMul/Gemm with a constant weight) behind ``tensor``."""
    for node, depth in g.backward(tensor, limit=300):
        if depth > 30:
            break
        if is_onnx_op(node, *PROJECTION_OPS) and len(node.input) > 1 and node.input[1] in g.constants \
                and node.input[0] not in g.constants:
            return g.through(node.input[0], LAYOUT_OPS)
    return None


def find_attention(g: GraphIndex, source: str) -> list[AttentionSite]:
    """Every self-attention Softmax in topological order, or a one-line error saying why there is none."""
    softmaxes = [i for i, node in enumerate(g.nodes) if is_onnx_op(node, "Softmax")]
    if not softmaxes:
        raise ExportError(
            f"{source}: no attention Softmax found ({len(g.nodes)} nodes, none of them Softmax); "
            "this does not look like a transformer",
            hint="tap needs a transformer exported with unfused attention (Q·Kᵀ → Softmax → ·V)",
        )
    sites: list[AttentionSite] = []
    for position in softmaxes:
        node = g.nodes[position]
        probs = _probs_into_matmul(g, node.output[0])
        qk = _score_matmul(g, node.input[0])
        if probs is None or qk is None:
            continue
        q_in = projection_input(g, g.nodes[qk].input[0])
        k_in = projection_input(g, g.nodes[qk].input[1])
        if q_in is None:
            continue
        if k_in is not None and k_in != q_in:
            raise ExportError(
                f"{source}: Softmax node {node.name or position} attends from one tensor to another "
                "(cross-attention); encoder-decoder models are not supported",
                hint="tap a decoder-only or encoder-only export",
            )
        sites.append(AttentionSite(node.name or f"Softmax#{position}", position, probs, q_in))
    if not sites:
        raise ExportError(
            f"{source}: no attention Softmax found — {len(softmaxes)} Softmax node(s), but none sits between "
            "a Q·Kᵀ MatMul and a MatMul with V",
            hint="tap needs a transformer exported with unfused attention (Q·Kᵀ → Softmax → ·V)",
        )
    return sites


# --- norms -------------------------------------------------------------------------------------


def _square_base(g: GraphIndex, tensor: str) -> list[str]:
    """``tensor`` and, if it is x², x (and x before a Cast): the candidates a ReduceMean normalises."""
    found = [tensor]
    node = g.node_of(tensor)
    if node is not None and (is_onnx_op(node, "Pow") or (is_onnx_op(node, "Mul") and node.input[0] == node.input[1])):
        found.append(node.input[0])
    last = g.node_of(found[-1])
    if last is not None and is_onnx_op(last, "Cast"):
        found.append(last.input[0])
    return found


def _closed_norm(g: GraphIndex, output: str, source: str) -> bool:
    """Whether ``output`` is computed from ``source`` and constants alone, through norm arithmetic with a ReduceMean."""
    stack, seen, reached, reduce_mean, count = [output], {output}, False, False, 0
    while stack:
        tensor = stack.pop()
        if tensor == source:
            reached = True
            continue
        if tensor in g.constants:
            continue
        node = g.node_of(tensor)
        count += 1
        if node is None or not is_onnx_op(node, *NORM_OPS) or count > 40:
            return False
        reduce_mean = reduce_mean or node.op_type == "ReduceMean"
        for parent in node.input:
            if parent and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return reached and reduce_mean


def norm_input(g: GraphIndex, tensor: str) -> str | None:
    """If ``tensor`` is the output of a (fused or decomposed) LayerNorm/RMSNorm, the tensor it normalises."""
    node = g.node_of(tensor)
    if node is None:
        return None
    if node.op_type in FUSED_NORMS:
        return node.input[0]
    if not is_onnx_op(node, *NORM_OPS):
        return None
    candidates: set[str] = set()
    for parent, depth in g.backward(tensor, limit=60):
        if depth > 10:
            break
        if is_onnx_op(parent, "ReduceMean"):
            candidates.update(_square_base(g, parent.input[0]))
    for candidate in sorted(candidates, key=g.position):
        if _closed_norm(g, tensor, candidate):
            return candidate
    return None


def norm_output(g: GraphIndex, tensor: str) -> str | None:
    """The output of the norm applied to ``tensor`` (the last value computed from it by norm arithmetic)."""
    for node in g.consumer_nodes(tensor):
        if node.op_type in FUSED_NORMS and node.input[0] == tensor:
            return node.output[0]
    region: list[str] = []
    queue, seen = deque([(tensor, 0)]), {tensor}
    while queue:
        current, depth = queue.popleft()
        if depth >= 12:
            continue
        for node in g.consumer_nodes(current):
            if is_onnx_op(node, *NORM_OPS) and node.output[0] not in seen:
                seen.add(node.output[0])
                region.append(node.output[0])
                queue.append((node.output[0], depth + 1))
    for candidate in sorted(region, key=g.position, reverse=True):
        if norm_input(g, candidate) == tensor:
            return candidate
    return None


# --- residual stream ---------------------------------------------------------------------------


def _is_projection_output(g: GraphIndex, tensor: str) -> bool:
    """Whether ``tensor`` is a linear layer's output (bias adds, reshapes, dropout and casts looked through)."""
    for _ in range(8):
        node = g.node_of(tensor)
        if node is None:
            return False
        if is_onnx_op(node, *PROJECTION_OPS) and len(node.input) > 1 and node.input[1] in g.constants:
            return True
        if is_onnx_op(node, *(LAYOUT_OPS | TRANSPARENT)):
            tensor = node.input[0]
        elif is_onnx_op(node, "Add", "Mul") and sum(name in g.constants for name in node.input) == 1:
            tensor = next(name for name in node.input if name not in g.constants)
        else:
            return False
    return False


def residual_add(g: GraphIndex, stream: str, since: int) -> str | None:
    """Output of the residual Add that adds to ``stream`` a projection computed after node ``since``."""
    for tensor in g.forward_through(stream, TRANSPARENT):
        for node in g.consumer_nodes(tensor):
            if not is_onnx_op(node, "Add") or tensor not in node.input:
                continue
            others = [name for name in node.input if name != tensor]
            if len(others) != 1 or others[0] in g.constants:
                continue
            if g.depends_on(others[0], since) and _is_projection_output(g, others[0]):
                return node.output[0]
    return None


def _layer_stream(g: GraphIndex, site: AttentionSite) -> tuple[str, str] | None:
    """(stream tensor entering this layer, "post-LN" | "pre-LN")."""
    if residual_add(g, site.layer_input, site.softmax_position):
        return site.layer_input, "post-LN"
    base = norm_input(g, site.layer_input)
    if base is not None and residual_add(g, base, site.softmax_position):
        return base, "pre-LN"
    return None


def _walk(g: GraphIndex, stream: str, site: AttentionSite, style: str, stop: str | None) -> list[str]:
    """Follow the residual Add chain from ``stream`` (first Add: around ``site``'s attention)."""
    visited, since = [stream], site.softmax_position
    for _ in range(6):
        added = residual_add(g, stream, since)
        if added is None:
            break
        stream = added
        if style == "post-LN":
            normed = norm_output(g, added)
            if normed is None:
                break
            stream = normed
        visited.append(stream)
        since = g.position(stream)
        if stream == stop:
            break
    return visited


def find_taps(g: GraphIndex, source: str) -> TapPlan:
    """Locate attention probabilities and residual-stream tensors; fail with the layer that breaks the rules."""
    sites = find_attention(g, source)
    streams: list[str] = []
    styles: set[str] = set()
    for layer, site in enumerate(sites):
        found = _layer_stream(g, site)
        if found is None:
            raise ExportError(
                f"{source}: cannot find the residual stream around attention layer {layer} (Softmax node "
                f"{site.softmax}): neither the attention input nor its norm input feeds a residual Add",
                hint="tap supports standard pre-LN and post-LN transformer blocks",
            )
        streams.append(found[0])
        styles.add(found[1])
    if len(styles) != 1:
        raise ExportError(f"{source}: layers mix pre-LN and post-LN blocks; tap cannot tell the residual stream apart")
    style = styles.pop()
    for layer in range(len(sites) - 1):
        if streams[layer + 1] not in _walk(g, streams[layer], sites[layer], style, streams[layer + 1]):
            raise ExportError(
                f"{source}: the residual Add chain from layer {layer} does not reach layer {layer + 1}'s input",
                hint="tap supports sequential attention → MLP blocks (not parallel-residual ones)",
            )
    tail = _walk(g, streams[-1], sites[-1], style, None)
    if len(tail) < 3:
        raise ExportError(
            f"{source}: cannot follow the residual stream through the last layer (attention + MLP residual Adds)",
            hint="tap supports sequential attention → MLP blocks",
        )
    final = tail[-1]
    if style == "pre-LN":
        final = norm_output(g, final) or final
    reachable = set(g.forward_through(final, TRANSPARENT))
    as_output = next((name for name in g.outputs if name in reachable), None)
    return TapPlan(
        attention=[site.probs for site in sites],
        hidden=[*streams, final],
        norm_style=style,
        softmax_nodes=[site.softmax for site in sites],
        hidden_is_output=as_output,
    )
