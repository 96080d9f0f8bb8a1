"""Claims with verdicts: a probe score means nothing without the controls that could explain it.

A *claim* is the sentence a user would put on a slide ("head 3.7 tracks nsubj"). It carries its score, every
applicable control's score, the margin over the strongest control with a bootstrap CI, and a verdict:

- ``supported``   — the margin CI lies above zero and the margin reaches ``min_effect``;
- ``artifact``    — some control reaches the score (margin CI includes zero or lies below it, or the margin is
                    positive but smaller than ``min_effect``); the control is named;
- ``inconclusive``— too few instances, or a margin CI wider than ``max_ci_width``;
- ``unwarranted-assumption`` — a head claim at a layer whose positions no longer correspond to their tokens
                    (see ``CorrespondenceRule``); the verdict the scores alone would give is kept beside it.

All thresholds are explicit and echoed into ``audit.json``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

VERDICTS = ("supported", "artifact", "inconclusive", "unwarranted-assumption")
CORRESPONDENCE_SIGNALS = ("rollout", "identifiability", "both")


@dataclass(frozen=True)
class VerdictThresholds:
    min_effect: float = 0.05
    max_ci_width: float = 0.30
    min_instances: int = 30
    # Token correspondence: which assumption a head claim is tested against, and the floor for each signal.
    correspondence_signal: str = "rollout"
    min_rollout_self_share: float = 0.25
    min_identifiability: float = 0.5

    def __post_init__(self) -> None:
        from edgeaudit.errors import EdgeAuditError

        if self.correspondence_signal not in CORRESPONDENCE_SIGNALS:
            raise EdgeAuditError(
                f"option --correspondence-signal: {self.correspondence_signal!r} is not one of "
                f"{', '.join(CORRESPONDENCE_SIGNALS)}"
            )
        for name in ("min_effect", "max_ci_width", "min_rollout_self_share", "min_identifiability"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise EdgeAuditError(f"option --{name.replace('_', '-')}: {value!r} must be a non-negative number")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ControlScore:
    name: str
    score: float
    description: str = ""
    ci: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "score": _finite(self.score), "description": self.description,
                "ci": None if self.ci is None else [_finite(self.ci[0]), _finite(self.ci[1])]}


@dataclass(frozen=True)
class LayerCorrespondence:
    """Both token-correspondence signals at the input of one layer (i.e. for hidden_state_layer)."""

    layer: int
    rollout_self_share: float | None
    identifiability: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "rollout_self_share": _finite(self.rollout_self_share),
                "identifiability": _finite(self.identifiability)}


@dataclass
class Claim:
    claim_id: str
    kind: str
    text: str
    metric: str
    score: float
    n: int
    controls: list[ControlScore]
    score_ci: tuple[float, float] | None = None
    margin: float | None = None
    margin_ci: tuple[float, float] | None = None
    strongest_control: str | None = None
    verdict: str = "inconclusive"
    reason: str = ""
    score_verdict: str | None = None  # the verdict from the scores alone, when a flag overrides it
    subject: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.claim_id, "kind": self.kind, "text": self.text, "verdict": self.verdict,
            "reason": self.reason, "score_verdict": self.score_verdict, "metric": self.metric,
            "score": _finite(self.score), "score_ci": _pair(self.score_ci), "n": self.n,
            "strongest_control": self.strongest_control, "margin": _finite(self.margin),
            "margin_ci": _pair(self.margin_ci), "controls": [c.to_dict() for c in self.controls],
            "subject": self.subject, "evidence": self.evidence,
        }


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _pair(pair: tuple[float, float] | None) -> list[float | None] | None:
    return None if pair is None else [_finite(pair[0]), _finite(pair[1])]


def strongest(controls: list[ControlScore]) -> ControlScore | None:
    """The control with the highest score (ties: the first listed, so callers order by plainness)."""
    usable = [c for c in controls if c.score is not None and math.isfinite(c.score)]
    return max(usable, key=lambda c: c.score) if usable else None


def decide(claim: Claim, thresholds: VerdictThresholds) -> Claim:
    """Fill ``verdict`` and ``reason`` from the score, the margin over the strongest control and its CI."""
    top = claim.strongest_control
    if claim.n < thresholds.min_instances:
        return _set(claim, "inconclusive", f"only {claim.n} instance{'' if claim.n == 1 else 's'} (< {thresholds.min_instances})")
    if claim.margin is None or claim.margin_ci is None or top is None:
        return _set(claim, "inconclusive", "no control could be computed")
    low, high = claim.margin_ci
    if not (math.isfinite(low) and math.isfinite(high)):
        return _set(claim, "inconclusive", "the margin's confidence interval is undefined")
    if low <= 0.0:
        if high - low > thresholds.max_ci_width and high > thresholds.min_effect:
            return _set(claim, "inconclusive",
                        f"margin over {top} {claim.margin:+.3f} with a wide CI [{low:+.3f}, {high:+.3f}]")
        return _set(claim, "artifact",
                    f"the {top} control reaches the score (margin {claim.margin:+.3f}, CI [{low:+.3f}, {high:+.3f}])")
    if claim.margin < thresholds.min_effect:
        return _set(claim, "artifact",
                    f"the {top} control nearly reaches the score (margin {claim.margin:+.3f} < "
                    f"minimum effect {thresholds.min_effect:g})")
    if high - low > thresholds.max_ci_width:
        return _set(claim, "inconclusive", f"margin CI [{low:+.3f}, {high:+.3f}] wider than {thresholds.max_ci_width:g}")
    return _set(claim, "supported", f"beats {top} by {claim.margin:+.3f} (CI [{low:+.3f}, {high:+.3f}])")


def _set(claim: Claim, verdict: str, reason: str) -> Claim:
    claim.verdict, claim.reason = verdict, reason
    return claim


def attach_margin(claim: Claim, margin_ci_by_control: dict[str, tuple[float, float, float]]) -> Claim:
    """Set the strongest control and the margin (estimate, low, high) over it from precomputed bootstraps."""
    top = strongest(claim.controls)
    if top is None:
        return claim
    claim.strongest_control = top.name
    if top.name in margin_ci_by_control:
        estimate, low, high = margin_ci_by_control[top.name]
        claim.margin, claim.margin_ci = estimate, (low, high)
    else:
        claim.margin = claim.score - top.score
    return claim


def correspondence_failure(layer: LayerCorrespondence, thresholds: VerdictThresholds) -> str | None:
    """Why positions at this layer's input cannot be read as their tokens, or None if they can.

    ``rollout`` tests the assumption a head claim actually makes — that the vector at position i is mostly made
    of token i (Abnar & Zuidema 2020 rollout self-share). ``identifiability`` tests a weaker one — that token i
    can still be recovered from position i (Brunner et al. 2020). The two can disagree: a position can keep its
    token recoverable while being mostly a mixture of others.
    """
    signal = thresholds.correspondence_signal
    problems = []
    if signal in ("rollout", "both") and layer.rollout_self_share is not None \
            and layer.rollout_self_share < thresholds.min_rollout_self_share:
        problems.append(f"rollout self-share {layer.rollout_self_share:.2f} < {thresholds.min_rollout_self_share:g}")
    if signal in ("identifiability", "both") and layer.identifiability is not None \
            and layer.identifiability < thresholds.min_identifiability:
        problems.append(f"identifiability {layer.identifiability:.2f} < {thresholds.min_identifiability:g}")
    if not problems:
        return None
    return f"at the input of layer {layer.layer} positions no longer correspond to their tokens ({'; '.join(problems)})"


def flag_correspondence(claim: Claim, layer: LayerCorrespondence, thresholds: VerdictThresholds) -> Claim:
    """Attach both signals as evidence; override a verdict with ``unwarranted-assumption`` when the rule fails."""
    claim.evidence["correspondence"] = {**layer.to_dict(), "signal_tested": thresholds.correspondence_signal}
    problem = correspondence_failure(layer, thresholds)
    if problem is not None:
        claim.score_verdict = claim.verdict
        claim.verdict = "unwarranted-assumption"
        claim.reason = f"{problem}; by scores alone: {claim.score_verdict} ({claim.reason})"
    return claim


def verdict_counts(claims: list[Claim]) -> dict[str, int]:
    return {name: sum(c.verdict == name for c in claims) for name in VERDICTS}
