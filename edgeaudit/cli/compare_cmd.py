"""``edgeaudit compare``: reference vs compressed variant, claim by claim, written to DIR/compare.json; CI gates."""

from __future__ import annotations

import dataclasses
import sys

import click

from edgeaudit.cli.audit_option_set import NAMES as AUDIT_NAMES
from edgeaudit.cli.audit_option_set import audit_option_set, audit_options_from, option_fields
from edgeaudit.cli.compare_option_set import compare_option_set, compare_settings
from edgeaudit.cli.out_dir import claimed_output, keep_stdin, parameter_labels, run_identity, stdin_spec
from edgeaudit.cli.skips import audit_skip_line, claims_json
from edgeaudit.results import CompareResult


def _explicit(names: tuple[str, ...]) -> tuple[str, ...]:
    """The options the user typed (a finished audit's options override them, and the user should hear it)."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    return tuple(name for name in names if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT))


def _fmt(value, spec: str = ".4f") -> str:
    return "-" if value is None else format(value, spec)


def claims_table(result: CompareResult, limit: int = 30) -> str:
    rows = [f"{'survival':<9} {'reference':>10} {'variant':>10} {'delta':>8} {'applied':>8}  {'flip':<28} claim"]
    order = {"breaks": 0, "drifts": 1, "survives": 2}
    claims = sorted(result.claims, key=lambda c: order[c.survival])
    for claim in claims[:limit]:
        ref = claim.reference.score if claim.reference else None
        var = claim.variant.score if claim.variant else None
        applied = claim.applied.score if claim.applied else None
        delta = "-" if claim.delta is None else f"{claim.delta:+.3f}"
        rows.append(f"{claim.survival:<9} {_fmt(ref, '.3f'):>10} {_fmt(var, '.3f'):>10} "
                    f"{delta:>8} {_fmt(applied, '.3f'):>8}  {claim.flip or '':<28} {claim.text}")
    if len(claims) > limit:
        rows.append(f"... and {len(claims) - limit} more claims in compare.json")
    return "\n".join(rows)


def drift_lines(result: CompareResult) -> list[str]:
    drift = result.numeric_drift
    if drift is None or not drift.computed:
        return [f"numeric drift: not computed ({drift.note if drift else 'no record'})"]
    cosine, worst = drift.output_cosine, drift.worst_sqnr_layer
    sqnr = "all layers identical" if worst is None else f"worst SQNR {drift.min_sqnr_db:.1f} dB at hidden_state_{worst}"
    head = drift.worst_attention_head or {}
    jsd = "" if not head else f"; max attention JSD {head['jsd']:.4f} (head {head['layer']}.{head['head']})"
    lines = [f"numeric drift: output cosine mean {_fmt(cosine.mean)} min {_fmt(cosine.min)}, max |diff| "
             f"{_fmt(drift.output_max_abs_diff, '.3g')}; {sqnr}{jsd}"]
    ratio = result.explanation_drift.explanation_to_output_ratio if result.explanation_drift else None
    if ratio is not None:
        lines.append(f"explanation drift / output drift = {ratio:.2f}")
    return lines


def fidelity_lines(result: CompareResult) -> list[str]:
    """The audited-vs-deployed check of each side (its record is the check's own JSON)."""
    lines = []
    checks = result.fidelity
    for label, check in (("reference", checks.reference), ("variant", checks.variant)) if checks else ():
        if not check or not check.get("computed"):
            continue
        fused = ", ".join(f"{op} {row['audited']}→{row['deployed']}" for op, row in check["prevented_fusions"].items())
        lines.append(f"fidelity ({label}): audited vs deployed graph cosine min {_fmt(check['output_cosine']['min'], '.6f')}, "
                     f"max |diff| {_fmt(check['output_max_abs_diff'], '.3g')} — "
                     f"{'faithful' if check['faithful'] else 'NOT faithful'}"
                     f"{'; op counts differ: ' + fused if fused else ''}")
    return lines


@click.command("compare")
@click.argument("reference", type=click.Path(path_type=str))
@click.argument("variant", type=click.Path(path_type=str))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=str), help="Output directory.")
@audit_option_set
@compare_option_set
@click.option("--unrelated-ok", is_flag=True,
              help="Compare even when VARIANT was not compressed from REFERENCE (its manifest names another parent).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--overwrite", is_flag=True,
              help="--out holds another comparison (other bundles, data or options): delete it and start afresh.")
