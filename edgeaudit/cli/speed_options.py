"""Options that set how fast a command runs, never what it finds (shared by audit, compare and demo)."""

from __future__ import annotations

import click

threads_option = click.option("--threads", type=click.IntRange(min=1),
                              help="onnxruntime intra-op threads (default: all cores).")
jobs_option = click.option(
    "--jobs", "-j", type=click.IntRange(min=1),
    help="Worker processes for the probe fits (structural layers, property runs; default: all cores). "
         "Results are identical for any value; each worker holds its own copy of the libraries (~150 MB), "
         "so use -j 1 on a board short of memory.")
