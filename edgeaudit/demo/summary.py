"""The demo's closing words: what was found, in plain language, for someone who has not read the report yet."""

from __future__ import annotations

from typing import Any

from edgeaudit.report import compare_views, views
from edgeaudit.results import AuditResult, CompareResult, typed

LABELS = {"supported": "Supported", "artifact": "Artifact", "unwarranted-assumption": "Unwarranted assumption",
          "inconclusive": "Inconclusive"}


def verdict_sentence(result: AuditResult) -> str:
    counts = result.verdict_counts()
    total = len(result.claims)
    return (f"{total} claim{'' if total == 1 else 's'}: {counts['supported']} supported, {counts['artifact']} explained by a control "
            f"(artifact), {counts['unwarranted-assumption']} resting on an unwarranted token-correspondence "
            f"assumption, {counts['inconclusive']} inconclusive.")


def _verdict_changes(reference: AuditResult, variant: AuditResult) -> list[str]:
    """Claims (matched by id) whose verdict differs between two audits: the flips without edgeaudit compare."""
    by_id = {claim.claim_id: claim for claim in variant.claims}
    return [f"{claim.text} ({claim.verdict}→{by_id[claim.claim_id].verdict})" for claim in reference.claims
            if claim.claim_id in by_id and by_id[claim.claim_id].verdict != claim.verdict]


def _compression_lines(variant: AuditResult, compare: CompareResult | None, cosine: float | None,
                       reference: AuditResult) -> list[str]:
    name = variant.bundle.variant
    if compare is not None:
        mean = compare.numeric_drift.output_cosine.mean if compare.numeric_drift is not None else None
        cosine_text = f"final-output cosine {views.fmt(mean, 4)} (mean per word)" if mean is not None else \
            "final-output cosine not computed"
        counts = compare_views.survival_counts(compare)
        flips = [f"{c.text} ({c.flip})" for c in compare.claims if c.flip]
        lines = [f"After {name}: {cosine_text}; {counts['survives']} claims survive, {counts['drifts']} drift, "
                 f"{counts['breaks']} break; {len(flips)} verdict flip(s)."]
        ratio = compare.explanation_drift.explanation_to_output_ratio if compare.explanation_drift else None
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


def _findings(result: AuditResult) -> list[str]:
    return [f"  {LABELS[verdict]}: {text}" for verdict, text in views.striking_findings(result).items()]


def _real_language_lines(real: AuditResult) -> list[str]:
    """The verdicts on real sentences come first: they are what a user's own text would look like."""
    return [f"On real English — {real.data.spec} (UD English EWT test, CC BY-SA 4.0; {real.data.sentences} "
            "sentences): " + verdict_sentence(real), *_findings(real), ""]


def demo_summary(reference: dict[str, Any], variant: dict[str, Any], compare: dict[str, Any] | None, *,
                 compress_cosine: float | None = None, real: dict[str, Any] | None = None,
                 title: str = "all-MiniLM-L6-v2") -> str:
    """A short plain-language summary: verdicts on real sentences (when audited), then on the controlled data,
    the most striking finding per verdict, compression effects."""
    reference, variant = typed(reference, AuditResult), typed(variant, AuditResult)
    compare = None if compare is None else typed(compare, CompareResult)
    real = None if real is None else typed(real, AuditResult)
    norms = reference.probe_section("property").get("norms") or {}
    on_norms = f" and {norms['source']} ({norms.get('concepts')} concepts)" if norms.get("source") else ""
    lines = [f"{title} — {views.model_title(reference)}.", ""]
    if real is not None:
        lines += _real_language_lines(real)
    with_nonce = ", with its nonce twin" if reference.runs.nonce is not None else ""
    lines += [f"On the controlled data — {reference.data.spec} ({reference.data.sentences} sentences"
              f"{with_nonce}){on_norms}: " + verdict_sentence(reference), *_findings(reference)]
    lines += _compression_lines(variant, compare, compress_cosine, reference)
    return "\n".join(lines)