@click.option("--json", "as_json", is_flag=True, help="Print claims, drift and gates as JSON on stdout.")
def compare_command(reference, variant, out_dir, fail_on, gates_file, unrelated_ok, quiet, overwrite, as_json,
                    **params) -> None:
    """Compare REFERENCE with its compressed VARIANT claim by claim: survives / drifts / breaks, verdict flips,
    numeric drift (per-layer SQNR, per-head attention JSD, output cosine) and whether each audited graph is the
    deployed one. Each of REFERENCE and VARIANT is a bundle (audited here into DIR/reference and DIR/variant
    with the same options) or a finished audit directory (its options are then used).

    \b
    Exit codes: 0 no gate tripped, 1 a --fail-on gate tripped, 2 bad usage or input.
    \b
    Examples:
      edgeaudit compare ./minilm ./minilm-int8 --data ewt-test.conllu --out ./cmp --fail-on "flips>0"
      edgeaudit compare ./audit-fp32 ./audit-int8 --out ./cmp --fail-on "output_cosine<0.99" --fail-on "breaks>0"
      edgeaudit compare ./minilm ./minilm-fp16 --out ./cmp --gates ci-gates.toml
    """
    from edgeaudit.compare import CompareOptions, run_compare
    from edgeaudit.gates import collect_gates, enforce, evaluate_gates

    gates = collect_gates(fail_on, gates_file)  # malformed gates fail before any slow work
    data, piped = stdin_spec(params["data"])
    progress = not quiet and sys.stderr.isatty()
    audit = audit_options_from(params | {"data": data}, progress=progress)
    options = CompareOptions(audit=audit, **compare_settings(params), gates=tuple(gates), progress=progress,
                             unrelated_ok=unrelated_ok,
                             explicit_audit_options=option_fields(_explicit(AUDIT_NAMES)))

    def log(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    ctx = click.get_current_context()
    params = {key: value for key, value in ctx.params.items()
              if key not in ("fail_on", "gates_file")} | {"data": data}  # gates judge results, not change them
    identity = run_identity(params, ("reference", "variant", "twin", "data", "norms", "categories"),
                            parameter_labels(ctx))
    with claimed_output(out_dir, command="compare", identity=identity, overwrite=overwrite) as out:
        options = dataclasses.replace(options, audit=dataclasses.replace(audit, data=keep_stdin(out, data, piped)))
        document = run_compare(reference, variant, out_dir, options, log=log)
    result = CompareResult.from_json(document)
    results = evaluate_gates(gates, result)  # the same evaluation that compare.json records
    skipped = audit_skip_line(document, f"{out_dir}/compare.json")
    if skipped:
        click.echo(skipped, err=True)
    if as_json:
        gates_out = [{"gate": result.gate.expression, "value": result.value, "tripped": result.tripped}
                     for result in results]
        click.echo(claims_json(document, f"{out_dir}/compare.json", numeric_drift=document.get("numeric_drift"),
                               gates=gates_out))
        enforce(results)
        return
    click.echo(claims_table(result))
    summary = result.summary
    click.echo(f"{summary.claims} claims: {summary.survives} survive, {summary.drifts} drift, "
               f"{summary.breaks} break; {summary.flips} verdict flip(s)")
    for line in drift_lines(result) + fidelity_lines(result):
        click.echo(line)
    for gate in results:
        state = {True: "tripped", False: "passed", None: "not evaluated"}[gate.tripped]
        click.echo(f"gate {state}: {gate.describe()}")
    click.echo(f"wrote {out_dir}/compare.json")
    enforce(results)  # exit 2 for a gate that cannot be evaluated, exit 1 for a tripped gate
