"""``compress_bundle``: parent bundle + preset -> verified variant bundle with the parent's taps.

Every preset follows the same path: read the parent from its files (it is never held in memory beside its
variant: that kept SmolLM2's compression above 3 GB), make the variant in a scratch folder inside the staging
directory, write it as the bundle's model, copy the tokenizer, prove the taps survived
(:mod:`tapcheck`), and write a manifest naming the preset, its settings and the parent's sha256. The output directory only appears once all of that succeeded.
"""

from __future__ import annotations

import datetime as _dt
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx
from tqdm import tqdm

from edgeaudit.bundle import Bundle, load_bundle, model_file, save_manifest
from edgeaudit.bundle.build import tool_versions
from edgeaudit.bundle.model_file import model_sha256
from edgeaudit.bundle.output_dir import check_output_dir, staged_bundle
from edgeaudit.compress import graph_prep, model_io
from edgeaudit.compress.calibration import DEFAULT_LIMIT, FeedReader, calibration_feeds
from edgeaudit.compress.errors import CompressError, missing_module_named
from edgeaudit.compress.presets import NEEDS_CALIBRATION, PRESETS, resolve_preset
from edgeaudit.compress.tapcheck import TapCheck, check_taps

Log = Callable[[str], None]


@dataclass(frozen=True)
class CompressResult:
    """The variant bundle plus what the CLI reports: sizes before/after and the tap check."""

    bundle: Bundle
    parent: Bundle
    bytes_before: int
    bytes_after: int
    check: TapCheck

    @property
    def ratio(self) -> float:
        return self.bytes_before / max(self.bytes_after, 1)


@dataclass
class _Job:
    """Everything one preset run needs; ``bar`` advances one step per stage."""

    name: str
    parent: Bundle
    work: Path
    bar: tqdm
    progress: bool
    calibration: tuple[list, dict[str, Any]] | None = None  # (feeds, record) for int8-static
    keep_float: tuple[str, ...] = ()  # --keep-float: regexes of weight MatMuls to leave in float32
    float_nodes: tuple[str, ...] = ()  # exact node names to leave in float32 (a sensitivity sweep's variants)
    prepared: Path | None = None  # the parent already prepared (graph_prep.save_prepared), shared by a sweep
    kept: list[str] = field(default_factory=list)  # the MatMuls those patterns matched, and the exact names

    def stage(self, text: str) -> None:
        self.bar.set_postfix_str(text, refresh=True)

    def done(self) -> None:
        self.bar.update(1)


def check_parent(parent: Bundle, preset: str, calibration: Any) -> str:
    """The resolved preset, once the parent is known to be an fp32 bundle and calibration is there if needed
    (``compress`` and ``sensitivity`` both fail on these before any slow work)."""
    name = resolve_preset(preset)
    if parent.manifest.variant in PRESETS:
        raise CompressError(f"{parent.directory}: is already a compressed variant ({parent.manifest.variant})",
                            hint="use its fp32 parent bundle instead")
    if name in NEEDS_CALIBRATION and calibration is None:
        raise CompressError(f"preset {name} needs calibration data: option --calibration is required",
                            hint="pass --calibration builtin:treebank or a text file with one sentence per line")
    return name


def _check_inputs(parent: Bundle, name: str, out_dir: Path, calibration: Any, force: bool) -> None:
    check_parent(parent, name, calibration)
    if out_dir.resolve() == parent.directory.resolve():
        raise CompressError(f"{out_dir}: is the input bundle itself", hint="choose another output directory")
    check_output_dir(out_dir, force, error=CompressError)  # fail before the slow part


def _prepared(job: _Job) -> tuple[Path, dict[str, Any], list[str]]:
    """Pre-process (no symbolic shapes), rewrite Gemm as MatMul, name nodes; return the path to quantise."""
    job.stage("pre-processing")
    if job.prepared is not None:
        out, prepared, record = graph_prep.load_prepared(job.prepared, job.work)
    else:
        out, prepared, record = graph_prep.prepare(job.parent.onnx_path, job.work)
    nodes = graph_prep.weight_matmuls(prepared)
    job.kept = graph_prep.matching_nodes(nodes, job.keep_float)
    if job.float_nodes:
        tables = graph_prep.constant_gathers(prepared) if job.name == "int8-dynamic-full" else []
        exact = graph_prep.exact_nodes(nodes + tables, job.float_nodes)
        job.kept += [name for name in exact if name not in job.kept]
    job.done()
    if job.keep_float or job.float_nodes:
        record["keep_float"] = {"patterns": list(job.keep_float), "nodes": job.kept}
    del prepared  # the quantiser reads the file; the graph is not held beside its quantised copy
    return out, record, [name for name in nodes if name not in job.kept]


