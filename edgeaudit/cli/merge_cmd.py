"""``edgeaudit merge RESULT... --out DIR``: audits or comparisons from several devices/variants, claim by claim."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edgeaudit.errors import EXIT_GATE_TRIPPED
from edgeaudit.merge import DEFAULT_ACTIVATION_TOLERANCE, DEFAULT_TOLERANCE


@click.command("merge")
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=str),
              help="Output directory (merge.json, merge.md, merge.html).")
@click.option("--label", "labels", multiple=True, metavar="NAME",
              help="Name of each input in the table, in order (repeat once per input; default: folder [machine]).")
@click.option("--tolerance", type=float, default=DEFAULT_TOLERANCE, show_default=True,
              help="Score differences above this are reported (audits are deterministic on one machine).")
@click.option("--activation-tolerance", type=float, default=DEFAULT_ACTIVATION_TOLERANCE, show_default=True,
              help="Largest per-layer activation difference from the first input before a layer is flagged. "
                   "Activations of one bundle on one machine are bit-identical run to run; fp32 on two CPU "
                   "architectures differs by float rounding (~1e-6..1e-5 relative); differences above this are "
                   "flagged.")
@click.option("--fail-on-disagreement", is_flag=True,
              help="Exit 1 when any claim's verdict differs between inputs (e.g. fp32 on x86 vs the device).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def merge_command(results: tuple[str, ...], out_dir: str, labels: tuple[str, ...], tolerance: float,
                  activation_tolerance: float, fail_on_disagreement: bool, as_json: bool) -> None:
    """Merge RESULTS (audit.json files, or compare.json files, or the folders holding them) from several devices or
    variants of one model into one table: per claim, every input's verdict and score, whether the verdicts agree,
    and whether the scores differ by more than --tolerance. Audits that kept their activation store
    (DIR/activations) are also compared layer by layer against the first input.

    \b
    Exit codes: 0 merged, 1 a verdict differs and --fail-on-disagreement was given, 2 bad usage or input.
    \b
    Examples:
      edgeaudit merge ./audit-x86 ./audit-pi5 --out ./fleet --label x86 --label pi5
      edgeaudit merge cmp-x86/compare.json cmp-jetson/compare.json --out ./fleet-int8
      edgeaudit merge ./audit-x86 ./audit-arm --out ./fp32-check --fail-on-disagreement
    """
    from edgeaudit.merge import merge, write_merge
    from edgeaudit.report import write_reports

    document = merge(results, labels=labels, tolerance=tolerance, activation_tolerance=activation_tolerance)
    out = Path(out_dir)
    path = write_merge(document, out)
    write_reports(document, html=out / "merge.html", md=out / "merge.md")
    summary = document["summary"]
    if as_json:
        click.echo(json.dumps({"summary": summary, "result": str(path)}, indent=2))
    else:
        for row in document["claims"]:
            if not row["verdicts_agree"]:
                cells = "; ".join(f"{label}: {(cell or {}).get('verdict') or 'absent'}"
                                  for label, cell in row["cells"].items())
                click.echo(f"verdict differs: {row['text']} — {cells}")
        click.echo(f"{summary['claims']} claims over {summary['inputs']} inputs: {summary['verdicts_agree']} agree, "
                   f"{summary['verdicts_differ']} differ in verdict, {summary['numbers_differ']} in score "
                   f"(> {tolerance:g}; largest spread {summary['max_score_spread']:.3g})")
        for line in activation_lines(document["activations"]):
            click.echo(line)
        for note in document["notes"]:
            click.echo(f"note: {note}")
        click.echo(f"wrote {path}, merge.md, merge.html")
    if fail_on_disagreement and summary["verdicts_differ"]:
        sys.exit(EXIT_GATE_TRIPPED)


def activation_lines(activations: dict | None) -> list[str]:
    """One line per non-reference input: where its activations differ most from the reference, and how many layers
    exceed the tolerance (nothing when the section is null; a note says why)."""
    if activations is None:
        return []
    lines = []
    for record in activations["inputs"]:
        rated = [row for row in record["layers"] if row["relative"] is not None]
        top = max(rated, key=lambda row: row["relative"], default=None)
        where = "—" if top is None else f"{top['relative']:.1e} at layer {top['layer']}"
        lines.append(f"activations vs {activations['reference']}: {record['label']} largest relative difference "
                     f"{where}; {record['layers_exceeding']} of {len(record['layers'])} layers above "
                     f"{activations['tolerance']:g}")
    return lines
