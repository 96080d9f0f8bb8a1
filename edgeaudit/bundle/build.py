"""Assemble a fresh manifest for a bundle directory — shared by every way a bundle is made
(``exporters`` from a checkpoint, ``exporters.tap`` from an existing ONNX file, compression)."""

from __future__ import annotations

import datetime as _dt
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from edgeaudit.bundle.manifest import (
    SCHEMA_VERSION,
    Manifest,
    attention_tap,
    hidden_state_tap,
    validate_manifest,
)
from edgeaudit.bundle.model_file import model_sha256


def tool_versions(*packages: str) -> dict[str, str | None]:
    """Installed versions of the named distributions (None when absent) plus Python's."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("edgeaudit", "onnx", "onnxruntime", "tokenizers", "numpy", *packages):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def tokenizer_settings(tokenizer_file: str, tokenizer_json: dict[str, Any], *, max_length: int,
                       padding_side: str, pad_token_id: int) -> dict[str, Any]:
    """Describe a tokenizers JSON so the runtime can split pre-tokenised words the way the model expects."""
    model_type = (tokenizer_json.get("model") or {}).get("type", "")
    pre = tokenizer_json.get("pre_tokenizer") or {}
    pre_types = {pre.get("type")} | {p.get("type") for p in pre.get("pretokenizers", []) or []}
    add_prefix_space = bool(pre.get("add_prefix_space")) or any(
        p.get("add_prefix_space") for p in pre.get("pretokenizers", []) or []
    )
    if "ByteLevel" in pre_types:
        kind = "byte-level-bpe"
    elif model_type == "WordPiece":
        kind = "wordpiece"
    elif model_type == "BPE":
        kind = "sentencepiece-bpe"
    elif model_type == "Unigram":
        kind = "unigram"
    else:
        kind = "other"
    special_ids = sorted({int(tok["id"]) for tok in tokenizer_json.get("added_tokens", []) if tok.get("special")})
    return {
        "file": tokenizer_file,
        "kind": kind,
        "max_length": int(max_length),
        "padding_side": padding_side,
        "pad_token_id": int(pad_token_id),
        "special_token_ids": special_ids,
        "add_prefix_space": add_prefix_space,
    }


def new_manifest(
    bundle_dir: Path,
    *,
    model: dict[str, Any],
    onnx_file: str,
    opset: int,
    inputs: list[str],
    exporter: str,
    final_output: str,
    final_output_kind: str,
    tokenizer: dict[str, Any],
    variant: str = "fp32",
    variant_settings: dict[str, Any] | None = None,
    parent_sha256: str | None = None,
    export_check: dict[str, Any] | None = None,
    extra_versions: tuple[str, ...] = (),
    external_data: list[str] | None = None,
) -> Manifest:
    """Build and validate a manifest; hashes the ONNX file (and its external data) already in ``bundle_dir``."""
    layers = int(model["num_layers"])
    data = {
        "schema": "edgeaudit.bundle",
        "schema_version": SCHEMA_VERSION,
        "model": model,
        "onnx": {
            "file": onnx_file,
            "sha256": model_sha256(Path(bundle_dir), onnx_file, list(external_data or [])),
            "opset": int(opset),
            "inputs": list(inputs),
            "external_data": list(external_data or []),
            "exporter": exporter,
        },
        "taps": {
            "attention": [attention_tap(i) for i in range(layers)],
            "hidden_states": [hidden_state_tap(i) for i in range(layers + 1)],
            "final_output": final_output,
            "final_output_kind": final_output_kind,
        },
        "tokenizer": tokenizer,
        "variant": {"name": variant, "settings": dict(variant_settings or {}), "parent_sha256": parent_sha256},
        "provenance": {
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "tool_versions": tool_versions(*extra_versions),
        },
        "export_check": export_check or {"verified": False, "reason": "not verified"},
    }
    return validate_manifest(data, source=str(Path(bundle_dir) / "edgeaudit.json"))
