"""Read a bundle's ONNX model whole (external data included) and write a variant back into a bundle.

Models under the 2 GB protobuf limit are written as one file even when the parent used external data:
a single file is what edge runtimes load most easily. Larger models keep their weights in one
``<name>.data`` file next to the graph.
"""

from __future__ import annotations

from pathlib import Path

import onnx

from edgeaudit.bundle import Bundle
from edgeaudit.compress.errors import CompressError

#: Stay clear of protobuf's hard 2 GiB message limit (graph + attributes need room too).
SINGLE_FILE_LIMIT = 1_800_000_000


def load_parent_model(bundle: Bundle) -> onnx.ModelProto:
    """The parent's graph with every external tensor loaded into memory."""
    try:
        return onnx.load(str(bundle.onnx_path), load_external_data=True)
    except Exception as exc:  # onnx raises plain exceptions for missing or truncated external data
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CompressError(
            f"{bundle.onnx_path}: cannot load the model with its external data ({first})",
            hint="check that every file listed in onnx.external_data sits next to the model",
        ) from None


def tensor_bytes(model: onnx.ModelProto) -> int:
    """Bytes held by initializers (raw or typed fields): decides single file vs external data."""
    total = 0
    for tensor in model.graph.initializer:
        total += len(tensor.raw_data) if tensor.raw_data else tensor.ByteSize()
    return total


def save_model(model: onnx.ModelProto, path: Path) -> list[str]:
    """Write ``model`` to ``path``; return the external data file names (empty when single-file)."""
    path = Path(path)
    if tensor_bytes(model) < SINGLE_FILE_LIMIT:
        onnx.save_model(model, str(path), save_as_external_data=False)
        return []
    data_name = f"{path.name}.data"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data_name, size_threshold=1024)
    return [data_name]


def needs_external_data(model: onnx.ModelProto) -> bool:
    """Whether onnxruntime's quantisers must be told to write external data for this model."""
    return tensor_bytes(model) >= SINGLE_FILE_LIMIT


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
