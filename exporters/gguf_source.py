"""GGUF checkpoints as an export source: find the file, describe its quantization, load it dequantized.

Edge users hold GGUF files (llama.cpp's format), not safetensors folders. transformers reads a GGUF file's
config, tokenizer and tensors and dequantizes them to dense fp32 (through the ``gguf`` package), which is
exactly what the tapped export needs. The manifest records that the source was GGUF and which quantization
types its tensors had, because the exported fp32 weights are the *dequantized* ones: an audit of this bundle
is an audit of the quantized model's weights, not of the original float checkpoint.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from edgeaudit.errors import ExportError, MissingExtraError

SUFFIX = ".gguf"


@dataclass(frozen=True)
class GgufSource:
    folder: Path
    file_name: str

    @property
    def path(self) -> Path:
        return self.folder / self.file_name


def find_gguf(model: Path) -> GgufSource | None:
    """A GGUF file, or a folder holding exactly one GGUF file and no config.json; otherwise None."""
    if model.is_file() and model.suffix.lower() == SUFFIX:
        return GgufSource(model.parent, model.name)
    if not model.is_dir() or (model / "config.json").is_file():
        return None
    found = sorted(p.name for p in model.iterdir() if p.is_file() and p.suffix.lower() == SUFFIX)
    if len(found) > 1:
        raise ExportError(f"{model}: holds {len(found)} GGUF files ({', '.join(found[:4])})",
                          hint="pass the one to export as MODEL, e.g. " + str(model / found[0]))
    return GgufSource(model, found[0]) if found else None


def _require_gguf_package():
    try:
        import gguf
    except ImportError:
        raise MissingExtraError("reading a GGUF file needs the gguf package",
                                hint="pip install 'edgeaudit[export]' (it includes gguf and accelerate)") from None
    return gguf


def describe_gguf(source: GgufSource) -> dict:
    """The manifest's ``model.gguf`` section: file, sha256, llama.cpp file type and tensor-type counts."""
    gguf = _require_gguf_package()
    try:
        reader = gguf.GGUFReader(str(source.path))
    except Exception as exc:  # the reader raises ValueError/struct errors on anything that is not GGUF
        raise ExportError(f"{source.path}: not a readable GGUF file ({type(exc).__name__}: {str(exc)[:160]})",
                          hint="check the download is complete (llama.cpp files start with the magic 'GGUF')") from None
    types = Counter(tensor.tensor_type.name for tensor in reader.tensors)
    field = reader.fields.get("general.file_type")
    file_type = None
    if field is not None and field.data:
        code = int(field.parts[field.data[0]][0])
        file_type = getattr(gguf.LlamaFileType(code), "name", str(code)) if code in gguf.LlamaFileType._value2member_map_ else str(code)
    digest = hashlib.sha256()
    with source.path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"file": source.file_name, "sha256": digest.hexdigest(), "file_type": file_type,
            "tensor_types": dict(sorted(types.items()))}


def drop_gguf_quantizer(model) -> None:
    """After dequantization the weights are dense fp32; forget the GGUF quantizer so nothing treats them as packed.

    transformers keeps ``hf_quantizer`` and ``config.quantization_config`` on a model loaded from GGUF, and then
    refuses to serialise it ("quantized with gguf and is not serializable") although nothing is quantized any more.
    """
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer = None
    for attribute in ("is_quantized", "quantization_method"):
        if attribute in vars(model):
            delattr(model, attribute)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
