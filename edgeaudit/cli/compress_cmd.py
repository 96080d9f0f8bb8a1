"""``edgeaudit compress BUNDLE OUT --preset NAME``: write an int8/fp16/int4 variant that keeps every tap."""

from __future__ import annotations

import json
import sys
import textwrap

import click

from edgeaudit.compress.calibration import DEFAULT_LIMIT
from edgeaudit.compress.presets import PRESETS


def _presets_help() -> str:
    lines = ["\b", "Presets:"]
    for name, text in PRESETS.items():
        wrapped = textwrap.wrap(text, width=58)
        lines.append(f"  {name:<18} {wrapped[0]}")
        lines.extend(f"  {'':<18} {more}" for more in wrapped[1:])
    return "\n".join(lines)


def _sizes(before: int, after: int) -> str:
    """Both sizes in the unit that suits the larger one, so they read side by side."""
    unit, scale = ("MB", 1e6) if before >= 1e6 else ("kB", 1e3)
    return f"{before / scale:.1f} {unit} -> {after / scale:.1f} {unit}"


def _summary(result) -> dict:
    check = result.check
    return {
        "bundle": str(result.bundle.directory),
        "parent": str(result.parent.directory),
        "preset": result.bundle.manifest.variant,
        "parent_sha256": result.parent.sha256,
        "sha256": result.bundle.sha256,
        "bytes_before": result.bytes_before,
        "bytes_after": result.bytes_after,
        "ratio": round(result.ratio, 3),
        "taps": check.taps,
        "final_output_cosine": check.final_output_cosine,
        "max_abs_diff": check.max_abs_diff,
        "attention_row_sum_error": check.attention_row_sum_error,
        "settings": result.bundle.manifest.data["variant"]["settings"],
    }


@click.command("compress", epilog=_presets_help())
@click.argument("bundle_dir", type=click.Path(path_type=str))
@click.argument("out_dir", type=click.Path(path_type=str))
@click.option("--preset", "-p", required=True, metavar="NAME", help="Compression preset (listed below).")
@click.option("--calibration", metavar="PATH|builtin:NAME",
              help="Sentences to calibrate int8-static: a text file (one sentence per line), a .conllu file "
                   "or builtin:treebank.")
@click.option("--calibration-limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
              help="Use at most this many calibration sentences.")
@click.option("--keep-float", multiple=True, metavar="REGEX",
              help="Leave weight MatMuls whose node name matches in float32 (repeatable), e.g. 'down_proj' for the "
                   "MLP outputs where LLMs carry massive activations.")
@click.option("--overwrite", "--force", "force", is_flag=True, help="Replace OUT_DIR if it already exists.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of text.")
def compress_command(bundle_dir: str, out_dir: str, preset: str, calibration: str | None, calibration_limit: int,
                     keep_float: tuple[str, ...], force: bool, quiet: bool, as_json: bool) -> None:
    """Write a compressed variant of BUNDLE_DIR to OUT_DIR that keeps every attention and hidden-state tap.

    The variant is made with onnxruntime's own quantisers, checked on a real run to expose the parent's
    taps (same names and shapes, float32), and its manifest names the preset, every setting used and the
    parent's sha256. Size before/after and the drift from the parent are printed.

    \b
    Examples:
      edgeaudit compress ./bundle ./bundle-int8 --preset int8-dynamic
      edgeaudit compress ./bundle ./bundle-int8s --preset int8-static --calibration builtin:treebank
      edgeaudit compress ./bundle ./bundle-fp16 --preset fp16 --overwrite --quiet
      edgeaudit compress ./smollm2 ./smollm2-int8 --preset int8-dynamic --keep-float down_proj --keep-float lm_head
    """
    from edgeaudit.compress.pipeline import compress

    progress = not quiet and sys.stderr.isatty()
    result = compress(bundle_dir, out_dir, preset, calibration=calibration, force=force, progress=progress,
                      calibration_limit=calibration_limit, log=lambda message: click.echo(message, err=True),
                      keep_float=keep_float)
    if as_json:
        click.echo(json.dumps(_summary(result), indent=2))
        return
    check = result.check
    click.echo(f"wrote {result.bundle.directory} ({result.bundle.manifest.variant} of {result.parent.directory})")
    click.echo(f"size  {_sizes(result.bytes_before, result.bytes_after)} ({result.ratio:.2f}x smaller)")
    click.echo(f"taps  all {check.taps} kept (float32, parent's shapes); final-output cosine vs parent "
               f"{check.final_output_cosine:.4f}, max |diff| {check.max_abs_diff['final_output']:.3g}")
