"""``run_compare``: reference + variant (bundles or finished audits) -> ``compare.json``.

Steps: resolve both sides and check they can be compared (same model shape and tokenizer, same audit
options and corpus); audit the sides given as bundles (into DIR/reference, DIR/variant) with one set of
options; audited-vs-deployed fidelity of each bundle; the paired numeric-drift run; the reference's probes
applied to the variant; claim-by-claim survival; gates. Gates are evaluated into the document here and
enforced (exit codes) by the caller, so compare.json is always written first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from edgeaudit.audit.fitted import FittedState, load_fitted
from edgeaudit.audit.options import RUNTIME_ONLY, AuditOptions
from edgeaudit.compare.applied import applied_scores
from edgeaudit.compare.claims import compare_claims, explanation_drift
from edgeaudit.compare.drift import not_computed, numeric_drift
from edgeaudit.compare.options import CompareOptions
from edgeaudit.compare.sources import (
    Side,
    check_lineage,
    check_same_model_shape,
    check_same_tokenizer,
    option_differences,
    options_from_dict,
    resolve_side,
)
from edgeaudit.errors import EdgeAuditError
from edgeaudit.gates import evaluate_gates
from edgeaudit.result_file import write_json
from edgeaudit.results import AuditResult, CompareResult, GateRecord, NumericDrift
from edgeaudit.results.compare_result import CompareData, CompareSummary, Fidelity, SideInputs

SCHEMA = "edgeaudit.compare"
SCHEMA_VERSION = 1

Log = Callable[[str], None]


def _audit_options(reference: Side, variant: Side, options: CompareOptions, log: Log,
                   notes: list[str]) -> AuditOptions:
    """The one set of audit options both sides share (a finished audit's options win over the CLI's)."""
    audits = [side for side in (reference, variant) if side.audit is not None]
    if not audits:
        return options.audit
    chosen = options_from_dict(audits[0].audit.options)
    ignored = [name for name in options.explicit_audit_options
               if name not in RUNTIME_ONLY and getattr(options.audit, name) != getattr(chosen, name)]
    if ignored:
        note = (f"options {', '.join('--' + n.replace('_', '-') for n in ignored)} ignored: the audit in "
                f"{audits[0].given} ran with {', '.join(f'{n}={getattr(chosen, n)!r}' for n in ignored)}")
        log(f"note: {note}")
        notes.append(note)
    if len(audits) == 2:
        other = options_from_dict(audits[1].audit.options)
        differences = option_differences(chosen, other)
        if differences:
            raise EdgeAuditError(
                f"the audits in {reference.given} and {variant.given} ran with different options "
                f"({'; '.join(differences[:3])})", hint="claims are only comparable under the same options; re-run one")
    else:
        bundle_side = variant if audits[0] is reference else reference
        log(f"auditing the {bundle_side.label} with the options of the audit in {audits[0].given}")
    return dataclasses.replace(chosen, progress=options.progress, threads=options.audit.threads,
                               jobs=options.audit.jobs, batch_tokens=options.audit.batch_tokens)


def _check_bundles(reference: Side, variant: Side, unrelated_ok: bool) -> list[str]:
    notes = []
    if reference.bundle is not None and variant.bundle is not None:
        check_same_model_shape(reference.bundle, variant.bundle)
        check_same_tokenizer(reference.bundle, variant.bundle)
    if reference.bundle_sha256 is not None and reference.bundle_sha256 == variant.bundle_sha256:
        notes.append("the variant is the reference itself (same model sha256)")
    note = check_lineage(reference, variant, unrelated_ok=unrelated_ok)
    return notes + ([note] if note else [])


def _audit_side(side: Side, out_dir: Path, options: AuditOptions, log: Log) -> None:
    if side.audit is not None:
        return
    from edgeaudit.audit.run import run_audit

    target = out_dir / side.label
    log(f"[audit {side.label}] {side.given} -> {target}")
    side.audit = AuditResult.from_json(run_audit(side.given, target, options, log=lambda message: log(f"  {message}")))
    side.audit_dir = target


def _corpus(variant: Side, fitted: FittedState | None, options: AuditOptions,
            notes: list[str]) -> list | None:
    """The audited sentences: saved with either audit (no dataset is read), else read from the treebank again."""
    saved = fitted if fitted is not None else load_fitted(variant.audit_dir, variant.audit)[0]
    if saved is not None:
        return saved.sentences
    from edgeaudit.data import load_treebank

    try:
        treebank = load_treebank(options.data)
    except EdgeAuditError as error:
        notes.append(f"the treebank cannot be read ({error.one_line()})")
        return None
    return treebank.sentences[: options.max_sentences] if options.max_sentences else treebank.sentences


def _side_inputs(side: Side) -> SideInputs:
    info = {**side.audit.bundle.to_json(), "available": side.bundle is not None}
    if side.bundle_note:
        info["note"] = side.bundle_note
    return SideInputs(bundle=info, audit=str((side.audit_dir / "audit.json").resolve()), given=str(side.given),
                      given_as=side.kind, verdicts=side.audit.summary.verdicts)


FIDELITY_CACHE_RULE = 1  # bump when what audited_vs_deployed reports changes


def _fidelity_cache(side: Side, sentences: list, options: CompareOptions) -> tuple[Path | None, str]:
    """Where a bundle's audited-vs-deployed check on these sentences and settings is kept (beside the side's
    audit), and the key that says it is the same check. A sensitivity sweep compares one reference audit with
    dozens of variants: the reference's check is then run once, not once per variant."""
    from edgeaudit.runtime import corpus_sha256
    from edgeaudit.runtime.corpus import as_sentences

    what = {"rule": FIDELITY_CACHE_RULE, "bundle": side.bundle.sha256, "corpus": corpus_sha256(as_sentences(sentences)),
            "tolerance": options.fidelity_tolerance, "min_cosine": options.fidelity_min_cosine}
    key = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()
    return (None if side.audit_dir is None else side.audit_dir / f"fidelity-{key[:16]}.json"), key


