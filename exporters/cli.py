"""``edgeaudit export``: the workstation command (imports torch only when it runs)."""

from __future__ import annotations

import click
from edgeaudit.exporters.options import BACKENDS, EXPORTERS, ExportOptions


@click.command("export")
@click.argument("model_dir", type=click.Path(path_type=str))
@click.argument("out_dir", type=click.Path(path_type=str))
@click.option("--exporter", type=click.Choice(EXPORTERS), default="dynamo", show_default=True,
              help="torch.onnx route: dynamo (torch.export, current) or torchscript (legacy, several times faster).")
@click.option("--backend", type=click.Choice(BACKENDS), default="torch", show_default=True,
              help="torch: edgeaudit's own wrapper; optimum: optimum-onnx's main_export (needs transformers<4.58).")
@click.option("--opset", type=int, default=18, show_default=True, help="ONNX opset (14..23; dynamo needs ≥18).")
@click.option("--max-length", type=int, default=None,
              help="Longest input in tokens the bundle accepts (default: the model's position limit).")
@click.option("--no-verify", is_flag=True, help="Skip the ONNX-vs-PyTorch check (not recommended).")
@click.option("--tolerance", type=float, default=1e-4, show_default=True,
              help="Largest difference between ONNX and PyTorch taps that passes verification, relative to each "
                   "tap's magnitude: max|diff| / max(1, max|torch|).")
@click.option("--random-init", is_flag=True,
              help="Export the same architecture with fresh random weights (the random-model control twin).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --random-init.")
@click.option("--overwrite", "--force", "force", is_flag=True,
              help="Replace OUT_DIR if it exists (a bundle, or any directory).")
@click.option("--tokenizer", "tokenizer", type=click.Path(path_type=str), default=None,
              help="Take the tokenizer from this folder or tokenizer.json (needed when MODEL_DIR has none).")
@click.option("--trust-remote-code", is_flag=True, help="Allow custom modelling code shipped with the checkpoint.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the final line.")
def export_command(model_dir: str, out_dir: str, exporter: str, backend: str, opset: int, max_length: int | None,
                   no_verify: bool, tolerance: float, random_init: bool, seed: int, force: bool,
                   tokenizer: str | None, trust_remote_code: bool, quiet: bool) -> None:
    """Export the local Hugging Face checkpoint MODEL_DIR (or a GGUF file) to a tapped ONNX bundle in OUT_DIR.

    A GGUF file (llama.cpp's format), or a folder holding one, is dequantized to fp32 through transformers
    and gguf; the manifest records the source file and its tensor quantization types.

    The bundle's graph exposes every layer's attention (attention_0..L-1) and hidden state
    (hidden_state_0..L), is checked against PyTorch, and carries a manifest (edgeaudit.json).

    \b
    Examples:
      edgeaudit export ./all-MiniLM-L6-v2 ./bundles/minilm
      edgeaudit export ./gpt2 ./bundles/gpt2 --exporter torchscript --max-length 256
      edgeaudit export ./all-MiniLM-L6-v2 ./bundles/minilm-random --random-init --seed 1
      edgeaudit export ./SmolLM2-135M-Instruct.Q4_1.gguf ./bundles/smollm2 --exporter torchscript
    """
    from edgeaudit.exporters import export_checkpoint

    options = ExportOptions(opset=opset, exporter=exporter, backend=backend, max_length=max_length,
                            verify=not no_verify, tolerance=tolerance, random_init=random_init, seed=seed,
                            force=force, trust_remote_code=trust_remote_code, tokenizer=tokenizer)

    def log(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    from edgeaudit.compress.model_io import model_file_bytes

    bundle = export_checkpoint(model_dir, out_dir, options, log=log)
    manifest = bundle.manifest
    click.echo(f"wrote bundle {bundle.directory} ({manifest.variant}, {manifest.num_layers} layers x "
               f"{manifest.num_heads} heads, {model_file_bytes(bundle) / 1e6:.1f} MB)")
