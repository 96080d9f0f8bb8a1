"""How a bundle's ONNX model lies on disk: one file for a small model, the weights beside the graph for a large one.

Why the split: onnxruntime memory-maps weights kept in an external data file (they are read on first use and stay
file-backed pages the kernel may drop under pressure), whereas weights inside the graph file are parsed into
protobuf and then copied into onnxruntime's own buffers. Measured on SmolLM2-135M (652 MB of fp32 weights): a
session over the single file peaks at 1.10 GB, over graph + ``model.onnx.data`` at 0.71 GB; checking the graph's
outputs reads 1.3 MB instead of 652 MB; and writing a model with external data needs no serialised copy of it.
Below :data:`EXTERNAL_DATA_MIN_BYTES` one file is simpler to move around and the saving is small.

The bundle's ``onnx.sha256`` covers the weights wherever they are: the graph file's bytes, then every external
data file's bytes in the manifest's order (for a single file, simply that file's sha256).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # onnx costs ~0.6 s to import (ml_dtypes); a command that fails before it needs a graph skips it
    import onnx

#: Weights of at least this many bytes go to ``<model file>.data`` (tests lower it to exercise the split).
EXTERNAL_DATA_MIN_BYTES = 100_000_000
#: protobuf's hard limit for one message; a model this large cannot be one file whatever the setting.
PROTOBUF_LIMIT = 1_800_000_000


def tensor_bytes(model: onnx.ModelProto) -> int:
    """Bytes held by the graph's initializers (raw or typed fields, or external)."""
    import onnx

    total = 0
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            total += int(next((e.value for e in tensor.external_data if e.key == "length"), 0) or 0)
        else:
            total += len(tensor.raw_data) if tensor.raw_data else tensor.ByteSize()
    return total


def wants_external_data(weight_bytes: int) -> bool:
    """Whether a bundle keeps weights of this size beside the graph (see the module docstring for why)."""
    return weight_bytes >= min(EXTERNAL_DATA_MIN_BYTES, PROTOBUF_LIMIT)


def save_model(model: onnx.ModelProto, path: Path) -> list[str]:
    """Write ``model`` to ``path`` as a bundle holds it; return the external data file names (empty when
    single-file). With external data the tensors are written one by one: saving SmolLM2 as one file peaks at
    1.9 GB (a serialised copy of the whole model), with external data at 0.8 GB."""
    import onnx

    path = Path(path)
    if not wants_external_data(tensor_bytes(model)):
        onnx.save_model(model, str(path), save_as_external_data=False)
        return []
    data_name = f"{path.name}.data"
    (path.parent / data_name).unlink(missing_ok=True)  # onnx appends to an existing data file
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data_name, size_threshold=1024)
    (path.parent / data_name).chmod(path.stat().st_mode & 0o777)  # onnx creates it owner-only; match the graph
    return [data_name]


def split_if_large(path: Path) -> list[str]:
    """Rewrite the single-file model at ``path`` with its weights beside it when they are large (exporters write
    one file); return the external data file names."""
    import onnx

    path = Path(path)
    if not wants_external_data(path.stat().st_size):
        return []
    return save_model(onnx.load(str(path)), path)


def model_sha256(directory: Path, onnx_file: str, external_data: list[str] | tuple[str, ...] = ()) -> str:
    """sha256 of the graph file followed by its external data files (the bundle's ``onnx.sha256``)."""
    digest = hashlib.sha256()
    for name in (onnx_file, *external_data):
        with open(Path(directory) / name, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()
