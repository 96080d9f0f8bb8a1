"""A model's opset and a bundle's model size on disk.

Variants are written with :func:`edgeaudit.bundle.model_file.save_model`, the layout every bundle follows.
"""

from __future__ import annotations

import onnx

from edgeaudit.bundle import Bundle
from edgeaudit.compress.errors import CompressError


def default_opset(model: onnx.ModelProto) -> int:
    """The ai.onnx opset version (quantisers may raise it, e.g. to 21 for int4 QDQ types)."""
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise CompressError("compressed model declares no ai.onnx opset", hint="this is a bug; please report it")


def model_file_bytes(bundle: Bundle) -> int:
    """On-disk size of a bundle's model: the graph file plus its external data."""
    names = [bundle.manifest.onnx_file, *bundle.manifest.data["onnx"]["external_data"]]
    return sum((bundle.directory / name).stat().st_size for name in names)
