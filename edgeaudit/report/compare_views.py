"""What the compare reports show of a compare.json: survival counts, next-token figures, per-layer drift, labels.

The audit's views live in ``views``; these read only the sections a comparison adds.
"""

from __future__ import annotations

from typing import Any

from edgeaudit.report.views import finite_number, fmt
from edgeaudit.results import CompareResult
from edgeaudit.results.compare_result import SideInputs


def next_token_facts(result: CompareResult) -> list[tuple[str, str]]:
    """Decoders: what the variant does to next-token predictions on the audit's text (label, value)."""
    figures = result.numeric_drift.next_token if result.numeric_drift is not None else None
    if figures is None:
        return []
    perplexity = figures.perplexity
    return [("next-token KL (mean / 99th pct.)", f"{fmt(figures.kl_mean, 4)} / {fmt(figures.kl_p99, 4)} nats"),
            ("top-1 next-token agreement", fmt(figures.top1_agreement, 3)),
            ("perplexity (reference → variant)",
             f"{fmt(perplexity.get('reference'), 2)} → {fmt(perplexity.get('variant'), 2)} "
             f"(×{fmt(figures.perplexity_ratio, 3)})"),
            ("mean-centred logit cosine", fmt(figures.centred_cosine_mean, 5))]


def survival_counts(result: CompareResult) -> dict[str, int]:
    summary = result.summary
    return {"survives": summary.survives, "drifts": summary.drifts, "breaks": summary.breaks, "flips": summary.flips,
            "gates_tripped": summary.gates_tripped}


def side_label(side: SideInputs) -> str:
    """A comparison's reference/variant inputs as a short label (bundle directory name or variant)."""
    bundle: Any = side.bundle
    if isinstance(bundle, dict):
        name = str(bundle.get("directory") or bundle.get("variant") or "?").rstrip("/").rsplit("/", 1)[-1]
        variant = bundle.get("variant")
        return name if not variant or variant == name else f"{name} ({variant})"
    return str(bundle).rstrip("/").rsplit("/", 1)[-1] if bundle else "?"


def sqnr_layers(result: CompareResult) -> list[tuple[int, float | None]]:
    layers = result.numeric_drift.layers if result.numeric_drift is not None else []
    return [(entry.layer, finite_number(entry.sqnr_db)) for entry in layers]


def attention_jsd(result: CompareResult) -> list[list[float | None]] | None:
    matrix = result.numeric_drift.attention_jsd if result.numeric_drift is not None else None
    if not matrix:
        return None
    return [[finite_number(v) for v in row] for row in matrix]
