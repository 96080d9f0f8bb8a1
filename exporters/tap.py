"""``tap_onnx``: a plain transformer ONNX export + its tokenizer.json -> an edgeaudit bundle with taps.

For models someone else exported (``torch.onnx.export``, ``optimum-cli``) when the checkpoint is not at hand.
The graph is only rewired — every attention Softmax and every residual-stream tensor at a layer boundary
becomes a named graph output — so the numbers are the original model's. Uses onnx, onnxruntime and
tokenizers only (no torch): it runs wherever the model itself runs.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import onnx
from edgeaudit.exporters.output_dir import check_output_dir, staged_bundle
from edgeaudit.exporters.tap_facts import (
    EmbeddingFacts,
    ProbeFacts,
    TokenizerFacts,
    config_contradictions,
    embedding_facts,
    probe,
    tokenizer_facts,
    vocabulary_problem,
)
from edgeaudit.exporters.tap_find import TapPlan, find_taps
from edgeaudit.exporters.tap_graph import GraphIndex
from edgeaudit.exporters.tap_model import (
    add_tap_outputs,
    check_inference_mode,
    check_unfused,
    default_opset,
    load_model,
    normalize_inputs,
    static_types,
)

from edgeaudit.bundle import Bundle, load_bundle, save_manifest
from edgeaudit.bundle.build import new_manifest, tokenizer_settings
from edgeaudit.bundle.manifest import attention_tap, hidden_state_tap
from edgeaudit.bundle.model_file import save_model
from edgeaudit.errors import ExportError

ONNX_NAME = "model.onnx"
TOKENIZER_NAME = "tokenizer.json"
PROBE_LENGTH = 6


@dataclass(frozen=True)
class TapOptions:
    """Facts the graph may not reveal; each overrides detection (contradicting a measurement is an error)."""

    num_heads: int | None = None
    causal: bool | None = None
    max_length: int | None = None
    padding_side: str | None = None  # None: tokenizer_config.json's, else right
    pad_token_id: int | None = None
    force: bool = False
    vocab_mismatch_ok: bool = False  # accept a tokenizer covering < MIN_VOCAB_COVERAGE of the embedding table

    def __post_init__(self) -> None:
        if self.padding_side not in (None, "left", "right"):
            raise ExportError(f"option --padding-side: {self.padding_side!r} is not one of left, right")
        if self.num_heads is not None and self.num_heads < 1:
            raise ExportError(f"option --num-heads: {self.num_heads} must be at least 1")
        if self.max_length is not None and self.max_length < 2:
            raise ExportError(f"option --max-length: {self.max_length} is too small (at least 2)")


@dataclass(frozen=True)
class TapResult:
    bundle: Bundle
    plan: TapPlan
    num_heads: int
    causal: bool
    final_output: str
    notes: list[str] = field(default_factory=list)


def _final_output(g: GraphIndex, plan: TapPlan, originals: list[str], causal: bool) -> tuple[str, str]:
    """(graph output, kind): a decoder's logits output computed from hidden_state_L, else hidden_state_L.

    Encoders always report hidden_state_L, as the direct export does: a task head's output (pooled or
    per-label) is not the per-token output the bundle promises.
    """
    last = hidden_state_tap(plan.num_layers)
    if plan.hidden_is_output is not None or not causal:
        return last, "last_hidden_state"
    start = g.position(plan.hidden[-1])
    after = [name for name in originals if g.depends_on(name, start)]
    logits = [name for name in after if "logit" in name.lower()] or after
    return (logits[0], "logits") if logits else (last, "last_hidden_state")


def _resolve(options: TapOptions, measured: ProbeFacts, source: str) -> tuple[int, bool]:
    """Options win over detection, but an option contradicting what the graph computes is a user error."""
    if options.num_heads is not None and options.num_heads != measured.num_heads:
        raise ExportError(f"option --num-heads {options.num_heads} contradicts {source}: its attention has "
                          f"{measured.num_heads} heads", hint="drop --num-heads; tap reads it from the graph")
    if options.causal is not None and options.causal != measured.causal:
        seen = "causal (zero above the diagonal)" if measured.causal else "bidirectional"
        flag = "--causal" if options.causal else "--bidirectional"
        raise ExportError(f"option {flag} contradicts {source}: its attention is {seen}",
                          hint=f"drop {flag}; tap measures causality by running the graph")
    return measured.num_heads, measured.causal


def _limits(options: TapOptions, embeddings: EmbeddingFacts, tokenizer: TokenizerFacts,
            source: str) -> tuple[int, int]:
    """(model.max_positions, tokenizer.max_length)."""
    config_limit = tokenizer.config.get("max_position_embeddings")
    config_limit = config_limit if isinstance(config_limit, int) and config_limit > 1 else None
    positions = embeddings.max_positions or config_limit or options.max_length or tokenizer.max_length
    if positions is None:
        raise ExportError(
            f"{source}: cannot tell the maximum sequence length (no position-embedding table in the graph, "
            "no config.json beside it, no model_max_length in tokenizer_config.json)",
            hint="pass --max-length N (the model's context length)",
        )
    if options.max_length is not None:
        if options.max_length > positions:
            raise ExportError(f"option --max-length: {options.max_length} exceeds the model's limit of "
                              f"{positions} positions")
        return positions, options.max_length
    return positions, min(positions, tokenizer.max_length or positions)


def _model_section(plan: TapPlan, measured: tuple[int, bool], hidden: int, vocab: int, positions: int,
                   config: dict, model_path: Path) -> dict:
    heads, causal = measured
    family = "decoder" if causal else "encoder"
    architectures = config.get("architectures") or []
    return {
        "family": family,
        "model_type": str(config.get("model_type") or "unknown"),
        "architecture": str(architectures[0]) if architectures else f"{plan.norm_style} {family} (tapped ONNX)",
        "num_layers": plan.num_layers,
        "num_heads": heads,
        "hidden_size": hidden,
        "causal": causal,
        "vocab_size": vocab,
        "max_positions": positions,
        "source": str(model_path.resolve()),
    }


def _pad_id(options: TapOptions, tokenizer: TokenizerFacts, notes: list[str]) -> int:
    if options.pad_token_id is not None:
        return options.pad_token_id
    if tokenizer.pad_token_id is not None:
        return tokenizer.pad_token_id
    notes.append("no pad token found in the tokenizer; padding with id 0 (pass --pad-token-id to choose)")
    return 0


def _axis_names(model: onnx.ModelProto) -> tuple[str | None, str | None]:
    """The dim_param names the export gave input_ids' batch and sequence axes (reused for the taps)."""
    ids = next(value for value in model.graph.input if value.name == "input_ids")
    dims = [dim.dim_param or None for dim in ids.type.tensor_type.shape.dim] + [None, None]
    return dims[0], dims[1]