def _run_int8_dynamic(job: _Job, external: bool) -> tuple[onnx.ModelProto, dict]:
    from edgeaudit.compress.int8 import quantize_int8_dynamic

    path, prep, _ = _prepared(job)
    job.stage("quantising")
    settings = quantize_int8_dynamic(path, job.work / "quantized.onnx", full=job.name.endswith("-full"),
                                     external=external, exclude=job.kept)
    job.done()
    return onnx.load(str(job.work / "quantized.onnx")), {**settings, **prep}


def _run_int8_static(job: _Job, external: bool) -> tuple[onnx.ModelProto, dict]:
    from edgeaudit.compress.int8 import quantize_int8_static

    assert job.calibration is not None  # resolved before staging, so bad data fails fast
    feeds, record = job.calibration
    path, prep, nodes = _prepared(job)
    job.stage("calibrating, quantising")
    with tqdm(total=len(feeds), desc="calibrate", unit="batch", file=sys.stderr, leave=False,
              disable=not job.progress) as bar:
        reader = FeedReader(feeds, job.parent.manifest.inputs, on_batch=lambda: bar.update(1))
        settings = quantize_int8_static(path, job.work / "quantized.onnx", reader, nodes=nodes, external=external)
    job.done()
    record["batches"] = reader.batches
    return onnx.load(str(job.work / "quantized.onnx")), {**settings, **prep, "calibration": record}


def _run_fp16(job: _Job, external: bool) -> tuple[onnx.ModelProto, dict]:
    from edgeaudit.compress.fp16 import convert_fp16

    job.stage("converting")
    parent = job.parent  # the converter writes a temp file next to its input: give it a private copy
    result = convert_fp16(graph_prep.private_copy(parent.onnx_path, parent.manifest.data["onnx"]["external_data"],
                                                  job.work / "parent"))
    job.done()
    return result


def _run_int4(job: _Job, external: bool) -> tuple[onnx.ModelProto, dict]:
    from edgeaudit.compress.int4 import quantize_int4

    path, prep, _ = _prepared(job)  # constant folding exposes tied lm_head weights too
    job.stage("quantising")
    result, settings = quantize_int4(onnx.load(str(path)), job.name, exclude=job.kept)
    job.done()
    return result, {**settings, **prep}


_RUNNERS = {
    "int8-dynamic": (_run_int8_dynamic, 2),
    "int8-dynamic-full": (_run_int8_dynamic, 2),
    "int8-static": (_run_int8_static, 2),
    "fp16": (_run_fp16, 1),
    "int4": (_run_int4, 2),
    "int4-rtn": (_run_int4, 2),
    "int4-kquant": (_run_int4, 2),
    "int4-hqq": (_run_int4, 2),
}


def _variant_manifest(parent: Bundle, staging: Path, name: str, settings: dict, external: list[str],
                      opset: int, check: TapCheck):
    data = parent.manifest.data
    onnx_section = {**data["onnx"], "sha256": model_sha256(staging, parent.manifest.onnx_file, external),
                    "opset": opset, "external_data": external}
    provenance = {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "tool_versions": tool_versions(),
        "compressed_from": str(parent.directory.resolve()),
        "parent_provenance": data["provenance"],
    }
    return parent.manifest.with_updates(
        variant={"name": name, "settings": settings, "parent_sha256": parent.sha256},
        onnx=onnx_section, export_check=check.export_check(name, parent.sha256), provenance=provenance,
    )


