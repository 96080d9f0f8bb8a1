"""``edgeaudit export --backend optimum``: optimum-onnx's ``main_export`` with every layer's taps as outputs.

A second route to the same bundle, for families or versions where our torch.onnx wrapper fails (e.g. decoders
under transformers 4.x with the TorchScript exporter). optimum-onnx 0.1 pins ``transformers<4.58``, so it cannot
live beside transformers 5: it is installed in a separate environment (``requirements/optimum.txt``) and is
imported only when this backend runs.

optimum names the taps ``hidden_states.{i}`` / ``attentions.{i}``; they are renamed to the bundle's
``hidden_state_{i}`` / ``attention_{i}`` after export. Its graphs may take ``token_type_ids`` (BERT) and
``position_ids`` (decoders); both are recorded in the manifest's ``onnx.inputs`` and verification feeds them
exactly as ``edgeaudit.runtime`` does (zeros; ``cumsum(attention_mask) - 1`` clipped at 0).
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from edgeaudit.exporters.checkpoint import LoadedCheckpoint, load_checkpoint
from edgeaudit.exporters.export import (
    ONNX_NAME,
    SKIPPED_CHECK,
    TOKENIZER_NAME,
    _max_length,
    _pad_id,
    model_section,
    write_checkpoint_manifest,
    write_tokenizer,
)
from edgeaudit.exporters.options import ExportOptions
from edgeaudit.exporters.output_dir import staged_bundle

from edgeaudit.bundle import Bundle, attention_tap, hidden_state_tap, load_bundle
from edgeaudit.bundle.build import tokenizer_settings
from edgeaudit.errors import ExportError, MissingExtraError

INSTALL_COMMANDS = (
    "python3 -m venv .venv-optimum && .venv-optimum/bin/pip install torch==2.13.0 && "
    ".venv-optimum/bin/pip install -r requirements/optimum.txt && .venv-optimum/bin/pip install --no-deps -e ."
)
ALLOWED_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids")
SCRATCH_NAME = ".optimum-scratch"


def _require_optimum() -> tuple[Callable[..., Any], Any, str]:
    """(main_export, TasksManager, optimum-onnx version), or a one-line MissingExtraError with the install."""
    try:
        from optimum.exporters.onnx import main_export
        from optimum.exporters.tasks import TasksManager
    except ImportError as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise MissingExtraError(
            f"--backend optimum: optimum-onnx is not installed (import optimum.exporters.onnx: {reason}); it "
            f"needs transformers<4.58 (this environment has {_version('transformers') or 'none'}), so use a "
            f"separate environment",
            hint=f"from the edgeaudit checkout run: {INSTALL_COMMANDS}",
        ) from None
    return main_export, TasksManager, _version("optimum-onnx") or _version("optimum") or "unknown"


def _version(distribution: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def position_ids_for(attention_mask: np.ndarray) -> np.ndarray:
    """Positions counted over real tokens only, so left padding does not shift them (as ``edgeaudit.runtime``)."""
    return np.clip(np.cumsum(attention_mask, axis=1) - 1, 0, None).astype(np.int64)


def extra_inputs_for(input_names: list[str]) -> Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]:
    """The non-standard inputs a graph takes, computed from (ids, mask) the way the runtime will feed them."""

    def build(ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        extra: dict[str, np.ndarray] = {}
        if "token_type_ids" in input_names:
            extra["token_type_ids"] = np.zeros_like(ids, dtype=np.int64)
        if "position_ids" in input_names:
            extra["position_ids"] = position_ids_for(mask)
        return extra

    return build


def tapped_onnx_config(tasks_manager: Any, config: Any, *, task: str, num_layers: int, decoder: bool) -> Any:
    """An instance of the model's registered OnnxConfig whose outputs are the final output plus every tap.

    The order (logits, hidden_states.*, attentions.*) is the order the model's output dataclass yields
    them, which is how optimum pairs graph outputs with names. An encoder's ``last_hidden_state`` is left
    out: it is ``hidden_states.{L}``.
    """
    model_type = str(config.model_type)
    try:
        supported = tasks_manager.get_supported_tasks_for_model_type(model_type, "onnx",
                                                                     library_name="transformers")
    except KeyError:
        supported = {}
    if task not in supported:
        raise ExportError(
            f"optimum-onnx cannot export model_type {model_type!r} for the task {task}",
            hint="use the default --backend torch",
        )
    constructor = tasks_manager.get_exporter_config_constructor(
        exporter="onnx", model_type=model_type, task=task, library_name="transformers")
    base = getattr(constructor, "func", constructor)
    sequence = {0: "batch_size", 1: "sequence_length"}
    square = {0: "batch_size", 2: "sequence_length", 3: "sequence_length"}

    class TappedOnnxConfig(base):  # type: ignore[misc, valid-type]
        @property
        def outputs(self) -> dict[str, dict[int, str]]:
            outputs: dict[str, dict[int, str]] = OrderedDict()
            if decoder:
                outputs["logits"] = dict(super().outputs["logits"])
            for layer in range(num_layers + 1):
                outputs[f"hidden_states.{layer}"] = dict(sequence)
            for layer in range(num_layers):
                outputs[f"attentions.{layer}"] = dict(square)
            return outputs

    if decoder:
        TappedOnnxConfig._MODEL_PATCHER = _keep_lm_forward(base._MODEL_PATCHER)
    TappedOnnxConfig.__name__ = f"Tapped{base.__name__}"
    return TappedOnnxConfig(config, task=task)


def _keep_lm_forward(patcher: type) -> type:
    """optimum's patcher with the language model's own ``forward`` put back.

    Under transformers>=4.54 optimum re-wraps a decorated ``forward`` with its traceable copy of
    ``check_model_inputs``. On a ``*ForCausalLM`` that records hidden states at the LM level, whose output has
    no ``last_hidden_state`` to tie, so ``hidden_states[L]`` would miss the final norm (unlike PyTorch's).
    The LM's own forward calls the base model, whose ``check_model_inputs`` ties it, and traces fine.
    Undecorated forwards (GPT-2) are left alone; verification catches any other mismatch.
    """

    class KeepLmForward(patcher):  # type: ignore[misc, valid-type]
        def __init__(self, config: Any, model: Any, model_kwargs: dict[str, Any] | None = None):
            original = model.forward
            super().__init__(config, model, model_kwargs=model_kwargs)
            if hasattr(original, "__wrapped__"):
                self.orig_forward = original

    return KeepLmForward


def _rename_values(graph: Any, mapping: dict[str, str]) -> None:
    """Rename values everywhere they appear, including subgraphs that may read them from the outer scope."""
    import onnx

    for node in graph.node:
        node.input[:] = [mapping.get(name, name) for name in node.input]
        node.output[:] = [mapping.get(name, name) for name in node.output]
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                _rename_values(attribute.g, mapping)
            elif attribute.type == onnx.AttributeProto.GRAPHS:
                for subgraph in attribute.graphs:
                    _rename_values(subgraph, mapping)
    for value in [*graph.output, *graph.value_info]:
        value.name = mapping.get(value.name, value.name)


def rename_taps(onnx_file: Path, *, num_layers: int, decoder: bool) -> list[str]:
    """Give optimum's outputs the bundle's names in place; return the graph's input names.

    External data (large models) is not loaded: only names change, so tensors stay where they are.
    """
    import onnx

    model = onnx.load(str(onnx_file), load_external_data=False)
    mapping = {f"hidden_states.{i}": hidden_state_tap(i) for i in range(num_layers + 1)}
    mapping |= {f"attentions.{i}": attention_tap(i) for i in range(num_layers)}
    current = [output.name for output in model.graph.output]
    wanted = (["logits"] if decoder else []) + list(mapping)
    missing = [name for name in wanted if name not in current]
    if missing:
        raise ExportError(
            f"optimum's graph lacks output(s) {', '.join(missing[:4])}" + (" …" if len(missing) > 4 else ""),
            hint="the model did not return every layer's attention; use --backend torch",
        )
    taken = {name for node in model.graph.node for name in node.output} | {i.name for i in model.graph.input}
    clash = sorted(taken & set(mapping.values()))
    if clash:
        raise ExportError(f"optimum's graph already has values named {', '.join(clash[:4])}; cannot rename its taps")
    _rename_values(model.graph, mapping)
    onnx.save(model, str(onnx_file))
    inputs = [value.name for value in model.graph.input]
    unknown = [name for name in inputs if name not in ALLOWED_INPUTS]
    if unknown:
        raise ExportError(
            f"optimum's graph takes input(s) {', '.join(unknown)}, which the edgeaudit runtime cannot feed",
            hint="use --backend torch",
        )
    return inputs


def _graph_opset(onnx_file: Path) -> int:
    import onnx

    model = onnx.load(str(onnx_file), load_external_data=False)
    return next((int(entry.version) for entry in model.opset_import if entry.domain in ("", "ai.onnx")), 0)


def _graph_tensors(graph: Any) -> Iterator[Any]:
    """Initializers and attribute tensors of ``graph`` and its subgraphs (where external data can live)."""
    import onnx

    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR:
                yield attribute.t
            elif attribute.type == onnx.AttributeProto.TENSORS:
                yield from attribute.tensors
            elif attribute.type == onnx.AttributeProto.GRAPH:
                yield from _graph_tensors(attribute.g)
            elif attribute.type == onnx.AttributeProto.GRAPHS:
                for subgraph in attribute.graphs:
                    yield from _graph_tensors(subgraph)


def _external_data_files(onnx_file: Path) -> list[str]:
    """Files beside ``onnx_file`` that hold its weights (optimum writes ``model.onnx_data`` for big models)."""
    import onnx

    model = onnx.load(str(onnx_file), load_external_data=False)
    names: list[str] = []
    for tensor in _graph_tensors(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            location = next((entry.value for entry in tensor.external_data if entry.key == "location"), None)
            if location and location not in names:
                names.append(location)
    return names


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """optimum, transformers and torch.onnx log pages of warnings during export; show them only on failure."""
    import transformers

    loggers = [logging.getLogger(name) for name in ("optimum", "torch.onnx", "onnx", "transformers")]
    levels = [logger.level for logger in loggers]
    verbosity = transformers.logging.get_verbosity()
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    transformers.logging.set_verbosity_error()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _reference_model(checkpoint: LoadedCheckpoint):
    """A ``TappedModel`` that also accepts optimum's extra inputs, so PyTorch sees what ONNX sees."""
    from edgeaudit.exporters.wrapper import TappedModel

    class ReferenceModel(TappedModel):
        def forward(self, input_ids, attention_mask, position_ids=None, token_type_ids=None):
            kwargs = dict(input_ids=input_ids, attention_mask=attention_mask,
                          output_attentions=True, output_hidden_states=True, return_dict=True)
            if position_ids is not None:
                kwargs["position_ids"] = position_ids
            if token_type_ids is not None:
                kwargs["token_type_ids"] = token_type_ids
            if self.decoder:
                kwargs["use_cache"] = False
            out = self.model(**kwargs)
            hidden, attentions = tuple(out.hidden_states), tuple(out.attentions)
            if len(hidden) != self.num_layers + 1 or len(attentions) != self.num_layers:
                raise RuntimeError(
                    f"model returned {len(hidden)} hidden states and {len(attentions)} attentions, "
                    f"expected {self.num_layers + 1} and {self.num_layers}"
                )
            outputs = hidden + attentions
            return outputs + (out.logits,) if self.decoder else outputs

    return ReferenceModel(checkpoint.model, checkpoint.num_layers, checkpoint.decoder).train(False)


def export_with_optimum(model_dir: str | Path, out_dir: str | Path, options: ExportOptions, *,
                        log: Callable[[str], None] = print) -> Bundle:
    """Export with optimum-onnx, rename the taps, verify against PyTorch and write a bundle."""
    main_export, tasks_manager, optimum_version = _require_optimum()
    from edgeaudit.exporters.verify import verify_export

    out_dir = Path(out_dir)
    checkpoint = load_checkpoint(model_dir, random_init=options.random_init, seed=options.seed,
                                 trust_remote_code=options.trust_remote_code, tokenizer=options.tokenizer)
    log(f"loaded {type(checkpoint.model).__name__}: {checkpoint.num_layers} layers x {checkpoint.num_heads} heads"
        + (f" (random init, seed {options.seed})" if options.random_init else ""))
    task = "text-generation" if checkpoint.decoder else "feature-extraction"
    onnx_config = tapped_onnx_config(tasks_manager, checkpoint.config, task=task,
                                     num_layers=checkpoint.num_layers, decoder=checkpoint.decoder)
    model = model_section(checkpoint)
    pad_id = _pad_id(checkpoint)
    max_length = _max_length(checkpoint, options.max_length)
    with staged_bundle(out_dir, options.force) as staging:
        scratch = staging / SCRATCH_NAME
        source = checkpoint.directory
        if options.random_init:  # main_export loads from disk: give it the twin's weights
            source = scratch / "random-init-checkpoint"
            checkpoint.model.save_pretrained(source)
            checkpoint.tokenizer.save_pretrained(source)
        exported = scratch / "onnx"
        log(f"exporting with optimum-onnx {optimum_version} main_export ({task}, opset {options.opset})")
        try:
            with _quiet():
                main_export(
                    str(source), exported, task=task, opset=options.opset, device="cpu",
                    library_name="transformers", local_files_only=True,
                    trust_remote_code=options.trust_remote_code, do_validation=False,
                    model_kwargs={"output_attentions": True, "output_hidden_states": True},
                    custom_onnx_configs={"model": onnx_config},
                )
        except ExportError:
            raise
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ExportError(
                f"optimum-onnx main_export failed: {type(exc).__name__}: {first[:240]}",
                hint="use the default --backend torch; the family may be unsupported by optimum",
            ) from None
        if not (exported / ONNX_NAME).is_file():
            raise ExportError(f"optimum-onnx main_export wrote no {ONNX_NAME} (found: "
                              f"{', '.join(sorted(p.name for p in exported.iterdir())) or 'nothing'})")
        external = _external_data_files(exported / ONNX_NAME)
        for name in (ONNX_NAME, *external):
            shutil.move(str(exported / name), str(staging / name))
        shutil.rmtree(scratch)
        inputs = rename_taps(staging / ONNX_NAME, num_layers=checkpoint.num_layers, decoder=checkpoint.decoder)

        tokenizer_json = write_tokenizer(checkpoint, staging)
        tokenizer = tokenizer_settings(TOKENIZER_NAME, tokenizer_json, max_length=max_length,
                                       padding_side=checkpoint.tokenizer.padding_side, pad_token_id=pad_id)
        if options.verify:
            try:
                report = verify_export(_reference_model(checkpoint), staging / ONNX_NAME,
                                       vocab_size=model["vocab_size"], pad_id=pad_id,
                                       padding_side=tokenizer["padding_side"],
                                       special_ids=tokenizer["special_token_ids"], max_length=max_length,
                                       tolerance=options.tolerance, extra_inputs=extra_inputs_for(inputs))
            except ExportError as exc:  # --exporter means nothing to this backend: give hints that apply
                raise ExportError(exc.message, hint="try --backend torch, or raise --tolerance if the "
                                                    "difference is expected") from None
            export_check = report.to_manifest()
            log(f"verified: {report.summary()}")
        else:
            export_check = SKIPPED_CHECK
        write_checkpoint_manifest(staging, checkpoint, options, model=model, tokenizer=tokenizer,
                                  export_check=export_check,
                                  opset=_graph_opset(staging / ONNX_NAME) or options.opset, inputs=inputs,
                                  exporter=f"optimum-onnx {optimum_version}", external_data=external,
                                  extra_versions=("torch", "transformers", "optimum", "optimum-onnx"))
    return load_bundle(out_dir)
