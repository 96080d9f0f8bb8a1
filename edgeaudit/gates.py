"""CI gates for ``edgeaudit compare``: ``--fail-on "flips>0"`` and TOML gate files.

The language is one comparison per gate::

    METRIC OP NUMBER        e.g.  flips>0   output_cosine < 0.99   min_sqnr_db<=20   max_jsd >= 0.1

``OP`` is one of ``< <= > >= == !=``; whitespace is allowed around each part; ``NUMBER`` is a decimal or
scientific literal (``0``, ``-0.5``, ``.99``, ``1e-3``). A gate *trips* when its expression is TRUE on the
comparison: ``flips>0`` trips as soon as one claim changes verdict. A metric that the comparison could not
compute (numeric drift without the bundles, ``uuas_drop`` without tree or structural claims) cannot be
evaluated: the gate is recorded with ``value: null`` and the command fails with exit code 2, because a CI
gate that silently passes is worse than one that complains.

A gate file is TOML with one key::

    fail_on = ["flips>0", "output_cosine<0.99"]

Metrics (see :data:`METRICS`) are read from the comparison's typed result (``CompareResult``, also read back from
a stored ``compare.json``) by :func:`metric_values`, so gates can be re-evaluated on any stored comparison.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeaudit.claim_kinds import tree_scored_kinds
from edgeaudit.errors import EXIT_GATE_TRIPPED, EdgeAuditError
from edgeaudit.results import CompareResult, typed
from edgeaudit.suggest import did_you_mean

#: metric name -> what it measures (also the help text of ``--fail-on``)
METRICS: dict[str, str] = {
    "flips": "claims whose verdict changed (any change, e.g. supported→artifact)",
    "breaks": "claims whose verdict crossed supported / not supported",
    "drifts": "claims whose verdict holds but whose score moved beyond the drift tolerance",
    "survives": "claims that survive compression",
    "output_cosine": "mean per-word cosine of the final output, variant vs reference",
    "output_cosine_min": "smallest per-word cosine of the final output",
    "min_sqnr_db": "lowest per-layer SQNR of word-level hidden states, in dB (identical layers count as +inf)",
    "max_jsd": "largest per-head Jensen-Shannon divergence of word-level attention rows (base 2, 0..1)",
    "uuas_drop": "largest drop (reference - variant) of a structural or attention-tree claim's UUAS",
    "max_score_drop": "largest drop (reference - variant) of any claim's score",
    "explanation_to_output_ratio": "mean |claim score delta| / (1 - mean output cosine)",
    "next_token_kl": "decoders: mean KL(reference || variant) of next-token distributions, nats",
    "next_token_kl_p99": "decoders: 99th percentile of the per-position next-token KL, nats",
    "top1_agreement": "decoders: share of positions where both predict the same next token",
    "perplexity_ratio": "decoders: variant perplexity / reference perplexity on the audit's text",
}

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
}

EXPECTED_FORM = "expected METRIC OP NUMBER, e.g. 'flips>0' or 'output_cosine < 0.99' (OP: < <= > >= == !=)"
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_GATE = re.compile(rf"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*({_NUMBER})\s*")


class GateError(EdgeAuditError):
    """A gate expression or gate file that cannot be used (exit 2)."""


class GatesTripped(EdgeAuditError):
    """One or more gates tripped: the comparison ran, and CI should fail (exit 1)."""

    exit_code = EXIT_GATE_TRIPPED


@dataclass(frozen=True)
class Gate:
    expression: str  # as the user wrote it, whitespace trimmed
    metric: str
    op: str
    threshold: float

    def trips(self, value: float) -> bool:
        return bool(OPERATORS[self.op](value, self.threshold))


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    value: float | None  # None: the metric could not be computed
    tripped: bool | None  # None: not evaluated
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"expression": self.gate.expression, "metric": self.gate.metric, "op": self.gate.op,
               "threshold": _number(self.gate.threshold), "value": _json_value(self.value), "tripped": self.tripped}
        if self.value is not None and math.isinf(self.value):
            out["value_note"] = f"{'+' if self.value > 0 else '-'}inf (written as null)"
        if self.note:
            out["note"] = self.note
        return out

    def describe(self) -> str:
        shown = _format(self.value)
        if self.value is not None and math.isfinite(self.value) and not float(self.value).is_integer():
            shown = format_against(self.value, self.gate.threshold, 6, style="g")
        return f"{self.gate.expression} ({self.gate.metric} = {shown})"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


def _json_value(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else _number(value)


def format_against(value: float, threshold: float, digits: int, style: str = "f") -> str:
    """``value`` with at least ``digits`` decimals (``f``) or significant digits (``g``) and as many more as keep
    it on its side of ``threshold`` (a tripped ``output_cosine<0.99999`` at 0.999985 must not print as 1.0000)."""
    for places in range(digits, 18):
        text = f"{value:.{places}{style}}"
        rounded = float(text)
        if (rounded > threshold) == (value > threshold) and (rounded < threshold) == (value < threshold):
            return text
    return repr(value)


def _format(value: float | None) -> str:
    if value is None:
        return "not computed"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}"


def suggest_metric(name: str) -> str:
    return did_you_mean(name, METRICS)


def parse_gate(text: str, *, source: str = "--fail-on") -> Gate:
    """``"flips>0"`` -> ``Gate``; anything else raises :class:`GateError` (one line, exit 2)."""
    if not isinstance(text, str):
        raise GateError(f"{source}: gate {text!r} is not a string", hint=EXPECTED_FORM)
    shown = " ".join(text.split())[:80] or "''"
    match = _GATE.fullmatch(text)
    if match is None:
        raise GateError(f"{source}: cannot read gate {shown!r}", hint=EXPECTED_FORM)
    metric, op, number = match.groups()
    if metric not in METRICS:
        raise GateError(f"{source}: unknown metric {metric!r} in gate {shown!r}",
                        hint=f"{suggest_metric(metric)}metrics: {', '.join(METRICS)}")
    threshold = float(number)
    if not math.isfinite(threshold):  # e.g. 1e999
        raise GateError(f"{source}: threshold {number} in gate {shown!r} is not a finite number", hint=EXPECTED_FORM)
    return Gate(expression=" ".join(text.split()), metric=metric, op=op, threshold=threshold)


def load_gate_file(path: str | Path) -> list[Gate]:
    """Gates from a TOML file with ``fail_on = [...]``; errors name the file (and line for TOML syntax)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise GateError(f"{path}: reading gate files needs Python 3.11+ (tomllib) or the tomli package",
                            hint="pip install tomli, or pass the gates with --fail-on") from None
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise GateError(f"{path}: no such gate file") from None
    except IsADirectoryError:
        raise GateError(f"{path}: is a directory, expected a TOML gate file") from None
    except UnicodeDecodeError as exc:
        raise GateError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    text = text.removeprefix("\ufeff")  # a byte-order mark (Windows editors write one) is not TOML, nor an error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GateError(f"{path}: invalid TOML: {exc}", hint='write e.g. fail_on = ["flips>0"]') from None
    unknown = [key for key in data if key != "fail_on"]
    if unknown:
        suggestion = did_you_mean(unknown[0], ["fail_on"], cutoff=0.6)
        raise GateError(f"{path}: unknown key {unknown[0]!r}",
                        hint=f"{suggestion}the only key is fail_on")
    entries = data.get("fail_on", [])
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, list):
        raise GateError(f"{path}: fail_on must be a list of strings, got {type(entries).__name__}",
                        hint='write e.g. fail_on = ["flips>0"]')
    if not entries:  # a gate file that gates nothing would let every build pass: that is never what was meant
        raise GateError(f"{path}: defines no gate" + ("" if "fail_on" in data else " (no fail_on key)"),
                        hint='write e.g. fail_on = ["flips>0"], or drop --gates to compare without gates')
    return [parse_gate(entry, source=f"{path}: fail_on[{i}]") for i, entry in enumerate(entries)]


