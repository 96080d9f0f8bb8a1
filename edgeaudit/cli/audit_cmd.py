"""``edgeaudit audit``: probes + controls + verdicts for one bundle, written to DIR/audit.json."""

from __future__ import annotations

import dataclasses
import sys

import click

from edgeaudit.audit.options import PROBE_GROUPS, AuditOptions, parse_probe_list
from edgeaudit.cli.out_dir import (
    check_inputs,
    claimed_output,
    keep_stdin,
    parameter_labels,
    run_identity,
    stdin_spec,
)
from edgeaudit.cli.skips import audit_skip_line, claims_json
from edgeaudit.cli.speed_options import jobs_option, threads_option
from edgeaudit.verdict import CORRESPONDENCE_SIGNALS, VerdictThresholds

PATH_OPTIONS = ("bundle_dir", "twin", "data", "nonce", "norms", "categories")


def _layers(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of layer numbers") from None


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
@click.option("--data", default="builtin:treebank", show_default=True,
              help="Treebank: a CoNLL-U file (.conllu or .conllu.gz) or builtin:treebank / builtin:treebank-nonce / builtin:ewt.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=str), help="Output directory.")
@click.option("--probes", default=",".join(PROBE_GROUPS), show_default=True,
              help="Comma-separated probe groups to run.")
@click.option("--twin", type=click.Path(path_type=str), help="Random-init twin bundle (edgeaudit export --random-init).")
@click.option("--nonce", help="Nonce treebank with the same trees (default for builtin:treebank: builtin:treebank-nonce).")
@click.option("--norms", help="Feature norms for property probes: a CSV/TSV file or builtin:concepts (default).")
@click.option("--categories", type=click.Path(path_type=str), help="word -> category table for the category controls.")
@click.option("--categories-pos", help="Keep only category rows of this part of speech (OEWN supersenses: n).")
@click.option("--min-count", type=int, default=100, show_default=True,
              help="Relations with fewer instances are listed but not claimed about.")
@click.option("--max-sentences", type=int, help="Use only the first N sentences.")
@click.option("--property-layers", help="Hidden-state layers for property probes, e.g. 0,6 (default: first and last).")
@click.option("--mapper", type=click.Choice(["plsr", "ridge", "mlp"]), default="plsr", show_default=True)
@click.option("--folds", type=int, default=10, show_default=True)
@click.option("--shuffles", type=int, default=100, show_default=True, help="Permutations for the shuffled control.")
@click.option("--bootstrap", type=int, default=1000, show_default=True, help="Bootstrap resamples for every CI.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--structural-rank", type=click.IntRange(min=1), default=32, show_default=True,
              help="Rank of the structural (distance/depth) probes.")
@click.option("--structural-max-iter", type=click.IntRange(min=1), default=100, show_default=True,
              help="L-BFGS iteration cap of each structural probe fit (an unconverged fit is noted in its claim).")
@click.option("--structural-max-train", type=click.IntRange(min=1), default=500, show_default=True,
              help="Training sentences of the structural probes, at most.")
@click.option("--min-effect", type=float, default=0.05, show_default=True,
              help="Margin over the strongest control needed for 'supported'.")
@click.option("--max-ci-width", type=float, default=0.30, show_default=True,
              help="Wider margin CIs make a claim 'inconclusive'.")
@click.option("--min-instances", type=int, default=30, show_default=True,
              help="Claims resting on fewer instances are 'inconclusive'.")
@click.option("--correspondence-signal", type=click.Choice(CORRESPONDENCE_SIGNALS), default="rollout",
              show_default=True, help="Which token-correspondence assumption head claims are tested against.")
@click.option("--min-rollout-self-share", type=float, default=0.25, show_default=True)
@click.option("--min-identifiability", type=float, default=0.5, show_default=True)
@threads_option
@jobs_option
@click.option("--batch-tokens", type=int, help="Token budget per model batch.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--overwrite", is_flag=True,
              help="--out holds another run (other bundle, data or options): delete it and start afresh.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON on stdout instead of a table.")
def audit_command(bundle_dir, data, out_dir, probes, twin, nonce, norms, categories, categories_pos, min_count, max_sentences,
                  property_layers, mapper, folds, shuffles, bootstrap, seed, structural_rank, structural_max_iter,
                  structural_max_train, min_effect, max_ci_width, min_instances,
                  correspondence_signal, min_rollout_self_share, min_identifiability, threads, jobs, batch_tokens,
                  quiet, overwrite, as_json) -> None:
    """Audit BUNDLE_DIR: attention-head, attention-tree, structural and property claims, each with its controls
    and a verdict (supported / artifact / inconclusive / unwarranted-assumption).

    \b
    Examples:
      edgeaudit audit ./bundles/minilm --out ./audit
      edgeaudit audit ./bundles/minilm --twin ./bundles/minilm-random --data ewt-test.conllu --out ./audit
      edgeaudit audit ./bundles/minilm --norms mcrae.csv --categories supersenses.tsv --probes property --out ./a
    """
    from edgeaudit.audit.run import run_audit

    check_inputs((bundle_dir, twin), data)  # before "[load] ..." or the --out folder appear
    data, piped = stdin_spec(data)
    thresholds = VerdictThresholds(min_effect=min_effect, max_ci_width=max_ci_width, min_instances=min_instances,
                                   correspondence_signal=correspondence_signal,
                                   min_rollout_self_share=min_rollout_self_share,
                                   min_identifiability=min_identifiability)
    options = AuditOptions(
        data=data, probes=parse_probe_list(probes), twin=twin, nonce=nonce, norms=norms, categories=categories, categories_pos=categories_pos,
        min_count=min_count, max_sentences=max_sentences, property_layers=_layers(property_layers), mapper=mapper,
        folds=folds, shuffles=shuffles, bootstrap=bootstrap, seed=seed, threads=threads, jobs=jobs, batch_tokens=batch_tokens,
        structural_rank=structural_rank, structural_max_iter=structural_max_iter,
        structural_max_train=structural_max_train,
        thresholds=thresholds, progress=not quiet and sys.stderr.isatty(),
    )

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
    click.echo(f"{document['summary']['claims']} claims ({counts or 'none'}); wrote {out_dir}/audit.json")
