"""``run_audit``: bundle + treebank (+ norms) -> probes, controls, claims with verdicts -> ``audit.json``.

Stages (each timed): extraction of the model, its random-init twin and the nonce treebank (attention
statistics streamed, hidden states to on-disk stores), for what every requested probe group needs; then each
group's own stages and claims (its plugin, ``edgeaudit.audit.groups``), verdicts and multiplicity control.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgeaudit.audit import fitted
from edgeaudit.audit.checkpoint import Checkpoints, stage_key
from edgeaudit.audit.groups.correspondence import correspondence_layers
from edgeaudit.audit.head_claims import ClaimContext
from edgeaudit.audit.options import RUNTIME_ONLY, AuditOptions
from edgeaudit.audit.plugin import AuditState, plugins
from edgeaudit.audit.relational import RelationalCollector, RelationalStatistics
from edgeaudit.audit.structural import STRUCTURAL_FIT_RULE, StructuralResult, StructuralSettings, make_split
from edgeaudit.audit.twin import load_twin
from edgeaudit.bundle import Bundle, load_bundle
from edgeaudit.data import load_treebank
from edgeaudit.errors import EdgeAuditError
from edgeaudit.runtime import BatchOptions, SessionOptions, SpecialTokenMass, StoredActivations, extract
from edgeaudit.runtime.session import release_freed_memory
from edgeaudit.verdict import VERDICT_RULE, Claim, control_false_discoveries, verdict_counts

AUDIT_SCHEMA_VERSION = 1


@dataclass
class AuditRun:
    """Everything measured for one model on one corpus (the real bundle or its twin)."""

    bundle: Bundle
    summary: Any = None
    relational: RelationalStatistics | None = None
    special_mass: Any = None
    store: StoredActivations | None = None
    structural: StructuralResult | None = None


@dataclass
class Stages:
    log: Callable[[str], None]
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str):
        self.log(f"[{name}] ...")
        began = time.perf_counter()
        yield
        _stop_idle_workers()
        release_freed_memory()  # what a stage freed (sessions, layers read from the store) goes back to the system
        self.timings[name] = round(time.perf_counter() - began, 3)
        self.log(f"[{name}] done in {self.timings[name]:.1f} s")


def _stop_idle_workers() -> None:
    """Stop joblib's worker processes once a stage is done with them: idle, each still holds ~200-250 MB (its
    libraries and arrays), which on SmolLM2 put 450 MB beside the decoder-head stage's model session. The next
    parallel stage starts them again (about a second each)."""
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)  # None until a stage ran something in parallel
    if executor is not None:
        executor.shutdown(wait=True)


def _runtime_options(options: AuditOptions) -> tuple[BatchOptions, SessionOptions]:
    batch = BatchOptions() if options.batch_tokens is None else BatchOptions(batch_tokens=options.batch_tokens)
    return batch, SessionOptions(threads=options.threads)


def _load_nonce(options: AuditOptions, sentences: list) -> list | None:
    spec = options.nonce
    if spec is None and options.data == "builtin:treebank":
        spec = "builtin:treebank-nonce"
    if spec is None:
        return None
    nonce = load_treebank(spec).sentences[: len(sentences)]
    if len(nonce) != len(sentences) or any(
        not np.array_equal(a.heads, b.heads) or a.relations != b.relations for a, b in zip(sentences, nonce, strict=True)
    ):
        raise EdgeAuditError(f"{spec}: the nonce treebank's trees differ from {options.data}'s",
                             hint="a nonce treebank must have the same sentences in the same order, with the same trees")
    return nonce


def _extract(run: AuditRun, sentences: list, options: AuditOptions, store_dir: Path | None, *,
             trees: bool, rollout: bool, label: str = "extract") -> dict[str, Any]:
    """Run the model over ``sentences``: what the stage checkpoints (summary and streamed statistics)."""
    manifest = run.bundle.manifest
    collector = RelationalCollector(sentences, manifest.num_layers, manifest.num_heads, seed=options.seed,
                                    trees=trees, rollout=rollout, causal=manifest.causal)
    mass = SpecialTokenMass()
    batch, session = _runtime_options(options)
    summary = extract(run.bundle, sentences, collectors=[collector, mass], store_dir=store_dir, batch=batch,
                      session=session, progress=options.progress, label=label)
    return {"summary": summary, "relational": collector.result(), "special_mass": mass.result()}


def _store_complete(store_dir: Path | None) -> bool:
    """True when there is no store to check or it is complete (a stage's checkpoint is void without it)."""
    if store_dir is None:
        return True
    try:
        StoredActivations(store_dir)
    except EdgeAuditError:
        return False
    return True


def _run_extract(checkpoints: Checkpoints, stage: str, key: str, run: AuditRun, sentences: list,
                 options: AuditOptions, store_dir: Path | None, **what: bool) -> None:
    result = checkpoints.run(stage, key, lambda: _extract(run, sentences, options, store_dir, label=stage, **what),
                             valid=lambda: _store_complete(store_dir))
    run.summary, run.relational, run.special_mass = result["summary"], result["relational"], result["special_mass"]
    if store_dir is not None:
        run.store = StoredActivations(store_dir)


def _no_usable(spec: str, skipped: list) -> None:
    """Stop with one line: nothing is left to audit once the reader and the runtime skipped what they must."""
    kinds = Counter(getattr(skip, "kind", "other") for skip in skipped)
    reasons = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common()) or "the file has no sentences"
    raise EdgeAuditError(f"no usable sentences in {spec}: {len(skipped)} skipped ({reasons})",
                         hint="fix or replace the listed sentences (edgeaudit extract lists each with its line)")


