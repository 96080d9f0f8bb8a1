"""The ``edgeaudit`` command line: a thin skin over the library, one module per command.

Commands are registered lazily by dotted path so that ``edgeaudit audit`` on a device never imports the
workstation-side ``exporters`` package (and with it torch).
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import os
import signal
import sys
import threading
import traceback

import click

from edgeaudit import __version__
from edgeaudit.errors import EXIT_BAD_INPUT, EdgeAuditError

EXIT_INTERRUPTED = 130
_DEBUG = {"on": False}  # set by --debug (or EDGEAUDIT_DEBUG=1): tracebacks for every error

#: what a user can do about the common operating-system errors
OS_HINTS = {
    errno.ENOENT: "check the path (relative paths start at the working directory)",
    errno.EACCES: "check the permissions, or choose another path",
    errno.EPERM: "check the permissions, or choose another path",
    errno.EROFS: "the file system is read-only: choose a writable location",
    errno.ENOSPC: "free some disk space and rerun the same command (finished work is reused)",
    errno.EDQUOT: "free some disk space and rerun the same command (finished work is reused)",
    errno.EISDIR: "pass a file, not a directory",
    errno.ENOTDIR: "a part of the path is a file, not a directory: choose another path",
    errno.EEXIST: "the path exists already: choose another or remove it",
    errno.ENAMETOOLONG: "choose a shorter path",
}

# command name -> "module:attribute" of a click.Command
COMMANDS: dict[str, tuple[str, str]] = {
    "export": ("edgeaudit.exporters.cli:export_command", "Export a local Hugging Face checkpoint to a tapped ONNX bundle."),
    "tap": ("edgeaudit.exporters.tap_cli:tap_command", "Expose attention and hidden-state taps in an existing ONNX file."),
    "inspect": ("edgeaudit.cli.inspect_cmd:inspect_command", "Validate a bundle and print its manifest."),
    "compress": ("edgeaudit.cli.compress_cmd:compress_command", "Make an int8/fp16/int4 variant of a bundle that keeps every tap."),
    "datasets": ("edgeaudit.cli.datasets_cmd:datasets_command", "List the built-in datasets and their sizes."),
    "list": ("edgeaudit.cli.list_cmd:list_command",
             "List the probes, controls, mappers, metrics, presets, datasets and gates the options accept."),
    "audit": ("edgeaudit.cli.audit_cmd:audit_command", "Probe a bundle, run the controls, and give every claim a verdict."),
    "extract": ("edgeaudit.cli.extract_cmd:extract_command", "Store word-level activations of a treebank run through a bundle."),
    "compare": ("edgeaudit.cli.compare_cmd:compare_command", "Compare a reference and a compressed variant claim by claim, with CI gates."),
    "sensitivity": ("edgeaudit.cli.sensitivity_cmd:sensitivity_command",
                    "Which block's quantisation breaks which explanation, and the smallest float fallback."),
    "merge": ("edgeaudit.cli.merge_cmd:merge_command",
              "Put audits or comparisons from several devices or variants side by side, claim by claim."),
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
@click.option("--debug", is_flag=True, help="Print the full traceback of any error (also EDGEAUDIT_DEBUG=1).")
def cli(debug: bool) -> None:
    """Audit whether explanations of a transformer hold up on the device it ships on.

    \b
    Typical flow:
      edgeaudit export ./my-bert ./bundle            # workstation (needs the [export] extra)
      edgeaudit inspect ./bundle                     # validate and describe a bundle
      edgeaudit --debug audit ./bundle --out a/      # any error with its full traceback
    """
    _DEBUG["on"] = _DEBUG["on"] or debug


def os_error_line(error: OSError) -> str:
    """One line for an operating-system error: the file, what went wrong, what to do."""
    files = " → ".join(str(name) for name in (error.filename, error.filename2) if name is not None)
    what = error.strerror or str(error) or type(error).__name__
    hint = OS_HINTS.get(error.errno or -1)
    return " ".join(f"{files + ': ' if files else ''}{what}{' — ' + hint if hint else ''}".split())


def _debugging() -> bool:
    return _DEBUG["on"] or os.environ.get("EDGEAUDIT_DEBUG", "") not in ("", "0")


def main(argv: list[str] | None = None) -> int:
    """Entry point: every failure becomes one line on stderr (a traceback only with --debug).

    Exit codes: 0 ok, 1 only for a tripped --fail-on gate, 2 for bad input, an operating-system error or an
    internal error, 130 when interrupted. A crash must never read as "a gate tripped" to a CI pipeline.
    """
    _DEBUG["on"] = False
    with _terminate_as_interrupt():
        return _main(argv)


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM (a CI timeout, ``kill``, a service stop) unwinds like Ctrl-C: stores are closed, staging
    directories removed, and the rerun resumes; the default action would kill the process mid-write."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    try:
        cli.main(args=argv, prog_name="edgeaudit", standalone_mode=False)
    except EdgeAuditError as error:
        _traceback_if_debugging()
        click.echo(f"edgeaudit: error: {error.one_line()}", err=True)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("edgeaudit: interrupted — rerun the same command to resume from the finished work", err=True)
        return EXIT_INTERRUPTED
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
    except OSError as error:
        _traceback_if_debugging()
        click.echo(f"edgeaudit: error: {os_error_line(error)}", err=True)
        return EXIT_BAD_INPUT
    except MemoryError:
        _traceback_if_debugging()
        click.echo("edgeaudit: error: out of memory — lower --batch-tokens or --max-sentences, or close other "
                   "programs", err=True)
        return EXIT_BAD_INPUT
    except Exception as error:  # a bug: still one line and exit 2, never 1 (a tripped gate)
        _traceback_if_debugging()
        message = " ".join(str(error).split()) or "(no message)"
        click.echo(f"edgeaudit: internal error: {type(error).__name__}: {message} — rerun with --debug for the "
                   "traceback and please report it", err=True)
        return EXIT_BAD_INPUT
    return 0


def _traceback_if_debugging() -> None:
    if _debugging():
        traceback.print_exc(file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
