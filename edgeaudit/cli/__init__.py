"""The ``edgeaudit`` command line: a thin skin over the library, one module per command.

Commands are registered lazily by dotted path so that ``edgeaudit audit`` on a device never imports the
workstation-side ``exporters`` package (and with it torch).
"""

from __future__ import annotations

import importlib
import sys

import click

from edgeaudit import __version__
from edgeaudit.errors import EXIT_BAD_INPUT, EdgeAuditError

# command name -> "module:attribute" of a click.Command
COMMANDS: dict[str, tuple[str, str]] = {
    "export": ("exporters.cli:export_command", "Export a local Hugging Face checkpoint to a tapped ONNX bundle."),
    "tap": ("exporters.tap_cli:tap_command", "Expose attention and hidden-state taps in an existing ONNX file."),
    "inspect": ("edgeaudit.cli.inspect_cmd:inspect_command", "Validate a bundle and print its manifest."),
    "compress": ("edgeaudit.cli.compress_cmd:compress_command", "Make an int8/fp16/int4 variant of a bundle that keeps every tap."),
    "datasets": ("edgeaudit.cli.datasets_cmd:datasets_command", "List the built-in datasets and their sizes."),
    "audit": ("edgeaudit.cli.audit_cmd:audit_command", "Probe a bundle, run the controls, and give every claim a verdict."),
    "extract": ("edgeaudit.cli.extract_cmd:extract_command", "Store word-level activations of a treebank run through a bundle."),
    "compare": ("edgeaudit.cli.compare_cmd:compare_command", "Compare a reference and a compressed variant claim by claim, with CI gates."),
    "report": ("edgeaudit.cli.report_cmd:report_command", "Render an audit.json or compare.json as self-contained HTML and Markdown."),
    "demo": ("edgeaudit.cli.demo_cmd:demo_command", "Export, compress, audit and compare all-MiniLM-L6-v2, then render the reports."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when invoked (or listed in help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        target, _ = COMMANDS[name]
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help must not import torch just to print one-line descriptions.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgeaudit")
def cli() -> None:
    """Audit whether explanations of a transformer hold up on the device it ships on.

    \b
    Typical flow:
      edgeaudit export ./my-bert ./bundle            # workstation (needs the [export] extra)
      edgeaudit inspect ./bundle                     # validate and describe a bundle
    """


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors become one line on stderr and exit code 2, never a traceback."""
    try:
        cli.main(args=argv, prog_name="edgeaudit", standalone_mode=False)
    except EdgeAuditError as error:
        click.echo(f"edgeaudit: error: {error.one_line()}", err=True)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("edgeaudit: aborted", err=True)
        return 130
    except click.exceptions.NoArgsIsHelpError as error:
        error.show()  # bare `edgeaudit` / `edgeaudit GROUP`: the help text is the answer
        return error.exit_code
    except click.UsageError as error:
        # A bad option value is bad input like any other: one line, exit 2 (not click's four-line usage block).
        where = f" — see '{error.ctx.command_path} --help'" if error.ctx is not None else ""
        click.echo(f"edgeaudit: error: {' '.join(error.format_message().split())}{where}", err=True)
        return EXIT_BAD_INPUT
    except click.ClickException as error:
        error.show()
        return EXIT_BAD_INPUT if error.exit_code == 2 else error.exit_code
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
