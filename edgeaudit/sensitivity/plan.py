"""Which variants a sweep builds: every block quantised alone, every block kept float alone, and the full variant.

A variant is named by what it quantises so that a rerun finds finished variants by name: ``full`` (every block),
``only:layer3.mlp`` (just that block; everything else float32) and ``all-but:layer3.mlp`` (everything but that
block). The float nodes of a variant are the nodes of the blocks it keeps in float.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeaudit.compress.blocks import Block
from edgeaudit.errors import EdgeAuditError

FULL = "full"


@dataclass(frozen=True)
class Variant:
    name: str
    kind: str  # "full" | "only" | "all-but" | "fallback"
    block: str | None  # the block a one-block variant is about
    float_blocks: tuple[str, ...]  # blocks kept in float32

    def float_nodes(self, blocks: list[Block]) -> tuple[str, ...]:
        kept = set(self.float_blocks)
        return tuple(node for block in blocks if block.name in kept for node in block.nodes)

    @property
    def folder(self) -> str:
        return self.name.replace(":", "-")


def swept_blocks(blocks: list[Block], layers: tuple[int, ...] | None) -> list[Block]:
    """The blocks to sweep: all, or those of the chosen layers (embeddings and head are not in any layer)."""
    if layers is None:
        return list(blocks)
    present = sorted({b.layer for b in blocks if b.layer is not None})
    missing = [layer for layer in layers if layer not in present]
    if missing:
        raise EdgeAuditError(f"option --layers: layer {missing[0]} is not in the model (layers "
                             f"{present[0]}..{present[-1]})")
    return [b for b in blocks if b.layer in layers]


def plan_variants(blocks: list[Block], swept: list[Block], mode: str) -> list[Variant]:
    """The full variant first, then per swept block its ``only`` and/or ``all-but`` variant."""
    names = [b.name for b in blocks]
    variants = [Variant(FULL, "full", None, ())]
    for block in swept:
        if mode in ("both", "only"):
            variants.append(Variant(f"only:{block.name}", "only", block.name,
                                    tuple(n for n in names if n != block.name)))
        if mode in ("both", "all-but") and len(blocks) > 1:
            variants.append(Variant(f"all-but:{block.name}", "all-but", block.name, (block.name,)))
    return variants


def fallback_variant(step: int, float_blocks: list[str]) -> Variant:
    return Variant(f"fallback:{step}", "fallback", None, tuple(float_blocks))
