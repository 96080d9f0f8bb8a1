"""``export_checkpoint``: local checkpoint -> verified bundle (model.onnx + tokenizer.json + edgeaudit.json)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from edgeaudit.exporters.checkpoint import LoadedCheckpoint, load_checkpoint
from edgeaudit.exporters.options import ExportOptions
from edgeaudit.exporters.output_dir import check_output_dir, staged_bundle

from edgeaudit.bundle import Bundle, load_bundle, save_manifest
from edgeaudit.bundle.build import new_manifest, tokenizer_settings
from edgeaudit.bundle.model_file import split_if_large

ONNX_NAME = "model.onnx"
TOKENIZER_NAME = "tokenizer.json"


def _pad_id(checkpoint: LoadedCheckpoint) -> int:
    tok = checkpoint.tokenizer
    for candidate in (tok.pad_token_id, tok.eos_token_id, getattr(checkpoint.config, "pad_token_id", None)):
        if candidate is not None:
            return int(candidate)
    return 0


def _max_length(checkpoint: LoadedCheckpoint, requested: int | None) -> int:
    limit = checkpoint.max_positions
    tok_limit = getattr(checkpoint.tokenizer, "model_max_length", None)
    if isinstance(tok_limit, int) and 1 < tok_limit < limit:
        limit = tok_limit
    if requested is None:
        return limit
    if requested > limit:
        from edgeaudit.errors import ExportError

        raise ExportError(f"option --max-length: {requested} exceeds the model's limit of {limit} positions")
    return requested


def write_tokenizer(checkpoint: LoadedCheckpoint, staging: Path) -> dict:
    """Copy the checkpoint's own tokenizer.json (or serialise the fast tokenizer); return its JSON."""
    source = checkpoint.tokenizer_json
    target = staging / TOKENIZER_NAME
    if source is not None and source.is_file():
        shutil.copyfile(source, target)
    else:
        checkpoint.tokenizer.backend_tokenizer.save(str(target))
    return json.loads(target.read_text(encoding="utf-8"))


def model_section(checkpoint: LoadedCheckpoint) -> dict:
    config = checkpoint.config
    return {
        "family": "decoder" if checkpoint.decoder else "encoder",
        "model_type": str(config.model_type),
        "architecture": type(checkpoint.model).__name__,
        "num_layers": checkpoint.num_layers,
        "num_heads": checkpoint.num_heads,
        "hidden_size": checkpoint.hidden_size,
        "causal": checkpoint.decoder,
        "vocab_size": int(checkpoint.model.get_input_embeddings().num_embeddings),
        "max_positions": checkpoint.max_positions,
        "source": str((checkpoint.directory / checkpoint.gguf["file"] if checkpoint.gguf else checkpoint.directory).resolve()),
        "source_format": "gguf" if checkpoint.gguf else "huggingface",
        **({"gguf": checkpoint.gguf} if checkpoint.gguf else {}),
    }


def export_checkpoint(model_dir: str | Path, out_dir: str | Path, options: ExportOptions | None = None,
                      *, log=print) -> Bundle:
    """Export, verify and write a bundle; ``log`` receives one-line progress messages."""
    options = options or ExportOptions()
    out_dir = Path(out_dir)
    check_output_dir(out_dir, options.force)  # fail before the slow part
    if options.backend == "optimum":
        from edgeaudit.exporters.optimum_backend import export_with_optimum

        return export_with_optimum(model_dir, out_dir, options, log=log)
    from edgeaudit.exporters.torch_onnx import INPUT_NAMES, export_tapped
    from edgeaudit.exporters.verify import verify_export
    from edgeaudit.exporters.wrapper import TappedModel

    checkpoint = load_checkpoint(model_dir, random_init=options.random_init, seed=options.seed,
                                 trust_remote_code=options.trust_remote_code, tokenizer=options.tokenizer)
    log(f"loaded {type(checkpoint.model).__name__}: {checkpoint.num_layers} layers x {checkpoint.num_heads} heads"
        + (f" (random init, seed {options.seed})" if options.random_init else ""))
    wrapper = TappedModel(checkpoint.model, checkpoint.num_layers, checkpoint.decoder).train(False)
    model = model_section(checkpoint)
    pad_id = _pad_id(checkpoint)
    max_length = _max_length(checkpoint, options.max_length)
    with staged_bundle(out_dir, options.force) as staging:
        tokenizer_json = write_tokenizer(checkpoint, staging)
        tokenizer = tokenizer_settings(TOKENIZER_NAME, tokenizer_json, max_length=max_length,
                                       padding_side=checkpoint.tokenizer.padding_side, pad_token_id=pad_id)
        log(f"exporting with torch.onnx ({options.exporter}, opset {options.opset})")
        export_tapped(wrapper, staging / ONNX_NAME, exporter=options.exporter, opset=options.opset,
                      vocab_size=model["vocab_size"], pad_id=pad_id)
        external = split_if_large(staging / ONNX_NAME)
        if options.verify:
            report = verify_export(wrapper, staging / ONNX_NAME, vocab_size=model["vocab_size"], pad_id=pad_id,
                                   padding_side=tokenizer["padding_side"], special_ids=tokenizer["special_token_ids"],
                                   max_length=max_length, tolerance=options.tolerance)
            export_check = report.to_manifest()
            log(f"verified: {report.summary()}")
        else:
            export_check = SKIPPED_CHECK
        write_checkpoint_manifest(staging, checkpoint, options, model=model, tokenizer=tokenizer,
                                  export_check=export_check, opset=options.opset, inputs=INPUT_NAMES,
                                  exporter=f"torch.onnx-{options.exporter}", external_data=external,
                                  extra_versions=("torch", "transformers", "onnxscript"))
    return load_bundle(out_dir)


SKIPPED_CHECK = {"verified": False, "reason": "skipped with --no-verify"}


def write_checkpoint_manifest(staging: Path, checkpoint: LoadedCheckpoint, options: ExportOptions, *,
                              model: dict, tokenizer: dict, export_check: dict, **onnx_fields) -> None:
    """The manifest of a bundle exported from a checkpoint, by either backend (fp32 or the random-init twin)."""
    from edgeaudit.exporters.wrapper import final_output_of

    final_name, final_kind = final_output_of(checkpoint.decoder, checkpoint.num_layers)
    manifest = new_manifest(
        staging, model=model, onnx_file=ONNX_NAME, final_output=final_name, final_output_kind=final_kind,
        tokenizer=tokenizer, variant="random-init" if options.random_init else "fp32",
        variant_settings={"seed": options.seed} if options.random_init else {}, export_check=export_check,
        **onnx_fields,
    )
    save_manifest(staging, manifest)
