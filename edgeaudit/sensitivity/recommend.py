"""The smallest set of blocks to keep in float32 so that the explanations hold — proposed, then verified.

Greedy, on the measured damage (it is a heuristic: the exact smallest set would need every subset of blocks):

1. If the fully quantised variant already holds (every claim survives, or every ``--fail-on`` gate holds), keep
   nothing in float.
2. Otherwise take the claims that fail. A block *saves* a failing claim when the variant quantising every block
   but it lets the claim survive. Add the block that saves most of the still-failing claims; ties (and the case
   where no single block saves any) go to the block whose own quantisation does the most explanation damage,
   then the most output damage (measured by its ``only`` variant, or, in an all-but sweep, as the damage that
   keeping it in float removes: full − all-but).
3. Build and compare the variant with those blocks in float (a verification). If it holds, that is the
   recommendation; otherwise recompute the failing claims from that verification and add the next block.
4. Stop when keeping one more block would leave nothing to quantise, or after ``max_steps`` verifications; the
   claims still failing then are the ones no block-level fallback could save, and are named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgeaudit.sensitivity.damage import block_damage, failing_claims, holds

Verify = Callable[[int, list[str]], dict[str, Any]]


def _saves(record: dict[str, Any] | None, failing: set[str]) -> int:
    if record is None or "error" in record:
        return 0
    return sum(c["id"] in failing and c["survival"] == "survives" for c in record["claims"])


def _damage(name: str, only: dict[str, dict], all_but: dict[str, dict], full: dict[str, Any] | None
            ) -> tuple[float, float]:
    damage = block_damage(name, only, all_but, full)
    if damage is None:
        return (0.0, 0.0)
    return (damage[0], damage[1] or 0.0)


def next_block(candidates: list[str], failing: set[str], only: dict[str, dict], all_but: dict[str, dict],
               full: dict[str, Any] | None = None) -> str:
    return max(candidates, key=lambda name: (_saves(all_but.get(name), failing), *_damage(name, only, all_but, full),
                                             -candidates.index(name)))


def recommend(blocks: list[str], full: dict[str, Any], only: dict[str, dict], all_but: dict[str, dict],
              verify: Verify, *, gated: bool, max_steps: int | None = None) -> dict[str, Any]:
    """Run the greedy search; ``verify(step, float_blocks)`` builds and compares one fallback variant."""
    target = "every --fail-on gate holds" if gated else "every claim survives"
    if "error" in full:
        return {"target": target, "status": "not-run", "float_blocks": [], "steps": [],
                "note": f"the fully quantised variant could not be built: {full['error']}"}
    if holds(full, gated):
        return {"target": target, "status": "holds", "float_blocks": [], "steps": [], "variant": full["name"],
                "note": "the fully quantised variant already holds: keep nothing in float"}
    failing = set(failing_claims(full))
    kept: list[str] = []
    steps: list[dict[str, Any]] = []
    limit = len(blocks) - 1 if max_steps is None else min(max_steps, len(blocks) - 1)
    while len(steps) < limit:
        candidates = [name for name in blocks if name not in kept]
        choice = next_block(candidates, failing, only, all_but, full)
        kept.append(choice)
        record = verify(len(steps) + 1, list(kept))
        steps.append({"added": choice, "float_blocks": list(kept), "variant": record["name"],
                      "error": record.get("error"), "holds": "error" not in record and holds(record, gated),
                      "failing": [] if "error" in record else failing_claims(record)})
        if steps[-1]["holds"]:
            return {"target": target, "status": "verified", "float_blocks": list(kept), "steps": steps,
                    "variant": record["name"]}
        if "error" not in record:
            failing = set(steps[-1]["failing"])
    unsaved = sorted(failing)
    why = ("keeping one more block would leave nothing to quantise" if len(steps) >= len(blocks) - 1
           else f"stopped after {len(steps)} verified fallback variant(s) (--max-fallback-steps)")
    return {"target": target, "status": "not-found", "float_blocks": list(kept), "steps": steps,
            "unsaved_claims": unsaved,
            "note": f"no block-level fallback met the target ({target}): {why}; still failing: "
                    f"{', '.join(unsaved) or 'gates'}"}
