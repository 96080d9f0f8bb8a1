"""Run ``torch.onnx.export`` (dynamo or TorchScript) on a ``TappedModel`` with dynamic batch/sequence axes."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import torch
from edgeaudit.exporters.wrapper import TappedModel

from edgeaudit.errors import ExportError

INPUT_NAMES = ["input_ids", "attention_mask"]


def _dynamic_axes(output_names: list[str]) -> dict[str, dict[int, str]]:
    axes: dict[str, dict[int, str]] = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    for name in output_names:
        if name.startswith("attention_"):
            axes[name] = {0: "batch", 2: "sequence", 3: "sequence"}
        else:
            axes[name] = {0: "batch", 1: "sequence"}
    return axes


def _example_inputs(vocab_size: int, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(low=0, high=max(vocab_size, 2), size=(2, 7), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    ids[1, 5:] = pad_id
    return ids, mask


@contextlib.contextmanager
def _quiet():
    """torch.onnx prints pages of diagnostics; keep them off the user's terminal unless export fails."""
    buffer = io.StringIO()
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(buffer):
            warnings.simplefilter("ignore")
            yield buffer
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def export_tapped(wrapper: TappedModel, out_file: Path, *, exporter: str, opset: int,
                  vocab_size: int, pad_id: int) -> None:
    """Write the tapped graph to ``out_file`` as a single file (no external data for < 2 GB models)."""
    output_names = wrapper.output_names()
    args = _example_inputs(vocab_size, pad_id)
    try:
        with _quiet(), torch.no_grad():
            if exporter == "dynamo":
                batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence", min=2)
                program = torch.onnx.export(
                    wrapper, args, dynamo=True, input_names=INPUT_NAMES, output_names=output_names,
                    dynamic_shapes={"input_ids": {0: batch, 1: sequence}, "attention_mask": {0: batch, 1: sequence}},
                    opset_version=opset, external_data=False, optimize=True, verbose=False,
                )
                program.save(str(out_file), external_data=False)
            else:
                torch.onnx.export(
                    wrapper, args, str(out_file), dynamo=False, input_names=INPUT_NAMES,
                    output_names=output_names, dynamic_axes=_dynamic_axes(output_names),
                    opset_version=opset, do_constant_folding=True,
                )
    except ExportError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        other = "torchscript" if exporter == "dynamo" else "dynamo"
        raise ExportError(
            f"torch.onnx.export ({exporter}) failed: {type(exc).__name__}: {first[:240]}",
            hint=f"try --exporter {other}, or --backend optimum; the family may be unsupported",
        ) from None
    _rename_graph_outputs(out_file, output_names)


def _rename_graph_outputs(out_file: Path, wanted: list[str]) -> None:
    """Some exporter versions ignore output_names for tuple outputs; make the names the bundle's."""
    import onnx

    model = onnx.load(str(out_file))
    current = [output.name for output in model.graph.output]
    if current == wanted:
        return
    if len(current) != len(wanted):
        raise ExportError(
            f"exported graph has {len(current)} outputs, expected {len(wanted)} taps",
            hint="the model did not return every layer's attention; its family may be unsupported",
        )
    mapping = dict(zip(current, wanted, strict=True))
    for node in model.graph.node:
        node.output[:] = [mapping.get(name, name) for name in node.output]
        node.input[:] = [mapping.get(name, name) for name in node.input]
    for output in model.graph.output:
        output.name = mapping[output.name]
    onnx.save(model, str(out_file))
