"""Model families that need special handling at export: one small adapter per family, looked up by model_type.

Most of an export is family-agnostic — the tapper finds attention and hidden states in the graph by structure, the
padding side comes from the tokenizer's own config. What is not lives here instead of in special cases spread over
the exporter's modules: how a family's config.json spells its shape (BERT and Llama say ``num_hidden_layers``,
GPT-2 ``n_layer``, DistilBERT ``n_layers``, T5-style ``num_layers``), and a family whose position embeddings are
indexed from an offset (RoBERTa: ``padding_idx + 1``), which shortens the usable context. A family needing more
gets its own module with a ``Family`` subclass and one line in ``FAMILIES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: config.json spellings of each shape fact, across families (first present wins)
CONFIG_SPELLINGS: dict[str, tuple[str, ...]] = {
    "layers": ("num_hidden_layers", "n_layer", "n_layers", "num_layers"),
    "heads": ("num_attention_heads", "n_head", "n_heads"),
    "width": ("hidden_size", "n_embd", "dim", "d_model"),
    "positions": ("max_position_embeddings", "n_positions", "n_ctx"),
}


def config_value(config: Any, fact: str) -> Any:
    """A shape fact of a config (a transformers config object or config.json's dict), whatever the family calls
    it; None when the config states it under none of the known names."""
    for name in CONFIG_SPELLINGS[fact]:
        value = config.get(name) if isinstance(config, dict) else getattr(config, name, None)
        if value is not None:
            return value
    return None


@dataclass(frozen=True)
class Family:
    """The default: nothing special."""

    name: str = "default"
    model_types: tuple[str, ...] = ()

    def position_offset(self, config: Any) -> int:
        """Position-table rows reserved before the first real position (they shorten the usable context)."""
        return 0


def _families() -> tuple[Family, ...]:
    from edgeaudit.exporters.families.roberta import RobertaFamily

    return (RobertaFamily(),)


def family_of(model_type: str | None) -> Family:
    """The adapter of a config.json ``model_type`` (the default family for any type without special handling)."""
    return next((family for family in _families() if model_type in family.model_types), Family())
