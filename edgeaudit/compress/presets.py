"""The compression presets by name, and the one place that turns a user's spelling into a preset."""

from __future__ import annotations

from edgeaudit.compress.errors import CompressError
from edgeaudit.suggest import closest

#: preset name -> one-line description (shown by ``edgeaudit compress --help``).
PRESETS: dict[str, str] = {
    "int8-dynamic": "int8 weights (per channel) for every MatMul with a constant weight; activations "
                    "quantised at run time (onnxruntime quantize_dynamic).",
    "int8-dynamic-full": "int8-dynamic plus the embedding tables (Gather) in uint8; the smallest int8 variant.",
    "int8-static": "int8 QDQ for MatMul weights and their inputs, activation ranges calibrated on "
                   "--calibration sentences (onnxruntime quantize_static).",
    "fp16": "float16 weights and arithmetic, inputs and every tap kept float32 "
            "(onnxruntime.transformers.float16).",
    "int4": "4-bit weight-only MatMul (MatMulNBits, block 32, symmetric round to nearest); everything else float32.",
    "int4-rtn": "int4 with asymmetric round to nearest (a zero point per block).",
    "int4-kquant": "int4 with llama.cpp-style k-quant search of each block's scale and offset.",
    "int4-hqq": "int4 with half-quadratic quantization (HQQ); needs PyTorch (the [export] extra).",
}

#: presets whose activation ranges come from data given with ``--calibration``.
NEEDS_CALIBRATION = frozenset({"int8-static"})


def resolve_preset(name: str) -> str:
    """Return ``name`` if it is a preset; otherwise fail naming the closest one (typos are common)."""
    if name in PRESETS:
        return name
    normalised = name.strip().lower().replace("_", "-")
    if normalised in PRESETS:
        return normalised
    family = [preset for preset in PRESETS if preset.startswith(normalised.rstrip("-") + "-")]  # "int8": its presets
    close = family or closest(normalised, PRESETS, cutoff=0.4)
    if len(close) > 1:
        hint = f"did you mean one of {', '.join(repr(preset) for preset in close)}?"
    else:
        hint = f"did you mean '{close[0]}'?" if close else f"choose one of {', '.join(PRESETS)}"
    raise CompressError(f"option --preset: unknown preset '{name}'", hint=hint)
