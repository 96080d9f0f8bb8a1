"""Tiny tapped bundles built without PyTorch: an ONNX transformer written with ``onnx.helper``, numpy weights.

The device install has no torch, so it cannot export the tiny checkpoints of ``tests.tiny_models``. These bundles
have the same interface as exported ones (inputs, ``attention_i`` / ``hidden_state_i`` taps, final output,
tokenizer, a manifest from ``edgeaudit.bundle.build``): per layer, multi-head softmax attention with the padding
mask (and a causal mask for decoders), a residual, an MLP and a layer norm; decoders end in logits. Each family's
linear layers are shaped like the real family's (``_STYLE``), since compression tests count and name them. The
weights are random (seeded), as in a randomly initialised exported model.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np

from tests.tiny_models import (
    DECODERS,
    FAMILIES,
    byte_level_tokenizer,
    metaspace_tokenizer,
    wordpiece_tokenizer,
)

LAYERS, HEADS, HIDDEN, FFN, POSITIONS = 2, 4, 32, 64, 64


def onnx_built_bundles() -> bool:
    """Whether the ``tiny_bundle`` fixture writes bundles with onnx.helper instead of exporting them with torch:
    without torch (the device install) or when ``EDGEAUDIT_TEST_BUNDLES=onnx`` asks for it."""
    return os.environ.get("EDGEAUDIT_TEST_BUNDLES") == "onnx" or importlib.util.find_spec("torch") is None


OPSET = 18

INPUTS = ("input_ids", "attention_mask")  # what the exported tiny bundles take too

#: family -> (tokenizer factory, pad token, padding side); left-padded families count positions from the mask
_FAMILY = {
    "bert": (wordpiece_tokenizer, "[PAD]", "right"),
    "distilbert": (wordpiece_tokenizer, "[PAD]", "right"),
    "roberta": (lambda: byte_level_tokenizer(roberta=True), "<pad>", "right"),
    "gpt2": (byte_level_tokenizer, "<|endoftext|>", "right"),
    "llama": (metaspace_tokenizer, "</s>", "left"),
    "qwen2": (byte_level_tokenizer, "<|endoftext|>", "left"),
}
#: family -> its layers' shape, so the graphs hold the real families' linear layers (GPT-2: one fused q|k|v
#: projection, every layer's projections as Gemm, MLP 4x wide; Llama/Qwen2: gated MLPs; Llama: its own lm_head)
_STYLE = {
    "gpt2": {"fused_qkv": True, "gemm": True, "ffn": 4 * HIDDEN},
    "llama": {"gated_mlp": True, "tied": False},
    "qwen2": {"gated_mlp": True},
}


class _Graph:
    """Nodes and initialisers under construction, with fresh names."""

    def __init__(self, seed: int, gemm: bool = False):
        self.nodes, self.initializers, self.rng, self._count = [], [], np.random.default_rng(seed), 0
        self.gemm = gemm

    def const(self, name: str, value: np.ndarray) -> str:
        """A small constant as a Constant node, as the exporters emit shapes and scalars (never external data)."""
        from onnx import helper, numpy_helper

        self.nodes.append(helper.make_node("Constant", [], [name], name=f"{name}_const",
                                           value=numpy_helper.from_array(np.asarray(value), name)))
        return name

    def initializer(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def weight(self, name: str, *shape: int, scale: float = 0.02) -> str:  # transformers' initializer_range
        return self.initializer(name, self.rng.standard_normal(shape) * scale)

    def linear(self, x: str, name: str, rows: int, cols: int, scope: str) -> str:
        """``x @ W``: a MatMul, or (``gemm``) GPT-2's Conv1D as exported — Gemm with a bias on [b*s, rows]."""
        weight = self.weight(f"{name}.weight", rows, cols)
        if not self.gemm:
            return self.op("MatMul", x, weight, scope=scope)
        flat = self.op("Reshape", x, self.const(f"{name}.flat", np.array([-1, rows], dtype=np.int64)))
        bias = self.initializer(f"{name}.bias", np.zeros(cols))
        return self._unflatten(self.op("Gemm", flat, weight, bias, scope=scope), x, cols, name)

    def _unflatten(self, product: str, like: str, cols: int, name: str) -> str:
        """[b*s, cols] back to [b, s, cols], b and s read from ``like``."""
        leading = self.op("Slice", self.op("Shape", like), self.const(f"{name}.from", np.array([0])),
                          self.const(f"{name}.to", np.array([2])))
        shape = self.op("Concat", leading, self.const(f"{name}.cols", np.array([cols], dtype=np.int64)), axis=0)
        return self.op("Reshape", product, shape)

    def op(self, op_type: str, *inputs: str, out: str | None = None, scope: str = "", **attrs) -> str:
        """Add a node; ``scope`` is a module path like the exporters keep ("/layers.0/mlp/down_proj")."""
        from onnx import helper

        self._count += 1
        out = out or f"{op_type.lower()}_{self._count}"
        name = f"{scope}/{op_type}" if scope else f"{op_type}_{self._count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=name, **attrs))
        return out


