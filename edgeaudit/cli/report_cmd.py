"""``edgeaudit report RESULT.json``: a self-contained HTML page and/or a Markdown summary of a result."""

from __future__ import annotations

import click


@click.command("report")
@click.argument("result", type=click.Path(path_type=str))
@click.option("--html", "html_path", type=click.Path(path_type=str, dir_okay=False),
              help="Write a self-contained HTML report here (plots inline; opens offline).")
@click.option("--md", "md_path", type=click.Path(path_type=str, dir_okay=False),
              help="Write a Markdown summary here.")
def report_command(result: str, html_path: str | None, md_path: str | None) -> None:
    """Render RESULT (an audit.json or compare.json) as HTML and/or Markdown, from the JSON alone.

    Without --html or --md the Markdown summary is printed. Plots need matplotlib (the [report] extra);
    without it the HTML still has every table and says which plots are missing.

    \b
    Examples:
      edgeaudit report ./audit/audit.json --html audit.html --md audit.md
      edgeaudit report ./cmp/compare.json --html compare.html
    """
    from edgeaudit.report import load_result, render_markdown, write_reports

    if html_path is None and md_path is None:
        click.echo(render_markdown(load_result(result)), nl=False)
        return
    written = write_reports(result, html=html_path, md=md_path)
    for note in written["missing_plots"]:
        click.echo(f"note: plots left out: {note}", err=True)
    for kind in ("html", "md"):
        if kind in written:
            click.echo(f"wrote {written[kind]}")
