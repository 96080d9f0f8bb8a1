"""The one-line skip summary every data-reading command prints on stderr: nothing is dropped silently."""

from __future__ import annotations

from typing import Any


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def skip_line(by_kind: dict[str, int], total: int, where: str) -> str | None:
    """``edgeaudit: skipped 3 of 120 sentences: 2 head-out-of-range, 1 too-long (see WHERE)``, or None."""
    skipped = sum(by_kind.values())
    if not skipped:
        return None
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(by_kind.items(), key=lambda item: -item[1]))
    return f"edgeaudit: skipped {skipped} of {_plural(total, 'sentence')}: {kinds} (see {where})"


def audit_skip_line(document: dict[str, Any], path: str) -> str | None:
    """Sentences the reader rejected plus those the model could not take (too long, unalignable)."""
    from edgeaudit.report.views import skipped_sentences
    from edgeaudit.results import AuditResult, CompareResult, typed

    is_audit = document.get("schema") != "edgeaudit.compare"
    skips = skipped_sentences(typed(document, AuditResult if is_audit else CompareResult))
    where = (f'{path}: "data.skipped_while_reading" and "runs.model.extraction.skipped"'
             if is_audit else f"{path} and the reference's audit.json")
    return skip_line(skips.by_kind, skips.total, where)


def claims_json(document: dict[str, Any], path: str, **extra: Any) -> str:
    """``--json``: what the text table shows, machine-readable (the full record stays in the JSON file)."""
    import json

    keys = ("id", "kind", "text", "verdict", "score", "strongest_control", "margin", "survival", "flip", "delta")
    claims = [{key: claim[key] for key in keys if key in claim} for claim in document.get("claims") or []]
    return json.dumps({"file": path, "summary": document.get("summary"), "claims": claims, **extra}, indent=2)