def _cached_fidelity(path: Path | None, key: str) -> dict[str, Any] | None:
    try:
        saved = json.loads(path.read_text(encoding="utf-8")) if path is not None else None
    except (OSError, ValueError):
        return None
    return saved["result"] if isinstance(saved, dict) and saved.get("key") == key else None


def _fidelity(side: Side, sentences: list | None, options: CompareOptions, log: Log) -> dict[str, Any] | None:
    if not options.fidelity:
        return {"computed": False, "note": "skipped (--no-fidelity)"}
    if side.bundle is None or sentences is None:
        return {"computed": False, "note": side.bundle_note or "the corpus is unavailable"}
    from edgeaudit.fidelity import audited_vs_deployed

    chosen = list(sentences[: options.fidelity_sentences])
    cache, key = _fidelity_cache(side, chosen, options)
    result = _cached_fidelity(cache, key)
    if result is not None:
        log(f"[fidelity {side.label}] the check made for an earlier comparison ({cache.name})")
        return {"computed": True, **result, "reused": str(cache)}
    log(f"[fidelity {side.label}] audited vs deployed graph on {len(chosen)} sentences")
    result = audited_vs_deployed(side.bundle, chosen, max_sentences=None, tolerance=options.fidelity_tolerance,
                                 min_cosine=options.fidelity_min_cosine, threads=options.audit.threads)
    if cache is not None:
        try:
            write_json({"key": key, "result": result}, cache)
        except OSError:  # a read-only audit folder: the check is simply not kept
            pass
    return {"computed": True, **result}


def _numeric_drift(reference: Side, variant: Side, sentences: list | None, audit: AuditOptions,
                   options: CompareOptions, log: Log) -> dict[str, Any]:
    if reference.bundle is None or variant.bundle is None:
        reason = reference.bundle_note or variant.bundle_note or "a bundle is unavailable"
        return not_computed(f"numeric drift needs both bundles: {reason}")
    if sentences is None:
        return not_computed("numeric drift needs the audit corpus, which cannot be read")
    from edgeaudit.runtime import BatchOptions, SessionOptions

    chosen = sentences[: options.drift_sentences] if options.drift_sentences else sentences
    log(f"[numeric drift] paired run over {len(chosen)} sentences")
    batch = BatchOptions() if audit.batch_tokens is None else BatchOptions(batch_tokens=audit.batch_tokens)
    return numeric_drift(reference.bundle, variant.bundle, list(chosen), batch=batch,
                         session=SessionOptions(threads=audit.threads), progress=options.progress)