def collect_gates(expressions: Iterable[str] = (), gate_file: str | Path | None = None) -> list[Gate]:
    """``--fail-on`` expressions then the gate file's, duplicates removed (first kept)."""
    gates = [parse_gate(text) for text in expressions]
    if gate_file is not None:
        gates += load_gate_file(gate_file)
    unique: dict[tuple[str, str, float], Gate] = {}
    for gate in gates:
        unique.setdefault((gate.metric, gate.op, gate.threshold), gate)
    return list(unique.values())


def _claim_drops(result: CompareResult, kinds: tuple[str, ...] | None) -> float | None:
    drops = [claim.reference.score - claim.variant.score for claim in result.compared_kinds(kinds)
             if claim.reference is not None and claim.reference.score is not None
             and claim.variant is not None and claim.variant.score is not None]
    return max(drops) if drops else None


def metric_values(result: CompareResult | dict[str, Any]) -> dict[str, tuple[float | None, str | None]]:
    """Every gate metric of a comparison (or its compare.json document): name -> (value or None, why it is None)."""
    result = typed(result, CompareResult)
    summary = result.summary
    values: dict[str, tuple[float | None, str | None]] = {
        name: (float(getattr(summary, name)), None) for name in ("flips", "breaks", "drifts", "survives")
    }
    drift = result.numeric_drift
    computed = drift is not None and drift.computed
    no_drift = (drift.note if drift is not None else None) or "numeric drift was not computed"
    if computed:
        values["output_cosine"] = (drift.output_cosine.mean, None)
        values["output_cosine_min"] = (drift.output_cosine.min, None)
        finite = [layer.sqnr_db for layer in drift.layers if layer.sqnr_db is not None]
        values["min_sqnr_db"] = (min(finite) if finite else math.inf, None)
        jsd = [value for row in drift.attention_jsd or [] for value in row if value is not None]
        values["max_jsd"] = (max(jsd), None) if jsd else (None, "the bundles have no attention taps")
    else:
        for name in ("output_cosine", "output_cosine_min", "min_sqnr_db", "max_jsd"):
            values[name] = (None, no_drift)
    next_token = drift.next_token if computed else None
    why = no_drift if not computed else "the bundles' final output is not next-token logits of a decoder"
    for metric, key in (("next_token_kl", "kl_mean"), ("next_token_kl_p99", "kl_p99"),
                        ("top1_agreement", "top1_agreement"), ("perplexity_ratio", "perplexity_ratio")):
        values[metric] = (getattr(next_token, key), None) if next_token else (None, why)
    uuas = _claim_drops(result, tree_scored_kinds())
    values["uuas_drop"] = (uuas, None if uuas is not None else "no structural or attention-tree claims were compared")
    drop = _claim_drops(result, None)
    values["max_score_drop"] = (drop, None if drop is not None else "no claim has a score on both sides")
    explanation = result.explanation_drift
    ratio = explanation.explanation_to_output_ratio if explanation is not None else None
    ratio_note = (explanation.ratio_note if explanation is not None else None) or "the ratio is undefined"
    values["explanation_to_output_ratio"] = (ratio, None if ratio is not None else ratio_note)
    return {name: (None if v is None else float(v), note) for name, (v, note) in values.items()}


def evaluate_gates(gates: Iterable[Gate], result: CompareResult | dict[str, Any]) -> list[GateResult]:
    values = metric_values(result)
    results = []
    for gate in gates:
        value, note = values[gate.metric]
        if value is None or math.isnan(value):
            results.append(GateResult(gate, None, None, f"cannot be evaluated: {note or 'metric undefined'}"))
        else:
            results.append(GateResult(gate, value, gate.trips(value)))
    return results


def enforce(results: list[GateResult]) -> None:
    """Raise for unevaluable gates (exit 2) first, then for tripped gates (exit 1); return if all pass."""
    unevaluable = [r for r in results if r.tripped is None]
    if unevaluable:
        first = unevaluable[0]
        raise GateError(f"gate {first.gate.expression} {first.note}",
                        hint="give both bundles (or audits whose bundles still exist) or drop the gate")
    tripped = [r for r in results if r.tripped]
    if tripped:
        word = "gate tripped" if len(tripped) == 1 else f"{len(tripped)} gates tripped"
        raise GatesTripped(f"{word}: " + "; ".join(r.describe() for r in tripped))
