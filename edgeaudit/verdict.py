"""Claims with verdicts: a probe score means nothing without the controls that could explain it.

A *claim* is the sentence a user would put on a slide ("head 3.7 tracks nsubj"). It carries its score, every
applicable control's score, the margin over the strongest control with a bootstrap CI, and a verdict. The verdict
compares the margin's CI with two lines, zero and ``min_effect``, and ``finding`` says which case decided it:

- ``supported``   — the margin CI lies above zero and the margin reaches ``min_effect`` (``beats-control``);
- ``artifact``    — the margin is reliably below ``min_effect``: the CI's upper end stays under it. Either a
                    control reaches the score (the CI includes zero or lies below it: ``control-reaches``) or the
                    real score is reliably above the control but by less than the minimum effect
                    (``small-effect``); the control is named;
- ``inconclusive``— the data cannot decide: too few instances (``few-instances``), no control
                    (``no-control``), an undefined CI (``undefined-ci``), a CI that includes zero *and* reaches
                    ``min_effect`` (``underpowered``), a CI above zero that straddles ``min_effect`` while the
                    margin falls short of it (``effect-undecided``), a margin CI wider than ``max_ci_width``
                    (``wide-ci``), or a margin that is not significant once the run's many claims are accounted
                    for (``multiplicity``, see ``control_false_discoveries``), or a head claim at a layer where
                    the token-correspondence signal's CI straddles its floor (``correspondence-undecided``);
- ``unwarranted-assumption`` — a head claim at a layer whose positions reliably no longer correspond to their
                    tokens (the signal's CI lies below its floor; see ``correspondence_decision``); the verdict
                    the scores alone would give is kept beside it.

Why two lines: with one (the old rule, "artifact unless the CI clears zero and the margin reaches min_effect"),
a claim whose margin sits near ``min_effect`` or whose CI is merely wide flips between ``supported`` and
``artifact`` from one sample of a treebank to another. Now a claim is ``artifact`` only when its CI says the
margin is small, and ``supported`` only when it says the margin is real and the estimate reaches the minimum
effect; everything between is ``inconclusive`` with its CI, so two samples disagree by at most one step.

All thresholds are explicit and echoed into ``audit.json``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from edgeaudit.option_fields import cli

VERDICTS = ("supported", "artifact", "inconclusive", "unwarranted-assumption")
#: what compression did to a claim (compare), from best to worst
SURVIVAL = ("survives", "drifts", "breaks")
#: Changes whenever ``decide`` or the multiplicity control changes, so audit checkpoints of older rules are redone.
VERDICT_RULE = "two-lines+bh+cross-fitted-winners+correspondence-ci/4"
FINDINGS = ("beats-control", "control-reaches", "small-effect", "few-instances", "no-control", "undefined-ci",
            "underpowered", "effect-undecided", "wide-ci", "multiplicity", "correspondence-undecided")
CORRESPONDENCE_SIGNALS = ("rollout", "identifiability", "both")


@dataclass(frozen=True)
class VerdictThresholds:
    min_effect: float = field(default=0.05, metadata=cli("Margin over the strongest control needed for 'supported'."))
    max_ci_width: float = field(default=0.30, metadata=cli("Wider margin CIs make a claim 'inconclusive'."))
    min_instances: int = field(default=30, metadata=cli("Claims resting on fewer instances are 'inconclusive'."))
    # Token correspondence: which assumption a head claim is tested against, and the floor for each signal.
    correspondence_signal: str = field(default="rollout", metadata=cli(
        "Which token-correspondence assumption head claims are tested against.", choices=CORRESPONDENCE_SIGNALS))
    min_rollout_self_share: float = field(default=0.25, metadata=cli(
        "Floor of the rollout self-share below which positions no longer stand for their tokens."))
    min_identifiability: float = field(default=0.5, metadata=cli(
        "Floor of direct token identifiability below which positions no longer stand for their tokens."))
    # Benjamini-Hochberg false discovery rate over the margin tests of one run's claims.
    max_false_discovery_rate: float = field(default=0.05, metadata=cli(
        "Benjamini-Hochberg rate over the run's margin tests: a 'supported' claim whose adjusted p-value is above "
        "it becomes 'inconclusive' (multiplicity)."))

    def __post_init__(self) -> None:
        from edgeaudit.errors import EdgeAuditError

        if self.correspondence_signal not in CORRESPONDENCE_SIGNALS:
            raise EdgeAuditError(
                f"option --correspondence-signal: {self.correspondence_signal!r} is not one of "
                f"{', '.join(CORRESPONDENCE_SIGNALS)}"
            )
        for name in ("min_effect", "max_ci_width", "min_rollout_self_share", "min_identifiability",
                     "max_false_discovery_rate"):
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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ControlScore:
        return cls(data["name"], _number(data["score"]), data.get("description", ""), _tuple(data.get("ci")))


@dataclass(frozen=True)
class LayerCorrespondence:
    """Both token-correspondence signals at the input of one layer (i.e. for hidden_state_layer), with their
    bootstrap CIs over sentences and which sentences each one used."""

    layer: int
    rollout_self_share: float | None
    identifiability: float | None
    rollout_ci: tuple[float, float] | None = None
    identifiability_ci: tuple[float, float] | None = None
    sentences: dict[str, str] | None = None  # signal -> the sentences its number and CI come from

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "rollout_self_share": _finite(self.rollout_self_share),
                "rollout_self_share_ci": _finite_pair(self.rollout_ci),
                "identifiability": _finite(self.identifiability),
                "identifiability_ci": _finite_pair(self.identifiability_ci),
                "sentences": dict(self.sentences or {})}


def _finite_pair(pair: tuple[float, float] | None) -> list[float] | None:
    if pair is None or not all(isinstance(x, (int, float)) and math.isfinite(x) for x in pair):
        return None
    return [float(pair[0]), float(pair[1])]


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
    finding: str | None = None  # which case of the rule decided the (score) verdict: one of FINDINGS
    margin_p: float | None = None  # one-sided bootstrap p-value of "margin <= 0"
    margin_q: float | None = None  # the same after Benjamini-Hochberg over the run's claims
    subject: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.claim_id, "kind": self.kind, "text": self.text, "verdict": self.verdict,
            "reason": self.reason, "score_verdict": self.score_verdict, "finding": self.finding,
            "metric": self.metric,
            "score": _finite(self.score), "score_ci": _pair(self.score_ci), "n": self.n,
            "strongest_control": self.strongest_control, "margin": _finite(self.margin),
            "margin_ci": _pair(self.margin_ci), "margin_p": _finite(self.margin_p),
            "margin_q": _finite(self.margin_q), "controls": [c.to_dict() for c in self.controls],
            "subject": self.subject, "evidence": self.evidence,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claim:
        """A claim of an audit.json, typed again (``to_dict`` of the result gives the same JSON back)."""
        return cls(
            claim_id=data["id"], kind=data["kind"], text=data["text"], metric=data["metric"],
            score=_number(data["score"]), n=int(data["n"]),
            controls=[ControlScore.from_dict(control) for control in data["controls"]],
            score_ci=_tuple(data.get("score_ci")), margin=_optional(data.get("margin")),
            margin_ci=_tuple(data.get("margin_ci")), strongest_control=data.get("strongest_control"),
            verdict=data["verdict"], reason=data.get("reason", ""), score_verdict=data.get("score_verdict"),
            finding=data.get("finding"), margin_p=_optional(data.get("margin_p")),
            margin_q=_optional(data.get("margin_q")), subject=dict(data.get("subject") or {}),
            evidence=dict(data.get("evidence") or {}),
        )


def _number(value: float | None) -> float:
    """A score read back from JSON: null (written for a non-finite value) becomes NaN again."""
    return math.nan if value is None else float(value)


def _tuple(pair: list | None) -> tuple[float, float] | None:
    return None if pair is None else (_number(pair[0]), _number(pair[1]))


def _optional(value: float | None) -> float | None:
    return None if value is None else float(value)


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _pair(pair: tuple[float, float] | None) -> list[float | None] | None:
    return None if pair is None else [_finite(pair[0]), _finite(pair[1])]


#: a number as JSON writes it (None for NaN/inf), and a (low, high) pair likewise — for records built from claims
finite_or_none = _finite
json_pair = _pair


def strongest(controls: list[ControlScore]) -> ControlScore | None:
    """The control with the highest score (ties: the first listed, so callers order by plainness)."""
    usable = [c for c in controls if c.score is not None and math.isfinite(c.score)]
    return max(usable, key=lambda c: c.score) if usable else None


def decide(claim: Claim, thresholds: VerdictThresholds) -> Claim:
    """Fill ``verdict``, ``finding`` and ``reason`` from the margin over the strongest control and its CI."""
    top = claim.strongest_control
    if claim.n < thresholds.min_instances:
        return _set(claim, "inconclusive", "few-instances",
                    f"only {claim.n} instance{'' if claim.n == 1 else 's'} (< {thresholds.min_instances})")
    if claim.margin is None or claim.margin_ci is None or top is None:
        return _set(claim, "inconclusive", "no-control", "no control could be computed")
    low, high = claim.margin_ci
    if not (math.isfinite(low) and math.isfinite(high)):
        return _set(claim, "inconclusive", "undefined-ci", "the margin's confidence interval is undefined")
    ci = f"CI [{low:+.3f}, {high:+.3f}]"
    effect = thresholds.min_effect
    if high < effect:
        if low <= 0.0:
            return _set(claim, "artifact", "control-reaches",
                        f"the {top} control reaches the score (margin {claim.margin:+.3f}, {ci})")
        return _set(claim, "artifact", "small-effect",
                    f"reliably above the {top} control but by less than the minimum effect {effect:g} "
                    f"(margin {claim.margin:+.3f}, {ci})")
    if low <= 0.0:
        return _set(claim, "inconclusive", "underpowered",
                    f"too little data to decide: the margin over {top} ({claim.margin:+.3f}, {ci}) may be zero "
                    f"or reach the minimum effect {effect:g}")
    if claim.margin < effect:
        return _set(claim, "inconclusive", "effect-undecided",
                    f"above the {top} control, but whether by the minimum effect {effect:g} is undecided "
                    f"(margin {claim.margin:+.3f}, {ci})")
    if high - low > thresholds.max_ci_width:
        return _set(claim, "inconclusive", "wide-ci", f"margin {ci} wider than {thresholds.max_ci_width:g}")
    return _set(claim, "supported", "beats-control", f"beats {top} by {claim.margin:+.3f} ({ci})")


def _set(claim: Claim, verdict: str, finding: str, reason: str) -> Claim:
    claim.verdict, claim.finding, claim.reason = verdict, finding, reason
    return claim


def attach_margin(claim: Claim, margin_ci_by_control: dict[str, tuple[float, ...]]) -> Claim:
    """Set the strongest control and the margin (estimate, low, high[, p-value]) over it from precomputed
    bootstraps."""
    top = strongest(claim.controls)
    if top is None:
        return claim
    claim.strongest_control = top.name
    if top.name in margin_ci_by_control:
        estimate, low, high, *rest = margin_ci_by_control[top.name]
        claim.margin, claim.margin_ci = estimate, (low, high)
        claim.margin_p = float(rest[0]) if rest and rest[0] is not None and math.isfinite(rest[0]) else None
    else:
        claim.margin = claim.score - top.score
    return claim


def control_false_discoveries(claims: list[Claim], thresholds: VerdictThresholds) -> int:
    """Benjamini-Hochberg over the margin tests of one run: a ``supported`` claim whose adjusted p-value (q)
    exceeds ``max_false_discovery_rate`` becomes ``inconclusive`` (``multiplicity``). Returns how many changed.

    Why: an audit tests dozens to hundreds of claims, each at 95 %; without a correction a few margins clear zero by
    chance. BH keeps the expected share of false ``supported`` verdicts among all of them at the chosen rate.
    The family is every claim with a bootstrap p-value (claims without one — property claims, whose controls are
    permutation tests reported as evidence — are outside it and say so in ``margin_q`` = null).
    """
    tested = [c for c in claims if c.margin_p is not None]
    if not tested:
        return 0
    from scipy.stats import false_discovery_control

    adjusted = false_discovery_control([c.margin_p for c in tested], method="bh")
    changed = 0
    for claim, q in zip(tested, adjusted, strict=True):
        claim.margin_q = float(q)
        if q <= thresholds.max_false_discovery_rate:
            continue
        note = (f"not significant over {len(tested)} claims (Benjamini-Hochberg q {q:.3f} > "
                f"{thresholds.max_false_discovery_rate:g})")
        if claim.verdict == "supported":
            _set(claim, "inconclusive", "multiplicity", f"{note}; alone: {claim.reason}")
            changed += 1
        elif claim.score_verdict == "supported":
            claim.score_verdict, claim.finding = "inconclusive", "multiplicity"
            claim.reason = f"{claim.reason}; {note}"
            changed += 1
    return changed


def _signal_state(value: float | None, ci: tuple[float, float] | None, floor: float) -> str | None:
    """``fails`` when the CI (or, without one, the value) lies below ``floor``, ``holds`` when it lies at or
    above it, ``undecided`` when the CI straddles it; None when the signal was not measured."""
    if value is None or not math.isfinite(value):
        return None
    low, high = (value, value) if _finite_pair(ci) is None else ci  # type: ignore[misc]
    if high < floor:
        return "fails"
    return "holds" if low >= floor else "undecided"


def correspondence_decision(layer: LayerCorrespondence, thresholds: VerdictThresholds) -> tuple[str, str | None]:
    """(``holds`` | ``undecided`` | ``fails``, why) for positions at this layer's input standing for their tokens.

    ``rollout`` tests the assumption a head claim actually makes — that the vector at position i is mostly made
    of token i (Abnar & Zuidema 2020 rollout self-share). ``identifiability`` tests a weaker one — that token i
    can still be recovered from position i (Brunner et al. 2020); ``both`` tests the two. A signal decides only
    when its bootstrap CI over sentences lies wholly on one side of its floor, so a layer whose corpus mean sits
    a hair either side of the floor is ``undecided`` instead of flipping a claim's verdict. The rule fails if
    any tested signal fails, and is undecided if none fails but one is undecided.
    """
    signal = thresholds.correspondence_signal
    checks = []
    if signal in ("rollout", "both"):
        checks.append(("rollout self-share", layer.rollout_self_share, layer.rollout_ci,
                       thresholds.min_rollout_self_share))
    if signal in ("identifiability", "both"):
        checks.append(("identifiability", layer.identifiability, layer.identifiability_ci,
                       thresholds.min_identifiability))
    states = []
    for name, value, ci, floor in checks:
        state = _signal_state(value, ci, floor)
        if state is None:
            continue
        shown = f"{name} {value:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if _finite_pair(ci) else "")
        states.append((state, f"{shown} {'<' if state == 'fails' else '>=' if state == 'holds' else 'straddles'} "
                              f"{floor:g}"))
    for wanted in ("fails", "undecided"):
        found = [text for state, text in states if state == wanted]
        if found:
            return wanted, "; ".join(found)
    return "holds", None


def flag_correspondence(claim: Claim, layer: LayerCorrespondence, thresholds: VerdictThresholds,
                        fold_layers: Sequence[LayerCorrespondence] = ()) -> Claim:
    """Attach both signals (values, CIs, sentences) and the decision; a failing layer overrides the verdict with
    ``unwarranted-assumption``, an undecided one turns ``supported`` into ``inconclusive``.

    ``fold_layers`` are the other layers the cross-fitted folds chose their winners in. When the decision there
    differs from the named layer's — near-tied heads in layers 2 and 3 on either side of the floor — which layer
    the claim is about is itself a coin toss, so the decision is ``undecided`` rather than the named layer's.
    """
    state, why = correspondence_decision(layer, thresholds)
    others = {other.layer: correspondence_decision(other, thresholds)[0] for other in fold_layers
              if other.layer != layer.layer}
    disagree = sorted(n for n, other_state in others.items() if other_state != state)
    if disagree and state != "undecided":
        listed = ", ".join(f"{n} ({others[n]})" for n in disagree)
        why = f"{why or 'holds'} at layer {layer.layer}, but the cross-fitted folds also chose winners in layer {listed}"
        state = "undecided"
    claim.evidence["correspondence"] = {**layer.to_dict(), "signal_tested": thresholds.correspondence_signal,
                                        "decision": state, "fold_layers": {str(n): s for n, s in others.items()}}
    if state == "fails":
        claim.score_verdict = claim.verdict
        claim.verdict = "unwarranted-assumption"
        claim.reason = (f"at the input of layer {layer.layer} positions no longer correspond to their tokens ({why}); "
                        f"by scores alone: {claim.score_verdict} ({claim.reason})")
    elif state == "undecided" and claim.verdict == "supported":
        _set(claim, "inconclusive", "correspondence-undecided",
             f"token correspondence at the input of layer {layer.layer} is undecided ({why}); by scores alone: "
             f"supported ({claim.reason})")
    return claim


def verdict_counts(claims: list[Claim]) -> dict[str, int]:
    return {name: sum(c.verdict == name for c in claims) for name in VERDICTS}
