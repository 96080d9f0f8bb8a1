"""``edgeaudit sensitivity REF --preset P``: which block's quantisation breaks which explanation, and the fix."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from edgeaudit.audit.options import parse_layers
from edgeaudit.cli.audit_option_set import audit_option_set, audit_options_from
from edgeaudit.cli.compare_option_set import compare_option_set, compare_settings
from edgeaudit.cli.out_dir import (
    check_inputs,
    claimed_output,
    keep_stdin,
    parameter_labels,
    run_identity,
    stdin_spec,
)
from edgeaudit.cli.skips import audit_skip_line
from edgeaudit.compress.presets import PRESETS
from edgeaudit.errors import EXIT_GATE_TRIPPED
from edgeaudit.sensitivity.options import MODES

# where it runs, and which variants and search it asks for: a rerun with other values reuses every finished variant
# (each variant is checked by its own fingerprint)
NOT_SWEEP_IDENTITY = ("scheduler", "workers", "worker_memory", "keep_variants", "mode", "layers", "recommend",
                      "max_fallback_steps")


def ranking_table(document: dict) -> str:
    """One row per swept block, most explanation damage first (the report's ranking rows, as plain text)."""
    from edgeaudit.report.sensitivity import ranking_rows

    widths = (20, 9, 8, 6, 8, 10, 14)
    header = ("block", "expl.rank", "out.rank", "broken", "mean|Δ|", "out.damage", "all-but broken")
    lines = [[str(cell) for cell in row] for row in [header, *ranking_rows(document)]]
    return "\n".join(" ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                              enumerate(zip(row, widths, strict=True))) for row in lines)


def recommendation_lines(document: dict) -> list[str]:
    from edgeaudit.report.sensitivity import disagreement_text, megabytes, recommendation_text

    rec, sizes = document["recommendation"], document["sizes"]
    lines = [f"recommendation: {recommendation_text(document)}",
             f"size: float {megabytes(sizes['float'])}, fully quantised {megabytes(sizes['full'])}, "
             f"recommended {megabytes(sizes['recommended'])}"]
    if rec.get("bundle"):
        lines.append(f"recommended bundle: {rec['bundle']}")
    ranking = document["ranking"]
    if ranking["explanation_not_output"] or ranking["output_not_explanation"]:
        lines.append(disagreement_text(document))
    return lines


@click.command("sensitivity")
@click.argument("reference", type=click.Path(path_type=str))
@click.option("--preset", "-p", required=True, metavar="NAME",
              help=f"Compression preset to sweep: {', '.join(p for p in PRESETS if p != 'fp16')}.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=str), help="Output directory.")
@click.option("--mode", type=click.Choice(MODES), default="both", show_default=True,
              help="only: each block quantised alone; all-but: every block but one; both.")
@click.option("--layers", metavar="LIST", help="Sweep only these layers' blocks, e.g. 0-3,11 (default: every block).")
@click.option("--scheduler", metavar="none|local|tcp://HOST:PORT",
              help="Where variants run: in this process (none), a Dask LocalCluster of one process per core "
                   "(local; the default when the [distributed] extra is installed) or a running Dask cluster.")
@click.option("--workers", type=click.IntRange(min=1), help="LocalCluster worker processes (default: one per core).")
@click.option("--worker-memory", default="auto", show_default=True,
              help="LocalCluster memory limit per worker (Dask spelling: auto, 2GiB, ...).")
@click.option("--recommend/--no-recommend", default=True, show_default=True,
              help="Search and verify the smallest set of blocks to keep in float32.")
@click.option("--max-fallback-steps", type=click.IntRange(min=1),
              help="At most this many verified fallback variants (default: until nothing is left to quantise).")
@click.option("--calibration", metavar="PATH|builtin:NAME", help="Calibration sentences (int8-static only).")
@click.option("--keep-variants", is_flag=True,
              help="Keep every variant's bundle and activation stores (large); by default only the recommended "
                   "bundle is kept.")
@audit_option_set
@compare_option_set
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--overwrite", is_flag=True, help="--out holds another sweep: delete it and start afresh.")
@click.option("--json", "as_json", is_flag=True, help="Print the ranking and the recommendation as JSON.")
def sensitivity_command(reference, preset, out_dir, mode, layers, scheduler, workers, worker_memory, recommend,
                        max_fallback_steps, calibration, keep_variants, fail_on, gates_file, quiet, overwrite, as_json,
                        **params) -> None:
    """Quantise REFERENCE one block at a time (each layer's attention and MLP, the embeddings, the head) and all
    blocks but one; compare each variant with REFERENCE claim by claim; rank the blocks by the damage to the
    explanations and to the outputs; then find and verify the smallest set of blocks to keep in float32 so
    that every claim survives (or every --fail-on gate holds).

    Writes OUT/sensitivity.json, OUT/sensitivity.md and OUT/sensitivity.html; each variant's compare.json stays
    in OUT/variants/. A rerun resumes: finished variants are not recomputed.

    \b
    Exit codes: 0 a recommendation holds, 1 no block-level fallback could make it hold, 2 bad usage or input.
    \b
    Examples:
      edgeaudit sensitivity ./minilm --preset int8-dynamic-full --data ewt-test.conllu --out ./sens
      edgeaudit sensitivity ./minilm -p int8-dynamic --max-sentences 300 --probes attention,tree --out ./sens
      edgeaudit sensitivity ./smollm2 -p int4 --layers 0-5 --scheduler tcp://10.0.0.5:8786 --out /shared/sens
      edgeaudit sensitivity ./minilm -p int8-dynamic --out ./sens --fail-on "flips>0" --scheduler none
    """
    from edgeaudit.compare import CompareOptions
    from edgeaudit.gates import collect_gates
    from edgeaudit.report import write_reports
    from edgeaudit.sensitivity import SensitivityOptions, run_sensitivity
    from edgeaudit.sensitivity.schedulers import default_scheduler

    gates = collect_gates(fail_on, gates_file)
    check_inputs((reference, params["twin"]), params["data"])  # before the slow block listing and the --out folder
    data, piped = stdin_spec(params["data"])
    progress = not quiet and sys.stderr.isatty()
    audit = audit_options_from(params | {"data": data}, progress=progress)
    compare = CompareOptions(audit=audit, **compare_settings(params), gates=tuple(gates), progress=False)
    options = SensitivityOptions(preset=preset, compare=compare, mode=mode, layers=parse_layers(layers, "--layers"),
                                 scheduler=scheduler or default_scheduler(), workers=workers,
                                 worker_memory=worker_memory, recommend=recommend,
                                 max_fallback_steps=max_fallback_steps, keep_variants=keep_variants,
                                 calibration=calibration, progress=progress)

    def log(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    ctx = click.get_current_context()
    identity_params = {key: value for key, value in ctx.params.items()
                       if key not in NOT_SWEEP_IDENTITY} | {"data": data, "fail_on": list(fail_on)}
    identity = run_identity(identity_params, ("reference", "twin", "data", "norms", "categories", "calibration",
                                              "gates_file"), parameter_labels(ctx))
    with claimed_output(out_dir, command="sensitivity", identity=identity, overwrite=overwrite) as out:
        audit = dataclasses.replace(audit, data=keep_stdin(out, data, piped))
        options = dataclasses.replace(options, compare=dataclasses.replace(compare, audit=audit))
        document = run_sensitivity(reference, out_dir, options, log=log)
        write_reports(document, html=f"{out_dir}/sensitivity.html", md=f"{out_dir}/sensitivity.md")
    reference_audit = json.loads(Path(document["reference"]["audit"]).read_text(encoding="utf-8"))
    skipped = audit_skip_line(reference_audit, document["reference"]["audit"])  # every variant used the same text
    if skipped:
        click.echo(skipped, err=True)
    if as_json:
        click.echo(json.dumps({"summary": document["summary"], "ranking": document["ranking"],
                               "recommendation": document["recommendation"], "sizes": document["sizes"],
                               "result": f"{out_dir}/sensitivity.json"}, indent=2))
    else:
        click.echo(ranking_table(document))
        for line in recommendation_lines(document):
            click.echo(line)
        errors = document["summary"]["variant_errors"]
        if errors:
            click.echo(f"{len(errors)} variant(s) could not be built: {', '.join(errors)} (reasons in sensitivity.json)")
        click.echo(f"wrote {out_dir}/sensitivity.json, sensitivity.md, sensitivity.html")
    if document["recommendation"]["status"] == "not-found":
        sys.exit(EXIT_GATE_TRIPPED)

