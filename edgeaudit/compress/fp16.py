"""The ``fp16`` preset through onnxruntime's own float16 converter.

``onnxruntime.transformers.float16.convert_float_to_float16`` with ``keep_io_types=True`` inserts a
Cast back to float32 in front of every float graph output and rewires internal consumers to the float16
value, so taps keep their names and stay float32 while the arithmetic runs in float16. (The
onnxconverter-common converter does not: with intermediate values exposed as outputs onnxruntime refuses
its result.) Constants beyond float16's range are clipped to +-65504 (e.g. the additive attention mask's
float32 minimum), which softmax treats the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import onnx

from edgeaudit.compress._quiet import quiet_onnxruntime

MIN_POSITIVE = 5.96e-08  # the smallest float16 subnormal: tinier weights become zero
MAX_FINITE = 65504.0


def convert_fp16(model_path: Path) -> tuple[onnx.ModelProto, dict[str, Any]]:
    """Convert the model at ``model_path`` (a path, so external data and >2 GB shape inference work)."""
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    with quiet_onnxruntime():
        model = convert_float_to_float16(str(model_path), min_positive_val=MIN_POSITIVE, max_finite_val=MAX_FINITE,
                                         keep_io_types=True, force_fp16_initializers=False)
    halves = sum(1 for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT16)
    return model, {
        "converter": "onnxruntime.transformers.float16.convert_float_to_float16",
        "keep_io_types": True,
        "min_positive_val": MIN_POSITIVE,
        "max_finite_val": MAX_FINITE,
        "op_block_list": sorted(DEFAULT_OP_BLOCK_LIST),
        "force_fp16_initializers": False,
        "float16_initializers": halves,
    }
