"""Compressed variants of a bundle (int8, fp16, int4) that keep every attention and hidden-state tap.

Everything goes through onnxruntime's own tools (``onnxruntime.quantization`` and
``onnxruntime.transformers.float16``), so the variant is what onnxruntime runs on the device; each
variant is checked on a real run to expose the parent's taps unchanged in name, shape and float32 type.
"""

from edgeaudit.compress.calibration import FeedReader, feeds_from_sentences, load_sentences
from edgeaudit.compress.errors import CompressError
from edgeaudit.compress.pipeline import CompressResult, compress, compress_bundle
from edgeaudit.compress.presets import PRESETS, resolve_preset

__all__ = [
    "PRESETS",
    "CompressError",
    "CompressResult",
    "FeedReader",
    "compress",
    "compress_bundle",
    "feeds_from_sentences",
    "load_sentences",
    "resolve_preset",
]
