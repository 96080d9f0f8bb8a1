"""The random-init twin of an audited bundle, checked to be the same architecture reading the same tokens.

The twin is the control for "the model learned it": a claim that holds just as well on random weights of the same
architecture is an artifact. That comparison only means something when shapes, architecture and tokenizer match.
"""

from __future__ import annotations

from edgeaudit.bundle import Bundle, load_bundle, sha256_of
from edgeaudit.errors import EdgeAuditError


def load_twin(bundle: Bundle, twin_dir: str | None) -> Bundle | None:
    """``twin_dir`` loaded and checked against ``bundle`` (None without a twin); a mismatch is a one-line error."""
    if twin_dir is None:
        return None
    twin = load_bundle(twin_dir)
    a, b = bundle.manifest, twin.manifest
    if (a.num_layers, a.num_heads, a.hidden_size) != (b.num_layers, b.num_heads, b.hidden_size):
        raise EdgeAuditError(
            f"{twin_dir}: the twin has {b.num_layers}x{b.num_heads} heads, hidden {b.hidden_size}; the audited bundle "
            f"has {a.num_layers}x{a.num_heads}, hidden {a.hidden_size}",
            hint="export the twin from the same checkpoint with 'edgeaudit export --random-init'",
        )
    if b.variant != "random-init":
        raise EdgeAuditError(f"{twin_dir}: variant is {b.variant!r}, not 'random-init'",
                             hint="export it with 'edgeaudit export MODEL_DIR TWIN --random-init'")
    model_a, model_b = a.data["model"], b.data["model"]
    for field_name in ("model_type", "causal", "vocab_size"):
        if model_a.get(field_name) != model_b.get(field_name):
            raise EdgeAuditError(
                f"{twin_dir}: the twin's model.{field_name} is {model_b.get(field_name)!r}, the audited bundle's "
                f"{model_a.get(field_name)!r}: a random-init control must be the same architecture",
                hint="export the twin from the same checkpoint with 'edgeaudit export --random-init'")
    if sha256_of(bundle.tokenizer_path) != sha256_of(twin.tokenizer_path):
        raise EdgeAuditError(f"{twin_dir}: the twin's tokenizer differs from the audited bundle's, so the two would not "
                             "read the same tokens", hint="export the twin from the same checkpoint with --random-init")
    return twin