def _attention(g: _Graph, x: str, layer: int, bias: str, fused_qkv: bool) -> tuple[str, str]:
    """Multi-head self-attention of ``x`` [b, s, H]: (attention probabilities [b, h, s, s], output [b, s, H]).
    ``fused_qkv``: one projection to [q | k | v], split after it (GPT-2's ``c_attn``)."""
    d = HIDDEN // HEADS
    split = g.const(f"split_{layer}", np.array([0, 0, HEADS, d], dtype=np.int64))
    merge = g.const(f"merge_{layer}", np.array([0, 0, HIDDEN], dtype=np.int64))
    if fused_qkv:
        fused = g.linear(x, f"layers.{layer}.self_attn.qkv_proj", HIDDEN, 3 * HIDDEN,
                         f"/layers.{layer}/self_attn/qkv_proj")
        sizes = g.const(f"qkv_sizes_{layer}", np.array([HIDDEN] * 3, dtype=np.int64))
        parts = [f"qkv_{layer}_{i}" for i in range(3)]
        from onnx import helper

        g.nodes.append(helper.make_node("Split", [fused, sizes], parts, name=f"/layers.{layer}/self_attn/Split",
                                        axis=-1))
    else:
        parts = [g.linear(x, f"layers.{layer}.self_attn.{name}", HIDDEN, HIDDEN, f"/layers.{layer}/self_attn/{name}")
                 for name in ("q_proj", "k_proj", "v_proj")]

    def heads(projected: str, perm: list[int]) -> str:
        return g.op("Transpose", g.op("Reshape", projected, split), perm=perm)

    q, k, v = heads(parts[0], [0, 2, 1, 3]), heads(parts[1], [0, 2, 3, 1]), heads(parts[2], [0, 2, 1, 3])
    scores = g.op("Mul", g.op("MatMul", q, k), g.const(f"scale_{layer}", np.float32(1 / np.sqrt(d))))
    probs = g.op("Softmax", g.op("Add", scores, bias), axis=-1, out=f"attention_{layer}")
    context = g.op("Reshape", g.op("Transpose", g.op("MatMul", probs, v), perm=[0, 2, 1, 3]), merge)
    return probs, g.linear(context, f"layers.{layer}.self_attn.o_proj", HIDDEN, HIDDEN,
                           f"/layers.{layer}/self_attn/o_proj")


def _mask_bias(g: _Graph, causal: bool) -> str:
    """Additive mask [b, 1, 1 or s, s]: −1e9 on padding keys (and on later keys for a decoder), else 0."""
    from onnx import helper

    mask = g.op("Unsqueeze", g.op("Cast", "attention_mask", to=1), g.const("mask_axes", np.array([1, 2])))
    big = g.const("big", np.float32(1e9))
    one = g.const("one", np.float32(1.0))
    bias = g.op("Mul", g.op("Sub", mask, one), big)
    if not causal:
        return bias
    length = g.op("Shape", "input_ids", start=1, end=2)
    square = g.op("ConstantOfShape", g.op("Concat", length, length, axis=0),
                  value=helper.make_tensor("ones", 1, [1], [1.0]))
    lower = g.op("Trilu", square, upper=0)
    return g.op("Add", bias, g.op("Mul", g.op("Sub", lower, one), big))


def _positions(g: _Graph, from_mask: bool) -> str:
    """Position embeddings: 0, 1, ... along the sequence, or counted over real tokens (left padding)."""
    table = g.weight("position_embeddings", POSITIONS, HIDDEN)
    if from_mask:
        counted = g.op("Sub", g.op("CumSum", "attention_mask", g.const("seq_axis", np.int64(1))),
                       g.const("one_int", np.int64(1)))
        return g.op("Gather", table, g.op("Max", counted, g.const("zero_int", np.int64(0))))
    length = g.op("Gather", g.op("Shape", "input_ids"), g.const("sequence_axis", np.int64(1)))
    steps = g.op("Range", g.const("zero", np.int64(0)), length, g.const("step", np.int64(1)))
    return g.op("Gather", table, steps)


def _mlp(g: _Graph, x: str, layer: int, gated: bool, ffn: int) -> str:
    """ReLU MLP (up, down), or Llama's gated one: down(silu(gate(x)) * up(x))."""
    def project(name: str, source: str, rows: int, cols: int) -> str:
        return g.linear(source, f"layers.{layer}.mlp.{name}", rows, cols, f"/layers.{layer}/mlp/{name}")

    up = project("up_proj", x, HIDDEN, ffn)
    if gated:
        gate = project("gate_proj", x, HIDDEN, ffn)
        hidden = g.op("Mul", g.op("Mul", gate, g.op("Sigmoid", gate)), up)
    else:
        hidden = g.op("Relu", up)
    return project("down_proj", hidden, ffn, HIDDEN)


