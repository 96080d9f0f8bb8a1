"""The int8 presets through ``onnxruntime.quantization``.

Choices (checked on onnxruntime 1.32, CPU execution provider):

* Weights are ``QInt8``, symmetric, one scale per output column (``per_channel``). The CPU
  ``MatMulInteger`` kernel accepts u8 x s8 and u8 x u8 with per-column weight zero points; s8 weights
  with u8 activations are onnxruntime's recommended CPU combination (VNNI) and ran correctly here.
  ``reduce_range`` stays off (8-bit weights; turn-on only helps old non-VNNI x86).
* Activations are ``QUInt8``: ``quantize_dynamic`` hard-codes uint8 for activations quantised at run
  time, and for static QDQ asymmetric uint8 gave the best MiniLM agreement in our measurements.
* Only MatMul nodes with a constant weight (the linear layers) are quantised: ``MatMulConstBOnly`` in
  dynamic mode; in QDQ mode that option is ignored by onnxruntime, so the nodes are listed explicitly.
  The attention-score products (Q.K^T, P.V) stay float, so attention taps are the model's own softmax.
* ``int8-dynamic-full`` also quantises ``Gather`` on constant tables (word/position embeddings);
  onnxruntime stores those per tensor in uint8.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import onnx

from edgeaudit.compress import graph_prep
from edgeaudit.compress._ort import ORT_ERRORS, first_line
from edgeaudit.compress._quiet import quiet_onnxruntime
from edgeaudit.compress.calibration import FeedReader
from edgeaudit.compress.errors import CompressError

_PATCH_LOCK = threading.Lock()


@contextlib.contextmanager
def _no_second_copy(src: Path) -> Iterator[None]:
    """Keep ``quantize_dynamic`` to one copy of the model in memory.

    After rewriting Gemm nodes as MatMul, onnxruntime's dynamic quantiser re-runs shape inference by deep-copying
    the whole model, saving the copy and loading it back, while the model it was given stays referenced by its
    caller: three copies of the weights at once (SmolLM2: 3 × 650 MB, most of the 2.1 GiB peak of its int8
    presets). Our pre-processing already rewrote every Gemm and ran shape inference, so for a graph without Gemm
    nodes that reload finds the value infos it started with and the model is used as it is; a graph with Gemm
    nodes takes onnxruntime's own path. The quantised output is byte-identical either way (tested).
    """
    from onnxruntime.quantization import onnx_quantizer

    has_gemm = any(node.op_type == "Gemm" for node in onnx.load(str(src), load_external_data=False).graph.node)
    # the patch is a module global: one quantisation at a time per process (a Dask worker may run several threads)
    with _PATCH_LOCK:
        reload = getattr(onnx_quantizer, "save_and_reload_model_with_shape_infer", None)
        if reload is None or has_gemm:
            yield  # onnxruntime's own behaviour
            return
        onnx_quantizer.save_and_reload_model_with_shape_infer = lambda model: model
        try:
            yield
        finally:
            onnx_quantizer.save_and_reload_model_with_shape_infer = reload


def quantize_int8_dynamic(src: Path, dst: Path, *, full: bool, external: bool,
                          exclude: list[str] | None = None) -> dict[str, Any]:
    """Run ``quantize_dynamic`` on ``src`` into ``dst``; return the settings used and what changed."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    op_types = ["MatMul", "Gather"] if full else ["MatMul"]
    with quiet_onnxruntime(), _no_second_copy(src):
        quantize_dynamic(str(src), str(dst), op_types_to_quantize=op_types, per_channel=True, reduce_range=False,
                         nodes_to_exclude=list(exclude or []),
                         weight_type=QuantType.QInt8, use_external_data_format=external,
                         extra_options={"MatMulConstBOnly": True})
    model = onnx.load(str(dst), load_external_data=False)
    quantized = {"MatMul": graph_prep.count_op(model, "MatMulInteger")}
    if full:
        quantized["Gather"] = graph_prep.quantized_gathers(model)
    if not quantized["MatMul"] and not quantized.get("Gather"):
        if exclude:
            raise CompressError("int8 quantisation changed nothing: every quantisable node was kept in float",
                                hint="keep fewer nodes in float (--keep-float)")
        raise CompressError("int8 quantisation changed no MatMul: the model has no MatMul with a constant weight",
                            hint="this preset needs linear layers exported as MatMul or Gemm")
    return {
        "quantizer": "onnxruntime.quantization.quantize_dynamic",
        "op_types": op_types,
        "weight_type": "QInt8",
        "weight_symmetric": True,
        "per_channel": True,
        "reduce_range": False,
        "activation_type": "QUInt8",
        "activation_ranges": "computed per tensor at run time",
        "matmul_const_b_only": True,
        "gather_table_type": "QUInt8 per tensor" if full else None,
        "quantized_nodes": quantized,
    }


def quantize_int8_static(src: Path, dst: Path, reader: FeedReader, *, nodes: list[str],
                         external: bool) -> dict[str, Any]:
    """Calibrate with ``reader`` and write a QDQ model.

    The QDQ quantiser puts a Quantize/Dequantize pair on every input of a quantised MatMul. When that
    input is itself a tap (``hidden_state_l`` feeds layer l+1's Q/K/V projections) onnxruntime renames
    the producer's output and gives the *DequantizeLinear* output the tap's name, so the graph output keeps
    the bundle's name but now carries the int8-rounded value: exactly what the next layer consumes on the
    device. The tap check afterwards proves every name, shape and float32 type survived.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    if not nodes:
        raise CompressError("int8-static found no MatMul with a constant weight to quantise",
                            hint="this preset needs linear layers exported as MatMul or Gemm")
    try:
        with quiet_onnxruntime():
            quantize_static(str(src), str(dst), reader, quant_format=QuantFormat.QDQ, op_types_to_quantize=["MatMul"],
                            nodes_to_quantize=nodes, per_channel=True, reduce_range=False,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            calibrate_method=CalibrationMethod.MinMax, use_external_data_format=external,
                            extra_options={"OpTypesToExcludeOutputQuantization": ["MatMul"],
                                           "ActivationSymmetric": False, "WeightSymmetric": True})
    except ORT_ERRORS as exc:
        raise CompressError(f"calibration: onnxruntime could not run the model on calibration batch "
                            f"{reader.batches} ({first_line(exc)})",
                            hint="calibration inputs must be token ids of this bundle's tokenizer") from None
    if reader.batches == 0:
        raise CompressError("calibration data is empty", hint="give at least one sentence")
    model = onnx.load(str(dst), load_external_data=False)
    return {
        "quantizer": "onnxruntime.quantization.quantize_static",
        "format": "QDQ",
        "op_types": ["MatMul"],
        "weight_type": "QInt8",
        "weight_symmetric": True,
        "per_channel": True,
        "reduce_range": False,
        "activation_type": "QUInt8",
        "activation_symmetric": False,
        "calibrate_method": "MinMax",
        "matmul_const_b_only": True,
        "quantize_matmul_outputs": False,
        "quantized_nodes": {"MatMul": graph_prep.qdq_weight_matmuls(model)},
    }
