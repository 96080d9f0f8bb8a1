"""What the compare reports show of a compare.json: survival counts, next-token figures, per-layer drift, labels.

The audit's views live in ``views``; these read only the sections a comparison adds.
"""

from __future__ import annotations

from typing import Any

from edgeaudit.report.views import finite_number, fmt
from edgeaudit.verdict import SURVIVAL


def next_token_facts(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Decoders: what the variant does to next-token predictions on the audit's text (label, value)."""
    figures = (document.get("numeric_drift") or {}).get("next_token")
    if not figures:
        return []
    perplexity = figures.get("perplexity") or {}
    return [("next-token KL (mean / 99th pct.)", f"{fmt(figures.get('kl_mean'), 4)} / {fmt(figures.get('kl_p99'), 4)} nats"),
            ("top-1 next-token agreement", fmt(figures.get("top1_agreement"), 3)),
            ("perplexity (reference → variant)",
             f"{fmt(perplexity.get('reference'), 2)} → {fmt(perplexity.get('variant'), 2)} "
             f"(×{fmt(figures.get('perplexity_ratio'), 3)})"),
            ("mean-centred logit cosine", fmt(figures.get("centred_cosine_mean"), 5))]


def survival_counts(document: dict[str, Any]) -> dict[str, int]:
    summary = document.get("summary") or {}
    claims = document.get("claims") or []
    counts = {name: int(summary.get(name, sum(c.get("survival") == name for c in claims))) for name in SURVIVAL}
    counts["flips"] = int(summary.get("flips", sum(bool(c.get("flip")) for c in claims)))
    counts["gates_tripped"] = int(summary.get("gates_tripped", sum(bool(g.get("tripped"))
                                                                     for g in document.get("gates") or [])))
    return counts


def side_label(side: Any) -> str:
    """A compare document's reference/variant entry as a short label (bundle directory name or variant)."""
    if not isinstance(side, dict):
        return "?"
    bundle = side.get("bundle")
    if isinstance(bundle, dict):
        name = str(bundle.get("directory") or bundle.get("variant") or "?").rstrip("/").rsplit("/", 1)[-1]
        variant = bundle.get("variant")
        return name if not variant or variant == name else f"{name} ({variant})"
    return str(bundle).rstrip("/").rsplit("/", 1)[-1] if bundle else "?"


def sqnr_layers(document: dict[str, Any]) -> list[tuple[int, float | None]]:
    layers = ((document.get("numeric_drift") or {}).get("layers")) or []
    return [(int(entry["layer"]), finite_number(entry.get("sqnr_db"))) for entry in layers if "layer" in entry]


def attention_jsd(document: dict[str, Any]) -> list[list[float | None]] | None:
    matrix = (document.get("numeric_drift") or {}).get("attention_jsd")
    if not matrix or not all(isinstance(row, list) for row in matrix):
        return None
    return [[finite_number(v) for v in row] for row in matrix]
