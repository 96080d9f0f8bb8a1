"""``edgeaudit audit``: probes + controls + verdicts for one bundle, written to DIR/audit.json."""

from __future__ import annotations

import dataclasses
import sys

import click

from edgeaudit.cli.audit_option_set import audit_option_set, audit_options_from
from edgeaudit.cli.out_dir import (
    check_inputs,
    claimed_output,
    keep_stdin,
    parameter_labels,
    run_identity,
    stdin_spec,
)
from edgeaudit.cli.skips import audit_skip_line, claims_json

PATH_OPTIONS = ("bundle_dir", "twin", "data", "nonce", "norms", "categories")


def claims_table(document: dict, limit: int = 25) -> str:
    rows = [f"{'verdict':<23} {'score':>6} {'best control':>22} {'margin':>7}  claim"]
    for claim in document["claims"][:limit]:
        control = claim["strongest_control"] or "-"
        margin = "-" if claim["margin"] is None else f"{claim['margin']:+.3f}"
        score = "-" if claim["score"] is None else f"{claim['score']:.3f}"
        rows.append(f"{claim['verdict']:<23} {score:>6} {control:>22} {margin:>7}  {claim['text']}")
    if len(document["claims"]) > limit:
        rows.append(f"... and {len(document['claims']) - limit} more claims in audit.json")
    return "\n".join(rows)


@click.command("audit")
@click.argument("bundle_dir", type=click.Path(path_type=str))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=str), help="Output directory.")
@audit_option_set
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--overwrite", is_flag=True,
              help="--out holds another run (other bundle, data or options): delete it and start afresh.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON on stdout instead of a table.")
def audit_command(bundle_dir: str, out_dir: str, quiet: bool, overwrite: bool, as_json: bool, **params) -> None:
    """Audit BUNDLE_DIR: attention-head, attention-tree, structural and property claims, each with its controls
    and a verdict (supported / artifact / inconclusive / unwarranted-assumption).

    \b
    Examples:
      edgeaudit audit ./bundles/minilm --out ./audit
      edgeaudit audit ./bundles/minilm --twin ./bundles/minilm-random --data ewt-test.conllu --out ./audit
      edgeaudit audit ./bundles/minilm --norms mcrae.csv --categories supersenses.tsv --probes property --out ./a
      edgeaudit audit ./bundles/smollm2 --norms mcrae.csv --concept-template "This is a {word}." --probes property --out ./a
      edgeaudit audit ./bundles/minilm --norms binder.csv --norm-targets value --norm-columns Vision,Audition,Touch --probes property --out ./a
    """
    from edgeaudit.audit.run import run_audit

    check_inputs((bundle_dir, params["twin"]), params["data"])  # before "[load] ..." or the --out folder appear
    data, piped = stdin_spec(params["data"])
    options = audit_options_from(params | {"data": data}, progress=not quiet and sys.stderr.isatty())

    def log(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    ctx = click.get_current_context()
    identity = run_identity(ctx.params | {"data": data}, PATH_OPTIONS, parameter_labels(ctx))
    with claimed_output(out_dir, command="audit", identity=identity, overwrite=overwrite) as out:
        options = dataclasses.replace(options, data=keep_stdin(out, data, piped))
        document = run_audit(bundle_dir, out_dir, options, log=log)
    skipped = audit_skip_line(document, f"{out_dir}/audit.json")
    if skipped:
        click.echo(skipped, err=True)
    if as_json:
        click.echo(claims_json(document, f"{out_dir}/audit.json"))
        return
    click.echo(claims_table(document))
    counts = ", ".join(f"{n} {v}" for v, n in document["summary"]["verdicts"].items() if n)
    click.echo(f"{document['summary']['claims']} claims ({counts or 'none'}); wrote {out_dir}/audit.json "
               "(and fitted.json: the fitted probes 'edgeaudit compare' applies to a variant)")