def _write_variant(job: _Job, staging: Path, model: onnx.ModelProto) -> tuple[list[str], int]:
    """Write the variant's model and tokenizer; return its external data files and opset."""
    parent = job.parent
    job.stage("writing")
    opset = model_io.default_opset(model)
    external = model_file.save_model(model, staging / parent.manifest.onnx_file)
    shutil.rmtree(job.work, ignore_errors=True)
    shutil.copyfile(parent.tokenizer_path, staging / parent.manifest.tokenizer["file"])
    job.done()
    return external, opset


def _check_variant(job: _Job, staging: Path, settings: dict, external: list[str], opset: int) -> TapCheck:
    """Prove the written variant keeps the parent's taps, then write its manifest."""
    parent = job.parent
    job.stage("checking taps")
    check = check_taps(parent, staging / parent.manifest.onnx_file, job.name)
    save_manifest(staging, _variant_manifest(parent, staging, job.name, settings, external, opset, check))
    job.done()
    return check


def compress(bundle_dir: str | Path, out_dir: str | Path, preset: str, *, calibration: Any = None,
             force: bool = False, progress: bool = True, calibration_limit: int = DEFAULT_LIMIT,
             log: Log | None = None, keep_float: tuple[str, ...] = (),
             float_nodes: tuple[str, ...] = (), prepared: str | Path | None = None) -> CompressResult:
    """Like :func:`compress_bundle` but also returns sizes and the tap check (what the CLI prints).

    ``keep_float`` are regular expressions over node names; ``float_nodes`` exact node names of the prepared
    graph (weight MatMuls, and embedding Gathers for int8-dynamic-full), as :mod:`blocks` lists them.
    ``prepared``: a folder written by :func:`graph_prep.save_prepared` for this parent, so that the many variants
    of a sweep pre-process the parent once.
    """
    name = resolve_preset(preset)
    parent = load_bundle(bundle_dir)
    out_dir = Path(out_dir)
    _check_inputs(parent, name, out_dir, calibration, force)
    if float_nodes and name == "fp16":
        raise CompressError("fp16 converts every node: it cannot keep chosen nodes in float32",
                            hint="choose an int8 or int4 preset")
    if keep_float and name == "fp16" and log is not None:
        log("note: fp16 converts every node; --keep-float applies to the integer presets and is ignored")
    if calibration is not None and name not in NEEDS_CALIBRATION and log is not None:
        log(f"note: preset {name} does not calibrate; --calibration is ignored")
    calib = (calibration_feeds(parent, calibration, limit=calibration_limit)
             if name in NEEDS_CALIBRATION else None)
    runner, steps = _RUNNERS[name]
    before = model_io.model_file_bytes(parent)
    with staged_bundle(out_dir, force, error=CompressError) as staging, \
            tqdm(total=steps + 2, desc=f"compress {name}", unit="step", file=sys.stderr,
                 disable=not progress) as bar:
        job = _Job(name, parent, staging / ".work", bar, progress, calib, tuple(keep_float), tuple(float_nodes),
                   None if prepared is None or name == "fp16" else Path(prepared))
        job.work.mkdir()
        job.stage("loading")
        external = (graph_prep.parent_external(parent) if job.prepared is None
                    else graph_prep.prepared_external(job.prepared))
        with missing_module_named(name):
            variant, settings = runner(job, external)
        written = _write_variant(job, staging, variant)
        del variant  # not held while the tap check runs both models
        check = _check_variant(job, staging, settings, *written)
    bundle = load_bundle(out_dir)
    return CompressResult(bundle=bundle, parent=parent, bytes_before=before, bytes_after=model_io.model_file_bytes(bundle),
                          check=check)


def compress_bundle(bundle_dir: str | Path, out_dir: str | Path, preset: str, *, calibration: Any = None,
                    force: bool = False, progress: bool = True) -> Bundle:
    """Write ``preset``'s variant of the bundle at ``bundle_dir`` to ``out_dir`` and return it, validated.

    ``calibration`` (int8-static only): ``builtin:NAME``, a ``.conllu`` file, a text file with one
    sentence per line, a list of sentences, or an iterable of feed dicts
    (``{"input_ids": int64 [batch, seq], "attention_mask": ...}``).
    """
    return compress(bundle_dir, out_dir, preset, calibration=calibration, force=force, progress=progress).bundle
