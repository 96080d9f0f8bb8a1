"""What one variant did to the explanations and to the outputs, as a small record; and the rankings of blocks.

Explanation damage of a variant = claims that do not survive (break or drift, as ``compare`` decides) + mean
|score delta| over claims (< 1 for every metric we report, so it only orders variants with equal counts).
Output damage = next-token KL (nats, mean) for bundles whose output is logits, else 1 − mean per-word output
cosine. Blocks are ranked by the damage of their ``only`` variant: what quantising that block alone does. A sweep
with only ``all-but`` variants (``--mode all-but``) ranks them by the damage that keeping the block in float
removes: damage of the fully quantised variant minus damage of the variant that leaves that block in float. The
ranking's ``basis`` says which of the two it is.
"""

from __future__ import annotations

import math
from typing import Any

from edgeaudit.results import CompareResult, NumericDrift, typed
from edgeaudit.results.compare_result import OutputCosine

SURVIVES = "survives"


def variant_record(result: CompareResult | dict[str, Any]) -> dict[str, Any]:
    """The parts of a comparison a sweep needs (a few kB), in the same key order every time."""
    result = typed(result, CompareResult)
    drift = result.numeric_drift or NumericDrift(computed=False, layers=[], attention_jsd=None,
                                                 output_cosine=OutputCosine(), output_max_abs_diff=None)
    next_token = drift.next_token
    kl = next_token.kl_mean if next_token is not None else None  # None unless the final output is logits
    summary = result.summary
    claims = [{"id": c.id, "kind": c.kind, "text": c.text, "survival": c.survival, "flip": c.flip, "delta": c.delta}
              for c in result.claims]
    not_surviving = sum(c["survival"] != SURVIVES for c in claims)
    explanation = result.explanation_drift
    mean_delta = (explanation.mean_abs_score_delta if explanation else None) or 0.0  # None: no deltas
    return {
        "counts": {key: getattr(summary, key) for key in ("claims", "survives", "drifts", "breaks", "flips")},
        "gates_tripped": summary.gates_tripped,
        "gates": [{"gate": g.expression, "value": g.value, "tripped": g.tripped} for g in result.gates],
        "claims": claims,
        "explanation_damage": not_surviving + mean_delta,
        "mean_abs_score_delta": mean_delta,
        "output": {"cosine_mean": drift.output_cosine.mean, "cosine_min": drift.output_cosine.min,
                   "max_abs_diff": drift.output_max_abs_diff, "min_sqnr_db": drift.min_sqnr_db,
                   "worst_sqnr_layer": drift.worst_sqnr_layer, "next_token_kl_mean": kl,
                   "top1_agreement": next_token.top1_agreement if next_token is not None else None},
        "output_damage": _output_damage(drift.output_cosine.mean, kl),
        "sqnr_by_layer": [{"layer": row.layer, "sqnr_db": row.sqnr_db} for row in drift.layers],
    }


def _output_damage(cosine: float | None, kl: float | None) -> float | None:
    if kl is not None and math.isfinite(kl):
        return float(kl)
    return None if cosine is None else max(0.0, 1.0 - float(cosine))


def holds(record: dict[str, Any], gated: bool) -> bool:
    """The recommendation's target: every gate holds (with --fail-on), otherwise every claim survives."""
    if gated:
        return record["gates_tripped"] == 0 and all(g["tripped"] is not None for g in record["gates"])
    return all(c["survival"] == SURVIVES for c in record["claims"])


def failing_claims(record: dict[str, Any]) -> list[str]:
    return [c["id"] for c in record["claims"] if c["survival"] != SURVIVES]


