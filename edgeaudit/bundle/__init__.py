"""The bundle: an ONNX model with attention/hidden-state taps, its tokenizer and a manifest."""

from edgeaudit.bundle.loader import Bundle, load_bundle
from edgeaudit.bundle.manifest import (
    MANIFEST_NAME,
    SCHEMA_VERSION,
    Manifest,
    attention_tap,
    hidden_state_tap,
    load_manifest,
    save_manifest,
    sha256_of,
)

__all__ = [
    "MANIFEST_NAME",
    "SCHEMA_VERSION",
    "Bundle",
    "Manifest",
    "attention_tap",
    "hidden_state_tap",
    "load_bundle",
    "load_manifest",
    "save_manifest",
    "sha256_of",
]
