"""The ``int4`` preset: 4-bit weight-only MatMul through onnxruntime's ``MatMulNBitsQuantizer``.

Each constant MatMul weight [K, N] becomes a ``com.microsoft.MatMulNBits`` node holding 4-bit values in
blocks of 32 along K, one float scale per block, symmetric (no zero points); activations stay float32.
The model is pre-processed like the int8 presets first (constant folding turns e.g. a tied lm_head's
``Transpose(embedding)`` into a constant, and Gemm becomes MatMul). The quantiser skips weights it cannot
handle (not constant, or not 2-D after squeezing leading ones), so the settings record how many of the
model's weight MatMuls were converted, and none is an error.
Embedding tables stay float32 (the quantised Gather variant saves no run-time memory, as onnxruntime's
own docs note), so on small encoders most of the file is still the embedding.

LLMs are 4-bit quantised with more than round-to-nearest, and the choice matters for explanations (round to
nearest has been reported to destroy GPT-2's induction heads where GPTQ keeps them), so each of
onnxruntime's numpy-only algorithms is a preset of its own: ``int4`` (DEFAULT: symmetric round to nearest per
block), ``int4-rtn`` (RTN, asymmetric per block, with zero points), ``int4-kquant`` (llama.cpp's k-quant
search for each block's scale and offset). ``int4-hqq`` (half-quadratic quantization) needs PyTorch, so it
runs where the [export] extra is installed. HQQ's and k-quant's solvers run on slices of a weight
(``compress.int4_slices``), which bounds their memory on an LLM's lm_head. GPTQ is not offered (README:
onnxruntime's vendored GPTQ ignores excluded nodes and did not beat round to nearest when tried).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
from typing import Any

import onnx

from edgeaudit.compress import graph_prep
from edgeaudit.compress._quiet import quiet_onnxruntime
from edgeaudit.compress.errors import CompressError
from edgeaudit.compress.int4_slices import frugal_hqq_quantizer, sliced_kquant
from edgeaudit.errors import MissingExtraError

BITS = 4
BLOCK_SIZE = 32

#: preset -> (onnxruntime algorithm, symmetric, description for the record)
ALGORITHMS: dict[str, tuple[str, bool, str]] = {
    "int4": ("DEFAULT", True, "DEFAULT (round to nearest, symmetric)"),
    "int4-rtn": ("RTN", False, "RTN (round to nearest, asymmetric with zero points)"),
    "int4-kquant": ("k_quant", False, "k_quant (llama.cpp-style search of block scale and offset)"),
    "int4-hqq": ("HQQ", False, "HQQ (half-quadratic quantization, asymmetric)"),
}


def _algo_config(algorithm: str):
    from onnxruntime.quantization import matmul_nbits_quantizer as nbits

    matmul = ("MatMul",)
    if algorithm == "RTN":
        return nbits.RTNWeightOnlyQuantConfig(op_types_to_quantize=matmul)
    if algorithm == "k_quant":
        return nbits.KQuantWeightOnlyQuantConfig(op_types_to_quantize=matmul)
    if algorithm == "HQQ":
        if importlib.util.find_spec("torch") is None:
            raise MissingExtraError("int4-hqq quantises with PyTorch, which this install lacks",
                                    hint="run it where the [export] extra is installed, or use int4-kquant")
        return nbits.HQQWeightOnlyQuantConfig(block_size=BLOCK_SIZE, bits=BITS, op_types_to_quantize=matmul)
    return None  # DEFAULT: built by the quantiser from its own arguments


def _unblockable(model: onnx.ModelProto) -> list[str]:
    """Weight MatMuls that onnxruntime's RTN / k-quant path mis-packs: it packs two zero points per byte across
    columns, which breaks unless every column holds an even number of blocks (input size a multiple of 64)."""
    shapes = {t.name: tuple(t.dims) for t in model.graph.initializer}
    names = set(graph_prep.weight_matmuls(model))
    return [n.name for n in model.graph.node if n.name in names
            and (len(shapes[n.input[1]]) != 2 or shapes[n.input[1]][0] % (2 * BLOCK_SIZE))]


def quantize_int4(model: onnx.ModelProto, preset: str = "int4",
                  exclude: list[str] | None = None) -> tuple[onnx.ModelProto, dict[str, Any]]:
    """Quantise ``model``'s weight MatMuls to 4 bits (in place) and return it with the settings used."""
    algorithm, symmetric, described = ALGORITHMS[preset]
    candidates = len(graph_prep.weight_matmuls(model))
    excluded = _unblockable(model) if algorithm in ("RTN", "k_quant") else []
    requested = [name for name in exclude or [] if name not in excluded]
    # the neural-compressor path (RTN, k-quant) prints a progress bar on stdout, which is the CLI's data channel
    sliced = sliced_kquant() if algorithm == "k_quant" else contextlib.nullcontext()
    with quiet_onnxruntime(), contextlib.redirect_stdout(io.StringIO()), sliced:
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

        quantizer = MatMulNBitsQuantizer(model, bits=BITS, block_size=BLOCK_SIZE, is_symmetric=symmetric,
                                         accuracy_level=None, op_types_to_quantize=("MatMul",),
                                         algo_config=_algo_config(algorithm), nodes_to_exclude=excluded + requested)
        if algorithm == "HQQ":  # same bytes, a fraction of the memory on an LLM's lm_head
            quantizer.node_quantizer = frugal_hqq_quantizer(quantizer.algo_config)
        quantizer.process()
    result = quantizer.model.model if hasattr(quantizer.model, "model") else quantizer.model
    converted = graph_prep.count_op(result, "MatMulNBits")
    if converted == 0:
        raise CompressError(
            f"int4: none of the model's {candidates} weight MatMul(s) could be 4-bit quantised "
            f"(block size {BLOCK_SIZE})", hint="use int8-dynamic for this model")
    return result, {
        "quantizer": "onnxruntime.quantization.matmul_nbits_quantizer.MatMulNBitsQuantizer",
        "algorithm": described,
        "format": "QOperator (com.microsoft.MatMulNBits)",
        "bits": BITS,
        "block_size": BLOCK_SIZE,
        "symmetric": symmetric,
        "accuracy_level": None,
        "op_types": ["MatMul"],
        "quantized_nodes": {"MatMul": converted},
        "weight_matmuls": candidates,
        "kept_float": excluded,  # input size not a multiple of two blocks (RTN / k-quant only)
        "kept_float_on_request": requested,
    }