def _check_corpora(reference: Side, variant: Side) -> None:
    a, b = reference.audit.data, variant.audit.data
    if a.sha256 != b.sha256:
        raise EdgeAuditError(
            f"the audits ran on different corpora ({a.spec}, {a.sentences} sentences vs "
            f"{b.spec}, {b.sentences} sentences)", hint="audit both on the same --data and --max-sentences")


def _provenance(timings: dict[str, float], notes: list[str]) -> dict[str, Any]:
    from edgeaudit.bundle.build import tool_versions

    return {"tool_versions": tool_versions("scikit-learn", "scipy"), "platform": platform.platform(),
            "machine": platform.machine(), "cpu_count": os.cpu_count(), "timings": timings, "notes": notes}


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.began = time.perf_counter()

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - start, 3)


def run_compare(reference: str | Path, variant: str | Path, out_dir: str | Path,
                options: CompareOptions | None = None, *, log: Log = lambda message: None) -> dict[str, Any]:
    """Compare ``reference`` and ``variant`` (each a bundle or an audit directory); write ``out_dir/compare.json``."""
    options = options or CompareOptions()
    out_dir = Path(out_dir)
    timer = _Timer()
    ref, var = resolve_side(reference, "reference"), resolve_side(variant, "variant")
    for side in (ref, var):
        if side.kind == "bundle" and out_dir.resolve() == side.given.resolve():
            raise EdgeAuditError(f"{out_dir}: is the {side.label} bundle itself", hint="choose another --out directory")
    notes = _check_bundles(ref, var, options.unrelated_ok)
    audit = _audit_options(ref, var, options, log, notes)
    out_dir.mkdir(parents=True, exist_ok=True)
    for side in (ref, var):
        with timer.stage(f"audit-{side.label}"):
            _audit_side(side, out_dir, audit, log)
    _check_corpora(ref, var)
    fitted, why_not = load_fitted(ref.audit_dir, ref.audit)
    sentences = _corpus(var, fitted, audit, notes)
    fidelity = Fidelity()
    with timer.stage("fidelity"):
        fidelity.reference = _fidelity(ref, sentences, options, log)
        same = ref.bundle is not None and var.bundle is not None and ref.bundle.sha256 == var.bundle.sha256
        fidelity.variant = fidelity.reference if same else _fidelity(var, sentences, options, log)
    with timer.stage("numeric-drift"):
        drift = NumericDrift.from_json(_numeric_drift(ref, var, sentences, audit, options, log))
    explanation_notes: list[str] = []
    applied = {}
    with timer.stage("applied-probes"):
        if options.applied:
            applied = applied_scores(ref.audit, fitted, why_not, var.audit_dir, log=log, notes=explanation_notes)
        else:
            explanation_notes.append("structural and property claims: applied is null (--no-applied)")
    comparison = compare_claims(ref.audit, var.audit, tolerance=options.drift_tolerance, applied=applied)
    counts = comparison.counts()
    output_cosine = drift.output_cosine.mean if drift.computed else None
    result = CompareResult(
        schema=SCHEMA, schema_version=SCHEMA_VERSION,
        summary=CompareSummary(claims=len(comparison.entries), survives=counts["survives"], drifts=counts["drifts"],
                               breaks=counts["breaks"], flips=counts["flips"], gates_tripped=0,
                               verdicts={"reference": ref.audit.verdict_counts(),
                                         "variant": var.audit.verdict_counts()}),
        gates=[], claims=comparison.entries, data=_data_section(ref.audit), numeric_drift=drift,
        explanation_drift=explanation_drift(comparison.entries, output_cosine, explanation_notes),
        fidelity=fidelity, reference=_side_inputs(ref), variant=_side_inputs(var),
        options={**options.to_dict(), "audit": audit.to_dict()})
    gates = evaluate_gates(options.gates, result)
    result.gates = [GateRecord.from_json(gate.to_dict()) for gate in gates]
    result.summary.gates_tripped = sum(bool(gate.tripped) for gate in gates)
    timer.timings["total"] = round(time.perf_counter() - timer.began, 3)
    result.provenance = _provenance(timer.timings, notes)
    return write_json(result.to_json(), out_dir / "compare.json")


def _data_section(audit: AuditResult) -> CompareData:
    """The corpus and the sentences the reference's audit could not use, so compare's reports show skips too."""
    return CompareData(spec=audit.data.spec, sentences=audit.data.sentences, total_sentences=audit.total_sentences(),
                       skipped_by_kind=audit.skipped_by_kind())