def build_graph(vocab_size: int, causal: bool, *, left_padded: bool = False, fused_qkv: bool = False,
                gated_mlp: bool = False, tied: bool = True, gemm: bool = False, ffn: int = FFN, seed: int = 0):
    """The ONNX model: taps ``attention_0..L-1``, ``hidden_state_0..L`` and, for decoders, ``logits`` (from the
    embedding table when ``tied``, kept as its own transposed initializer as exporters fold it)."""
    from onnx import TensorProto, helper

    g = _Graph(seed, gemm)
    table = g.rng.standard_normal((vocab_size, HIDDEN)) * 0.02
    embeddings = g.initializer("embed_tokens.weight", table)
    x = g.op("Add", g.op("Gather", embeddings, "input_ids"), _positions(g, left_padded), out="hidden_state_0")
    bias = _mask_bias(g, causal)
    ones, zeros = g.const("ln_scale", np.ones(HIDDEN, np.float32)), g.const("ln_bias", np.zeros(HIDDEN, np.float32))
    outputs = [("hidden_state_0", [None, None, HIDDEN])]
    for layer in range(LAYERS):
        probs, attended = _attention(g, x, layer, bias, fused_qkv)
        outputs.insert(layer, (probs, [None, HEADS, None, None]))
        residual = g.op("Add", x, attended)
        mixed = g.op("Add", residual, _mlp(g, residual, layer, gated_mlp, ffn))
        x = g.op("LayerNormalization", mixed, ones, zeros, axis=-1, out=f"hidden_state_{layer + 1}")
        outputs.append((x, [None, None, HIDDEN]))
    if causal:
        head = g.initializer("lm_head.weight", table.T if tied else g.rng.standard_normal((HIDDEN, vocab_size)) * 0.02)
        outputs.append((g.op("MatMul", x, head, out="logits", scope="/lm_head"), [None, None, vocab_size]))

    def value(name: str, dims: list, elem: int = TensorProto.FLOAT):
        shape = ["batch" if i == 0 else "sequence" if dim is None else dim for i, dim in enumerate(dims)]
        if name.startswith("attention_"):
            shape = ["batch", HEADS, "sequence", "sequence"]
        return helper.make_tensor_value_info(name, elem, shape)

    graph = helper.make_graph(g.nodes, "tiny-transformer",
                              [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
                               for name in INPUTS],
                              [value(name, dims) for name, dims in outputs], g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tests")
    model.ir_version = 9
    return model


def build_onnx_bundle(family: str, out_dir: Path, seed: int = 0, variant: str = "fp32") -> Path:
    """Write a tiny tapped bundle of ``family``'s interface (tokenizer, inputs, padding) to ``out_dir``;
    ``variant="random-init"`` with another seed makes the bundle's random-init twin."""
    import onnx

    from edgeaudit.bundle import load_bundle
    from edgeaudit.bundle.build import new_manifest, tokenizer_settings
    from edgeaudit.bundle.manifest import save_manifest

    if family not in _FAMILY:
        raise ValueError(f"unknown tiny family {family!r}; choose from {FAMILIES}")
    make_tokenizer, pad_token, padding_side = _FAMILY[family]
    tokenizer = make_tokenizer()
    causal = family in DECODERS
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    vocab = tokenizer.get_vocab_size()
    weights_seed = seed + (1_000_000 if variant == "random-init" else 0)  # a twin never shares the weights
    model = build_graph(vocab, causal, left_padded=padding_side == "left", seed=weights_seed,
                        **_STYLE.get(family, {}))
    onnx.checker.check_model(model)
    onnx.save(model, str(out_dir / "model.onnx"))
    (out_dir / "tokenizer.json").write_text(tokenizer.to_str(), encoding="utf-8")
    settings = tokenizer_settings("tokenizer.json", json.loads(tokenizer.to_str()), max_length=POSITIONS,
                                  padding_side=padding_side, pad_token_id=tokenizer.token_to_id(pad_token))
    manifest = new_manifest(
        out_dir,
        model={"family": "decoder" if causal else "encoder", "model_type": family,
               "architecture": f"tiny {family}-like ONNX (tests.onnx_bundles)", "num_layers": LAYERS,
               "num_heads": HEADS, "hidden_size": HIDDEN, "causal": causal, "vocab_size": vocab,
               "max_positions": POSITIONS, "source": "tests.onnx_bundles"},
        onnx_file="model.onnx", opset=OPSET, inputs=list(INPUTS), exporter="onnx.helper (tests)",
        final_output="logits" if causal else f"hidden_state_{LAYERS}",
        final_output_kind="logits" if causal else "last_hidden_state", tokenizer=settings,
        export_check={"verified": False, "reason": "built with onnx.helper; no PyTorch reference"},
        variant=variant, variant_settings={"seed": seed} if variant == "random-init" else None,
    )
    save_manifest(out_dir, manifest)
    load_bundle(out_dir)
    return out_dir