def _too_few_for_split(split, store: StoredActivations | None) -> str | None:
    """Why probes fitted on train sentences and scored on test sentences cannot be estimated, or None."""
    if split is None or (split.train and split.test):
        return None
    return (f"too few instances: {len(store.sentence_ids)} extracted sentence(s) give {len(split.train)} training "
            f"and {len(split.test)} test sentence(s); both need at least 1")


def _trees_sha256(sentences: list) -> str:
    """Hash of ids, words and gold trees in order (the relational statistics depend on all three)."""
    digest = hashlib.sha256()
    for sentence in sentences:
        digest.update(json.dumps([sentence.sent_id, list(sentence.words), np.asarray(sentence.heads).tolist(),
                                  list(sentence.relations)], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def _option_values(options: AuditOptions, *names: str) -> dict[str, Any]:
    data = options.to_dict()
    return {name: data[name] for name in names}


def _stage_keys(options: AuditOptions, bundle: Bundle, twin: Bundle | None, sentences: list,
                nonce: list | None) -> dict[str, str]:
    """Each stage's checkpoint key: the inputs, options and upstream stages its result depends on."""
    want = sorted(options.probes)
    corpus = _trees_sha256(sentences)
    runtime = _option_values(options, "seed", "batch_tokens", "max_sentences")
    keys = {"extract": stage_key(stage="extract", bundle=bundle.sha256, corpus=corpus, probes=want, **runtime)}
    if twin is not None:
        keys["extract-twin"] = stage_key(stage="extract-twin", bundle=twin.sha256, corpus=corpus, probes=want,
                                         **runtime)
    if nonce is not None:
        keys["extract-nonce"] = stage_key(stage="extract-nonce", bundle=bundle.sha256, corpus=_trees_sha256(nonce),
                                          **runtime)
    structural = _option_values(options, "structural_rank", "structural_max_iter", "structural_max_train", "seed")
    keys["identifiability"] = stage_key(stage="identifiability", extract=keys["extract"], **structural,
                                        rule="rates+ci-over-test-sentences/2",
                                        **_option_values(options, "bootstrap", "confidence"))
    keys["structural"] = stage_key(stage="structural", extract=keys["extract"], fit_rule=STRUCTURAL_FIT_RULE,
                                   **structural)
    if twin is not None:
        keys["structural-twin"] = stage_key(stage="structural-twin", extract=keys["extract-twin"],
                                            real=keys["extract"], fit_rule=STRUCTURAL_FIT_RULE, **structural)
    findings = {name: value for name, value in options.to_dict().items() if name not in RUNTIME_ONLY}
    keys["claims"] = stage_key(stage="claims", upstream=dict(keys), options=findings, verdict_rule=VERDICT_RULE)
    return keys


def _announce(checkpoints: Checkpoints, keys: dict[str, str], planned: list[str], log: Callable[[str], None]) -> None:
    """Say which stages a rerun takes from ``OUT/stages`` and which it runs."""
    done = [stage for stage in planned if checkpoints.load_key(stage) == keys[stage]]
    if done:
        todo = [stage for stage in planned if stage not in done]
        log(f"resuming: {', '.join(done)} done; running {', '.join(todo) or 'nothing'}"
            + (" ..." if todo else ""))


def run_audit(bundle_dir: str | Path, out_dir: str | Path, options: AuditOptions | None = None,
              *, log: Callable[[str], None] = lambda message: None) -> dict[str, Any]:
    """Audit ``bundle_dir`` on ``options.data``; writes ``out_dir/audit.json`` and returns its content.

    Every stage checkpoints its result in ``out_dir/stages``; a rerun after an interruption redoes only the
    stages that did not finish (or whose inputs or options changed). What each probe group measures and claims is
    its plugin's (``edgeaudit.audit.plugin``); this function extracts once for all of them and runs them in order.
    """
    options = options or AuditOptions()
    out_dir = Path(out_dir)
    stages = Stages(log)
    with stages.stage("load"):
        real = AuditRun(load_bundle(bundle_dir))
        twin_bundle = load_twin(real.bundle, options.twin)
        treebank = load_treebank(options.data)
        sentences = treebank.sentences[: options.max_sentences] if options.max_sentences else treebank.sentences
        if not sentences:
            _no_usable(options.data, treebank.skipped)
        nonce = _load_nonce(options, sentences)
        active = plugins(set(options.probes))
        if out_dir.exists() and not out_dir.is_dir():
            raise EdgeAuditError(f"option --out: {out_dir} is a file", hint="choose a directory")
        state = AuditState(options=options, out_dir=out_dir, log=log, stages=stages, checkpoints=Checkpoints(out_dir),
                           keys={}, sentences=sentences, want=set(options.probes), real=real, twin_bundle=twin_bundle)
        for plugin in active:  # bad norms or categories fail here, before any model work
            plugin.prepare(state)
        out_dir.mkdir(parents=True, exist_ok=True)
    need_store = any(plugin.needs_store for plugin in active)
    use_nonce = nonce is not None and any(plugin.uses_nonce for plugin in active)
    state.keys = _stage_keys(options, real.bundle, twin_bundle, sentences, nonce if use_nonce else None)
    for plugin in active:
        state.keys.update(plugin.keys(state))
    checkpoints, keys = state.checkpoints, state.keys
    planned = ["extract", *(["extract-twin"] if twin_bundle is not None else []),
               *(["extract-nonce"] if use_nonce else []), *(s for p in active for s in p.stages(state)), "claims"]
    _announce(checkpoints, keys, planned, log)
    what = {"trees": any(plugin.needs_trees for plugin in active)}
    with stages.stage("extract"):
        _run_extract(checkpoints, "extract", keys["extract"], real, sentences, options,
                     out_dir / "activations" if need_store else None,
                     rollout=any(plugin.needs_rollout for plugin in active), **what)
    if real.summary.extracted == 0:
        _no_usable(options.data, [*treebank.skipped, *real.summary.skipped])
    if twin_bundle is not None:
        with stages.stage("extract-twin"):
            state.twin = AuditRun(twin_bundle)
            twin_store = any(plugin.needs_twin_store for plugin in active)
            _run_extract(checkpoints, "extract-twin", keys["extract-twin"], state.twin, sentences, options,
                         out_dir / "twin-activations" if twin_store else None, rollout=False, **what)
    if use_nonce:
        with stages.stage("extract-nonce"):
            state.nonce = AuditRun(real.bundle)
            _run_extract(checkpoints, "extract-nonce", keys["extract-nonce"], state.nonce, nonce, options, None,
                         trees=False, rollout=False)
    settings = StructuralSettings.from_options(options)
    state.split = make_split(len(real.store.sentence_ids), settings) if real.store is not None else None
    not_estimated = _too_few_for_split(state.split, real.store)
    if not_estimated:
        log(f"structural and identifiability probes not run: {not_estimated}")
        state.want -= {plugin.group for plugin in active if plugin.needs_store}
    running = [plugin for plugin in active if plugin.group in state.want]
    for plugin in running:
        plugin.measure(state)
    correspondence = correspondence_layers(state)
    state.ctx = ClaimContext(n_sentences=len(sentences), thresholds=options.thresholds, correspondence=correspondence,
                             replicates=options.bootstrap, confidence=options.confidence, seed=options.seed)
    with stages.stage("claims"):
        claims: list[Claim] = checkpoints.run(
            "claims", keys["claims"],
            lambda: [claim for plugin in running if plugin.stage is None for claim in plugin.claims(state)])
    for plugin in running:
        if plugin.stage is not None:
            claims = claims + plugin.claims(state)
    control_false_discoveries(claims, options.thresholds)
    from edgeaudit.audit.document import audit_document

    document = audit_document(
        real=real, twin=state.twin, nonce=state.nonce, treebank=treebank, sentences=sentences, options=options,
        claims=claims, correspondence=correspondence, identifiability=state.identifiability,
        sections={name: section for plugin in running for name, section in plugin.sections(state).items()},
        timings=stages.timings,
    )
    if not_estimated:
        document["probes"]["not_estimated"] = {"structural": not_estimated, "identifiability": not_estimated}
    document["provenance"]["stages"] = {"resumed": checkpoints.resumed, "computed": checkpoints.computed}
    fitted.save_fitted(out_dir, fitted.fitted_state(real.bundle.sha256, sentences,
                                                    {plugin.group: plugin.fitted(state) for plugin in running}))
    path = out_dir / "audit.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    counts = verdict_counts(claims)
    log("verdicts: " + (", ".join(f"{count} {verdict}" for verdict, count in counts.items() if count) or "no claims"))
    return document
