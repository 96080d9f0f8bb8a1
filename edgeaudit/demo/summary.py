"""The demo's closing words: what was found, in plain language, for someone who has not read the report yet."""

from __future__ import annotations

from typing import Any

from edgeaudit.report import compare_views, views

LABELS = {"supported": "Supported", "artifact": "Artifact", "unwarranted-assumption": "Unwarranted assumption",
          "inconclusive": "Inconclusive"}


def verdict_sentence(document: dict[str, Any]) -> str:
    counts = views.verdict_counts(document)
    total = len(document.get("claims") or [])
    return (f"{total} claim{'' if total == 1 else 's'}: {counts['supported']} supported, {counts['artifact']} explained by a control "
            f"(artifact), {counts['unwarranted-assumption']} resting on an unwarranted token-correspondence "
            f"assumption, {counts['inconclusive']} inconclusive.")


def _verdict_changes(reference: dict[str, Any], variant: dict[str, Any]) -> list[str]:
    """Claims (matched by id) whose verdict differs between two audits: the flips without edgeaudit compare."""
    by_id = {claim["id"]: claim for claim in variant.get("claims") or []}
    return [f"{claim['text']} ({claim['verdict']}→{by_id[claim['id']]['verdict']})"
            for claim in reference.get("claims") or []
            if claim["id"] in by_id and by_id[claim["id"]]["verdict"] != claim["verdict"]]


def _compression_lines(variant: dict[str, Any], compare: dict[str, Any] | None, cosine: float | None,
                       reference: dict[str, Any]) -> list[str]:
    name = (variant.get("bundle") or {}).get("variant", "variant")
    if compare is not None:
        numeric = compare.get("numeric_drift") or {}
        mean = (numeric.get("output_cosine") or {}).get("mean")
        cosine_text = f"final-output cosine {views.fmt(mean, 4)} (mean per word)" if mean is not None else \
            "final-output cosine not computed"
        counts = compare_views.survival_counts(compare)
        flips = [f"{c['text']} ({c['flip']})" for c in compare.get("claims") or [] if c.get("flip")]
        lines = [f"After {name}: {cosine_text}; {counts['survives']} claims survive, {counts['drifts']} drift, "
                 f"{counts['breaks']} break; {len(flips)} verdict flip(s)."]
        ratio = (compare.get("explanation_drift") or {}).get("explanation_to_output_ratio")
        if ratio is not None:
            lines.append(f"  The explanations moved {ratio:.1f}x as much as the output did "
                         "(mean |claim-score change| / (1 − output cosine)).")
    else:
        flips = _verdict_changes(reference, variant)
        cosine_text = f"final-output cosine {cosine:.4f} on the compression check" if cosine is not None else \
            "output cosine in compare.json once edgeaudit compare runs"
        lines = [f"After {name}: {cosine_text}; {len(flips)} verdict change(s) between the two audits."]
    lines += [f"  flip: {text}" for text in flips[:5]]
    if len(flips) > 5:
        lines.append(f"  ... and {len(flips) - 5} more in the report")
    return lines


def _findings(document: dict[str, Any]) -> list[str]:
    return [f"  {LABELS[verdict]}: {text}" for verdict, text in views.striking_findings(document).items()]


def _real_language_lines(real: dict[str, Any]) -> list[str]:
    """The verdicts on real sentences come first: they are what a user's own text would look like."""
    data = real["data"]
    return [f"On real English — {data['spec']} (UD English EWT test, CC BY-SA 4.0; {data['sentences']} sentences): "
            + verdict_sentence(real), *_findings(real), ""]


def demo_summary(reference: dict[str, Any], variant: dict[str, Any], compare: dict[str, Any] | None, *,
                 compress_cosine: float | None = None, real: dict[str, Any] | None = None,
                 title: str = "all-MiniLM-L6-v2") -> str:
    """A short plain-language summary: verdicts on real sentences (when audited), then on the controlled data,
    the most striking finding per verdict, compression effects."""
    norms = ((reference.get("probes") or {}).get("property") or {}).get("norms") or {}
    on_norms = f" and {norms['source']} ({norms.get('concepts')} concepts)" if norms.get("source") else ""
    lines = [f"{title} — {views.model_title(reference)}.", ""]
    if real is not None:
        lines += _real_language_lines(real)
    with_nonce = ", with its nonce twin" if (reference.get("runs") or {}).get("nonce") else ""
    lines += [f"On the controlled data — {reference['data']['spec']} ({reference['data']['sentences']} sentences"
              f"{with_nonce}){on_norms}: " + verdict_sentence(reference), *_findings(reference)]
    lines += _compression_lines(variant, compare, compress_cosine, reference)
    return "\n".join(lines)
