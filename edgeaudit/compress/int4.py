"""The ``int4`` preset: 4-bit weight-only MatMul through onnxruntime's ``MatMulNBitsQuantizer``.

Each constant MatMul weight [K, N] becomes a ``com.microsoft.MatMulNBits`` node holding 4-bit values in
blocks of 32 along K, one float scale per block, symmetric (no zero points); activations stay float32.
The model is pre-processed like the int8 presets first (constant folding turns e.g. a tied lm_head's
``Transpose(embedding)`` into a constant, and Gemm becomes MatMul). The quantiser skips weights it cannot
handle (not constant, or not 2-D after squeezing leading ones), so the settings record how many of the
model's weight MatMuls were converted, and none is an error.
Embedding tables stay float32 (the quantised Gather variant saves no run-time memory, as onnxruntime's
own docs note), so on small encoders most of the file is still the embedding.
"""

from __future__ import annotations

from typing import Any

import onnx

from edgeaudit.compress import graph_prep
from edgeaudit.compress._quiet import quiet_onnxruntime
from edgeaudit.compress.errors import CompressError

BITS = 4
BLOCK_SIZE = 32


def quantize_int4(model: onnx.ModelProto) -> tuple[onnx.ModelProto, dict[str, Any]]:
    """Quantise ``model``'s weight MatMuls to 4 bits (in place) and return it with the settings used."""
    candidates = len(graph_prep.weight_matmuls(model))
    with quiet_onnxruntime():  # importing the module calls logging.basicConfig(INFO)
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

        quantizer = MatMulNBitsQuantizer(model, bits=BITS, block_size=BLOCK_SIZE, is_symmetric=True,
                                         accuracy_level=None, op_types_to_quantize=("MatMul",))
        quantizer.process()
    result = quantizer.model.model
    converted = graph_prep.count_op(result, "MatMulNBits")
    if converted == 0:
        raise CompressError(
            f"int4: none of the model's {candidates} weight MatMul(s) could be 4-bit quantised "
            f"(block size {BLOCK_SIZE})", hint="use int8-dynamic for this model")
    return result, {
        "quantizer": "onnxruntime.quantization.matmul_nbits_quantizer.MatMulNBitsQuantizer",
        "algorithm": "DEFAULT (round to nearest)",
        "format": "QOperator (com.microsoft.MatMulNBits)",
        "bits": BITS,
        "block_size": BLOCK_SIZE,
        "symmetric": True,
        "accuracy_level": None,
        "op_types": ["MatMul"],
        "quantized_nodes": {"MatMul": converted},
        "weight_matmuls": candidates,
    }
