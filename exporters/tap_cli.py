"""``edgeaudit tap``: turn someone else's plain ONNX export into a bundle (onnx + onnxruntime only, no torch)."""

from __future__ import annotations

import click
from edgeaudit.exporters.tap import TapOptions, TapResult, tap_onnx


def summary(result: TapResult) -> list[str]:
    """What was found and where, so a user can check the taps against their own picture of the model."""
    manifest = result.bundle.manifest
    plan = result.plan
    lines = [
        f"wrote bundle {result.bundle.directory}: {plan.num_layers} layers x {result.num_heads} heads, hidden "
        f"{manifest.hidden_size}, {'causal decoder' if result.causal else 'bidirectional encoder'} ({plan.norm_style})",
        f"final output {result.final_output} ({manifest.data['taps']['final_output_kind']})",
    ]
    for layer, node in enumerate(plan.softmax_nodes):
        lines.append(f"  attention_{layer} <- Softmax node {node}")
    for layer, tensor in enumerate(plan.hidden):
        lines.append(f"  hidden_state_{layer} <- {tensor}")
    lines += [f"note: {note}" for note in result.notes]
    return lines


@click.command("tap")
@click.argument("model_onnx", type=click.Path(path_type=str))
@click.argument("out_dir", type=click.Path(path_type=str))
@click.option("--tokenizer", "tokenizer_path", required=True, type=click.Path(path_type=str),
              help="The model's tokenizer.json (Hugging Face fast-tokenizer file); copied into the bundle.")
@click.option("--num-heads", type=int, default=None,
              help="Attention heads per layer (default: read from the graph; a contradicting value is an error).")
@click.option("--causal/--bidirectional", default=None,
              help="Whether attention is causal (default: measured by running the graph once).")
@click.option("--max-length", type=int, default=None,
              help="Longest input in tokens (default: the position table, else tokenizer_config.json; "
                   "required for rotary models without either).")
@click.option("--padding-side", type=click.Choice(["left", "right"]), default=None,
              help="How the runtime pads batches (default: tokenizer_config.json's, else right).")
@click.option("--pad-token-id", type=int, default=None, help="Token id used for padding (default: the tokenizer's).")
@click.option("--overwrite", "--force", "force", is_flag=True,
              help="Replace OUT_DIR if it exists (a bundle, or any directory).")
@click.option("--vocab-mismatch-ok", is_flag=True,
              help="Accept a tokenizer that covers under 90% of the model's embedding table (a deliberately padded "
                   "table); by default that tokenizer is taken to belong to another model.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the first summary line.")
def tap_command(model_onnx: str, out_dir: str, tokenizer_path: str, num_heads: int | None, causal: bool | None,
                max_length: int | None, padding_side: str | None, pad_token_id: int | None, force: bool,
                vocab_mismatch_ok: bool, quiet: bool) -> None:
    """Expose attention and hidden-state taps in the plain transformer export MODEL_ONNX; write a bundle to OUT_DIR.

    MODEL_ONNX must have unfused attention (Q·Kᵀ → Softmax → ·V) and inputs input_ids + attention_mask
    (token_type_ids / position_ids are rebuilt inside the graph). Each layer's Softmax becomes attention_{l}
    and the residual stream at each layer boundary hidden_state_{l}; nothing is recomputed.

    \b
    Examples:
      edgeaudit tap ./onnx/model.onnx ./bundles/bert --tokenizer ./onnx/tokenizer.json
      edgeaudit tap llama.onnx ./bundles/llama --tokenizer tokenizer.json --max-length 2048
    """
    options = TapOptions(num_heads=num_heads, causal=causal, max_length=max_length, padding_side=padding_side,
                         pad_token_id=pad_token_id, force=force, vocab_mismatch_ok=vocab_mismatch_ok)
    result = tap_onnx(model_onnx, tokenizer_path, out_dir, options)
    lines = summary(result)
    click.echo("\n".join(lines[:1] if quiet else lines))
