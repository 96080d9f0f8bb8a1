"""RoBERTa and its descendants count positions from ``padding_idx + 1`` (position ids = cumsum(mask) + padding_idx).

So a table of ``max_position_embeddings`` rows holds ``max_position_embeddings - padding_idx - 1`` usable
positions (514 rows -> 512 tokens); exporting the nominal count would let sequences index past the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgeaudit.exporters.families import Family


@dataclass(frozen=True)
class RobertaFamily(Family):
    name: str = "roberta"
    model_types: tuple[str, ...] = ("roberta", "xlm-roberta", "camembert", "longformer")

    def position_offset(self, config: Any) -> int:
        return int(getattr(config, "pad_token_id", 1) or 1) + 1