def fragility(records: list[dict[str, Any]], claim_ids: list[str]) -> dict[str, dict[str, int]]:
    """For each claim, in how many one-block variants (``only`` and ``all-but``) it fails to survive.

    A claim that fails when one block alone is quantised *and* when every block but one is, for many different
    blocks, sits on a decision edge: its verdict turns on noise-sized changes, and no choice of float blocks will
    settle it. The report names such claims instead of leaving the search's failure unexplained.
    """
    out: dict[str, dict[str, int]] = {}
    for claim_id in claim_ids:
        counts = {"only": 0, "only_of": 0, "all_but": 0, "all_but_of": 0}
        for record in records:
            kind = {"only": "only", "all-but": "all_but"}.get(record["kind"])
            if kind is None or "error" in record:
                continue
            counts[f"{kind}_of"] += 1
            counts[kind] += any(c["id"] == claim_id and c["survival"] != SURVIVES for c in record["claims"])
        out[claim_id] = counts
    return out


def _ranks(values: dict[str, float | None]) -> dict[str, int]:
    """1 = most damage; blocks without a value rank last, ties share the order they were listed in."""
    order = sorted(values, key=lambda name: -math.inf if values[name] is None else values[name], reverse=True)
    return {name: i + 1 for i, name in enumerate(order)}


def _usable(record: dict[str, Any] | None) -> bool:
    return record is not None and "error" not in record


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else float(a) - float(b)


def block_damage(name: str, only: dict[str, dict[str, Any]], all_but: dict[str, dict[str, Any]],
                 full: dict[str, Any] | None) -> tuple[float, float | None] | None:
    """(explanation, output) damage attributed to one block: its ``only`` variant's, else what keeping it in float
    removes from the fully quantised variant (full − all-but); None when neither was measured."""
    if _usable(only.get(name)):
        return only[name]["explanation_damage"], only[name]["output_damage"]
    if _usable(all_but.get(name)) and _usable(full):
        return (full["explanation_damage"] - all_but[name]["explanation_damage"],  # type: ignore[index]
                _difference(full["output_damage"], all_but[name]["output_damage"]))  # type: ignore[index]
    return None


def rank_blocks(blocks: list[str], only: dict[str, dict[str, Any]],
                all_but: dict[str, dict[str, Any]] | None = None, full: dict[str, Any] | None = None) -> dict[str, Any]:
    """Rank blocks by explanation damage and by output damage; say where the two rankings differ.

    The damage is the ``only`` variants' when the sweep has them, else the all-but difference (see the module)."""
    basis = "only" if any(_usable(only.get(name)) for name in blocks) else "all-but"
    damage = {name: block_damage(name, only if basis == "only" else {}, all_but or {}, full) for name in blocks}
    rows = [name for name in blocks if damage[name] is not None]
    explanation = {name: damage[name][0] for name in rows}  # type: ignore[index]
    output = {name: damage[name][1] for name in rows}  # type: ignore[index]
    by_explanation, by_output = _ranks(explanation), _ranks(output)
    top = max(1, min(3, len(rows) // 3 or 1))
    top_explanation = {n for n, r in by_explanation.items() if r <= top}
    top_output = {n for n, r in by_output.items() if r <= top}
    return {
        "basis": basis if rows else None,
        "by_explanation": sorted(rows, key=by_explanation.__getitem__),
        "by_output": sorted(rows, key=by_output.__getitem__),
        "ranks": {n: {"explanation": by_explanation[n], "output": by_output[n]} for n in rows},
        "spearman": _spearman([explanation[n] for n in rows], [output[n] for n in rows]),
        "top_k": top,
        "explanation_not_output": sorted(top_explanation - top_output, key=by_explanation.__getitem__),
        "output_not_explanation": sorted(top_output - top_explanation, key=by_output.__getitem__),
    }


def _spearman(a: list[float | None], b: list[float | None]) -> float | None:
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    if len(pairs) < 3 or len({x for x, _ in pairs}) < 2 or len({y for _, y in pairs}) < 2:
        return None
    from scipy.stats import spearmanr

    return float(spearmanr([x for x, _ in pairs], [y for _, y in pairs]).statistic)
