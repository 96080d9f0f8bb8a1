"""Model facts the manifest needs that a bare ONNX file does not state: vocabulary and position limits
(read off embedding tables), tokenizer settings (read off tokenizer.json and a neighbouring
tokenizer_config.json), and heads/width/causality (measured by running the tapped graph once).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from edgeaudit.exporters.families import CONFIG_SPELLINGS
from edgeaudit.exporters.tap_graph import LAYOUT_OPS, GraphIndex, is_onnx_op
from onnx import numpy_helper

from edgeaudit.errors import ExportError

PAD_NAMES = ("[PAD]", "<pad>", "<|pad|>", "<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>")
NO_LIMIT = 1_000_000  # transformers writes a huge model_max_length when a tokenizer has none
# Embedding tables are padded past the tokenizer (Qwen2.5 by 271 rows, Phi-2 by 905 = 1.8%), never by a tenth:
# a tokenizer covering less than this share of the table belongs to another model.
MIN_VOCAB_COVERAGE = 0.9


@dataclass(frozen=True)
class EmbeddingFacts:
    vocab_size: int | None
    hidden_size: int | None
    max_positions: int | None  # None: no learned position table (rotary or none)


@dataclass(frozen=True)
class TokenizerFacts:
    data: dict[str, Any]
    vocab_size: int  # with added tokens
    pad_token_id: int | None
    max_length: int | None
    padding_side: str  # tokenizer_config.json's, else right
    config: dict[str, Any]  # config.json beside the tokenizer or model, when there is one


@dataclass(frozen=True)
class ProbeFacts:
    num_heads: int
    hidden_size: int
    causal: bool


# --- embeddings --------------------------------------------------------------------------------


def _constant_array(model: onnx.ModelProto, g: GraphIndex, tensor: str) -> np.ndarray | None:
    """Value of a constant tensor held by an initializer or Constant node (Identity/Cast looked through)."""
    tensor = g.through(tensor, ("Identity", "Cast"))
    for init in model.graph.initializer:
        if init.name == tensor:
            return numpy_helper.to_array(init)
    node = g.node_of(tensor)
    if node is not None and node.op_type == "Constant":
        for attribute in node.attribute:
            if attribute.name == "value":
                return numpy_helper.to_array(attribute.t)
    return None


def _table_shape(model: onnx.ModelProto, g: GraphIndex, tensor: str) -> tuple[int, int] | None:
    tensor = g.through(tensor, ("Identity", "Cast", "DequantizeLinear"))
    for init in model.graph.initializer:
        if init.name == tensor:
            return (int(init.dims[0]), int(init.dims[1])) if len(init.dims) == 2 else None
    return None


def _position_offset(model: onnx.ModelProto, g: GraphIndex, indices: str) -> int:
    """RoBERTa-style positions count from padding_idx + 1: ids = cumsum(mask) + padding_idx."""
    node = g.node_of(g.through(indices, ("Cast",)))
    if node is None or not is_onnx_op(node, "Add"):
        return 0
    if not any(is_onnx_op(parent, "CumSum") for parent, _ in g.backward(indices, limit=30)):
        return 0
    for name in node.input:
        value = _constant_array(model, g, name) if name in g.constants else None
        if value is not None and value.size == 1:
            return int(value.reshape(-1)[0]) + 1
    return 0


def embedding_facts(model: onnx.ModelProto, g: GraphIndex) -> EmbeddingFacts:
    """Vocabulary and width from the token-embedding Gather; position limit from the widest other table."""
    vocab = hidden = None
    others: list[tuple[int, str]] = []
    for node in g.nodes:
        if not is_onnx_op(node, "Gather") or node.input[0] not in g.constants:
            continue
        shape = _table_shape(model, g, node.input[0])
        if shape is None:
            continue
        if g.through(node.input[1], LAYOUT_OPS | {"Cast"}) == "input_ids" and vocab is None:
            vocab, hidden = shape
        else:
            others.append((shape[0], node.input[1], shape[1]))
    tables = [(rows, indices) for rows, indices, width in others if width == hidden and rows > 16]
    if not tables:
        return EmbeddingFacts(vocab, hidden, None)
    rows, indices = max(tables)
    return EmbeddingFacts(vocab, hidden, rows - _position_offset(model, g, indices))


# --- tokenizer ---------------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def tokenizer_facts(tokenizer_path: Path, model_path: Path) -> TokenizerFacts:
    """Parse tokenizer.json (must load with ``tokenizers``) and the settings saved beside it."""
    if not tokenizer_path.is_file():
        raise ExportError(
            f"{tokenizer_path}: no such tokenizer file" if not tokenizer_path.exists()
            else f"{tokenizer_path}: is a directory, expected a tokenizer.json file",
            hint="pass --tokenizer PATH/tokenizer.json (the model's Hugging Face fast-tokenizer file)",
        )
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
    except Exception as exc:  # tokenizers raises a bare Exception on malformed files
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise ExportError(f"{tokenizer_path}: cannot be read as a tokenizers JSON file ({first})",
                          hint="pass the model's tokenizer.json (a Hugging Face fast-tokenizer file)") from None
    data = _read_json(tokenizer_path)
    side = _read_json(tokenizer_path.parent / "tokenizer_config.json")
    config = _read_json(model_path.parent / "config.json") or _read_json(tokenizer_path.parent / "config.json")
    pad_id = (data.get("padding") or {}).get("pad_id")
    pad_token = side.get("pad_token")
    if isinstance(pad_token, dict):
        pad_token = pad_token.get("content")
    names = ([pad_token] if isinstance(pad_token, str) else []) + list(PAD_NAMES)
    for name in names:
        if pad_id is None:
            pad_id = tokenizer.token_to_id(name)
    limit = (data.get("truncation") or {}).get("max_length") or side.get("model_max_length")
    limit = int(limit) if isinstance(limit, (int, float)) and 1 < limit < NO_LIMIT else None
    side_name = side.get("padding_side") if side.get("padding_side") in ("left", "right") else "right"
    return TokenizerFacts(data, tokenizer.get_vocab_size(with_added_tokens=True),
                          None if pad_id is None else int(pad_id), limit, side_name, config)


def vocabulary_problem(tokens: int, rows: int) -> str | None:
    """Why a tokenizer of ``tokens`` ids cannot belong to a model embedding ``rows`` ids, or None."""
    if tokens > rows:
        return f"the tokenizer has {tokens} tokens but the model embeds only {rows}"
    if tokens < MIN_VOCAB_COVERAGE * rows:
        return (f"the tokenizer has {tokens} tokens but the model embeds {rows} "
                f"(it covers {tokens / rows:.0%} of the table; a model's own covers at least {MIN_VOCAB_COVERAGE:.0%})")
    return None


def config_contradictions(config: dict[str, Any], *, num_layers: int, hidden_size: int | None,
                          vocab_size: int | None) -> list[str]:
    """Facts of a config.json that the graph contradicts: it then describes another model."""
    found = []
    for keys, measured, what in ((CONFIG_SPELLINGS["layers"], num_layers, "layers"),
                                 (CONFIG_SPELLINGS["width"], hidden_size, "hidden size"),
                                 (("vocab_size",), vocab_size, "vocabulary")):
        stated = next((config[key] for key in keys if isinstance(config.get(key), int)), None)
        if stated is not None and measured is not None and stated != measured:
            found.append(f"{what} {stated}, the graph has {measured}")
    return found


# --- probe run ---------------------------------------------------------------------------------


def probe(onnx_path: Path, num_layers: int, vocab_size: int, length: int, source: str) -> ProbeFacts:
    """Run the tapped graph once on one unpadded sequence; read heads, width and causality off the taps."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    names = [f"attention_{i}" for i in range(num_layers)] + [f"hidden_state_{i}" for i in range(num_layers + 1)]
    ids = (1 + np.arange(length, dtype=np.int64) * 7) % max(vocab_size, 2)
    feeds = {"input_ids": ids[None, :], "attention_mask": np.ones((1, length), dtype=np.int64)}
    try:
        session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        values = dict(zip(names, session.run(names, feeds), strict=True))
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        first = re.sub(r"^\[ONNXRuntimeError\][^:]*:[^:]*:[^:]*: ?|Load model from \S+ failed: ?", "", first)[:200]
        raise ExportError(f"{source}: the tapped model does not run in onnxruntime ({first})",
                          hint="check that the original model runs in onnxruntime on input_ids + attention_mask") from None
    heads, causal = set(), True
    for layer in range(num_layers):
        probs = np.asarray(values[f"attention_{layer}"], dtype=np.float64)
        if probs.ndim != 4 or probs.shape[0] != 1 or probs.shape[2:] != (length, length):
            raise ExportError(f"{source}: attention of layer {layer} has shape {probs.shape}, expected "
                              f"[batch, heads, {length}, {length}]",
                              hint="tap supports attention laid out as [batch, heads, query, key]")
        if not np.allclose(probs.sum(axis=-1), 1.0, atol=1e-3):
            raise ExportError(f"{source}: attention of layer {layer} does not sum to 1 over the key axis",
                              hint="the Softmax found is not an attention softmax over keys")
        heads.add(probs.shape[1])
        causal = causal and float(np.abs(np.triu(probs[0], k=1)).max()) <= 1e-6
    widths = {np.asarray(values[f"hidden_state_{i}"]).shape for i in range(num_layers + 1)}
    if len(heads) != 1 or len(widths) != 1 or len(next(iter(widths))) != 3:
        raise ExportError(f"{source}: taps disagree in shape across layers (heads {sorted(heads)}, hidden {sorted(widths)})",
                          hint="tap supports transformers whose layers all have the same shape")
    return ProbeFacts(num_heads=heads.pop(), hidden_size=int(next(iter(widths))[2]), causal=causal)
