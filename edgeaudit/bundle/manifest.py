"""The manifest ``edgeaudit.json``: what a bundle holds, validated on every load.

Validation is two-staged: the JSON Schema shipped in ``edgeaudit/schemas`` checks form (types, names,
required fields) and ``check_consistency`` checks meaning (tap counts match the layer count, paths stay
inside the bundle). Every failure is one line naming the field and what is wrong.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import jsonschema

from edgeaudit.errors import BundleError

MANIFEST_NAME = "edgeaudit.json"
SCHEMA_VERSION = 1


def attention_tap(layer: int) -> str:
    """Name of the graph output holding layer ``layer``'s attention, [batch, head, query, key]."""
    return f"attention_{layer}"


def hidden_state_tap(layer: int) -> str:
    """Name of the graph output holding the residual stream after ``layer`` blocks, [batch, seq, hidden]."""
    return f"hidden_state_{layer}"


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = resources.files("edgeaudit").joinpath("schemas/manifest.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def _field_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return f"{error.message.split(' were unexpected')[0].split(' was unexpected')[0]} not allowed here"
    if error.validator == "required":
        return error.message.replace("is a required property", "is missing")
    return error.message


@dataclass(frozen=True)
class Manifest:
    """A validated manifest. ``data`` is the JSON document; properties give typed access."""

    data: dict[str, Any]

    @property
    def num_layers(self) -> int:
        return int(self.data["model"]["num_layers"])

    @property
    def num_heads(self) -> int:
        return int(self.data["model"]["num_heads"])

    @property
    def hidden_size(self) -> int:
        return int(self.data["model"]["hidden_size"])

    @property
    def causal(self) -> bool:
        return bool(self.data["model"]["causal"])

    @property
    def onnx_file(self) -> str:
        return str(self.data["onnx"]["file"])

    @property
    def onnx_sha256(self) -> str:
        return str(self.data["onnx"]["sha256"])

    @property
    def inputs(self) -> list[str]:
        return list(self.data["onnx"]["inputs"])

    @property
    def attention_taps(self) -> list[str]:
        return list(self.data["taps"]["attention"])

    @property
    def hidden_state_taps(self) -> list[str]:
        return list(self.data["taps"]["hidden_states"])

    @property
    def final_output(self) -> str:
        return str(self.data["taps"]["final_output"])

    @property
    def tokenizer(self) -> dict[str, Any]:
        return dict(self.data["tokenizer"])

    @property
    def variant(self) -> str:
        return str(self.data["variant"]["name"])

    def to_json(self) -> str:
        return json.dumps(self.data, indent=2, sort_keys=False) + "\n"

    def with_updates(self, **sections: dict[str, Any]) -> Manifest:
        """A copy with whole sections replaced (e.g. a new ``variant`` after compression)."""
        data = copy.deepcopy(self.data)
        data.update(copy.deepcopy(sections))
        return validate_manifest(data, source="(updated manifest)")


def _check_relative(path_text: str, field: str, source: str) -> None:
    path = PurePosixPath(path_text.replace("\\", "/"))
    windows = PureWindowsPath(path_text)
    if path.is_absolute() or ".." in path.parts or path_text.startswith("~") or windows.drive or windows.root:
        raise BundleError(
            f"{source}: field '{field}' = {path_text!r} points outside the bundle",
            hint="bundle paths must be plain file names inside the bundle directory",
        )


def check_consistency(data: dict[str, Any], source: str) -> None:
    """Checks that the schema cannot express: tap lists against the layer count, safe file paths."""
    layers = data["model"]["num_layers"]
    expected_attention = [attention_tap(i) for i in range(layers)]
    expected_hidden = [hidden_state_tap(i) for i in range(layers + 1)]
    if data["taps"]["attention"] != expected_attention:
        raise BundleError(
            f"{source}: field 'taps.attention' lists {len(data['taps']['attention'])} outputs, "
            f"expected attention_0..attention_{layers - 1} for model.num_layers={layers}"
        )
    if data["taps"]["hidden_states"] != expected_hidden:
        raise BundleError(
            f"{source}: field 'taps.hidden_states' lists {len(data['taps']['hidden_states'])} outputs, "
            f"expected hidden_state_0..hidden_state_{layers} for model.num_layers={layers}"
        )
    if data["model"]["hidden_size"] % data["model"]["num_heads"] not in (0,):
        # Not fatal for every architecture, but a sure sign of a hand-edited manifest in ours.
        raise BundleError(
            f"{source}: field 'model.hidden_size' ({data['model']['hidden_size']}) is not a multiple of "
            f"'model.num_heads' ({data['model']['num_heads']})"
        )
    _check_token_ids(data, source)
    _check_relative(data["onnx"]["file"], "onnx.file", source)
    _check_relative(data["tokenizer"]["file"], "tokenizer.file", source)
    for i, name in enumerate(data["onnx"]["external_data"]):
        _check_relative(name, f"onnx.external_data.{i}", source)


def _check_token_ids(data: dict[str, Any], source: str) -> None:
    """Token ids and lengths the runtime feeds the model must fit its embedding and position tables."""
    model, tokenizer = data["model"], data["tokenizer"]
    vocab = model["vocab_size"]
    for field, ids in (("tokenizer.pad_token_id", [tokenizer["pad_token_id"]]),
                       ("tokenizer.special_token_ids", tokenizer["special_token_ids"])):
        outside = [i for i in ids if i >= vocab]
        if outside:
            raise BundleError(f"{source}: field '{field}' has id {outside[0]}, outside the model's vocabulary "
                              f"(model.vocab_size={vocab})", hint="the tokenizer settings belong to another model")
    if tokenizer["max_length"] > model["max_positions"]:
        raise BundleError(
            f"{source}: field 'tokenizer.max_length' ({tokenizer['max_length']}) exceeds "
            f"'model.max_positions' ({model['max_positions']})",
            hint="longer inputs would index past the position table; lower tokenizer.max_length",
        )


def validate_manifest(data: Any, source: str = MANIFEST_NAME) -> Manifest:
    """Validate a parsed manifest document; raise ``BundleError`` naming the first bad field."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(list(e.absolute_path)), str(e.absolute_path)))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise BundleError(
            f"{source}: field '{_field_path(first)}': {_describe(first)}{more}",
            hint="re-export the bundle or fix the field",
        )
    check_consistency(data, source)
    return Manifest(data)


def load_manifest(bundle_dir: Path) -> Manifest:
    path = Path(bundle_dir) / MANIFEST_NAME
    if not path.is_file():
        raise BundleError(
            f"{bundle_dir}: not a bundle (no {MANIFEST_NAME})",
            hint="create one with 'edgeaudit export' or 'edgeaudit tap'",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise BundleError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BundleError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    return validate_manifest(data, source=str(path))


def save_manifest(bundle_dir: Path, manifest: Manifest) -> Path:
    """Write atomically (temp file + rename) so a killed process never leaves half a manifest."""
    path = Path(bundle_dir) / MANIFEST_NAME
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    tmp.replace(path)
    return path