def _rewire(model: onnx.ModelProto, source: str) -> tuple[TapPlan, list[str], GraphIndex]:
    """Find the taps, make the inputs the bundle's and expose the taps as outputs (in place)."""
    check_unfused(model, source)
    check_inference_mode(model, source)
    plan = find_taps(GraphIndex(model.graph), source)  # before the inputs: "not a transformer" comes first
    inputs = normalize_inputs(model, source)
    graph = GraphIndex(model.graph)  # the graph as it is before the tap outputs, for facts about it
    taps = {attention_tap(i): tensor for i, tensor in enumerate(plan.attention)}
    taps.update({hidden_state_tap(i): tensor for i, tensor in enumerate(plan.hidden)})
    batch, sequence = _axis_names(model)
    shapes = {name: [batch, None, sequence, sequence] if name.startswith("attention_") else [batch, sequence, None]
              for name in taps}
    add_tap_outputs(model, taps, static_types(model), shapes, source)
    return plan, inputs, graph


def tap_onnx(model_path: str | Path, tokenizer_path: str | Path, out_dir: str | Path,
             options: TapOptions | None = None) -> TapResult:
    """Tap ``model_path`` and write a validated bundle to ``out_dir``; raise ExportError on unusable input."""
    options = options or TapOptions()
    model_path, tokenizer_path, out_dir = Path(model_path), Path(tokenizer_path), Path(out_dir)
    source = str(model_path)
    check_output_dir(out_dir, options.force)  # fail before the slow part
    tokenizer = tokenizer_facts(tokenizer_path, model_path)
    model = load_model(model_path)
    originals = [output.name for output in model.graph.output]
    plan, inputs, graph = _rewire(model, source)
    embeddings = embedding_facts(model, graph)
    notes: list[str] = []
    vocab = embeddings.vocab_size
    if vocab is None:
        vocab = tokenizer.vocab_size
        notes.append(f"no token-embedding table found; vocab_size taken from the tokenizer ({vocab})")
    problem = vocabulary_problem(tokenizer.vocab_size, vocab)
    if problem and not (options.vocab_mismatch_ok and tokenizer.vocab_size <= vocab):
        raise ExportError(f"{tokenizer_path}: {problem} ({source})",
                          hint="pass the tokenizer.json that belongs to this model (or --vocab-mismatch-ok when its "
                               "embedding table is deliberately padded)")
    if problem:
        notes.append(f"{problem}; accepted (--vocab-mismatch-ok)")
    contradictions = config_contradictions(tokenizer.config, num_layers=plan.num_layers,
                                           hidden_size=embeddings.hidden_size, vocab_size=embeddings.vocab_size)
    if contradictions:  # e.g. the config.json beside a foreign tokenizer: describing that model would be a lie
        notes.append(f"config.json found beside the model or tokenizer describes another model "
                     f"({'; '.join(contradictions)}): ignored")
        tokenizer = dataclasses.replace(tokenizer, config={})
    positions, max_length = _limits(options, embeddings, tokenizer, source)
    pad_id = _pad_id(options, tokenizer, notes)
    with staged_bundle(out_dir, options.force) as staging:
        external = save_model(model, staging / ONNX_NAME)
        measured = probe(staging / ONNX_NAME, plan.num_layers, vocab, min(PROBE_LENGTH, positions), source)
        heads, causal = _resolve(options, measured, source)
        final_name, final_kind = _final_output(graph, plan, originals, causal)
        shutil.copyfile(tokenizer_path, staging / TOKENIZER_NAME)
        settings = tokenizer_settings(TOKENIZER_NAME, tokenizer.data, max_length=max_length,
                                      padding_side=options.padding_side or tokenizer.padding_side,
                                      pad_token_id=pad_id)
        manifest = new_manifest(
            staging,
            model=_model_section(plan, (heads, causal), measured.hidden_size, vocab, positions, tokenizer.config,
                                 model_path),
            onnx_file=ONNX_NAME, opset=default_opset(model), inputs=inputs, exporter="edgeaudit-tap",
            final_output=final_name, final_output_kind=final_kind, tokenizer=settings,
            export_check={"verified": False, "reason": "tapped existing ONNX; no PyTorch reference"},
            external_data=external,
        )
        save_manifest(staging, manifest)
        load_bundle(staging)  # validate before the bundle replaces anything
    bundle = load_bundle(out_dir, verify_hash=False)
    return TapResult(bundle, plan, heads, causal, final_name, notes)
